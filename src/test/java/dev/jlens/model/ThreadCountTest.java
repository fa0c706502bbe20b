package dev.jlens.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.jlens.compute.Threads;
import dev.jlens.testing.TestData;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * One thread setting governs every kernel, and the work is cut into pieces of a fixed size whatever the
 * number of threads: a run on one thread computes the same bits as a run on all of them.
 */
class ThreadCountTest {
    @Test
    void oneThreadAndAllThreadsComputeTheSameBits() {
        INDArray tokens = Nd4j.createFromArray(new long[][] {{1, 5, 9, 2, 7, 3, 8, 4, 6, 11, 12, 10, 13, 14, 15, 16, 17, 18, 19, 20}});
        for (String fixture : new String[] {"gpt2-tiny", "llama-tiny", "gemma2-tiny"}) {
            HookedTransformer model = HookedTransformer.fromPretrained(TestData.file("fixtures/" + fixture).toString());
            float[] all = model.runWithCache(tokens).logits().data().asFloat();
            int before = Threads.current();
            float[] one;
            try {
                Threads.set(1);
                one = model.runWithCache(tokens).logits().data().asFloat();
            } finally {
                Threads.set(before);
            }
            assertArrayEquals(all, one, 0f, fixture + ": the logits on one thread differ from those on " + before);
        }
    }
}
