package dev.jlens.spark;

import dev.jlens.experiment.BatchedExperiment;
import dev.jlens.experiment.ExperimentRecipe;
import dev.jlens.experiment.Manifest;
import org.apache.spark.SparkFiles;

/**
 * The experiment of each executor JVM, built once from the job's recipe (the model loaded once) and kept for every
 * batch that JVM runs, of this job and of later jobs with the same recipe.
 */
final class ExecutorExperiments {
    private ExecutorExperiments() {}

    private static ExperimentRecipe recipe;
    private static BatchedExperiment experiment;

    /** Tests only: the recipe of the last experiment built in this JVM, and the SparkFiles folder at that moment. */
    static volatile Built lastBuiltForTests;

    record Built(ExperimentRecipe recipe, String sparkFiles) {}

    /**
     * One forward pass at a time per JVM: each one already uses every core the JVM has (compute.Threads), and the model's
     * run is not meant to be shared by concurrent callers. Spark's other task slots still overlap their writes.
     */
    static final Object COMPUTE = new Object();

    /**
     * The recipe's experiment, checked against the driver's plan: an executor that read another model or text (a path that
     * differs between machines) fails its task instead of writing batches of another experiment.
     */
    static synchronized BatchedExperiment of(ExperimentRecipe r, Manifest driverPlan) {
        if (!r.equals(recipe)) {
            experiment = null;
            BatchedExperiment built = r.build();
            lastBuiltForTests = new Built(r, SparkFiles.getRootDirectory());
            Manifest mine = labelledAs(built.plan(), driverPlan);
            if (!mine.equals(driverPlan)) {
                throw new IllegalStateException("this executor built another experiment than the driver: model weights sha256 "
                        + mine.model().weightsSha256() + " vs " + driverPlan.model().weightsSha256() + ", text sha256 "
                        + mine.dataset().sha256() + " vs " + driverPlan.dataset().sha256()
                        + "; every executor must read the same model and text (a path every machine can read, or --ship)");
            }
            experiment = built;
            recipe = r;
        }
        return experiment;
    }

    /**
     * {@code plan} with the driver's names for its model and text. Those are labels of where each JVM read them (a
     * shipped copy lies elsewhere, a hub model's copy in a folder): the SHA-256 of the weights and of the text are the
     * identity, and every other field must still match. Only the driver writes them, into the manifest.
     */
    static Manifest labelledAs(Manifest plan, Manifest driverPlan) {
        Manifest.ModelIdentity m = plan.model();
        Manifest.DatasetIdentity d = plan.dataset();
        var model = new Manifest.ModelIdentity(driverPlan.model().name(), m.architecture(), m.nLayers(), m.dModel(), m.nHeads(),
                m.dHead(), m.dVocab(), m.nCtx(), m.weightsSha256());
        var dataset = new Manifest.DatasetIdentity(driverPlan.dataset().source(), d.sha256(), d.tokens(), d.tokenizer());
        return new Manifest(plan.format(), model, dataset, plan.split(), plan.samples(), plan.blocks(), plan.components(),
                plan.positions(), plan.batchSize(), plan.batchCount(), plan.dtype(), plan.tensors(), plan.expectedBytes(),
                plan.batches(), plan.sae());
    }
}
