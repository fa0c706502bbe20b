package dev.jlens.model;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The keys and values of every block for the tokens a generation has run so far, so that each new token
 * runs alone: its query attends to the cached keys and values instead of the whole prefix being run
 * again. Keys are kept after rotary (as the attention reads them). One prompt; owned by one generation.
 */
final class KvCache {
    private final INDArray[] keys;     // per block: [1, length, kv_heads, d_head]
    private final INDArray[] values;
    private int length;

    KvCache(int layers) {
        keys = new INDArray[layers];
        values = new INDArray[layers];
    }

    /** Tokens cached so far: the absolute position of the next token. */
    int length() {
        return length;
    }

    /** Appends block {@code layer}'s keys and values of the new tokens; returns all of them, old and new. */
    INDArray[] append(int layer, INDArray k, INDArray v) {
        INDArray k0 = keys[layer], v0 = values[layer];
        keys[layer] = k0 == null ? k.dup('c') : Nd4j.concat(1, k0, k);
        values[layer] = v0 == null ? v.dup('c') : Nd4j.concat(1, v0, v);
        if (k0 != null) {
            k0.close();
            v0.close();
        }
        return new INDArray[] {keys[layer], values[layer]};
    }

    /** The new tokens have gone through every block. */
    void advance(int tokens) {
        length += tokens;
    }

    void close() {
        for (int l = 0; l < keys.length; l++) {
            if (keys[l] != null) keys[l].close();
            if (values[l] != null) values[l].close();
            keys[l] = values[l] = null;
        }
    }
}
