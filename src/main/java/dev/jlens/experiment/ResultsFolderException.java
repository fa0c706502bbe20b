package dev.jlens.experiment;

import java.nio.file.Path;
import java.util.Objects;

/**
 * A results folder that cannot be used as asked: it belongs to another experiment, a batch in it is
 * damaged, it is not a results folder at all, or its disk cannot hold what the run would write. The
 * message names the folder (or file), what is wrong and what to do.
 */
public final class ResultsFolderException extends RuntimeException {
    /** What kind of problem, for callers that react differently (the command line's exit status). */
    public enum Problem {
        /** The manifest describes another model, text, split, sampling, block or component list. */
        MISMATCH,
        /** A batch the manifest lists is missing, has another size, or fails its SHA-256. */
        CORRUPT_BATCH,
        /** The folder holds other files and no manifest, or the manifest cannot be read. */
        NOT_A_RESULTS_FOLDER,
        /** The disk's free space cannot hold what the run would write. */
        NO_SPACE
    }

    private final String location;
    private final Problem problem;

    public ResultsFolderException(Path path, Problem problem, String what, String remedy) {
        this(path.toString(), problem, what, remedy);
    }

    /** @param location the folder or file at fault: a path, or a URI on HDFS or S3 */
    public ResultsFolderException(String location, Problem problem, String what, String remedy) {
        super(location + ": " + what + (remedy == null || remedy.isBlank() ? "" : "; " + remedy));
        this.location = Objects.requireNonNull(location, "location");
        this.problem = Objects.requireNonNull(problem, "problem");
    }

    /** The folder, or the batch file at fault: a path, or a URI. */
    public String location() {
        return location;
    }

    public Problem problem() {
        return problem;
    }
}
