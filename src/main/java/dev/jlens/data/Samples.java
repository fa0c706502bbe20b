package dev.jlens.data;

import java.util.Map;

/**
 * The token sequences an experiment runs through a model, all of one length, numbered
 * {@code 0..count()-1}: sample {@code i} is row {@code i} of every matrix the experiment saves.
 */
public sealed interface Samples permits SlidingWindows, UniqueSubstrings {
    /** How many samples. */
    int count();

    /** Tokens per sample. */
    int length();

    /** Sample {@code i}'s token ids. */
    int[] tokens(int i);

    /** Samples {@code from..to-1} as model input rows {@code [to - from][length]}. */
    default long[][] rows(int from, int to) {
        if (from < 0 || to > count() || from > to) {
            throw new IndexOutOfBoundsException("samples " + from + ".." + to + " of " + count());
        }
        long[][] rows = new long[to - from][];
        for (int i = from; i < to; i++) {
            int[] t = tokens(i);
            long[] row = new long[t.length];
            for (int j = 0; j < t.length; j++) row[j] = t[j];
            rows[i - from] = row;
        }
        return rows;
    }

    /**
     * What identifies these samples given their tokens (kind, length, stride, count), in the order a
     * manifest writes it; two runs with equal descriptions over the same text ran the same samples.
     */
    Map<String, Object> describe();
}
