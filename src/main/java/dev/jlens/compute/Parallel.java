package dev.jlens.compute;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * Runs {@code tasks} independent pieces of work on the calling thread plus helper threads, one per
 * further core. Pieces are claimed one at a time from a shared counter, so a thread that the
 * operating system delays (the machine may be busy with other work) simply claims fewer pieces.
 *
 * <p>A forward pass at 45 tokens hands out work about 75 times in 80 ms, a matrix product every
 * half millisecond. Waking a parked thread takes tens of microseconds, so a helper that has finished
 * keeps looking for the next piece of work for {@link #SPIN_NANOS} before it parks (as OpenMP's
 * threads do). One caller at a time uses the helpers; a second caller meanwhile, or a piece of work
 * that itself calls {@link #forEach}, runs its pieces on its own thread.
 */
final class Parallel {
    /** What one thread does with the pieces it claims; {@code worker} indexes per-thread scratch. */
    interface Body {
        void run(int piece, int worker);
    }

    static final int THREADS = Math.max(1, Integer.getInteger("jlens.threads", Runtime.getRuntime().availableProcessors()));

    /** How many of the {@link #THREADS} take work now ({@link Threads#set}); helpers beyond it stay idle. */
    static volatile int active = THREADS;

    /** How long an idle thread looks for work (a helper) or for its helpers' last pieces (the caller) before parking. */
    private static final long SPIN_NANOS = 200_000;

    /** One call's pieces: claimed through {@code next}, counted through {@code done}. */
    private static final class Job {
        final long id;
        final int tasks;
        final Body body;
        final Thread caller = Thread.currentThread();
        final AtomicInteger next = new AtomicInteger();
        final AtomicInteger done = new AtomicInteger();
        volatile Throwable failure;

        Job(long id, int tasks, Body body) {
            this.id = id;
            this.tasks = tasks;
            this.body = body;
        }

        /** Runs pieces until none are left; after a failure the remaining pieces are counted, not run. */
        void drain(int worker) {
            for (int i = next.getAndIncrement(); i < tasks; i = next.getAndIncrement()) {
                if (failure == null) {
                    try {
                        body.run(i, worker);
                    } catch (Throwable t) {
                        failure = t;
                    }
                }
                if (done.incrementAndGet() == tasks && Thread.currentThread() != caller) LockSupport.unpark(caller);
            }
        }

        boolean finished() {
            return done.get() == tasks;
        }
    }

    private static final AtomicBoolean IN_USE = new AtomicBoolean();
    /** The job on offer to the helpers, or null. */
    private static volatile Job offered;
    private static long jobs;
    private static final Thread[] HELPERS = new Thread[THREADS - 1];

    static {
        for (int h = 0; h < HELPERS.length; h++) {
            int worker = h + 1;
            Thread t = new Thread(() -> helperLoop(worker), "jlens-compute-" + worker);
            t.setDaemon(true);
            t.start();
            HELPERS[h] = t;
        }
    }

    private Parallel() {}

    static void forEach(int tasks, Body body) {
        if (tasks <= 0) return;
        if (active == 1 || tasks == 1 || !IN_USE.compareAndSet(false, true)) {
            for (int i = 0; i < tasks; i++) body.run(i, 0);
            return;
        }
        Job job = new Job(++jobs, tasks, body);
        try {
            offered = job;
            for (Thread h : HELPERS) LockSupport.unpark(h);
            job.drain(0);
            for (long start = System.nanoTime(); !job.finished(); ) {
                if (System.nanoTime() - start < SPIN_NANOS) Thread.onSpinWait();
                else LockSupport.park(job);
            }
        } finally {
            offered = null;
            IN_USE.set(false);
        }
        Throwable failure = job.failure;
        if (failure instanceof RuntimeException r) throw r;
        if (failure instanceof Error e) throw e;
        if (failure != null) throw new IllegalStateException(failure);
    }

    private static void helperLoop(int worker) {
        long last = 0;   // the id of the last job seen (not the job: it holds its caller's arrays)
        long idleSince = System.nanoTime();
        while (true) {
            Job job = offered;
            if (job != null && job.id != last && worker < active) {
                last = job.id;
                job.drain(worker);
                idleSince = System.nanoTime();
            } else if (System.nanoTime() - idleSince < SPIN_NANOS) {
                Thread.onSpinWait();
            } else {
                LockSupport.park(Parallel.class);
            }
        }
    }
}
