package dev.jlens.spark;

import dev.jlens.experiment.BatchedExperiment;
import dev.jlens.experiment.ExperimentRecipe;
import dev.jlens.experiment.Manifest;
import java.io.File;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import scala.collection.Iterator;
import scala.runtime.AbstractFunction1;

/**
 * What one Spark task does with its partition of batch indices (one index each, as the driver cuts them): build the
 * experiment once per executor JVM, compute each batch through the same hooked forward pass as the local engine, write
 * it through Hadoop's file system, and return the verified records to the driver.
 */
final class BatchTask extends AbstractFunction1<Iterator<Integer>, ArrayList<Manifest.Batch>> implements Serializable {
    private static final long serialVersionUID = 1L;

    private final ExperimentRecipe recipe;
    private final Manifest plan;
    private final String folder;
    private final HadoopSettings hadoop;
    private final FailOnce failOnce;
    private final ShippedFiles shipped;

    /** Tests only: batch {@code batch}'s first attempt fails, after creating {@code marker} (which later attempts find). */
    record FailOnce(String marker, int batch) implements Serializable {}

    /**
     * @param folder         the results folder as a file-system URI every executor can write
     * @param hadoop         the settings the driver opened it with
     * @param failOnce       tests only, else null
     * @param shipped        where the job's shipped files lie on each executor ({@code --ship}), else null
     */
    BatchTask(ExperimentRecipe recipe, Manifest plan, String folder, HadoopSettings hadoop, FailOnce failOnce, ShippedFiles shipped) {
        this.recipe = recipe;
        this.plan = plan;
        this.folder = folder;
        this.hadoop = hadoop;
        this.failOnce = failOnce;
        this.shipped = shipped;
    }

    @Override
    public ArrayList<Manifest.Batch> apply(Iterator<Integer> indices) {
        BatchedExperiment exp = ExecutorExperiments.of(shipped == null ? recipe : shipped.relocate(recipe), plan);
        ArrayList<Manifest.Batch> written = new ArrayList<>();
        while (indices.hasNext()) {
            int b = indices.next();
            failOnceForTests(b);
            try {
                written.add(HadoopBatchFile.write(exp, plan.format(), folder, hadoop, b));
            } catch (IOException e) {
                throw new UncheckedIOException("batch " + b + ": " + e.getMessage(), e);
            }
        }
        return written;
    }

    private void failOnceForTests(int b) {
        if (failOnce == null || failOnce.batch() != b) return;
        try {
            if (new File(failOnce.marker()).createNewFile()) throw new IllegalStateException("batch " + b + ": failing once, as the test asked");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
