package dev.jlens.experiment;

import java.util.List;
import java.util.function.Consumer;

/**
 * Who computes and writes the missing batches of a run: this JVM, one after the other ({@link #local()}), or a Spark
 * cluster ({@code dev.jlens.spark}, loaded only for {@code --engine spark}). Everything around it (the folder lock, the
 * stock-taking, the disk check, the manifest) is {@link ExperimentRunner}'s, the same for every engine.
 */
public interface BatchEngine {
    /**
     * Computes batches {@code missing} of {@code exp} and writes each into {@code folder} as {@link Manifest#batchFileName}
     * (atomically, through {@link BatchFiles}), handing each one's record to {@code written} on the calling thread or one
     * other thread at a time, in any order. Stops at the first batch that cannot be computed.
     */
    void writeBatches(BatchedExperiment exp, ResultsFolder folder, List<Integer> missing, Consumer<Manifest.Batch> written);

    /** One machine: the batches in order, in this JVM, into a folder on this machine. */
    static BatchEngine local() {
        return LocalEngine.INSTANCE;
    }
}
