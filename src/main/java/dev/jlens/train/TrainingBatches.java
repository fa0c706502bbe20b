package dev.jlens.train;

import dev.jlens.data.Corpus;
import dev.jlens.data.Split;
import dev.jlens.tokenize.CharTokenizer;
import java.nio.file.Path;
import java.util.SplittableRandom;

/**
 * What training draws from a {@link Corpus} read for a character model of its own ({@link Corpus#readChars}:
 * the vocabulary is the text's distinct characters in code-point order, the first 90% of the characters are
 * the training split and the rest the validation split). Batches are random windows of {@code ctx + 1}
 * characters: inputs are the first {@code ctx}, targets the last {@code ctx}.
 */
public final class TrainingBatches {
    private final Corpus corpus;
    private final CharTokenizer tokenizer;
    private final int[] train;
    private final int[] val;

    private TrainingBatches(Corpus corpus) {
        this.corpus = corpus;
        this.tokenizer = (CharTokenizer) corpus.tokenizer();
        this.train = corpus.tokens(Split.TRAIN);
        this.val = corpus.tokens(Split.VAL);
    }

    /** Reads a UTF-8 text file. */
    public static TrainingBatches read(Path file) {
        return new TrainingBatches(Corpus.readChars(file));
    }

    /** From text in memory ({@code source} names it in messages). */
    public static TrainingBatches of(String text, String source) {
        return new TrainingBatches(Corpus.ofChars(text, source));
    }

    /** Fails, saying how long the text must be, when either split has no window of {@code ctx + 1} characters. */
    public void requireContext(int ctx) {
        long total = train.length + val.length;
        if (train.length < ctx + 1 || val.length < ctx + 1) {
            throw new IllegalArgumentException(corpus.source() + " has " + total + " characters: the 90/10 split leaves "
                    + train.length + " for training and " + val.length + " for validation, but each needs at least ctx + 1 = "
                    + (ctx + 1) + " characters for one window; give a text of at least " + minimumLength(ctx)
                    + " characters or a smaller --ctx");
        }
    }

    /** Shortest text whose both splits ({@link Split}'s 90/10 boundary) hold a window of {@code ctx + 1} characters. */
    static long minimumLength(int ctx) {
        int n = ctx + 1;
        while (Split.TRAIN.end(n) < ctx + 1 || n - Split.VAL.start(n) < ctx + 1) n++;
        return n;
    }

    public String source() {
        return corpus.source();
    }

    public CharTokenizer tokenizer() {
        return tokenizer;
    }

    public String chars() {
        return tokenizer.chars();
    }

    public int vocabSize() {
        return tokenizer.vocabSize();
    }

    public int trainLength() {
        return train.length;
    }

    public int valLength() {
        return val.length;
    }

    /** CRC-32 of the text's bytes: a resumed run checks it is learning the same text. */
    public long checksum() {
        return corpus.crc32();
    }

    /** Token ids of a split, for analysis. */
    public int[] split(boolean validation) {
        return (validation ? val : train).clone();
    }

    /** One batch: {@code x[b]} = ids at offset..offset+ctx-1, {@code y[b]} = the next characters. */
    record Batch(long[][] x, int[][] y) {}

    /** {@code rows} random windows of the split, drawn from {@code random}. */
    Batch sample(boolean validation, int rows, int ctx, SplittableRandom random) {
        return sample(validation, rows, ctx, random, 0);
    }

    /**
     * As {@link #sample(boolean, int, int, SplittableRandom)}, but each row is, with probability
     * {@code repeats}, a passage of the text repeated: its length is drawn anew for every row, between
     * {@code max(2, (ctx + 1) / 8)} and {@code (ctx + 2) / 2} characters, so that copying has to find the
     * earlier occurrence by content (with one fixed length, attending a fixed distance back would do).
     * With {@code repeats = 0} the draws, and so the batches, are exactly those of plain sampling.
     */
    Batch sample(boolean validation, int rows, int ctx, SplittableRandom random, double repeats) {
        int[] data = validation ? val : train;
        long[][] x = new long[rows][ctx];
        int[][] y = new int[rows][ctx];
        int shortest = Math.max(2, (ctx + 1) / 8), longest = Math.max(shortest, (ctx + 2) / 2);
        for (int b = 0; b < rows; b++) {
            boolean repeated = repeats > 0 && random.nextDouble() < repeats;
            int period = repeated ? shortest + random.nextInt(longest - shortest + 1) : ctx + 1;
            int off = random.nextInt(data.length - ctx);
            for (int t = 0; t < ctx; t++) {
                x[b][t] = data[off + t % period];
                y[b][t] = data[off + (t + 1) % period];
            }
        }
        return new Batch(x, y);
    }
}
