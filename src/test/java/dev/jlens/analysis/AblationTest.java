package dev.jlens.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.model.HookedTransformer;
import dev.jlens.testing.HandBuiltModels;
import dev.jlens.testing.TestData;
import org.junit.jupiter.api.Test;

class AblationTest {

    @Test
    void ablatingAHeadThatWritesNothingChangesNothing() {
        HookedTransformer model = HandBuiltModels.inductionCircuit();
        Ablation.Result r = Ablation.head(model, "abcdefgabcdefg", 1, 1, Ablation.Mode.ZERO);
        for (double kl : r.kl()) assertEquals(0, kl, 1e-7);
        for (double h : r.hellinger()) assertEquals(0, h, 1e-3);
    }

    /**
     * With the induction head, a second-copy position's logits are 1 for the current token and 1
     * for the next one (0 for the other 24); without it only the current token's 1 is left. KL and
     * Hellinger of those two softmaxes, written out.
     */
    @Test
    void ablatingTheInductionHeadMovesThePredictionByTheComputedAmount() {
        HookedTransformer model = HandBuiltModels.inductionCircuit();
        Ablation.Result r = Ablation.head(model, "abcdefgabcdefg", 1, 0, Ablation.Mode.ZERO);
        System.out.println(r);
        double e = Math.E;
        double pTop = e / (2 * e + 24), pRest = 1 / (2 * e + 24);       // clean: two logits of 1
        double qTop = e / (e + 25), qRest = 1 / (e + 25);               // ablated: one logit of 1
        double kl = pTop * Math.log(pTop / qTop) + pTop * Math.log(pTop / qRest) + 24 * pRest * Math.log(pRest / qRest);
        double bc = Math.sqrt(pTop * qTop) + Math.sqrt(pTop * qRest) + 24 * Math.sqrt(pRest * qRest);
        double hellinger = Math.sqrt(1 - bc);
        for (int p = 7; p < 14; p++) {
            assertEquals(kl, r.kl()[p], 1e-5, "KL at " + p);
            assertEquals(hellinger, r.hellinger()[p], 1e-4, "Hellinger at " + p);
        }
        assertEquals("a", r.topBefore(), "after the second 'g' the induction head predicts 'a'");
    }

    @Test
    void theBatchedHeadSweepAgreesWithSingleAblations() {
        HookedTransformer model = HookedTransformer.fromPretrained(TestData.file("fixtures/gpt2-tiny").toString());
        String prompt = "The quick brown fox jumps over the lazy dog";
        for (Ablation.Mode mode : Ablation.Mode.values()) {
            Ablation.Sweep sweep = Ablation.heads(model, prompt, mode);
            for (int l = 0; l < 2; l++) {
                for (int h = 0; h < 4; h++) {
                    Ablation.Result one = Ablation.head(model, prompt, l, h, mode);
                    assertEquals(one.meanKl(), sweep.kl()[l][h], 1e-5 + 1e-3 * one.meanKl(), mode + " L" + l + "H" + h);
                    assertTrue(one.meanKl() >= -1e-7 && one.meanHellinger() >= 0 && one.meanHellinger() <= 1);
                }
            }
        }
        Ablation.Sweep blocks = Ablation.blocks(model, prompt, Ablation.Mode.ZERO);
        assertEquals(2, blocks.cols().size());
        System.out.println(blocks);
    }
}
