package dev.jlens.spark;

import dev.jlens.experiment.BatchEngine;
import dev.jlens.experiment.ClusterEngines;
import dev.jlens.experiment.ExperimentRecipe;
import dev.jlens.experiment.ResultsFolder;
import java.net.URI;
import java.util.Map;

/** {@code --engine spark}'s provider (META-INF/services), found by {@link ClusterEngines#spark} only when it is asked for. */
public final class SparkEngines implements ClusterEngines {
    @Override
    public BatchEngine create(ExperimentRecipe recipe, String master, Map<String, String> settings) {
        return new SparkEngine(recipe, master, settings);
    }

    @Override
    public ResultsFolder folder(URI uri, Map<String, String> settings) {
        return HadoopResultsFolder.open(uri, HadoopSettings.of(settings));
    }
}
