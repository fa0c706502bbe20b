package dev.jlens.train;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Ctrl-C for a training command: a shutdown hook asks the run to stop, then holds the JVM's exit (up to two minutes)
 * until the run has written its checkpoint and {@link #close} says it is done.
 */
final class GracefulStop implements AutoCloseable {
    private final CountDownLatch finished = new CountDownLatch(1);
    private final Thread hook;

    /** @param install false: no hook (tests, and the console, which stops runs its own way) */
    GracefulStop(Runnable stop, String threadName, boolean install) {
        hook = install ? new Thread(() -> {
            stop.run();
            try {
                finished.await(120, TimeUnit.SECONDS);
            } catch (InterruptedException ignored) {
                Thread.currentThread().interrupt();
            }
        }, threadName) : null;
        if (hook != null) Runtime.getRuntime().addShutdownHook(hook);
    }

    @Override
    public void close() {
        finished.countDown();
        if (hook == null) return;
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // the JVM is already exiting (Ctrl-C): the hook is running and will see the latch
        }
    }
}
