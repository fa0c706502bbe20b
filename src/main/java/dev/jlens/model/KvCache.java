package dev.jlens.model;

import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The keys and values of every block for the tokens a generation has run so far, so that each new token
 * runs alone: its query attends to the cached keys and values instead of the whole prefix being run
 * again. Keys are kept after rotary (as the attention reads them). One prompt; owned by one generation.
 *
 * <p>Each block's keys and values are rows {@code [position, kv_head · d_head]} of a heap array that grows by
 * doubling: a step writes only its new rows (an append that concatenated arrays copied the whole cache of
 * every block at every step, the largest cost of a decode step after the matrix products).
 */
final class KvCache {
    private final float[][] keys;     // per block: [capacity, kv_heads · d_head], rows 0 .. length + new rows
    private final float[][] values;
    private int length;
    private final int expected;       // positions the first append makes room for

    KvCache(int layers) {
        this(layers, 0);
    }

    /**
     * @param expectedPositions how many positions the generation will reach (prompt and new tokens), room made for
     *                          them at once so that the arrays do not grow (and leave old copies to the collector)
     *                          along the way; at most {@link #MAX_UPFRONT}, beyond which they double as needed
     */
    KvCache(int layers, int expectedPositions) {
        keys = new float[layers][];
        values = new float[layers][];
        expected = Math.min(Math.max(0, expectedPositions), MAX_UPFRONT);
    }

    /** Positions reserved up front at most: a long n_ctx and a large token budget should not reserve gigabytes. */
    static final int MAX_UPFRONT = 4096;

    /** Tokens cached so far: the absolute position of the next token. */
    int length() {
        return length;
    }

    /**
     * Writes block {@code layer}'s keys and values of the new tokens ({@code [1, m, kv_heads, d_head]}, any layout)
     * after the {@link #length} cached ones.
     */
    void append(int layer, INDArray k, INDArray v) {
        keys[layer] = put(keys[layer], k);
        values[layer] = put(values[layer], v);
    }

    private float[] put(float[] rows, INDArray x) {
        INDArray copy = x.dataType() == DataType.FLOAT ? x.dup('c') : x.castTo(DataType.FLOAT);   // castTo makes a fresh c-order copy
        float[] fresh = copy.reshape(x.length()).toFloatVector();
        copy.close();
        int width = (int) (x.size(2) * x.size(3));
        int need = (length + (int) x.size(1)) * width;
        if (rows == null) {
            rows = new float[Math.max(need, expected * width)];
        } else if (rows.length < need) {
            rows = Arrays.copyOf(rows, Math.max(need, 2 * rows.length));
        }
        System.arraycopy(fresh, 0, rows, length * width, fresh.length);
        return rows;
    }

    /** Block {@code layer}'s keys: rows {@code [position, kv_head · d_head]}, valid up to the current step's tokens. */
    float[] keys(int layer) {
        return keys[layer];
    }

    float[] values(int layer) {
        return values[layer];
    }

    /** The new tokens have gone through every block. */
    void advance(int tokens) {
        length += tokens;
    }

    void close() {
        Arrays.fill(keys, null);
        Arrays.fill(values, null);
    }
}
