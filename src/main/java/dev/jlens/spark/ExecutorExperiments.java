package dev.jlens.spark;

import dev.jlens.experiment.BatchedExperiment;
import dev.jlens.experiment.ExperimentRecipe;
import dev.jlens.experiment.Manifest;

/**
 * The experiment of each executor JVM, built once from the job's recipe (the model loaded once) and kept for every
 * batch that JVM runs, of this job and of later jobs with the same recipe.
 */
final class ExecutorExperiments {
    private ExecutorExperiments() {}

    private static ExperimentRecipe recipe;
    private static BatchedExperiment experiment;

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
            Manifest mine = built.plan();
            if (!mine.equals(driverPlan)) {
                throw new IllegalStateException("this executor built another experiment than the driver: model weights sha256 "
                        + mine.model().weightsSha256() + " vs " + driverPlan.model().weightsSha256() + ", text sha256 "
                        + mine.dataset().sha256() + " vs " + driverPlan.dataset().sha256()
                        + "; every executor must read the same model and text (a path every machine can read)");
            }
            experiment = built;
            recipe = r;
        }
        return experiment;
    }
}
