package dev.jlens.load;

import java.nio.file.Path;

/**
 * A weights file that a loaded model reads from (memory-mapped) changed on disk after it was loaded:
 * running the model would give results of other weights, or crash the JVM on a truncated file.
 */
public final class ModelFileChangedException extends IllegalStateException {
    private final Path file;

    ModelFileChangedException(Path file, String what) {
        super(file + " changed on disk since it was loaded (" + what + "); load(\"" + file + "\") it again. To update a"
                + " model under a live session, write the new file beside it and rename it over the old one: the"
                + " session keeps the weights it loaded");
        this.file = file;
    }

    public Path file() {
        return file;
    }
}
