package dev.jlens.analysis;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.model.HookedTransformer;
import dev.jlens.testing.HandBuiltModels;
import dev.jlens.testing.TestData;
import dev.jlens.view.Heatmap;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

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

    static HookedTransformer gpt2() {
        return HookedTransformer.fromPretrained(TestData.file("fixtures/gpt2-tiny").toString());
    }

    /** A 123-token prompt: gpt2-tiny's text tokens, cut to length (its context is 128). */
    static INDArray tokens123(HookedTransformer model) {
        INDArray all = model.toTokens("When John and Mary went to the shops, John gave the bag to Mary. ".repeat(12));
        assertTrue(all.size(1) >= 123, "the text is long enough: " + all.size(1));
        return all.get(NDArrayIndex.all(), NDArrayIndex.interval(0, 123)).dup();
    }

    /**
     * Each term is its own panel on its own scale, symmetric around zero at that term's largest |value| over the
     * causal triangle; cells after the query are NaN (not values, drawn as "no value").
     */
    @Test
    void eachTermIsAPanelOnItsOwnScale() {
        HookedTransformer model = gpt2();
        AttentionScoreDecomposition d = AttentionScoreDecomposition.of(model, tokens123(model), 1, 0);
        List<Heatmap> panels = d.panels();
        assertEquals(4, panels.size());
        double[][][] terms = {d.tokenToken(), d.tokenPosition(), d.positionToken(), d.positionPosition()};
        double smallest = Double.POSITIVE_INFINITY, largest = 0;
        for (int i = 0; i < 4; i++) {
            double maxAbs = 0;
            for (int q = 0; q < 123; q++) for (int k = 0; k <= q; k++) maxAbs = Math.max(maxAbs, Math.abs(terms[i][q][k]));
            Heatmap p = panels.get(i);
            assertEquals(maxAbs, p.scale().max(), 1e-12, p.title());
            assertEquals(-maxAbs, p.scale().min(), 1e-12, p.title());
            assertTrue(p.title().contains(AttentionScoreDecomposition.TERMS.get(i)), p.title());
            for (int q = 0; q < 123; q++) {
                for (int k = 0; k < 123; k++) {
                    if (k > q) assertTrue(Double.isNaN(p.values()[q][k]), p.title() + " [" + q + "," + k + "] is after the query");
                    else assertEquals(terms[i][q][k], p.values()[q][k]);
                }
            }
            smallest = Math.min(smallest, maxAbs);
            largest = Math.max(largest, maxAbs);
        }
        System.out.println("term sizes from " + smallest + " to " + largest);
        // The page and the text show the same four panels.
        assertEquals(4, d.html().split("<table class=\"heatmap\">", -1).length - 1);
        String text = d.toText(dev.jlens.view.TerminalStyle.plain());
        for (String term : AttentionScoreDecomposition.TERMS) assertTrue(text.contains(term + " score term"), term);
    }

    /** A 123-token decomposition's PNG stays within 1600 pixels a side (it was 4339 × 4284 with one shared scale). */
    @Test
    void aLongPromptsPictureIsCapped(@TempDir Path tmp) throws Exception {
        HookedTransformer model = gpt2();
        AttentionScoreDecomposition d = AttentionScoreDecomposition.of(model, tokens123(model), 0, 1);
        BufferedImage img = ImageIO.read(d.savePng(tmp.resolve("terms.png")).toFile());
        assertTrue(img.getWidth() <= 1600 && img.getHeight() <= 1600, img.getWidth() + "×" + img.getHeight());
        assertTrue(img.getWidth() >= 800 && img.getHeight() >= 800, "four panels, not shrunk to nothing: "
                + img.getWidth() + "×" + img.getHeight());
    }

    /** Terms go by plain names; the older dotted names still work; a wrong name says which names there are. */
    @Test
    void termsByPlainNames() {
        HookedTransformer model = HandBuiltModels.previousTokenHead();
        AttentionScoreDecomposition d = AttentionScoreDecomposition.of(model, model.toTokens("helloworld", false), 0, 0);
        assertArrayEquals(d.positionPosition()[3], d.values("position-position")[3]);
        assertArrayEquals(d.tokenPosition()[3], d.values("token·position")[3]);
        assertArrayEquals(d.positionToken()[3], d.values("Position Token")[3]);
        assertTrue(d.term("position-position").heatmap().title().contains("position-position"));
        var e = assertThrows(IllegalArgumentException.class, () -> d.term("pos-pos"));
        assertEquals("no score term 'pos-pos'; the terms are token-token, token-position, position-token, position-position"
                + " and total", e.getMessage());
    }
}
