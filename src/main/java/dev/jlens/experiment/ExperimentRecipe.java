package dev.jlens.experiment;

import java.io.Serializable;
import java.util.List;

/**
 * An experiment as data, to build the same one in another JVM (a Spark executor): the command line as given, with the
 * files it names resolved to absolute paths by the driver, so an executor started elsewhere finds the same model, text
 * and SAE (on a file system every executor can read).
 *
 * @param args  {@code block-internals …} or {@code feature-contexts …}, as typed
 * @param model the model the driver loaded, absolute (or a hub id)
 * @param data  the text file, absolute
 * @param sae   the SAE folder, absolute ({@code feature-contexts}; null for {@code block-internals})
 */
public record ExperimentRecipe(List<String> args, String model, String data, String sae) implements Serializable {
    public ExperimentRecipe {
        args = List.copyOf(args);
    }

    /** Loads the model and builds the experiment, as the driver did. */
    public BatchedExperiment build() {
        return ExperimentCommand.experimentOf(this);
    }
}
