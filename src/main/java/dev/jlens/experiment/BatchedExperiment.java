package dev.jlens.experiment;

import dev.jlens.cache.ActivationCache;
import dev.jlens.data.Dataset;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * An experiment that is a pure function of (model, batch of samples): what {@link ExperimentRunner} runs into a results
 * folder, resumably, one verified safetensors file per batch and a manifest. Block internals and the SAE's
 * max-activating contexts are two.
 */
public interface BatchedExperiment {
    /** The manifest it writes, with no batch finished yet: its identity decides whether a folder may be resumed. */
    Manifest plan();

    Dataset dataset();

    int batchSize();

    default int batchCount() {
        return (dataset().samples().count() + batchSize() - 1) / batchSize();
    }

    /** Samples in batch {@code b}. */
    default int samplesIn(int b) {
        return Math.min(batchSize(), dataset().samples().count() - b * batchSize());
    }

    /** About the size of batch {@code b}'s file, for the disk check before the run. */
    long expectedBatchBytes(int b);

    /** Computes batch {@code b}. */
    Computed computeBatch(int b);

    /**
     * One batch's tensors (name → array, in the order they are written) and the run's cache, to be closed once they
     * are written.
     */
    record Computed(Map<String, INDArray> tensors, ActivationCache cache) {}

    /**
     * Runs (or resumes) into {@code folder}, on this machine or a Hadoop file system: checks what is there, states the
     * bytes it will write, refuses when the disk cannot hold them, then has {@code options}' engine compute the batches
     * not yet finished.
     *
     * @throws ResultsFolderException when the folder belongs to another experiment, holds a damaged batch, is not a
     *                                results folder, or its disk is too full (see {@link RunOptions#force} for the first three)
     */
    default void runInto(ResultsFolder folder, RunOptions options) {
        new ExperimentRunner(this, folder, options).run();
    }
}
