package dev.jlens.experiment;

import dev.jlens.cli.UsageException;
import java.util.ServiceLoader;

/**
 * {@code --engine spark}: the engine is found through {@link ServiceLoader} ({@code dev.jlens.spark} provides it), so
 * this package, the console and {@code target/jlens.classpath} never refer to Spark; only the Spark class path does.
 */
public interface ClusterEngines {
    /** An engine for {@code recipe} on {@code master} (null: embedded in this JVM). */
    BatchEngine create(ExperimentRecipe recipe, String master);

    /** The provider on the class path, or a one-line usage error saying how to get Spark onto it. */
    static BatchEngine spark(ExperimentRecipe recipe, String master) {
        try {
            return ServiceLoader.load(ClusterEngines.class).findFirst()
                    .orElseThrow(() -> new UsageException("--engine spark needs Spark on the class path: run it through ./jlens"
                            + " (which adds target/jlens-spark.classpath) or spark-submit"))
                    .create(recipe, master);
        } catch (java.util.ServiceConfigurationError | NoClassDefFoundError e) {
            throw new UsageException("--engine spark needs Spark on the class path (" + e.getMessage() + "): run it through ./jlens"
                    + " (which adds target/jlens-spark.classpath) or spark-submit");
        }
    }
}
