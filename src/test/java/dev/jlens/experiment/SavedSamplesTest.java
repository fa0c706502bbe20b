package dev.jlens.experiment;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.analysis.SampleActivations;
import dev.jlens.analysis.SimilarStrings;
import dev.jlens.compute.Metric;
import dev.jlens.data.Corpus;
import dev.jlens.data.Dataset;
import dev.jlens.data.Split;
import dev.jlens.model.HookedTransformer;
import dev.jlens.testing.RandomModels;
import dev.jlens.tokenize.CharTokenizer;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A saved experiment read back as the similar-strings analyses' input: in several memory-mapped batch
 * files, each row the activation of its sample (checked against a run of that sample on its own),
 * and a folder of another model or of every position refused.
 */
class SavedSamplesTest {
    private static final String TEXT = "the cat sat on the mat; the rat ate the hat. ";
    private static final CharTokenizer CHARS = CharTokenizer.fromText(TEXT);
    private static final String HOOK = "blocks.1.hook_mlp_out";

    private static HookedTransformer model(long seed) {
        HookedTransformer m = RandomModels.gpt2Like(2, 32, 4, CHARS.vocabSize(), 16, seed);
        return new HookedTransformer(m.cfg(), m.weights(), CHARS);
    }

    private static Corpus corpus() {
        return Corpus.of(TEXT, "hand-made", CHARS);
    }

    private static BlockInternalsResults run(HookedTransformer model, Positions positions, Path dir) {
        return BlockInternalsExperiment.of(model, Dataset.uniqueSubstrings(corpus(), Split.ALL, 4), 1)
                .withPositions(positions).withBatchSize(7).run(dir);
    }

    @Test
    void rowsAreTheSamplesActivationsAcrossBatchFiles(@TempDir Path dir) {
        HookedTransformer model = model(1);
        BlockInternalsResults results = run(model, Positions.LAST, dir);
        SampleActivations acts = SavedSamples.of(results, HOOK, model, corpus());
        int n = acts.count();
        assertTrue(n > 14, "several batches of 7: " + n);
        for (int i = 0; i < n; i++) {
            String sample = acts.text(i);
            assertEquals(4, sample.length());
            INDArray act = model.runWithCache(model.toTokens(sample, false), false, HOOK).cache().get(HOOK);
            float[] own = act.slice(0).slice(3).toFloatVector();
            assertArrayEquals(own, acts.rows().row(i), 1e-5f, "sample " + i + " '" + sample + "'");
        }
        SimilarStrings found = SimilarStrings.of(model, acts, " the", 1, Metric.COSINE);
        assertEquals(" the", found.matches().get(0).text());
    }

    @Test
    void anotherModelsResultsAreRefused(@TempDir Path dir) {
        BlockInternalsResults results = run(model(1), Positions.LAST, dir);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SavedSamples.of(results, HOOK, model(2), corpus()));
        assertTrue(e.getMessage().contains("not of this model"), e.getMessage());
    }

    @Test
    void everyPositionAndAMissingHookAreRefused(@TempDir Path dir) {
        HookedTransformer model = model(1);
        BlockInternalsResults all = run(model, Positions.ALL, dir.resolve("all"));
        IllegalArgumentException positions = assertThrows(IllegalArgumentException.class,
                () -> SavedSamples.of(all, HOOK, model, corpus()));
        assertTrue(positions.getMessage().contains("--positions last"), positions.getMessage());
        BlockInternalsResults last = run(model, Positions.LAST, dir.resolve("last"));
        IllegalArgumentException hook = assertThrows(IllegalArgumentException.class,
                () -> SavedSamples.of(last, "blocks.0.hook_mlp_out", model, corpus()));
        assertTrue(hook.getMessage().contains("has no blocks.0.hook_mlp_out"), hook.getMessage());
        IllegalArgumentException text = assertThrows(IllegalArgumentException.class,
                () -> SavedSamples.of(last, HOOK, model, Corpus.of(TEXT + "the ", "other", CHARS)));
        assertTrue(text.getMessage().contains("is not the text"), text.getMessage());
    }
}
