package dev.jlens.sae;

import java.nio.FloatBuffer;
import org.nd4j.linalg.api.ndarray.INDArray;

/** TopK's activation: per row, the {@code k} largest positive values stay, every other value becomes 0. */
public final class TopK {
    private TopK() {}

    /** In place on a c-ordered {@code [n, d]} array. Ties at the k-th value keep the lower index, as {@code torch.topk} does on CPU. */
    public static void keepLargest(INDArray rows, int k) {
        int d = (int) rows.size(rows.rank() - 1);
        long n = rows.length() / d;
        FloatBuffer v = rows.data().asNioFloat();
        int offset = (int) rows.offset();
        int[] idx = new int[k];
        float[] val = new float[k];
        for (long r = 0; r < n; r++) {
            int base = offset + (int) (r * d);
            int size = 0;
            // The k largest so far, sorted descending: most values are below the smallest kept and cost one compare.
            for (int j = 0; j < d; j++) {
                float x = v.get(base + j);
                if (size == k && !(x > val[k - 1])) continue;
                int at = size == k ? k - 1 : size++;
                while (at > 0 && x > val[at - 1]) {
                    val[at] = val[at - 1];
                    idx[at] = idx[at - 1];
                    at--;
                }
                val[at] = x;
                idx[at] = j;
            }
            for (int j = 0; j < d; j++) v.put(base + j, 0f);
            for (int i = 0; i < size; i++) if (val[i] > 0) v.put(base + idx[i], val[i]);
        }
    }
}
