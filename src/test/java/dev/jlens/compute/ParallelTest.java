package dev.jlens.compute;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

/** Every piece runs exactly once, whoever calls, however often, and failures reach the caller. */
class ParallelTest {
    private static void assertEachOnce(AtomicIntegerArray runs, String what) {
        for (int i = 0; i < runs.length(); i++) assertEquals(1, runs.get(i), what + ": piece " + i);
    }

    @Test
    void oneThreadMeansEveryPieceOnTheCaller() {
        int before = Threads.current();
        try {
            Threads.set(1);
            Thread me = Thread.currentThread();
            java.util.Set<Thread> seen = java.util.concurrent.ConcurrentHashMap.newKeySet();
            for (int call = 0; call < 50; call++) Parallel.forEach(64, (i, worker) -> seen.add(Thread.currentThread()));
            assertEquals(java.util.Set.of(me), seen, "--threads 1 leaves jlens's kernels on one thread");
            assertEquals(1, Threads.current());
        } finally {
            Threads.set(before);
        }
    }

    @Test
    void runsEveryPieceOnceInManyCallsInARow() {
        for (int call = 0; call < 2000; call++) {
            int tasks = 1 + call % 37;
            AtomicIntegerArray runs = new AtomicIntegerArray(tasks);
            Parallel.forEach(tasks, (i, worker) -> runs.incrementAndGet(i));
            assertEachOnce(runs, "call " + call);
        }
    }

    @Test
    void aFailingPieceFailsTheCallAndTheNextCallWorks() {
        IllegalStateException boom = new IllegalStateException("piece 5");
        IllegalStateException thrown = assertThrows(IllegalStateException.class, () -> Parallel.forEach(20, (i, worker) -> {
            if (i == 5) throw boom;
        }));
        assertSame(boom, thrown);
        AtomicIntegerArray runs = new AtomicIntegerArray(20);
        Parallel.forEach(20, (i, worker) -> runs.incrementAndGet(i));
        assertEachOnce(runs, "after a failure");
    }

    @Test
    void nestedAndConcurrentCallersEachRunAllTheirPieces() throws InterruptedException {
        AtomicIntegerArray nested = new AtomicIntegerArray(8 * 8);
        Parallel.forEach(8, (i, worker) -> Parallel.forEach(8, (j, w) -> nested.incrementAndGet(i * 8 + j)));
        assertEachOnce(nested, "nested");

        int callers = 4, calls = 300, tasks = 16;
        AtomicIntegerArray runs = new AtomicIntegerArray(callers * calls * tasks);
        CountDownLatch start = new CountDownLatch(1);
        Thread[] threads = new Thread[callers];
        for (int c = 0; c < callers; c++) {
            int caller = c;
            threads[c] = new Thread(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int call = 0; call < calls; call++) {
                    int base = (caller * calls + call) * tasks;
                    Parallel.forEach(tasks, (i, worker) -> runs.incrementAndGet(base + i));
                }
            });
            threads[c].start();
        }
        start.countDown();
        for (Thread t : threads) t.join();
        assertEachOnce(runs, "concurrent callers");
    }
}
