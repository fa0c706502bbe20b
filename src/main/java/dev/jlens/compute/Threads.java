package dev.jlens.compute;

import org.nd4j.linalg.factory.Nd4j;

/**
 * The one thread setting of a jlens process: it governs every kernel, jlens's own ({@link Parallel}), ND4J's
 * OpenMP loops and its BLAS. The work is cut into the same pieces whatever the count, and each piece sums in
 * a fixed order, so results do not depend on it; only the speed does.
 */
public final class Threads {
    private Threads() {}

    /** Computes with {@code n} threads from now on (at most the cores the process started with for jlens's kernels). */
    public static void set(int n) {
        if (n < 1) throw new IllegalArgumentException("threads must be ≥ 1, got " + n);
        Parallel.active = Math.min(n, Parallel.THREADS);
        Nd4j.getEnvironment().setMaxThreads(n);
        Nd4j.getEnvironment().setMaxMasterThreads(n);
        Nd4j.factory().blas().setMaxThreads(n);
    }

    /** The threads jlens's kernels use now. */
    public static int current() {
        return Parallel.active;
    }
}
