package dev.jlens.analysis;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.nd4j.linalg.indexing.NDArrayIndex.all;
import static org.nd4j.linalg.indexing.NDArrayIndex.point;

import dev.jlens.cache.ActivationCache;
import dev.jlens.model.Hook;
import dev.jlens.model.HookedTransformer;
import dev.jlens.testing.TestData;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

/** The rest of TransformerLens's vocabulary, each against its definition on the GPT-2 fixture. */
class TransformerLensVocabularyTest {
    private static final HookedTransformer MODEL = HookedTransformer.fromPretrained(TestData.file("fixtures/gpt2-tiny").toString());

    @Test
    void hooksTakeShortNamesAtALayerAndGlobs() {
        INDArray tokens = MODEL.toTokens("Hello world, hello");
        AtomicInteger fired = new AtomicInteger();
        MODEL.runWithHooks(tokens, Hook.hook("pattern", (a, h) -> {
            fired.incrementAndGet();
            return a;
        }));
        assertEquals(MODEL.cfg().nLayers(), fired.get(), "a short name fires at every layer");
        fired.set(0);
        INDArray zeroed = MODEL.runWithHooks(tokens, Hook.hook("resid_post", -1, (a, h) -> {
            fired.incrementAndGet();
            assertEquals("blocks." + (MODEL.cfg().nLayers() - 1) + ".hook_resid_post", h.name());
            return a.mul(0);
        }));
        assertEquals(1, fired.get());
        // With the last block's output zeroed, every position reads the same (empty) stream: the same logits.
        assertArrayEquals(zeroed.get(point(0), point(0), all()).toFloatVector(), zeroed.get(point(0), point(2), all()).toFloatVector(), 1e-6f);
        fired.set(0);
        MODEL.runWithHooks(tokens, Hook.hook("blocks.*.attn.hook_z", (a, h) -> {
            fired.incrementAndGet();
            return a;
        }));
        assertEquals(MODEL.cfg().nLayers(), fired.get());
        assertThrows(IllegalArgumentException.class, () -> MODEL.runWithHooks(tokens, Hook.hook("patern", (a, h) -> a)));
    }

    @Test
    void predicateHooksAndCachesTakeExactlyTheNamesThatPass() {
        INDArray tokens = MODEL.toTokens("Hello world, hello");
        java.util.function.Predicate<String> zAfterBlock0 = n -> n.endsWith(".attn.hook_z") && !n.startsWith("blocks.0.");
        java.util.List<String> expected = MODEL.hookNames().stream().filter(zAfterBlock0).toList();
        assertEquals(MODEL.cfg().nLayers() - 1, expected.size(), "the fixture has hook_z in every block");
        java.util.List<String> fired = new java.util.ArrayList<>();
        INDArray ablated = MODEL.runWithHooks(tokens, Hook.hook(zAfterBlock0, (a, h) -> {
            fired.add(h.name());
            return a.mul(0);
        }));
        assertEquals(expected, fired);
        // Zeroing z is zeroing every head's output: the same as zeroing hook_z layer by layer by name.
        Hook[] byName = expected.stream().map(n -> Hook.hook(n, (a, h) -> a.mul(0))).toArray(Hook[]::new);
        assertArrayEquals(MODEL.runWithHooks(tokens, byName).data().asFloat(), ablated.data().asFloat(), 0f);
        assertThrows(IllegalArgumentException.class, () -> MODEL.runWithHooks(tokens, Hook.hook(n -> n.equals("nope"), (a, h) -> a)));

        ActivationCache c = MODEL.runWithCache(tokens, zAfterBlock0).cache();
        assertEquals(new java.util.TreeSet<>(expected), new java.util.TreeSet<>(c.keys()));
    }

    @Test
    void analysesReadARunAsTheyReadItsPrompt() {
        String prompt = "Hello world, hello world";
        dev.jlens.model.Run run = MODEL.runWithCache(prompt);
        assertArrayEquals(AttentionPatterns.of(MODEL, prompt, 1).patterns()[2][5], AttentionPatterns.of(MODEL, run, 1).patterns()[2][5], 0f);
        DirectLogitAttribution fromRun = DirectLogitAttribution.of(MODEL, run, " hello", " world");
        assertArrayEquals(DirectLogitAttribution.of(MODEL, prompt, " hello", " world").contributions(), fromRun.contributions(), 1e-9);
        assertEquals(fromRun.modelValue(), fromRun.total(), 1e-3, "the components add up to the run's own logit difference");
        assertArrayEquals(TokenLogProbs.of(MODEL, prompt).logProbs(), TokenLogProbs.of(MODEL, run).logProbs(), 1e-9);
        assertArrayEquals(NextTokenProbs.of(MODEL, prompt, 5).ids(), NextTokenProbs.of(MODEL, run, 5).ids());
        assertArrayEquals(BlockInternals.of(MODEL, prompt).probs()[3], BlockInternals.of(MODEL, run, -1).probs()[3], 1e-9);
        assertArrayEquals(AttentionScoreDecomposition.of(MODEL, prompt, 1, 0).tokenToken()[4],
                AttentionScoreDecomposition.of(MODEL, run, 1, 0).tokenToken()[4], 1e-9);
        assertArrayEquals(HeadDetector.previousToken(MODEL, prompt).scores()[1], HeadDetector.previousToken(MODEL, run).scores()[1], 1e-9);
        // A batch is refused, not read at its first row.
        dev.jlens.model.Run batch = MODEL.runWithCache(java.util.List.of("a b", "c d e"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LogitLens.of(MODEL, batch, false));
        assertTrue(e.getMessage().contains("batch of 2"), e.getMessage());
        // A run that did not record what the analysis reads says which hook is missing.
        dev.jlens.model.Run logitsOnly = MODEL.run(MODEL.toTokens(prompt), java.util.List.of(), null, true);
        e = assertThrows(IllegalArgumentException.class, () -> AttentionPatterns.of(MODEL, logitsOnly, 1));
        assertTrue(e.getMessage().contains("blocks.1.attn.hook_pattern"), e.getMessage());
    }

    @Test
    void removeBatchDimDropsTheBatchAxisOfEveryActivation() {
        ActivationCache c = MODEL.runWithCache("Hello world").cache();
        ActivationCache one = c.removeBatchDim();
        assertArrayEquals(java.util.Arrays.copyOfRange(c.get("pattern", 0).shape(), 1, 4), one.get("pattern", 0).shape());
        assertEquals(c.get("resid_post", 1).getFloat(0, 2, 3), one.get("resid_post", 1).getFloat(2, 3));
        ActivationCache batch = MODEL.runWithCache(java.util.List.of("a b", "c d e")).cache();
        assertThrows(IllegalStateException.class, batch::removeBatchDim);
    }

    @Test
    void testPromptRanksTheAnswerAsTheLogitsDo() {
        TestPrompt t = TestPrompt.of(MODEL, "Hello world", " hello", 5);
        INDArray logits = MODEL.forward(MODEL.toTokens("Hello world hello"));
        int answer = (int) MODEL.toTokens(" hello", false).getLong(0, 0);
        long pos = MODEL.toTokens("Hello world").length() - 1;
        float[] row = logits.get(point(0), point(pos), all()).toFloatVector();
        int above = 0;
        for (float v : row) if (v > row[answer]) above++;
        assertEquals(above, t.answers().get(0).rank(), "rank 0 is the model's first choice");
        assertEquals(row[answer], t.answers().get(0).logit(), 1e-4);
        assertTrue(t.toString().contains("Performance on answer token"), t.toString());
    }

    @Test
    void stackedWeightsAndTextAndVocabulary() {
        INDArray wq = MODEL.W_Q();
        assertEquals(MODEL.cfg().nLayers(), wq.size(0));
        assertEquals(MODEL.W_Q(1).getFloat(2, 3, 4), wq.getFloat(1, 2, 3, 4));
        INDArray ids = MODEL.toTokens("Hello world", false);
        assertEquals("Hello world", MODEL.toText(ids));
        assertEquals((int) ids.getLong(0, 0), MODEL.vocab().get(MODEL.tokenText(ids.getLong(0, 0))));
    }
}
