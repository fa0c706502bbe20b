package dev.jlens.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.analysis.LogitLens;
import dev.jlens.testing.TestData;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Reading weights has no side effects; changing them goes through {@link HookedTransformer#editWeights},
 * and a change made around that door is still seen by the next run (and warned about), never ignored.
 */
class WeightOwnershipTest {
    private static HookedTransformer gpt2() {
        return HookedTransformer.fromPretrained(TestData.file("fixtures/gpt2-tiny").toString());
    }

    @Test
    void readingWeightsKeepsThePackedCopiesTheForwardPassUses() {
        HookedTransformer m = gpt2();
        INDArray before = m.forward("Hello world, hello");
        long packed = m.packedBytes();
        assertTrue(packed > 0, "a loaded model multiplies by packed copies");
        // What used to drop the copies for good: a logit lens (W_U), params() (what Tab completion and an
        // experiment's fingerprint read), single parameters, every accessor, weights().
        LogitLens.of(m, "Hello world, hello");
        m.params();
        m.param("blocks.0.attn.W_Q");
        for (int l = 0; l < m.cfg().nLayers(); l++) {
            m.W_Q(l);
            m.W_K(l);
            m.W_V(l);
            m.W_O(l);
            m.W_in(l);
            m.W_out(l);
        }
        m.W_E();
        m.W_U();
        m.weights();
        INDArray after = m.forward("Hello world, hello");
        assertEquals(packed, m.packedBytes(), "no copy was dropped by reading");
        assertEquals(before, after, "and the results are the same bits");
    }

    @Test
    void anEditThroughTheDoorIsSeenByTheNextRun() {
        HookedTransformer m = gpt2();
        m.forward("Hello world");                                  // packs
        m.editWeights(w -> m.W_O(0).assign(0));                     // W_O of block 0 zeroed
        INDArray attnOut = m.runWithCache("Hello world").cache().get("blocks.0.hook_attn_out");
        INDArray bias = m.b_O(0);
        for (int p = 0; p < attnOut.size(1); p++) {
            INDArray row = attnOut.get(NDArrayIndex.point(0), NDArrayIndex.point(p), NDArrayIndex.all());
            assertTrue(row.equalsWithEps(bias, 1e-6), "with W_O zero, attn_out is b_O at position " + p);
        }
    }

    @Test
    void anEditAroundTheDoorIsStillSeenNeverIgnored() {
        HookedTransformer m = gpt2();
        m.forward("Hello world");                                  // packs
        m.param("blocks.0.mlp.W_out").muli(0);                     // not through editWeights
        INDArray mlpOut = m.runWithCache("Hello world").cache().get("blocks.0.hook_mlp_out");
        INDArray bias = m.b_out(0);
        for (int p = 0; p < mlpOut.size(1); p++) {
            INDArray row = mlpOut.get(NDArrayIndex.point(0), NDArrayIndex.point(p), NDArrayIndex.all());
            assertTrue(row.equalsWithEps(bias, 1e-6), "the zeroed W_out is what the run used, position " + p);
        }
    }
}
