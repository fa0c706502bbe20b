package dev.jlens.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.jlens.model.HookedTransformer;
import dev.jlens.testing.HandBuiltModels;
import dev.jlens.testing.TestData;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

class AttentionScoreDecompositionTest {

    /** The four terms add up to the cached (scaled, masked) scores, with LayerNorm and biases. */
    @Test
    void theFourTermsSumToTheScores() {
        for (String fixture : new String[] {"fixtures/gpt2-tiny", "fixtures/charlm-tiny"}) {
            HookedTransformer model = HookedTransformer.fromPretrained(TestData.file(fixture).toString());
            INDArray tokens = model.toTokens("ROMEO: the king, the king!");
            var run = model.runWithCache(tokens);
            for (int layer = 0; layer < model.cfg().nLayers(); layer++) {
                for (int head : new int[] {0, model.cfg().nHeads() - 1}) {
                    AttentionScoreDecomposition d = AttentionScoreDecomposition.of(model, tokens, layer, head);
                    double[][] total = d.total();
                    INDArray cached = run.cache().get("attn_scores", layer).slice(0).slice(head);
                    for (int q = 0; q < total.length; q++) {
                        for (int k = 0; k <= q; k++) {
                            double want = cached.getDouble(q, k);
                            assertEquals(want, total[q][k] / model.cfg().attnScale(), 1e-4 * Math.max(1, Math.abs(want)),
                                    fixture + " L" + layer + "H" + head + " [" + q + "," + k + "]");
                        }
                    }
                }
            }
        }
    }

    /** The hand-wired previous-token head reads only positions: all its score is position·position. */
    @Test
    void aPositionalHeadsScoresAreAllPositionPosition() {
        HookedTransformer model = HandBuiltModels.previousTokenHead();
        AttentionScoreDecomposition d = AttentionScoreDecomposition.of(model, model.toTokens("helloworld", false), 0, 0);
        System.out.println(d);
        for (int q = 0; q < d.tokens().size(); q++) {
            for (int k = 0; k <= q; k++) {
                assertEquals(0, d.tokenToken()[q][k], 1e-6);
                assertEquals(0, d.tokenPosition()[q][k], 1e-6);
                assertEquals(0, d.positionToken()[q][k], 1e-6);
                assertEquals(k == q - 1 ? HandBuiltModels.SHARP : 0, d.positionPosition()[q][k], 1e-5);
            }
        }
        assertEquals(0, d.magnitudes().get(0).meanAbs(), 1e-9);
    }
}
