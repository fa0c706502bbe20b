package dev.jlens.console;

import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.function.Supplier;

/**
 * Runs a helper's long computation so that Ctrl-C can end it.
 *
 * <p>On JDK 17 JShell stops a snippet with {@code Thread.stop}, which reaches into any Java code, so
 * the work runs in place. From JDK 20 on {@code Thread.stop} is gone: JShell sets a flag checked only
 * inside snippet code and interrupts the snippet thread. A long ND4J computation inside a helper
 * would not see either, so there the work runs on its own thread and the snippet thread waits for
 * it interruptibly: Ctrl-C returns to the prompt at once, and the worker is interrupted in turn
 * (generation stops at its next token; a single forward pass finishes in the background).
 */
final class Work {
    private static final boolean THREAD_STOP_WORKS = Runtime.version().feature() < 20;

    private Work() {}

    static <T> T cancellable(String what, Supplier<T> work) {
        if (THREAD_STOP_WORKS) return work.get();
        checkInterrupted();
        FutureTask<T> task = started(what, work);
        try {
            return result(task);
        } catch (InterruptedException e) {
            // Passed on: the model's own loops (generate) check for it and end early.
            task.cancel(true);
            throw new CancellationException(what + " interrupted");
        }
    }

    /**
     * Runs work that can end cleanly when asked ({@code stop}, e.g. a trainer finishing its step and
     * writing a checkpoint), always on its own thread so that neither {@code Thread.stop} (JDK 17) nor
     * an interrupt (JDK 20+) lands inside it: Ctrl-C calls {@code stop} and waits until the work ended.
     */
    static <T> T stoppable(String what, Supplier<T> work, Runnable stop, String stoppedMessage) {
        FutureTask<T> task = started(what, work);
        try {
            return result(task);
        } catch (InterruptedException | ThreadDeath ctrlC) {
            stop.run();
            try {
                result(task);
            } catch (InterruptedException again) {
                Thread.currentThread().interrupt();
            }
            throw new CancellationException(stoppedMessage);
        }
    }

    /**
     * Like {@link #stoppable}, for work whose result is worth having when it is stopped early (a generation's
     * text so far): Ctrl-C calls {@code stop}, waits for the work to end, and returns what it returned.
     */
    static <T> T untilStopped(String what, Supplier<T> work, Runnable stop) {
        FutureTask<T> task = started(what, work);
        try {
            return result(task);
        } catch (InterruptedException | ThreadDeath ctrlC) {
            stop.run();
            while (true) {
                try {
                    return result(task);
                } catch (InterruptedException again) {
                    stop.run();   // a second Ctrl-C while it finishes its step: keep waiting for the text
                }
            }
        }
    }

    /**
     * The workers' own thread group, under the root group: on JDK 17 JShell's stop calls {@code Thread.stop} on every
     * thread of the snippet's group, which would kill a worker mid-step and lose what {@link #untilStopped} keeps.
     */
    private static final ThreadGroup WORKERS = new ThreadGroup(rootGroup(), "jlens-work");

    private static ThreadGroup rootGroup() {
        ThreadGroup g = Thread.currentThread().getThreadGroup();
        while (g.getParent() != null) g = g.getParent();
        return g;
    }

    private static <T> FutureTask<T> started(String what, Supplier<T> work) {
        FutureTask<T> task = new FutureTask<>(work::get);
        Thread worker = new Thread(WORKERS, task, "jlens-" + what);
        worker.setDaemon(true);
        worker.start();
        return task;
    }

    private static <T> T result(FutureTask<T> task) throws InterruptedException {
        try {
            return task.get();
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException r) throw r;
            if (cause instanceof Error err) throw err;
            throw new IllegalStateException(cause);
        }
    }

    /** Ends a helper's loop between steps when the user pressed Ctrl-C (JShell interrupts the thread). */
    static void checkInterrupted() {
        if (Thread.interrupted()) throw new CancellationException("interrupted");
    }
}
