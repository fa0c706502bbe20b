package dev.jlens.compute;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Row-wise and element-wise kernels of the forward pass (LayerNorm, GELU, sums) on float32
 * arrays, in one pass over the data instead of ND4J's several, each writing into a given output.
 */
public final class Rows {
    private static final VectorSpecies<Float> S = OffHeap.S;
    private static final int L = S.length();
    /** Elements per piece of work when splitting over cores. */
    private static final int GRAIN = 1 << 16;

    private Rows() {}

    /**
     * TransformerLens's LayerNorm of each row of {@code x [n, d]}: {@code c = x − mean},
     * {@code scale = √(mean(c²) + eps)}, {@code out = c / scale · weight + bias}.
     *
     * @param scaleOut {@code n} floats receiving the scales
     * @param out      {@code [n, d]} receiving the result
     */
    public static void layerNorm(INDArray x, INDArray weight, INDArray bias, double eps, INDArray scaleOut, INDArray out) {
        int d = (int) weight.length();
        int n = (int) (x.length() / d);
        float[] a = Scratch.toHeap(x, Scratch.IN_A), w = Scratch.toHeap(weight), b = Scratch.toHeap(bias);
        float[] scales = new float[n];
        float[] y = Scratch.of(0).floats(Scratch.OUT, n * d);
        float e = (float) eps;
        int rowsPerTask = Math.max(1, GRAIN / d);
        Parallel.forEach((n + rowsPerTask - 1) / rowsPerTask, (t, worker) -> {
            for (int r = t * rowsPerTask, end = Math.min(n, r + rowsPerTask); r < end; r++) {
                scales[r] = layerNormRow(a, r * d, d, w, b, e, y);
            }
        });
        Layouts.floats(scaleOut).put((int) scaleOut.offset(), scales, 0, n);
        Layouts.floats(out).put((int) out.offset(), y, 0, n * d);
    }

    private static float layerNormRow(float[] a, int off, int d, float[] w, float[] b, float eps, float[] y) {
        int full = d / L * L;
        FloatVector acc = FloatVector.zero(S);
        int j = 0;
        for (; j < full; j += L) acc = acc.add(FloatVector.fromArray(S, a, off + j));
        float sum = VectorMath.sum(acc);
        for (; j < d; j++) sum += a[off + j];
        float mean = sum / d;
        FloatVector vm = FloatVector.broadcast(S, mean);
        acc = FloatVector.zero(S);
        for (j = 0; j < full; j += L) {
            FloatVector c = FloatVector.fromArray(S, a, off + j).sub(vm);
            c.intoArray(y, off + j);
            acc = c.fma(c, acc);
        }
        float sq = VectorMath.sum(acc);
        for (; j < d; j++) {
            float c = a[off + j] - mean;
            y[off + j] = c;
            sq += c * c;
        }
        float scale = (float) Math.sqrt(sq / d + eps);
        FloatVector vs = FloatVector.broadcast(S, scale);
        for (j = 0; j < full; j += L) {
            FloatVector.fromArray(S, y, off + j).div(vs)
                    .fma(FloatVector.fromArray(S, w, j), FloatVector.fromArray(S, b, j)).intoArray(y, off + j);
        }
        for (; j < d; j++) y[off + j] = y[off + j] / scale * w[j] + b[j];
        return scale;
    }

    /**
     * GPT-2's {@code gelu_new}, {@code 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))}, computed as the
     * equal {@code x · σ(2·√(2/π)·(x + 0.044715·x³))} (one exponential instead of a tanh).
     */
    public static void geluNew(INDArray pre, INDArray out) {
        int len = (int) pre.length();
        float[] a = Scratch.toHeap(pre, Scratch.IN_A);
        float[] y = a;                                                      // in place
        float c = (float) (2 * Math.sqrt(2 / Math.PI));
        int tasks = (len + GRAIN - 1) / GRAIN;
        Parallel.forEach(tasks, (t, worker) -> {
            int from = t * GRAIN, to = Math.min(len, from + GRAIN);
            int j = from;
            FloatVector one = FloatVector.broadcast(S, 1f);
            for (; j + L <= to; j += L) {
                FloatVector x = FloatVector.fromArray(S, a, j);
                FloatVector u = x.mul(x).mul(0.044715f).mul(x).add(x).mul(-c);
                x.div(VectorMath.exp(u).add(one)).intoArray(y, j);
            }
            for (; j < to; j++) {
                float x = a[j];
                y[j] = x / (VectorMath.exp((x * x * 0.044715f * x + x) * -c) + 1f);
            }
        });
        Layouts.floats(out).put((int) out.offset(), y, 0, len);
    }

    /** {@code out = x + y}, element by element, for arrays with the same row-major layout. */
    public static void add(INDArray x, INDArray y, INDArray out) {
        int len = (int) x.length();
        if (y.length() != len) throw new IllegalArgumentException("add: " + len + " vs " + y.length() + " elements");
        float[] a = Scratch.toHeap(x, Scratch.IN_A), b = Scratch.toHeap(y, Scratch.IN_B);
        int tasks = (len + GRAIN - 1) / GRAIN;
        Parallel.forEach(tasks, (t, worker) -> {
            int from = t * GRAIN, to = Math.min(len, from + GRAIN), j = from;
            for (; j + L <= to; j += L) FloatVector.fromArray(S, a, j).add(FloatVector.fromArray(S, b, j)).intoArray(a, j);
            for (; j < to; j++) a[j] += b[j];
        });
        Layouts.floats(out).put((int) out.offset(), a, 0, len);
    }
}
