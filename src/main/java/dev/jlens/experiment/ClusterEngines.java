package dev.jlens.experiment;

import dev.jlens.cli.UsageException;
import java.net.URI;
import java.util.Map;
import java.util.ServiceLoader;

/**
 * {@code --engine spark}: the engine, and results folders on Hadoop's file systems (HDFS, S3), are found through
 * {@link ServiceLoader} ({@code dev.jlens.spark} provides them), so this package, the console and
 * {@code target/jlens.classpath} never refer to Spark or Hadoop; only the Spark class path does.
 */
public interface ClusterEngines {
    /**
     * An engine for {@code recipe} on {@code master} (null: embedded in this JVM, or spark-submit's).
     *
     * @param settings Spark settings ({@code --conf KEY=VALUE}), over Spark's defaults and spark-submit's
     */
    BatchEngine create(ExperimentRecipe recipe, String master, Map<String, String> settings);

    /** The results folder {@code uri} on a Hadoop file system, reached with the {@code spark.hadoop.*} of {@code settings}. */
    ResultsFolder folder(URI uri, Map<String, String> settings);

    /** The provider's engine, or a one-line usage error saying how to get Spark onto the class path. */
    static BatchEngine spark(ExperimentRecipe recipe, String master, Map<String, String> settings) {
        return provider().create(recipe, master, settings);
    }

    /** The provider's folder for {@code uri}. */
    static ResultsFolder hadoopFolder(URI uri, Map<String, String> settings) {
        return provider().folder(uri, settings);
    }

    private static ClusterEngines provider() {
        try {
            return ServiceLoader.load(ClusterEngines.class).findFirst()
                    .orElseThrow(() -> new UsageException("--engine spark needs Spark on the class path: run it through ./jlens"
                            + " (which adds target/jlens-spark.classpath) or spark-submit"));
        } catch (java.util.ServiceConfigurationError | NoClassDefFoundError e) {
            throw new UsageException("--engine spark needs Spark on the class path (" + e.getMessage() + "): run it through ./jlens"
                    + " (which adds target/jlens-spark.classpath) or spark-submit");
        }
    }
}
