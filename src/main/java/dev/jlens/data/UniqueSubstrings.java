package dev.jlens.data;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Every distinct run of {@code length} consecutive tokens in a text, in order of first occurrence:
 * seed 000's {@code all_unique_substrings} (858,923 for length 10 over all of TinyShakespeare). Stored
 * as offsets into the text, not as strings.
 */
public final class UniqueSubstrings implements Samples {
    private final int[] source;
    private final int length;
    private final WindowTable table;

    private UniqueSubstrings(int[] source, int length, WindowTable table) {
        this.source = source;
        this.length = length;
        this.table = table;
    }

    /** The distinct length-{@code length} windows of {@code tokens}. */
    public static UniqueSubstrings of(int[] tokens, int length) {
        if (length < 1) throw new IllegalArgumentException("a substring needs at least one token, got length " + length);
        if (tokens.length < length) {
            throw new IllegalArgumentException("the text has " + tokens.length + " tokens, fewer than one substring of "
                    + length + ": use a shorter length or a longer text");
        }
        int windows = tokens.length - length + 1;
        WindowTable table = new WindowTable(tokens, length, windows);
        table.addAll(windows);
        return new UniqueSubstrings(tokens, length, table);
    }

    /** The distinct substrings of a split of a corpus. */
    public static UniqueSubstrings of(Corpus corpus, Split split, int length) {
        return of(corpus.tokens(split), length);
    }

    @Override
    public int count() {
        return table.size();
    }

    @Override
    public int length() {
        return length;
    }

    @Override
    public int[] tokens(int i) {
        if (i < 0 || i >= count()) throw new IndexOutOfBoundsException("substring " + i + " of " + count());
        int from = table.firstStart(i);
        return Arrays.copyOfRange(source, from, from + length);
    }

    /** Where substring {@code i} first occurs in the text. */
    public int firstOccurrence(int i) {
        return table.firstStart(i);
    }

    /** The number of substring {@code tokens} (exactly {@code length} ids), or −1 when the text lacks it. */
    public int indexOf(int[] tokens) {
        if (tokens.length != length) {
            throw new IllegalArgumentException("these substrings are " + length + " tokens long; got " + tokens.length);
        }
        return table.idOf(tokens, 0);
    }

    @Override
    public Map<String, Object> describe() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("kind", "unique-substrings");
        m.put("length", length);
        m.put("count", count());
        return m;
    }

    @Override
    public String toString() {
        return String.format("UniqueSubstrings[%,d distinct substrings of %d tokens]", count(), length);
    }
}
