package dev.jlens.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A folder locked by another process ({@link LockHolderMain}) for as long as the test needs. */
public final class HeldLock implements AutoCloseable {
    private final Process process;

    private HeldLock(Process process) {
        this.process = process;
    }

    /** Starts the holder and waits until it holds {@code folder}'s lock. */
    public static HeldLock of(Path folder, Path log) throws InterruptedException {
        Process p = ChildJvm.start(ChildJvm.command(List.of(), LockHolderMain.class, folder.toString()), log);
        long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        while (!read(log).contains("locked")) {
            if (!p.isAlive()) throw new AssertionError("the lock holder ended: " + read(log));
            if (System.nanoTime() > deadline) {
                p.destroyForcibly();
                throw new AssertionError("the lock holder did not lock " + folder + " in time: " + read(log));
            }
            Thread.sleep(20);
        }
        return new HeldLock(p);
    }

    public long pid() {
        return process.pid();
    }

    /** kill -9: the process dies without releasing anything itself. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        if (!process.waitFor(30, TimeUnit.SECONDS)) throw new AssertionError("the lock holder did not die");
    }

    @Override
    public void close() {
        process.destroyForcibly();
    }

    static String read(Path log) {
        try {
            return Files.exists(log) ? Files.readString(log) : "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
