package dev.jlens.data;

import java.util.Arrays;

/**
 * For every prefix of {@code prefixLength} tokens in a text, how often each token follows it: seed
 * 000's {@code build_next_token_map}. Only positions that have a next token count, so the text's last
 * window is a prefix only if it also occurs earlier.
 *
 * <p>Stored sparsely (compressed rows: for each prefix, the tokens that followed it and how often), so
 * TinyShakespeare's 858,923 length-10 prefixes take ~30 MB rather than 858,923 × 65 counts. Prefixes
 * are numbered in order of first occurrence; {@link #indexOf} finds a prefix's number.
 */
public final class NextTokenCounts {
    private final int vocabSize;
    private final WindowTable prefixes;
    private final int[] rowStart;   // [prefixCount + 1]: prefix p's entries are rowStart[p] .. rowStart[p+1]-1
    private final int[] nextToken;  // ascending within a row
    private final int[] count;

    private NextTokenCounts(int vocabSize, WindowTable prefixes, int[] rowStart, int[] nextToken, int[] count) {
        this.vocabSize = vocabSize;
        this.prefixes = prefixes;
        this.rowStart = rowStart;
        this.nextToken = nextToken;
        this.count = count;
    }

    /**
     * Counts over {@code tokens}: for every position {@code i} with {@code i + prefixLength < n}, the
     * prefix {@code tokens[i .. i+prefixLength)} was followed by {@code tokens[i + prefixLength]}.
     */
    public static NextTokenCounts of(int[] tokens, int prefixLength, int vocabSize) {
        if (prefixLength < 1) throw new IllegalArgumentException("a prefix needs at least one token, got " + prefixLength);
        if (tokens.length <= prefixLength) {
            throw new IllegalArgumentException("the text has " + tokens.length + " tokens: a prefix of " + prefixLength
                    + " needs at least " + (prefixLength + 1) + " to have a next token");
        }
        int positions = tokens.length - prefixLength;
        for (int i = 0; i < tokens.length; i++) {
            if (tokens[i] < 0 || tokens[i] >= vocabSize) {
                throw new IllegalArgumentException("token id " + tokens[i] + " at position " + i
                        + " is outside the vocabulary 0.." + (vocabSize - 1));
            }
        }
        WindowTable table = new WindowTable(tokens, prefixLength, positions);
        int[] prefixOf = table.addAll(positions);
        int prefixes = table.size();

        // Group positions by prefix (counting sort), then count each group's next tokens.
        int[] groupStart = new int[prefixes + 1];
        for (int p : prefixOf) groupStart[p + 1]++;
        for (int p = 0; p < prefixes; p++) groupStart[p + 1] += groupStart[p];
        int[] fill = Arrays.copyOf(groupStart, prefixes);
        int[] followers = new int[positions];
        for (int i = 0; i < positions; i++) followers[fill[prefixOf[i]]++] = tokens[i + prefixLength];

        int[] rowStart = new int[prefixes + 1];
        int[] nextToken = new int[positions];
        int[] count = new int[positions];
        int entries = 0;
        for (int p = 0; p < prefixes; p++) {
            rowStart[p] = entries;
            Arrays.sort(followers, groupStart[p], groupStart[p + 1]);
            for (int i = groupStart[p]; i < groupStart[p + 1]; i++) {
                if (entries > rowStart[p] && nextToken[entries - 1] == followers[i]) {
                    count[entries - 1]++;
                } else {
                    nextToken[entries] = followers[i];
                    count[entries] = 1;
                    entries++;
                }
            }
        }
        rowStart[prefixes] = entries;
        return new NextTokenCounts(vocabSize, table, rowStart, Arrays.copyOf(nextToken, entries), Arrays.copyOf(count, entries));
    }

    /** Counts over a split of a corpus, with the corpus's vocabulary. */
    public static NextTokenCounts of(Corpus corpus, Split split, int prefixLength) {
        return of(corpus.tokens(split), prefixLength, corpus.tokenizer().vocabSize());
    }

    public int prefixLength() {
        return prefixes.length();
    }

    public int vocabSize() {
        return vocabSize;
    }

    /** How many distinct prefixes. */
    public int prefixCount() {
        return prefixes.size();
    }

    /** The number of prefix {@code tokens[offset .. offset+prefixLength)}, or −1 when it never had a next token. */
    public int indexOf(int[] tokens, int offset) {
        return prefixes.idOf(tokens, offset);
    }

    /** The number of {@code prefix} (exactly {@link #prefixLength} ids), or −1. */
    public int indexOf(int[] prefix) {
        if (prefix.length != prefixLength()) {
            throw new IllegalArgumentException("prefixes here are " + prefixLength() + " tokens long; got " + prefix.length);
        }
        return prefixes.idOf(prefix, 0);
    }

    /** Prefix number {@code id}'s tokens. */
    public int[] prefix(int id) {
        int from = prefixes.firstStart(checkId(id));
        return Arrays.copyOfRange(prefixes.tokens(), from, from + prefixLength());
    }

    /** Dense counts {@code [vocabSize]} of what followed {@code prefix}; all zeros when it never occurred. */
    public int[] counts(int[] prefix) {
        int id = indexOf(prefix);
        return id < 0 ? new int[vocabSize] : counts(id);
    }

    /** Dense counts {@code [vocabSize]} of what followed prefix number {@code id}. */
    public int[] counts(int id) {
        int[] out = new int[vocabSize];
        addTo(id, out);
        return out;
    }

    /** Adds prefix {@code id}'s counts into {@code sums} ({@code [vocabSize]}): pooling over many prefixes without allocating. */
    public void addTo(int id, int[] sums) {
        checkId(id);
        for (int e = rowStart[id]; e < rowStart[id + 1]; e++) sums[nextToken[e]] += count[e];
    }

    /** Adds prefix {@code id}'s counts into {@code sums} ({@code [vocabSize]}), in 64 bits for very large corpora. */
    public void addTo(int id, long[] sums) {
        checkId(id);
        for (int e = rowStart[id]; e < rowStart[id + 1]; e++) sums[nextToken[e]] += count[e];
    }

    /** How many times prefix {@code id} occurred with a next token. */
    public long total(int id) {
        checkId(id);
        long n = 0;
        for (int e = rowStart[id]; e < rowStart[id + 1]; e++) n += count[e];
        return n;
    }

    /** The distinct tokens that followed prefix {@code id}, ascending. */
    public int[] followers(int id) {
        checkId(id);
        return Arrays.copyOfRange(nextToken, rowStart[id], rowStart[id + 1]);
    }

    /** Bytes this index holds (the token array it points into not counted). */
    public long sizeInBytes() {
        return 4L * (rowStart.length + nextToken.length + count.length) + prefixes.sizeInBytes();
    }

    private int checkId(int id) {
        if (id < 0 || id >= prefixCount()) throw new IndexOutOfBoundsException("prefix " + id + " of " + prefixCount());
        return id;
    }

    @Override
    public String toString() {
        return String.format("NextTokenCounts[%,d prefixes of %d tokens, %,d (prefix, next) pairs, %.1f MB]",
                prefixCount(), prefixLength(), nextToken.length, sizeInBytes() / 1e6);
    }
}
