package dev.jlens.data;

import java.util.Objects;

/**
 * The samples of an experiment together with where they came from: a corpus, a split of it, and
 * how the split was cut into samples. A results manifest records all three, so a folder written from
 * another text, split or sampling is recognised.
 */
public record Dataset(Corpus corpus, Split split, Samples samples) {
    public Dataset {
        Objects.requireNonNull(corpus, "corpus");
        Objects.requireNonNull(split, "split");
        Objects.requireNonNull(samples, "samples");
    }

    /** Seed 002: windows of {@code length} tokens every {@code stride} tokens of the split. */
    public static Dataset windows(Corpus corpus, Split split, int length, int stride) {
        return new Dataset(corpus, split, SlidingWindows.of(corpus, split, length, stride));
    }

    /** Seed 000: every distinct run of {@code length} tokens of the split, in order of first occurrence. */
    public static Dataset uniqueSubstrings(Corpus corpus, Split split, int length) {
        return new Dataset(corpus, split, UniqueSubstrings.of(corpus, split, length));
    }

    /** Sample {@code i} as text. */
    public String text(int i) {
        return corpus.text(samples.tokens(i));
    }

    @Override
    public String toString() {
        return samples + " of the " + split.label() + " split of " + corpus;
    }
}
