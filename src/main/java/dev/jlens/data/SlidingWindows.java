package dev.jlens.data;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Windows of {@code length} tokens starting every {@code stride} tokens: seed 002's
 * {@code DataBatcher} ({@code data.unfold(0, length, stride)}). Window {@code i} is
 * {@code tokens[i·stride .. i·stride + length)}; a tail shorter than a window is left out, so there
 * are {@code (n − length) / stride + 1} windows. {@code stride == length} tiles the text without
 * overlap; {@code stride == 1} is every window.
 */
public record SlidingWindows(int[] source, int length, int stride) implements Samples {
    public SlidingWindows {
        if (length < 1) throw new IllegalArgumentException("a window needs at least one token, got length " + length);
        if (stride < 1) throw new IllegalArgumentException("the stride must be at least 1, got " + stride);
        if (source.length < length) {
            throw new IllegalArgumentException("the text has " + source.length + " tokens, fewer than one window of "
                    + length + ": use a shorter window or a longer text");
        }
    }

    /** Windows over a split of a corpus. */
    public static SlidingWindows of(Corpus corpus, Split split, int length, int stride) {
        return new SlidingWindows(corpus.tokens(split), length, stride);
    }

    @Override
    public int count() {
        return (source.length - length) / stride + 1;
    }

    @Override
    public int[] tokens(int i) {
        if (i < 0 || i >= count()) throw new IndexOutOfBoundsException("window " + i + " of " + count());
        int from = i * stride;
        return java.util.Arrays.copyOfRange(source, from, from + length);
    }

    /** Where window {@code i} starts in the split's tokens. */
    public int start(int i) {
        return i * stride;
    }

    /** Number of batches of at most {@code maxBatchSize} windows (DataBatcher's {@code len}). */
    public int batchCount(int maxBatchSize) {
        if (maxBatchSize < 1) throw new IllegalArgumentException("batch size must be ≥ 1, got " + maxBatchSize);
        return (count() + maxBatchSize - 1) / maxBatchSize;
    }

    @Override
    public Map<String, Object> describe() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("kind", "windows");
        m.put("length", length);
        m.put("stride", stride);
        m.put("count", count());
        return m;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SlidingWindows w && w.length == length && w.stride == stride
                && java.util.Arrays.equals(w.source, source);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * java.util.Arrays.hashCode(source) + length) + stride;
    }

    @Override
    public String toString() {
        return String.format("SlidingWindows[%,d windows of %d tokens, stride %d]", count(), length, stride);
    }
}
