package dev.jlens.experiment;

import java.util.Locale;

/** Which positions of each sample the experiment saves. */
public enum Positions {
    /** Every position: a sample of {@code length} tokens gives {@code length} rows. */
    ALL,
    /** Only the last position, where the model predicts what follows the whole sample: one row per sample. */
    LAST;

    public static Positions parse(String name) {
        return switch (name.strip().toLowerCase(Locale.ROOT)) {
            case "all" -> ALL;
            case "last" -> LAST;
            default -> throw new IllegalArgumentException("unknown positions '" + name + "': use all or last");
        };
    }

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
