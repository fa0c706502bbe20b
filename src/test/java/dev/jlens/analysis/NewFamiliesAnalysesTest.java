package dev.jlens.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.model.HookedTransformer;
import dev.jlens.model.Run;
import dev.jlens.testing.TestData;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The analyses on the families beyond GPT-2 (RMSNorm without centring, rotary positions, grouped key/value
 * heads, parallel blocks, Gemma's soft cap), checked by invariants: the logit lens's decoder gives the
 * model's own logits for the last residual; direct logit attribution's parts add up to the logit.
 */
class NewFamiliesAnalysesTest {
    private static final long[][] IDS = {{1, 17, 40, 3, 99, 12, 7}};

    private static HookedTransformer model(String fixture) {
        return HookedTransformer.fromPretrained(TestData.file("fixtures/" + fixture).toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama-tiny", "gptneox-tiny", "gemma2-tiny", "qwen2-tiny", "qwen3-tiny"})
    void theLogitLensDecoderReproducesTheModelsLogits(String fixture) {
        HookedTransformer m = model(fixture);
        Run run = m.runWithCache(Nd4j.createFromArray(IDS));
        INDArray last = run.cache().get("blocks." + (m.cfg().nLayers() - 1) + ".hook_resid_post").slice(0);   // [pos, d_model]
        INDArray mine = Unembed.logits(m, last);
        assertTrue(mine.equalsWithEps(run.logits().slice(0), 1e-3), fixture);
        LogitLens lens = LogitLens.of(m, Nd4j.createFromArray(IDS), false);
        assertEquals(m.cfg().nLayers() + 1, lens.stages().size(), fixture + " " + lens.stages());
        int withMid = m.cfg().arch().parallel() ? m.cfg().nLayers() + 1 : 2 * m.cfg().nLayers() + 1;  // no resid_mid in a parallel block
        assertEquals(withMid, LogitLens.of(m, Nd4j.createFromArray(IDS), true).stages().size(), fixture);
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama-tiny", "gptneox-tiny", "gemma2-tiny", "qwen3-tiny"})
    void directLogitAttributionAddsUpToTheLogit(String fixture) {
        HookedTransformer m = model(fixture);
        DirectLogitAttribution dla = DirectLogitAttribution.of(m, Nd4j.createFromArray(IDS), -1, 5, 9);
        assertEquals(dla.modelValue(), dla.total(), 1e-3 * Math.max(1, Math.abs(dla.modelValue())), fixture + " " + dla);
    }

    @Test
    void circuitsUseEveryQueryHeadsOwnKeyHead() {
        HookedTransformer m = model("llama-tiny");                 // 4 query heads, 2 key/value heads
        INDArray q1 = Circuits.qk(m, 0, 1).AB(), q0 = Circuits.qk(m, 0, 0).AB();
        // W_Q[1]·W_K[1]ᵀ with W_K[1] = the grouped key head 0, recomputed by hand
        INDArray wq = m.W_Q(0).slice(1), wk = m.groupedW_K(0).slice(0);
        assertTrue(q1.equalsWithEps(wq.mmul(wk.transpose()), 1e-4));
        assertTrue(!q1.equalsWithEps(q0, 1e-4), "different query heads, different circuits");
        double score = Composition.score(m, Composition.Kind.K, 0, 0, 1, 3);
        assertTrue(score >= 0 && score <= 1, "a composition score is a ratio of norms: " + score);
    }

    @Test
    void theScoreDecompositionSaysWhyItDoesNotApplyToRotaryModels() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> AttentionScoreDecomposition.of(model("llama-tiny"), Nd4j.createFromArray(IDS), 0, 0));
        assertTrue(e.getMessage().contains("rotary"), e.getMessage());
    }

    @Test
    void patternsOfASlidingWindowLayerAreZeroOutsideTheWindow() {
        HookedTransformer m = model("gemma2-tiny");                // window 8 on even layers
        long[][] ids = new long[1][12];
        for (int i = 0; i < 12; i++) ids[0][i] = 3 + i;
        Run run = m.runWithCache(Nd4j.createFromArray(ids));
        INDArray p0 = run.cache().get("blocks.0.attn.hook_pattern"), p1 = run.cache().get("blocks.1.attn.hook_pattern");
        assertEquals(0.0, p0.getDouble(0, 0, 11, 3), 0.0, "layer 0 slides: query 11 cannot see key 3");
        assertTrue(p1.getDouble(0, 0, 11, 3) > 0, "layer 1 is global");
        assertEquals(1.0, p0.get(NDArrayIndex.point(0), NDArrayIndex.point(0), NDArrayIndex.point(11), NDArrayIndex.all()).sumNumber().doubleValue(), 1e-5);
    }
}
