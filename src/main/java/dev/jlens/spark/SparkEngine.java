package dev.jlens.spark;

import dev.jlens.experiment.BatchEngine;
import dev.jlens.experiment.BatchedExperiment;
import dev.jlens.experiment.ExperimentRecipe;
import dev.jlens.experiment.Manifest;
import dev.jlens.experiment.ResultsFolder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import scala.reflect.ClassTag;
import scala.reflect.ClassTag$;
import scala.runtime.AbstractFunction2;
import scala.runtime.BoxedUnit;

/**
 * The missing batches as a Spark job: one partition per batch index, so Spark schedules, retries and (if asked)
 * speculates batch by batch; the driver (this JVM) receives each task's records as it finishes and hands them to the
 * runner, which checks the file and writes the manifest, so a killed job resumes from the batches it finished.
 *
 * <p>With no master, Spark runs embedded in this JVM ({@code local[*,4]}: all cores, a failed task tried up to 4 times,
 * as {@code spark.task.maxFailures} does on a cluster; plain {@code local[*]} would give up at the first failure). Under
 * {@code spark-submit}, its {@code --master} and settings (system properties) are used as given.
 */
public final class SparkEngine implements BatchEngine {
    /** Tests only: a batch whose first attempt fails (null: none). */
    static volatile BatchTask.FailOnce failOnceForTests;

    private final ExperimentRecipe recipe;
    private final String master;
    private final Map<String, String> settings;

    /**
     * @param master   a Spark master URL, or null for spark-submit's or the embedded one
     * @param settings Spark settings that take precedence over the defaults below
     */
    public SparkEngine(ExperimentRecipe recipe, String master, Map<String, String> settings) {
        this.recipe = recipe;
        this.master = master;
        this.settings = Map.copyOf(settings);
    }

    SparkConf conf() {
        SparkConf conf = new SparkConf();   // spark-submit's settings arrive as system properties
        if (master != null) {
            conf.setMaster(master);
            // Started from ./jlens (not spark-submit), executors find jlens where the driver has it: the same paths on
            // every worker (a shared installation), as on one machine.
            conf.setIfMissing("spark.executor.extraClassPath", System.getProperty("java.class.path"));
        }
        conf.setIfMissing("spark.master", "local[*,4]");
        conf.setIfMissing("spark.app.name", "jlens experiment " + recipe.args().get(0));
        conf.setIfMissing("spark.ui.enabled", "false");   // an experiment prints its own progress
        // The executors run the same kernels as ./jlens: the Vector API, and OpenMP threads that sleep while they wait.
        conf.setIfMissing("spark.executor.extraJavaOptions", "--add-modules jdk.incubator.vector -XX:+UseSerialGC");
        conf.setIfMissing("spark.executorEnv.OMP_WAIT_POLICY", "PASSIVE");
        conf.setIfMissing("spark.task.maxFailures", "4");
        settings.forEach(conf::set);
        return conf;
    }

    @Override
    public void writeBatches(BatchedExperiment exp, ResultsFolder folder, List<Integer> missing, Consumer<Manifest.Batch> written) {
        if (missing.isEmpty()) return;
        SparkConf conf = conf();
        Path scratch = recipe.ship() ? ShippedFiles.scratch() : null;
        try (JavaSparkContext sc = new JavaSparkContext(conf)) {
            sc.setLogLevel("WARN");
            ShippedFiles shipped = recipe.ship() ? ShippedFiles.add(recipe, sc.sc(), scratch) : null;
            BatchTask task = new BatchTask(recipe, exp.plan(), folder.uri().toString(), HadoopSettings.of(conf), failOnceForTests, shipped);
            JavaRDD<Integer> indices = sc.parallelize(missing, missing.size());
            ClassTag<ArrayList<Manifest.Batch>> tag = ClassTag$.MODULE$.apply(ArrayList.class);
            sc.sc().runJob(indices.rdd(), task, new Handler(written), tag);
        } catch (Exception e) {   // Spark throws its checked SparkException unannounced; the command wants one line
            throw new JobFailedException(e);
        } finally {
            if (scratch != null) ShippedFiles.deleteScratch(scratch);
        }
    }

    /** A job that ended before its last batch: the first cause in words; the finished batches are in the manifest. */
    public static final class JobFailedException extends IllegalStateException {
        private static final long serialVersionUID = 1L;

        JobFailedException(Throwable e) {
            super("the Spark job stopped (" + rootCause(e) + "); the batches it finished are kept: run the same command again"
                    + " to resume", e);
        }

        private static String rootCause(Throwable e) {
            Throwable t = e;
            while (t.getCause() != null && t.getCause() != t) t = t.getCause();
            String m = String.valueOf(t.getMessage()).lines().findFirst().orElse("");   // the line must stay one line
            return t.getClass().getSimpleName() + ": " + m;
        }
    }

    /** On the driver, one finished partition at a time (Spark calls it under its job's lock). */
    private static final class Handler extends AbstractFunction2<Object, ArrayList<Manifest.Batch>, BoxedUnit> {
        private final Consumer<Manifest.Batch> written;

        Handler(Consumer<Manifest.Batch> written) {
            this.written = written;
        }

        @Override
        public BoxedUnit apply(Object partition, ArrayList<Manifest.Batch> batches) {
            batches.forEach(written);
            return BoxedUnit.UNIT;
        }
    }
}
