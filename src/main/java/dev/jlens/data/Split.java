package dev.jlens.data;

import java.util.Locale;

/**
 * Which part of a corpus: the first 90% of its tokens (train), the last 10% (val), or all of them,
 * split where the lecture and the seeds split it: {@code n = int(0.9 * len(data))}.
 */
public enum Split {
    TRAIN, VAL, ALL;

    /** The fraction of tokens that goes to training. */
    public static final double TRAIN_FRACTION = 0.9;

    /** {@code train}, {@code val} (or {@code validation}), {@code all}; case does not matter. */
    public static Split parse(String name) {
        return switch (name.strip().toLowerCase(Locale.ROOT)) {
            case "train" -> TRAIN;
            case "val", "validation" -> VAL;
            case "all" -> ALL;
            default -> throw new IllegalArgumentException("unknown split '" + name + "': use train, val or all");
        };
    }

    /** The lower-case name, as the command line and manifests write it. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** First token of this split in a corpus of {@code n} tokens. */
    public int start(int n) {
        return this == VAL ? boundary(n) : 0;
    }

    /** One past the last token of this split in a corpus of {@code n} tokens. */
    public int end(int n) {
        return this == TRAIN ? boundary(n) : n;
    }

    /** Where train ends and val begins: the same double arithmetic as Python's {@code int(0.9 * n)}. */
    static int boundary(int n) {
        return (int) (TRAIN_FRACTION * n);
    }
}
