package dev.jlens.analysis;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.compute.FloatRows;
import dev.jlens.compute.Metric;
import dev.jlens.data.Corpus;
import dev.jlens.data.Dataset;
import dev.jlens.data.NextTokenCounts;
import dev.jlens.data.Split;
import dev.jlens.model.HookedTransformer;
import dev.jlens.testing.RandomModels;
import dev.jlens.tokenize.CharTokenizer;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Similar strings and pooled next tokens on a hand-made corpus whose counts are worked out below,
 * and Hellinger distance on hand-computed cases.
 *
 * <p>The corpus {@code "aab aab aac"}: its distinct length-2 substrings in order of first
 * occurrence are {@code aa, ab, "b ", " a", ac}; what follows each (a next token must exist):
 * {@code aa → b, b, c}; {@code ab → " ", " "}; {@code "b " → a, a}; {@code " a" → a, a}; {@code ac →} nothing.
 */
class SimilarStringsTest {
    private static final String TEXT = "aab aab aac";
    private static final CharTokenizer CHARS = CharTokenizer.fromText(TEXT);   // " abc": ids 0..3
    private static final int SPACE = 0, A = 1, B = 2, C = 3;

    private static SampleActivations handMade(FloatRows rows, String hook) {
        Corpus corpus = Corpus.of(TEXT, "hand-made", CHARS);
        return new SampleActivations(hook, rows, Dataset.uniqueSubstrings(corpus, Split.ALL, 2),
                NextTokenCounts.of(corpus, Split.ALL, 2));
    }

    private static SampleActivations handMade() {
        return handMade(FloatRows.of(new float[5][3]), "blocks.0.hook_mlp_out");
    }

    // ---------------------------------------------------------------- Hellinger

    @Test
    void hellingerOnHandComputedCases() {
        double[] p = {0.5, 0.5, 0, 0};
        assertEquals(0, Distributions.hellinger(p, p), 1e-12);                                   // identical
        assertEquals(1, Distributions.hellinger(p, new double[] {0, 0, 0.25, 0.75}), 1e-12);     // disjoint
        // Σ√(p·q) = √(0.5·1) = 0.7071…, so H = √(1 − 0.7071…) = 0.5412
        assertEquals(Math.sqrt(1 - Math.sqrt(0.5)), Distributions.hellinger(p, new double[] {1, 0, 0, 0}), 1e-12);
        assertEquals(0.541196, Distributions.hellinger(p, new double[] {1, 0, 0, 0}), 1e-6);
        // Symmetric.
        double[] q = {0.1, 0.2, 0.3, 0.4};
        assertEquals(Distributions.hellinger(p, q), Distributions.hellinger(q, p), 1e-15);
        assertThrows(IllegalArgumentException.class, () -> Distributions.hellinger(p, new double[3]));
    }

    // ---------------------------------------------------------------- pooling

    @Test
    void theHandMadeCorpusHasTheSamplesAndCountsWorkedOutAbove() {
        assertEquals(" abc", CHARS.chars());                  // so SPACE, A, B, C are ids 0..3
        SampleActivations acts = handMade();
        assertEquals(List.of("aa", "ab", "b ", " a", "ac"), List.of(acts.text(0), acts.text(1), acts.text(2), acts.text(3), acts.text(4)));
        assertArrayEquals(new long[] {0, 0, 2, 1}, counts(acts, 0));
        assertArrayEquals(new long[] {2, 0, 0, 0}, counts(acts, 1));
        assertArrayEquals(new long[] {0, 2, 0, 0}, counts(acts, 2));
        assertArrayEquals(new long[] {0, 2, 0, 0}, counts(acts, 3));
        assertArrayEquals(new long[] {0, 0, 0, 0}, counts(acts, 4));
    }

    private static long[] counts(SampleActivations acts, int row) {
        long[] c = new long[4];
        acts.addNextTokens(row, c);
        return c;
    }

    @Test
    void poolingAccumulatesFromTheStrictestThreshold() {
        SampleActivations acts = handMade();
        double[] predicted = {0, 0.5, 0.5, 0};                    // the "model": a or b, evenly
        // Cosine similarities of the five samples to some prompt.
        float[] cos = {0.9f, 0.5f, 0.95f, 0.1f, 0.99f};
        List<NextTokenPooling.Level> levels = NextTokenPooling.pool(acts, cos, Metric.COSINE,
                NextTokenPooling.strictestFirst(new double[] {0.5, 0.95, 0.9}, Metric.COSINE), predicted);
        assertEquals(3, levels.size());
        // ≥ 0.95: "b " (a, a) and "ac" (nothing after it) → all a.
        check(levels.get(0), 0.95, 2, 2, new double[] {0, 1, 0, 0}, Math.sqrt(1 - Math.sqrt(0.5)));
        // ≥ 0.9: + "aa" (b, b, c) → a 2, b 2, c 1 of 5.
        double bc1 = Math.sqrt(0.4 * 0.5) + Math.sqrt(0.4 * 0.5);
        check(levels.get(1), 0.9, 3, 5, new double[] {0, 0.4, 0.4, 0.2}, Math.sqrt(1 - bc1));
        // ≥ 0.5: + "ab" (space, space) → space 2, a 2, b 2, c 1 of 7.
        double bc2 = 2 * Math.sqrt(2.0 / 7 * 0.5);
        check(levels.get(2), 0.5, 4, 7, new double[] {2.0 / 7, 2.0 / 7, 2.0 / 7, 1.0 / 7}, Math.sqrt(1 - bc2));

        // The same groups by Euclidean distance: smaller is nearer, thresholds are upper bounds.
        float[] dist = {0.1f, 0.5f, 0.05f, 0.9f, 0.01f};
        List<NextTokenPooling.Level> byDistance = NextTokenPooling.pool(acts, dist, Metric.EUCLIDEAN,
                NextTokenPooling.strictestFirst(new double[] {0.5, 0.05, 0.1}, Metric.EUCLIDEAN), predicted);
        for (int l = 0; l < 3; l++) {
            assertEquals(levels.get(l).kept(), byDistance.get(l).kept());
            assertArrayEquals(levels.get(l).pooled(), byDistance.get(l).pooled(), 1e-12);
        }
    }

    private static void check(NextTokenPooling.Level l, double threshold, int kept, long occurrences, double[] pooled, double hellinger) {
        assertEquals(threshold, l.threshold(), 1e-12);
        assertEquals(kept, l.kept());
        assertEquals(occurrences, l.occurrences());
        assertArrayEquals(pooled, l.pooled(), 1e-12);
        assertEquals(hellinger, l.hellinger(), 1e-12);
    }

    @Test
    void aLevelThatPoolsNothingHasNoDistribution() {
        SampleActivations acts = handMade();
        float[] cos = {0.1f, 0.2f, 0.3f, 0.4f, 0.99f};                      // only "ac" passes 0.9, and nothing follows it
        List<NextTokenPooling.Level> levels = NextTokenPooling.pool(acts, cos, Metric.COSINE, new double[] {0.999, 0.9},
                new double[] {0.25, 0.25, 0.25, 0.25});
        assertEquals(0, levels.get(0).kept());
        assertEquals(1, levels.get(1).kept());
        assertNull(levels.get(1).pooled());
        assertTrue(Double.isNaN(levels.get(1).hellinger()));
    }

    @Test
    void defaultThresholdsKeepOneThenThreeSamples() {
        float[] cos = {0.9f, 0.5f, 0.95f, 0.1f, 0.99f};
        assertArrayEquals(new double[] {0.99f, 0.9f}, NextTokenPooling.byRank(cos, Metric.COSINE), 0);
        float[] dist = {0.1f, 0.5f, 0.05f, 0.9f, 0.01f};
        assertArrayEquals(new double[] {0.01f, 0.1f}, NextTokenPooling.byRank(dist, Metric.EUCLIDEAN), 0);
    }

    // ---------------------------------------------------------------- with a model

    /** A random GPT-2-shaped model over the corpus's four characters. */
    private static HookedTransformer model() {
        HookedTransformer m = RandomModels.gpt2Like(2, 32, 4, CHARS.vocabSize(), 16, 5);
        return new HookedTransformer(m.cfg(), m.weights(), CHARS);
    }

    /** Each sample run on its own, its last position at the hook: the rows an experiment would save. */
    private static FloatRows rowsOf(HookedTransformer model, List<String> samples, String hook) {
        float[][] rows = new float[samples.size()][];
        for (int i = 0; i < rows.length; i++) {
            INDArray act = model.runWithCache(model.toTokens(samples.get(i), false), false, hook).cache().get(hook);
            long last = act.size(1) - 1;
            rows[i] = act.slice(0).slice(last).dup('c').reshape(act.length() / act.size(1)).toFloatVector();
        }
        return FloatRows.of(rows);
    }

    private static final List<String> SAMPLES = List.of("aa", "ab", "b ", " a", "ac");

    @Test
    void atTheFirstBlocksInputOnlyTheLastTokenAndItsPositionCount() {
        // Token + position embedding at the last position: "aa" and " a" both end in a at position 1.
        HookedTransformer model = model();
        String hook = "blocks.0.hook_resid_pre";
        SampleActivations acts = handMade(rowsOf(model, SAMPLES, hook), hook);
        SimilarStrings found = SimilarStrings.of(model, acts, " a", 2, Metric.COSINE);
        assertEquals(List.of(0, 3), found.matches().stream().map(SimilarStrings.Match::row).toList());   // tie: lower row first
        assertEquals(1, found.matches().get(1).value(), 1e-6);
    }

    @Test
    void aSamplesOwnStringIsItsNearestNeighbourAtEveryHook() {
        HookedTransformer model = model();
        for (String hook : List.of("blocks.0.hook_attn_out", "blocks.1.attn.hook_z", "blocks.1.hook_attn_out", "blocks.1.hook_mlp_out")) {
            SampleActivations acts = handMade(rowsOf(model, SAMPLES, hook), hook);
            for (Metric metric : Metric.values()) {
                List<SimilarStrings> found = SimilarStrings.of(model, acts, SAMPLES, 5, metric);
                for (int i = 0; i < SAMPLES.size(); i++) {
                    SimilarStrings.Match first = found.get(i).matches().get(0);
                    assertEquals(i, first.row(), hook + " " + metric + " " + SAMPLES.get(i));
                    assertEquals(SAMPLES.get(i), first.text());
                    assertEquals(metric == Metric.COSINE ? 1 : 0, first.value(), 1e-5);
                    assertEquals(5, found.get(i).matches().size());
                }
            }
        }
    }

    @Test
    void theSweepComparesTheModelsPredictionWithThePooledCounts() {
        HookedTransformer model = model();
        String hook = "blocks.1.hook_mlp_out";
        SampleActivations acts = handMade(rowsOf(model, SAMPLES, hook), hook);
        NextTokenPooling sweep = NextTokenPooling.sweep(model, acts, "aa", Metric.COSINE, 0.99999, -1);
        // The model's own next-token distribution after "aa", computed here from its logits.
        INDArray logits = model.forward(model.toTokens("aa", false));
        double[] z = logits.slice(0).slice(1).toDoubleVector();
        double max = java.util.Arrays.stream(z).max().orElseThrow(), sum = 0;
        for (double v : z) sum += Math.exp(v - max);
        double[] p = new double[z.length];
        for (int i = 0; i < z.length; i++) p[i] = Math.exp(z[i] - max) / sum;
        assertArrayEquals(p, sweep.predicted(), 1e-6);

        // Strictest level: "aa" alone (b 2, c 1); H = √(1 − √(2/3·p_b) − √(1/3·p_c)).
        NextTokenPooling.Level self = sweep.levels().get(0);
        assertEquals(1, self.kept());
        assertArrayEquals(new double[] {0, 0, 2.0 / 3, 1.0 / 3}, self.pooled(), 1e-12);
        assertEquals(Math.sqrt(1 - Math.sqrt(2.0 / 3 * p[B]) - Math.sqrt(1.0 / 3 * p[C])), self.hellinger(), 1e-6);
        // Cosine ≥ −1 keeps everything: 2 + 2 + 2 + 3 next tokens.
        NextTokenPooling.Level all = sweep.levels().get(1);
        assertEquals(5, all.kept());
        assertArrayEquals(new double[] {2.0 / 9, 4.0 / 9, 2.0 / 9, 1.0 / 9}, all.pooled(), 1e-12);
        assertTrue(sweep.render().contains("strings kept"), sweep.render());
    }

    @Test
    void mismatchedInputsAreRefusedWithWhatToDo() {
        IllegalArgumentException rows = assertThrows(IllegalArgumentException.class,
                () -> handMade(FloatRows.of(new float[4][3]), "blocks.0.hook_mlp_out"));
        assertTrue(rows.getMessage().contains("4 rows but the dataset 5 samples"), rows.getMessage());
        Corpus corpus = Corpus.of(TEXT, "hand-made", CHARS);
        IllegalArgumentException length = assertThrows(IllegalArgumentException.class, () -> new SampleActivations("blocks.0.hook_mlp_out",
                FloatRows.of(new float[5][3]), Dataset.uniqueSubstrings(corpus, Split.ALL, 2), NextTokenCounts.of(corpus, Split.ALL, 3)));
        assertTrue(length.getMessage().contains("NextTokenCounts.of(corpus, split, 2)"), length.getMessage());
        HookedTransformer model = model();
        IllegalArgumentException hook = assertThrows(IllegalArgumentException.class,
                () -> handMade(FloatRows.of(new float[5][32]), "blocks.1.hook_mlp_outt").query(model, "aa"));
        assertTrue(hook.getMessage().contains("blocks.1.hook_mlp_out"), hook.getMessage());
        IllegalArgumentException width = assertThrows(IllegalArgumentException.class,
                () -> handMade(FloatRows.of(new float[5][3]), "blocks.1.hook_mlp_out").query(model, "aa"));
        assertTrue(width.getMessage().contains("32 wide but the saved rows are 3"), width.getMessage());
    }

    @Test
    void theTablesNameWhatTheyShow() {
        HookedTransformer model = model();
        String hook = "blocks.0.hook_attn_out";
        SampleActivations acts = handMade(rowsOf(model, SAMPLES, hook), hook);
        String table = SimilarStrings.of(model, acts, "b ", 2, Metric.EUCLIDEAN).render();
        assertTrue(table.contains("the 2 of 5 strings nearest 'b·' by Euclidean distance of blocks.0.hook_attn_out"), table);
        assertTrue(table.contains("'b·'") && table.contains("a 2"), table);
        assertTrue(!table.contains("note:"), "same length as the samples: nothing to note\n" + table);
        String longer = SimilarStrings.of(model, acts, "b a", 2, Metric.EUCLIDEAN).render();
        assertTrue(longer.contains("note: the prompt is 3 tokens but the saved samples are 2"), longer);
    }
}
