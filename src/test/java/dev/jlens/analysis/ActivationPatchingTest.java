package dev.jlens.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.cache.CacheSpec;
import dev.jlens.model.HookedTransformer;
import dev.jlens.testing.HandBuiltModels;
import dev.jlens.testing.TestData;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

class ActivationPatchingTest {
    static HookedTransformer gpt2() {
        return HookedTransformer.fromPretrained(TestData.file("fixtures/gpt2-tiny").toString());
    }

    /** Everything downstream of the first residual is computed from it, so patching all of it gives the clean run. */
    @Test
    void patchingTheWholeCleanResidualRestoresTheCleanLogitsExactly() {
        HookedTransformer model = gpt2();
        INDArray clean = model.toTokens("When John and Mary went to the shops, John gave the bag to");
        INDArray corrupted = model.toTokens("When John and Mary went to the shops, Mary gave the bag to");
        assertEquals(clean.length(), corrupted.length());
        var cleanRun = model.runWithCache(clean, CacheSpec.only("resid_pre"));
        for (int layer = 0; layer < model.cfg().nLayers(); layer++) {
            INDArray patched = ActivationPatching.runPatched(model, corrupted, cleanRun.cache(), "blocks." + layer + ".hook_resid_pre", -1, -1);
            double diff = patched.sub(cleanRun.logits()).amaxNumber().doubleValue();
            assertTrue(diff <= 1e-6, "layer " + layer + ": max |Δ| " + diff);
        }
        var m = new ActivationPatching.LogitDiff(model.toSingleToken(" Mary"), model.toSingleToken(" John"), -1);
        PatchingResult byLayer = ActivationPatching.byLayer(model, clean, corrupted, m, "resid_pre");
        for (double v : byLayer.normalised()[0]) assertEquals(1, v, 1e-4);
    }

    /** Where clean and corrupted tokens agree, the first residual is the same: patching it changes nothing. */
    @Test
    void patchingAnUnchangedPositionAtTheEmbeddingDoesNothing() {
        HookedTransformer model = gpt2();
        String clean = "When John and Mary went to the shops, John gave the bag to";
        String corrupted = "When John and Mary went to the shops, Mary gave the bag to";
        PatchingResult r = ActivationPatching.residPre(model, clean, corrupted, " Mary", " John");
        System.out.println(r.toText(dev.jlens.view.TerminalStyle.plain()));
        int changed = r.colLabels().indexOf("·John/·Mary");   // token labels in the one token display
        assertTrue(changed > 0, r.colLabels().toString());
        for (int p = 0; p < r.colLabels().size(); p++) {
            if (p != changed) assertEquals(0, r.get(0, p), 1e-4, "position " + p);
        }
        assertEquals(1, r.get(0, changed), 1e-4, "the only differing token carries the whole difference at layer 0");
    }

    /**
     * Hand-built induction model: clean "abcdefgabc" predicts 'd' after the last 'c'; the
     * corrupted "abcxefgabc" predicts 'x'. Only the induction head's output and the residual at the
     * changed position carry the difference.
     */
    @Test
    void patchingFindsTheInductionHeadAndTheTokenItCopies() {
        HookedTransformer model = HandBuiltModels.inductionCircuit();
        INDArray clean = model.toTokens("abcdefgabc", false), corrupted = model.toTokens("abcxefgabc", false);
        var metric = new ActivationPatching.LogitDiff(model.toSingleToken("d"), model.toSingleToken("x"), -1);
        PatchingResult heads = ActivationPatching.heads(model, clean, corrupted, metric);
        System.out.println(heads.toText(dev.jlens.view.TerminalStyle.plain()));
        assertEquals(1, heads.clean(), 1e-3);
        assertEquals(-1, heads.corrupted(), 1e-3);
        assertEquals(1, heads.get(1, 0), 1e-3, "L1H0 restores the answer");
        assertEquals(0, heads.get(0, 0), 1e-3, "L0H0 writes 'previous c' at the changed position either way");
        assertEquals(0, heads.get(1, 1), 1e-3);
        PatchingResult resid = ActivationPatching.byLayerAndPosition(model, clean, corrupted, metric, "resid_pre");
        for (int layer = 0; layer < 2; layer++) {
            for (int p = 0; p < 10; p++) assertEquals(p == 3 ? 1 : 0, resid.get(layer, p), 1e-3, "L" + layer + " position " + p);
        }
    }
}
