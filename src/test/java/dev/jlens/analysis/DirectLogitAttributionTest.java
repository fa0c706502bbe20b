package dev.jlens.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.cache.CacheSpec;
import dev.jlens.model.HookedTransformer;
import dev.jlens.testing.HandBuiltModels;
import dev.jlens.testing.TestData;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

class DirectLogitAttributionTest {

    /** The components sum to the model's own logit and logit difference, with the final LayerNorm. */
    @Test
    void contributionsSumToTheLogit() {
        for (String fixture : new String[] {"fixtures/gpt2-tiny", "fixtures/charlm-tiny"}) {
            HookedTransformer model = HookedTransformer.fromPretrained(TestData.file(fixture).toString());
            INDArray tokens = model.toTokens("ROMEO: the king is dead");
            for (int position : new int[] {2, -1}) {
                DirectLogitAttribution plain = DirectLogitAttribution.of(model, tokens, position, 5, -1);
                assertEquals(plain.modelValue(), plain.total(), 1e-4 * Math.max(1, Math.abs(plain.modelValue())), fixture + " " + plain);
                DirectLogitAttribution diff = DirectLogitAttribution.of(model, tokens, position, 7, 3);
                assertEquals(diff.modelValue(), diff.total(), 1e-4 * Math.max(1, Math.abs(diff.modelValue())), fixture + " " + diff);
            }
        }
    }

    /** Per-head contributions equal the cached per-head results, centred, scaled and projected by hand. */
    @Test
    void headContributionsMatchTheCachedHeadResults() {
        HookedTransformer model = HookedTransformer.fromPretrained(TestData.file("fixtures/gpt2-tiny").toString());
        INDArray tokens = model.toTokens("The cat sat on the mat");
        int p = (int) tokens.length() - 1, target = 1000;
        DirectLogitAttribution dla = DirectLogitAttribution.of(model, tokens, p, target, -1);
        var run = model.runWithCache(tokens, CacheSpec.only("result", "ln_final.hook_scale"));
        double scale = run.cache().get("ln_final.hook_scale").getDouble(0, p, 0);
        INDArray readOut = model.W_U().getColumn(target).mul(model.weights().lnFinalW());            // w ⊙ W_U[:, t]
        for (int l = 0; l < model.cfg().nLayers(); l++) {
            for (int h = 0; h < model.cfg().nHeads(); h++) {
                INDArray result = run.cache().get("result", l).get(NDArrayIndex.point(0), NDArrayIndex.point(p), NDArrayIndex.point(h), NDArrayIndex.all());
                INDArray centred = result.sub(result.meanNumber());
                double byHand = centred.mul(readOut).sumNumber().doubleValue() / scale;
                assertEquals(byHand, dla.get("L" + l + "H" + h), 1e-5, "L" + l + "H" + h);
            }
        }
    }

    /**
     * In the hand-built induction model (no LayerNorm), the logit of the repeated sequence's next
     * token at a second-copy position comes from the induction head (1) and nothing else but the
     * current token's own embedding (which raises only the current token).
     */
    @Test
    void theInductionHeadCarriesTheInductionLogit() {
        HookedTransformer model = HandBuiltModels.inductionCircuit();
        INDArray tokens = model.toTokens("abcdefgabcdefg", false);
        int p = 9;                                          // the second 'c': next comes 'd'
        DirectLogitAttribution dla = DirectLogitAttribution.of(model, tokens, p, model.toSingleToken("d"), -1);
        System.out.println(dla);
        assertEquals(1, dla.get("L1H0"), 1e-3);
        assertEquals(0, dla.get("embed"), 1e-6);
        assertEquals(dla.modelValue(), dla.total(), 1e-5);
        assertEquals(List.of("L1H0"), dla.heads().top(1));
    }
}
