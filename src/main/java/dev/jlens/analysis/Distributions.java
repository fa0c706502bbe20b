package dev.jlens.analysis;

import dev.jlens.model.LogProbs;
import dev.jlens.model.HookedTransformer;
import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Comparing next-token distributions row by row: KL divergence, Hellinger distance, top-k and
 * ranks. Inputs are {@code [n, d_vocab]} logits or log-probabilities; every function works on all
 * rows at once with ND4J except top-k, which ND4J does badly (see DESIGN.md) and a heap does well.
 */
public final class Distributions {
    private Distributions() {}

    /** Log-probabilities of {@code [n, d_vocab]} logits (stable: max subtracted first). */
    public static INDArray logProbs(INDArray logits) {
        return LogProbs.logSoftmax(logits.castTo(DataType.FLOAT));
    }

    /** {@code KL(p ‖ q) = Σ p·(log p − log q)} per row, in nats, from log-probabilities. */
    public static double[] kl(INDArray logP, INDArray logQ) {
        INDArray terms = Transforms.exp(logP, true).muli(logP.sub(logQ));
        return terms.sum(1).castTo(DataType.DOUBLE).toDoubleVector();
    }

    /**
     * Hellinger distance {@code H(p, q) = √(1 − Σ √(p·q))} per row, in [0, 1]: symmetric and
     * bounded, unlike KL, so a distribution that moved all its mass reads as 1, not ∞.
     */
    public static double[] hellinger(INDArray logP, INDArray logQ) {
        INDArray bc = Transforms.exp(logP.add(logQ).muli(0.5), false).sum(1);
        double[] b = bc.castTo(DataType.DOUBLE).toDoubleVector();
        double[] h = new double[b.length];
        for (int i = 0; i < b.length; i++) h[i] = Math.sqrt(Math.max(0, 1 - b[i]));
        return h;
    }

    /**
     * Hellinger distance {@code √(1 − Σ √(p·q))} between two probability vectors of one length (each
     * summing to 1): 0 for the same distribution, 1 for two with no token in common.
     */
    public static double hellinger(double[] p, double[] q) {
        if (p.length != q.length) {
            throw new IllegalArgumentException("distributions over " + p.length + " and " + q.length + " tokens cannot be compared");
        }
        double bc = 0;
        for (int i = 0; i < p.length; i++) bc += Math.sqrt(p[i] * q[i]);
        return Math.sqrt(Math.max(0, 1 - bc));
    }

    /** The ids of the {@code k} largest entries of {@code row}, largest first (ties: lower id first). */
    public static int[] topK(float[] row, int k) {
        k = Math.min(k, row.length);
        // A min-heap of the k best so far, as indices: O(n log k), ~0.5 ms for 50257 entries.
        int[] heap = new int[k];
        int size = 0;
        for (int i = 0; i < row.length; i++) {
            if (size < k) {
                heap[size] = i;
                siftUp(heap, size++, row);
            } else if (better(i, heap[0], row)) {
                heap[0] = i;
                siftDown(heap, k, row);
            }
        }
        Integer[] boxed = new Integer[size];
        for (int i = 0; i < size; i++) boxed[i] = heap[i];
        Arrays.sort(boxed, (a, b) -> better(a, b, row) ? -1 : better(b, a, row) ? 1 : 0);
        int[] out = new int[size];
        for (int i = 0; i < size; i++) out[i] = boxed[i];
        return out;
    }

    private static boolean better(int a, int b, float[] row) {
        return row[a] > row[b] || (row[a] == row[b] && a < b);
    }

    private static void siftUp(int[] heap, int i, float[] row) {
        while (i > 0) {
            int parent = (i - 1) / 2;
            if (!better(heap[parent], heap[i], row)) break;
            int t = heap[parent];
            heap[parent] = heap[i];
            heap[i] = t;
            i = parent;
        }
    }

    private static void siftDown(int[] heap, int size, float[] row) {
        int i = 0;
        while (true) {
            int l = 2 * i + 1, r = l + 1, worst = i;
            if (l < size && better(heap[worst], heap[l], row)) worst = l;
            if (r < size && better(heap[worst], heap[r], row)) worst = r;
            if (worst == i) return;
            int t = heap[worst];
            heap[worst] = heap[i];
            heap[i] = t;
            i = worst;
        }
    }

    /** 1 + the number of entries strictly larger than {@code row[id]}: 1 means {@code id} is the top. */
    public static int rank(float[] row, int id) {
        float v = row[id];
        int above = 0;
        for (float x : row) if (x > v) above++;
        return above + 1;
    }
}
