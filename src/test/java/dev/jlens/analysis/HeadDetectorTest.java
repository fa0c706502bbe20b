package dev.jlens.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.model.LogProbs;
import dev.jlens.model.HookedTransformer;
import dev.jlens.testing.HandBuiltModels;
import dev.jlens.testing.TestData;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/** Detectors on heads wired by hand, where the right answer is known before running them. */
class HeadDetectorTest {

    @Test
    void aHeadWiredToThePreviousTokenScoresOneAsPreviousTokenAndZeroAsInduction() {
        HookedTransformer model = HandBuiltModels.previousTokenHead();
        HeadDetector.Detection d = HeadDetector.detect(model);
        System.out.println(d);
        assertEquals(1, d.previousToken().get(0, 0), 1e-3);
        assertEquals(0, d.induction().get(0, 0), 1e-3);
        assertEquals(0, d.duplicateToken().get(0, 0), 1e-3, "it attends to the previous token, which is never the same one");
        // The zero head attends uniformly: 1/(q+1) to the previous key, far from 1.
        assertTrue(d.previousToken().get(0, 1) < 0.2, "uniform head " + d.previousToken().get(0, 1));
    }

    @Test
    void aHandBuiltInductionCircuitIsFound() {
        HookedTransformer model = HandBuiltModels.inductionCircuit();
        HeadDetector.Detection d = HeadDetector.detect(model);
        System.out.println(d);
        assertTrue(d.induction().get(1, 0) > 0.99, "induction head scores " + d.induction().get(1, 0));
        assertEquals("L1H0", d.induction().top(1).get(0));
        assertEquals("L0H0", d.previousToken().top(1).get(0));
        assertTrue(d.induction().get(0, 0) < 0.01);
        assertTrue(d.previousToken().get(1, 0) < 0.2, "the induction head is no previous-token head");
    }

    @Test
    void inductionScoreFollowsTheBriefsDefinitionOnAGivenRepeat() {
        HookedTransformer model = HandBuiltModels.inductionCircuit();
        // "abcdefg" twice: from the second 'c' (position 9) the induction head attends to the first 'd' (position 3).
        var tokens = model.toTokens("abcdefgabcdefg", false);
        HeadScores s = HeadDetector.induction(model, tokens, 7);
        assertTrue(s.get(1, 0) > 0.99, "score " + s.get(1, 0));
        var run = model.runWithCache(tokens);
        assertEquals(1.0, run.cache().get("pattern", 1).getDouble(0, 0, 9, 3), 1e-3);
    }

    @Test
    void repeatedRandomTokensRepeatAndStartWithBosWhenTheModelUsesOne() {
        HookedTransformer gpt2 = HookedTransformer.fromPretrained(TestData.file("fixtures/gpt2-tiny").toString());
        var t = HeadDetector.repeatedRandomTokens(gpt2, 10, 3, 7).toLongMatrix();
        for (long[] row : t) {
            assertEquals(21, row.length);
            assertEquals(50256, row[0]);
            for (int i = 0; i < 10; i++) assertEquals(row[1 + i], row[11 + i]);
        }
        HeadDetector.Detection d = HeadDetector.detect(gpt2);
        for (double[] layer : d.induction().scores()) for (double v : layer) assertTrue(v >= 0 && v <= 1);
    }

    /**
     * The shipped attention-only model (artifacts/attn-only-2l, committed) has an induction head in its
     * second layer scoring at least 0.4, and on repeated random characters its loss on the second copy
     * is far below the first copy's (which no model can predict).
     */
    @Test
    void theShippedAttentionOnlyModelHasAnInductionHead() {
        Path dir = Path.of("artifacts", "attn-only-2l");
        assertTrue(Files.isDirectory(dir), dir.toAbsolutePath() + " is missing: it is part of the repository");
        HookedTransformer model = HookedTransformer.fromPretrained(dir.toString());
        HeadScores induction = HeadDetector.induction(model, 50, 8, 0);
        String best = induction.top(1).get(0);
        int layer = Integer.parseInt(best.substring(1, best.indexOf('H'))), head = Integer.parseInt(best.substring(best.indexOf('H') + 1));
        assertEquals(1, layer, "the induction head sits in the second layer: " + induction.table());
        assertTrue(induction.scores()[layer][head] >= 0.4, induction.table().toString());

        INDArray tokens = HeadDetector.repeatedRandomTokens(model, 50, 8, 1);              // [8, 100], no BOS for a char model
        INDArray logProbs = LogProbs.tokenLogProbs(model.forward(tokens), tokens);  // [8, 99]: position t predicts t + 1
        double firstCopy = -logProbs.get(NDArrayIndex.all(), NDArrayIndex.interval(0, 49)).meanNumber().doubleValue();
        double secondCopy = -logProbs.get(NDArrayIndex.all(), NDArrayIndex.interval(50, 99)).meanNumber().doubleValue();
        assertTrue(firstCopy > 3 && secondCopy < firstCopy / 2,
                "loss on the first copy " + firstCopy + " (random: about ln 65 = 4.17), on the second " + secondCopy);
    }

    @Test
    void onlyHeadsAboveTheThresholdAreNamedForWhatTheyDo() {
        HeadScores induction = new HeadScores("induction score", new double[][] {{0.013, 0.2}, {0.65, 0.41}});
        HeadScores weak = new HeadScores("previous-token score", new double[][] {{0.013, 0.01}, {0.02, 0.005}});
        String text = new HeadDetector.Detection(weak, weak, induction).toString();
        assertTrue(text.contains("induction heads (score ≥ 0.4): L1H0 (0.65), L1H1 (0.41)"), text);
        assertTrue(!text.contains("L1H0 (0.65), L1H1 (0.41), L0H1"), "a head below the threshold is not called an induction head: " + text);
        assertTrue(text.contains("previous-token heads (score ≥ 0.4): none at 0.40 or above (highest: L1H0 at 0.020)"), text);
    }
}
