package dev.jlens.experiment;

import java.io.Serializable;
import java.util.List;

/**
 * An experiment as data, to build the same one in another JVM (a Spark executor): the command line as given, with the
 * files it names resolved to absolute paths by the driver, so an executor started elsewhere finds the same model, text
 * and SAE (on a file system every executor can read, or in the copies the job ships when {@code ship} is set).
 *
 * @param args  {@code block-internals …} or {@code feature-contexts …}, as typed
 * @param model the model the driver loaded, absolute (or a hub id)
 * @param data  the text file, absolute
 * @param sae   the SAE folder, absolute ({@code feature-contexts}; null for {@code block-internals})
 * @param ship  {@code --ship}: the job sends the model, text and SAE to its executors, which build from their copies
 */
public record ExperimentRecipe(List<String> args, String model, String data, String sae, boolean ship) implements Serializable {
    public ExperimentRecipe {
        args = List.copyOf(args);
    }

    /** A recipe whose files every executor reads where the driver does. */
    public ExperimentRecipe(List<String> args, String model, String data, String sae) {
        this(args, model, data, sae, false);
    }

    /** The same recipe, its files shipped with the job ({@code --ship}) or not. */
    public ExperimentRecipe withShip(boolean ship) {
        return new ExperimentRecipe(args, model, data, sae, ship);
    }

    /**
     * The same experiment built from copies of its files (an executor's shipped ones): the arguments stay as typed; the
     * copies are read instead of the paths the driver resolved.
     */
    public ExperimentRecipe relocated(String model, String data, String sae) {
        return new ExperimentRecipe(args, model, data, sae, false);
    }

    /** Loads the model and builds the experiment, as the driver did. */
    public BatchedExperiment build() {
        return ExperimentCommand.experimentOf(this);
    }
}
