package dev.jlens.experiment;

import dev.jlens.cli.Progress;
import java.io.PrintStream;
import java.util.Objects;

/**
 * How an experiment run behaves around its results folder.
 *
 * @param force     replace what the folder holds when it belongs to another experiment, is damaged,
 *                  or is not a results folder (only jlens's own files there are deleted)
 * @param out       where the plan, the progress bar and the summary go
 * @param terminal  redraw the progress line in place (a terminal) or print whole lines (logs)
 * @param freeSpace how much the disk can still take (the run refuses to start when it cannot hold the results)
 * @param engine    who computes and writes the batches: this JVM, or Spark
 */
public record RunOptions(boolean force, PrintStream out, boolean terminal, FreeSpace freeSpace, BatchEngine engine) {
    public RunOptions {
        Objects.requireNonNull(out, "out");
        Objects.requireNonNull(freeSpace, "freeSpace");
        Objects.requireNonNull(engine, "engine");
    }

    /** On this machine. */
    public RunOptions(boolean force, PrintStream out, boolean terminal, FreeSpace freeSpace) {
        this(force, out, terminal, freeSpace, BatchEngine.local());
    }

    /** No --force, standard output (a redrawn line on a terminal), the folder's real free space. */
    public static RunOptions defaults() {
        return new RunOptions(false, System.out, Progress.stdoutIsTerminal(), FreeSpace.ofFileStore());
    }

    public RunOptions withForce(boolean f) {
        return new RunOptions(f, out, terminal, freeSpace, engine);
    }

    public RunOptions withOutput(PrintStream o, boolean isTerminal) {
        return new RunOptions(force, o, isTerminal, freeSpace, engine);
    }

    public RunOptions withFreeSpace(FreeSpace f) {
        return new RunOptions(force, out, terminal, f, engine);
    }

    public RunOptions withEngine(BatchEngine e) {
        return new RunOptions(force, out, terminal, freeSpace, e);
    }
}
