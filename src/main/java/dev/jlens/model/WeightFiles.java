package dev.jlens.model;

import java.util.List;

/**
 * What a loaded model's weights depend on and what the load found in them: the files its arrays
 * are memory-mapped from (checked before each run; the loader's {@code MappedFile}), and the tensors that
 * held NaN or ±Inf (each as {@code "h.0.mlp.c_fc.weight: 3 NaN"}), named again when a run's logits
 * come out NaN.
 */
public record WeightFiles(List<? extends Watched> mapped, List<String> nonFinite) {
    /** A file the model's arrays are read from, which must not have changed since the load. */
    public interface Watched {
        /** Throws, saying what to do, when the file changed on disk since it was loaded. */
        void check();
    }

    /** A model built from arrays in memory: nothing to watch, nothing found. */
    public static final WeightFiles NONE = new WeightFiles(List.of(), List.of());

    public WeightFiles {
        mapped = List.copyOf(mapped);
        nonFinite = List.copyOf(nonFinite);
    }

    /** Throws when a mapped file changed on disk since the load (the loader's ModelFileChangedException). */
    public void check() {
        for (Watched f : mapped) f.check();
    }
}
