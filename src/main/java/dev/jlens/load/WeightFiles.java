package dev.jlens.load;

import java.util.List;

/**
 * What a loaded model's weights depend on and what the load found in them: the files its arrays
 * are memory-mapped from (checked before each run, see {@link MappedFile}), and the tensors that
 * held NaN or ±Inf (each as {@code "h.0.mlp.c_fc.weight: 3 NaN"}), named again when a run's logits
 * come out NaN.
 */
public record WeightFiles(List<MappedFile> mapped, List<String> nonFinite) {
    /** A model built from arrays in memory: nothing to watch, nothing found. */
    public static final WeightFiles NONE = new WeightFiles(List.of(), List.of());

    public WeightFiles {
        mapped = List.copyOf(mapped);
        nonFinite = List.copyOf(nonFinite);
    }

    /** @throws ModelFileChangedException when a mapped file changed on disk since the load */
    public void check() {
        for (MappedFile f : mapped) f.check();
    }
}
