package dev.jlens.model;

import java.util.List;

/**
 * What a loaded model's weights depend on and what the load found in them: the files its arrays
 * are memory-mapped from (checked before each run; the loader's {@code MappedFile}), and the tensors that
 * held NaN or ±Inf (each as {@code "h.0.mlp.c_fc.weight: 3 NaN"}), named again when a run's logits
 * come out NaN.
 */
public record WeightFiles(List<? extends Watched> mapped, List<String> nonFinite, Rereads rereads) {
    /** A file the model's arrays are read from, which must not have changed since the load. */
    public interface Watched {
        /** Throws, saying what to do, when the file changed on disk since it was loaded. */
        void check();
    }

    /**
     * Reads a memory-mapped weight again without its mapping, while the file is open (during the load): the
     * model packs its matrices from these copies, so that the mapped pages are never read and stay out of
     * memory, and only the packed copies are resident.
     */
    public interface Rereads {
        /** A fresh copy of {@code mapped}'s values, laid out as it is; null when it is not a mapped weight. */
        org.nd4j.linalg.api.ndarray.INDArray unmapped(org.nd4j.linalg.api.ndarray.INDArray mapped);

        Rereads NONE = mapped -> null;
    }

    /** A model built from arrays in memory: nothing to watch, nothing found. */
    public static final WeightFiles NONE = new WeightFiles(List.of(), List.of(), Rereads.NONE);

    public WeightFiles(List<? extends Watched> mapped, List<String> nonFinite) {
        this(mapped, nonFinite, Rereads.NONE);
    }

    public WeightFiles {
        mapped = List.copyOf(mapped);
        nonFinite = List.copyOf(nonFinite);
    }

    /** Throws when a mapped file changed on disk since the load (the loader's ModelFileChangedException). */
    public void check() {
        for (Watched f : mapped) f.check();
    }
}
