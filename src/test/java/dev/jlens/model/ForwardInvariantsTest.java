package dev.jlens.model;

import static dev.jlens.model.Hook.hook;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.nd4j.linalg.indexing.NDArrayIndex.all;
import static org.nd4j.linalg.indexing.NDArrayIndex.interval;
import static org.nd4j.linalg.indexing.NDArrayIndex.point;

import dev.jlens.cache.ActivationCache;
import dev.jlens.cache.CacheSpec;
import dev.jlens.testing.TestData;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/** Properties every correct forward pass has, whatever its weights. */
class ForwardInvariantsTest {
    static HookedTransformer gpt2;
    static HookedTransformer charModel;
    static final INDArray GPT2_IDS = Nd4j.createFromArray(new long[][] {{50256, 15496, 995, 11, 616, 1438, 318, 1757}});

    @BeforeAll
    static void load() {
        gpt2 = HookedTransformer.fromPretrained(TestData.file("fixtures/gpt2-tiny").toString());
        charModel = HookedTransformer.fromPretrained(TestData.file("fixtures/charlm-tiny").toString());
    }

    static void assertAllClose(String what, INDArray expected, INDArray actual, double tol) {
        assertArrayEquals(expected.shape(), actual.shape(), what + " shape");
        double diff = Transforms.abs(expected.sub(actual)).maxNumber().doubleValue();
        assertTrue(diff <= tol, what + ": max |Δ| = " + diff + " > " + tol);
    }

    @Test
    void mlpRecomputedFromTheCachedLayerNormOutputEqualsTheCachedMlpOutput() {
        // Seed 001: einsum(ln2 normalized, W_in) + b_in = pre; gelu_new; einsum(·, W_out) + b_out = mlp_out.
        ActivationCache cache = gpt2.runWithCache(GPT2_IDS).cache();
        for (int l = 0; l < gpt2.cfg().nLayers(); l++) {
            INDArray x = cache.get("normalized", l, "ln2").get(point(0), all(), all());     // [pos, d_model]
            INDArray pre = x.mmul(gpt2.W_in(l)).addRowVector(gpt2.b_in(l));
            assertAllClose("pre " + l, cache.get("pre", l).get(point(0), all(), all()), pre, 1e-4);
            INDArray c = Nd4j.createFromArray(Math.sqrt(2 / Math.PI));
            INDArray post = pre.mul(0.5).mul(Transforms.tanh(pre.add(Transforms.pow(pre, 3).mul(0.044715)).mul(c.getDouble(0))).add(1));
            assertAllClose("post " + l, cache.get("post", l).get(point(0), all(), all()), post, 1e-4);
            INDArray out = post.mmul(gpt2.W_out(l)).addRowVector(gpt2.b_out(l));
            assertAllClose("mlp_out " + l, cache.get("mlp_out", l).get(point(0), all(), all()), out, 1e-4);
        }
    }

    @Test
    void attentionRecomputedFromCachedQueriesKeysAndValues() {
        ActivationCache cache = charModel.runWithCache(charModel.toTokens("ROMEO: the")).cache();
        int l = 1, h = 2;
        INDArray q = cache.get("q", l).get(point(0), all(), point(h), all());              // [pos, d_head]
        INDArray k = cache.get("k", l).get(point(0), all(), point(h), all());
        INDArray x = cache.get("normalized", l, "ln1").get(point(0), all(), all());
        assertAllClose("q from W_Q", x.mmul(charModel.W_Q(l).get(point(h), all(), all())).addRowVector(charModel.b_Q(l).getRow(h)), q, 1e-5);
        INDArray scores = q.mmul(k.transpose()).div(charModel.cfg().attnScale());
        INDArray cached = cache.get("attn_scores", l).get(point(0), point(h), all(), all());
        for (int i = 0; i < scores.rows(); i++) {
            for (int j = 0; j < scores.columns(); j++) {
                if (j > i) assertEquals(Float.NEGATIVE_INFINITY, cached.getFloat(i, j), "masked score " + i + "," + j);
                else assertEquals(scores.getDouble(i, j), cached.getDouble(i, j), 1e-5);
            }
        }
        INDArray z = cache.get("pattern", l).get(point(0), point(h), all(), all())
                .mmul(cache.get("v", l).get(point(0), all(), point(h), all()));
        assertAllClose("z", z, cache.get("z", l).get(point(0), all(), point(h), all()), 1e-5);
    }

    @Test
    void patternRowsSumToOneAndNeverLookAhead() {
        ActivationCache cache = gpt2.runWithCache(GPT2_IDS).cache();
        for (int l = 0; l < gpt2.cfg().nLayers(); l++) {
            INDArray p = cache.get("pattern", l);                                          // [1, head, q, k]
            INDArray sums = p.sum(3);
            assertAllClose("row sums of layer " + l, Nd4j.onesLike(sums), sums, 1e-5);
            long pos = p.size(2);
            for (int i = 0; i < pos; i++) {
                if (i + 1 < pos) assertEquals(0.0, p.get(all(), all(), point(i), interval(i + 1, pos)).sumNumber().doubleValue(), 0.0);
            }
        }
    }

    @Test
    void cacheHasEveryHookPointWithTransformerLensShapes() {
        Run run = gpt2.runWithCache(GPT2_IDS);
        ActivationCache cache = run.cache();
        List<String> expected = new ArrayList<>(gpt2.hookNames());
        expected.removeIf(n -> n.endsWith("hook_result"));
        assertEquals(expected, cache.keys(), "recorded names in forward order");
        assertEquals(2 + 2 * 17 + 2, cache.size(), "TransformerLens's 17 hook points per block + 4 outside, as seed 001 lists");
        int pos = 8, d = 64, h = 4, dh = 16, mlp = 256;
        Map<String, long[]> shapes = cache.shapes();
        assertArrayEquals(new long[] {1, pos, d}, shapes.get("hook_embed"));
        assertArrayEquals(new long[] {1, pos, d}, shapes.get("hook_pos_embed"));
        assertArrayEquals(new long[] {1, pos, 1}, shapes.get("blocks.0.ln1.hook_scale"));
        assertArrayEquals(new long[] {1, pos, h, dh}, shapes.get("blocks.0.attn.hook_q"));
        assertArrayEquals(new long[] {1, pos, h, dh}, shapes.get("blocks.0.attn.hook_z"));
        assertArrayEquals(new long[] {1, h, pos, pos}, shapes.get("blocks.1.attn.hook_attn_scores"));
        assertArrayEquals(new long[] {1, h, pos, pos}, shapes.get("blocks.1.attn.hook_pattern"));
        assertArrayEquals(new long[] {1, pos, mlp}, shapes.get("blocks.1.mlp.hook_post"));
        assertArrayEquals(new long[] {1, pos, d}, shapes.get("ln_final.hook_normalized"));
        assertArrayEquals(new long[] {1, pos, 50257}, run.logits().shape());
    }

    @Test
    void shorthandNamesResolveLikeTransformerLens() {
        ActivationCache cache = gpt2.runWithCache(GPT2_IDS).cache();
        assertSame(cache.get("blocks.1.attn.hook_pattern"), cache.get("pattern", 1));
        assertSame(cache.get("blocks.1.attn.hook_pattern"), cache.get("pattern", -1));
        assertSame(cache.get("blocks.1.attn.hook_pattern"), cache.get("pattern", 1, "attn"));
        assertSame(cache.get("blocks.1.attn.hook_pattern"), cache.get("pattern1"));
        assertSame(cache.get("blocks.0.ln2.hook_normalized"), cache.get("normalized", 0, "ln2"));
        assertSame(cache.get("blocks.0.ln1.hook_scale"), cache.get("scale", 0, "ln1"));
        assertSame(cache.get("ln_final.hook_normalized"), cache.get("normalized"));
        assertSame(cache.get("blocks.0.hook_resid_post"), cache.get("resid_post", 0));
        assertSame(cache.get("blocks.0.mlp.hook_pre"), cache.get("pre", 0));
        assertSame(cache.get("blocks.0.attn.hook_q"), cache.get("query", 0));
        assertSame(cache.get("hook_embed"), cache.get("embed"));
    }

    @Test
    void unknownNamesAndLayersFailWithTheClosestValidOnes() {
        ActivationCache cache = gpt2.runWithCache(GPT2_IDS).cache();
        var e = assertThrows(IllegalArgumentException.class, () -> cache.get("blocks.0.attn.hook_patern"));
        assertTrue(e.getMessage().contains("blocks.0.attn.hook_pattern"), e.getMessage());
        var out = assertThrows(IndexOutOfBoundsException.class, () -> cache.get("pattern", 2));
        assertTrue(out.getMessage().contains("0..1"), out.getMessage());
        assertThrows(IndexOutOfBoundsException.class, () -> cache.get("pattern", -3));
        var hookErr = assertThrows(IllegalArgumentException.class,
                () -> gpt2.runWithHooks(GPT2_IDS, hook("blocks.0.hook_resid_pots", (a, h) -> null)));
        assertTrue(hookErr.getMessage().contains("blocks.0.hook_resid_post"), hookErr.getMessage());
        var notRecorded = assertThrows(IllegalArgumentException.class, () -> cache.get("result", 0));
        assertTrue(notRecorded.getMessage().contains("did not record"), notRecorded.getMessage());
    }

    @Test
    void identityHooksEverywhereChangeNothing() {
        INDArray plain = gpt2.forward(GPT2_IDS);
        List<Hook> hooks = new ArrayList<>();
        List<String> seen = new ArrayList<>();
        for (String name : gpt2.hookNames()) {
            hooks.add(hook(name, (act, h) -> {
                seen.add(h.name());
                return act.dup();   // a replacement equal to the original
            }));
        }
        INDArray hooked = gpt2.runWithHooks(GPT2_IDS, hooks.toArray(Hook[]::new));
        assertAllClose("logits", plain, hooked, 1e-5);
        assertEquals(gpt2.hookNames(), seen, "every hook point fires once, in forward order");
    }

    @Test
    void perHeadResultsSumToTheAttentionOutput() {
        Run run = gpt2.run(GPT2_IDS, List.of(), new CacheSpec(n -> true, false), true);
        INDArray result = run.cache().get("result", 0);                                   // [1, pos, head, d_model]
        assertArrayEquals(new long[] {1, 8, 4, 64}, result.shape());
        INDArray summed = result.sum(2).get(point(0), all(), all()).addRowVector(gpt2.b_O(0));
        assertAllClose("sum of heads + b_O", run.cache().get("attn_out", 0).get(point(0), all(), all()), summed, 1e-4);
        assertAllClose("logits with per-head results", gpt2.forward(GPT2_IDS), run.logits(), 1e-4);
    }

    @Test
    void aReplacingHookPatchesTheRestOfTheForwardPass() {
        // Zero the whole residual stream after block 1: the logits are then the final LayerNorm of
        // zeros, i.e. its bias, unembedded.
        INDArray logits = gpt2.runWithHooks(GPT2_IDS, hook("blocks.1.hook_resid_post", (act, h) -> act.mul(0)));
        INDArray expected = gpt2.weights().lnFinalB().reshape(1, 64).mmul(gpt2.W_U());
        assertAllClose("logits of a zeroed stream", expected, logits.get(point(0), interval(3, 4), all()), 1e-4);
        assertAllClose("a later plain run is unaffected", gpt2.forward(GPT2_IDS), gpt2.forward(GPT2_IDS), 0);
    }

    @Test
    void inPlaceHooksChangeTheirRunButNeverTheModel() {
        // TransformerLens users scale activations in place (act.mul_(0)); no activation may share
        // memory with a weight (hook_pos_embed once was a view of W_pos).
        INDArray two = Nd4j.createFromArray(new long[][] {{50256, 15496, 995, 11}, {50256, 40, 1842, 257}});
        for (INDArray ids : new INDArray[] {GPT2_IDS, two}) {
            INDArray before = gpt2.forward(ids);
            List<Hook> hooks = new ArrayList<>();
            for (String name : gpt2.hookNames()) hooks.add(hook(name, (act, h) -> act.muli(0.5)));
            INDArray hooked = gpt2.runWithHooks(ids, hooks.toArray(Hook[]::new));
            assertTrue(Transforms.abs(before.sub(hooked)).maxNumber().doubleValue() > 1e-3, "the hooks changed the run");
            assertAllClose("a plain run after in-place hooks, batch " + ids.size(0), before, gpt2.forward(ids), 0);
        }
    }

    @Test
    void closingTheCacheFreesTheProjectionBehindQueriesKeysAndValues() {
        INDArray before = gpt2.forward(GPT2_IDS);
        ActivationCache cache = gpt2.runWithCache(GPT2_IDS).cache();
        INDArray q = cache.get("q", 0);
        assertTrue(q.isView(), "hook_q is a view of the run's q/k/v projection");
        assertFalse(q.data().originalDataBuffer().wasClosed());
        cache.close();
        // Left to the garbage collector, that memory comes back as fresh, page-faulting pages next run.
        assertTrue(q.data().originalDataBuffer().wasClosed(), "close() frees the memory behind hook_q/k/v");
        assertAllClose("the model after closing a cache", before, gpt2.forward(GPT2_IDS), 0);
    }

    @Test
    void packedMatricesGiveTheSameLogitsAsTheArraysThemselves() {
        HookedTransformer loaded = HookedTransformer.fromPretrained(TestData.file("fixtures/gpt2-tiny").toString());
        INDArray packed = loaded.forward(GPT2_IDS);
        // The public constructor never packs: the same arrays, read in place.
        HookedTransformer inPlace = new HookedTransformer(loaded.cfg(), loaded.weights(), loaded.tokenizer());
        assertEquals(packed, inPlace.forward(GPT2_IDS), "the same bits either way");
    }

    @Test
    void aChangeThroughAnyAccessorReachesTheNextRunEvenIfMadeLater() {
        HookedTransformer m = HookedTransformer.fromPretrained(TestData.file("fixtures/gpt2-tiny").toString());
        HookedTransformer reference = new HookedTransformer(m.cfg(), m.weights(), m.tokenizer());
        m = HookedTransformer.fromPretrained(TestData.file("fixtures/gpt2-tiny").toString());
        INDArray before = m.forward(GPT2_IDS);             // packs every matrix
        INDArray wIn = m.W_in(0), wQ = m.W_Q(1), wO = m.W_O(0), wU = m.W_U();
        INDArray wOut = m.param("blocks.1.mlp.W_out"), wK = m.param("blocks.0.attn.W_K");
        assertAllClose("holding the arrays changes nothing", before, m.forward(GPT2_IDS), 0);
        // Changed after a run that followed the hand-out: the next run must still see it.
        wIn.muli(0.5);
        wQ.muli(-1);
        wO.addi(0.01);
        wOut.muli(2);
        wU.muli(1.5);                                       // the tied unembedding: W_E too
        wK.muli(0.9);
        reference.W_in(0).muli(0.5);
        reference.W_Q(1).muli(-1);
        reference.W_O(0).addi(0.01);
        reference.W_out(1).muli(2);
        reference.W_U().muli(1.5);
        reference.W_K(0).muli(0.9);
        INDArray after = m.forward(GPT2_IDS);
        assertTrue(Transforms.abs(before.sub(after)).maxNumber().doubleValue() > 1e-3, "the changes show");
        assertEquals(reference.forward(GPT2_IDS), after, "the same as a model reading its arrays in place");
        // weights() gives every matrix out.
        HookedTransformer w = HookedTransformer.fromPretrained(TestData.file("fixtures/gpt2-tiny").toString());
        w.forward(GPT2_IDS);
        w.weights().layers().get(1).qkvW().muli(0.5);
        assertTrue(Transforms.abs(w.forward(GPT2_IDS).sub(before)).maxNumber().doubleValue() > 1e-3, "weights() changes show");
    }

    @Test
    void hooksEndWithTheirRunEvenWhenItThrows() {
        INDArray before = gpt2.forward(GPT2_IDS);
        assertThrows(IllegalStateException.class, () -> gpt2.runWithHooks(GPT2_IDS,
                hook("blocks.0.hook_attn_out", (act, h) -> act.mul(0)),
                hook("blocks.1.hook_resid_pre", (act, h) -> { throw new IllegalStateException("boom"); })));
        assertAllClose("the run after a failed one", before, gpt2.forward(GPT2_IDS), 0);
        var wrongShape = assertThrows(IllegalStateException.class,
                () -> gpt2.runWithHooks(GPT2_IDS, hook("blocks.0.hook_resid_post", (act, h) -> Nd4j.zeros(3, 3))));
        assertTrue(wrongShape.getMessage().contains("same shape"), wrongShape.getMessage());
    }

    @Test
    void aBatchOfTwoPromptsEqualsTwoSingleRuns() {
        INDArray a = Nd4j.createFromArray(new long[][] {{50256, 15496, 995, 11, 616}});
        INDArray b = Nd4j.createFromArray(new long[][] {{50256, 40, 1842, 257, 3290}});
        INDArray both = Nd4j.concat(0, a, b);
        Run batch = gpt2.runWithCache(both);
        Run runA = gpt2.runWithCache(a), runB = gpt2.runWithCache(b);
        assertAllClose("logits of row 0", runA.logits(), batch.logits().get(interval(0, 1), all(), all()), 1e-4);
        assertAllClose("logits of row 1", runB.logits(), batch.logits().get(interval(1, 2), all(), all()), 1e-4);
        assertAllClose("pattern of row 1", runB.cache().get("pattern", 1),
                batch.cache().get("pattern", 1).get(interval(1, 2), all(), all(), all()), 1e-5);
    }

    @Test
    void rightPaddedPromptsOfDifferentLengthsMatchTheirSingleRuns() {
        Run batch = charModel.runWithCache(List.of("ROMEO:", "JULIET: O"));
        assertArrayEquals(new int[] {6, 9}, batch.lengths());
        INDArray single = charModel.forward("ROMEO:");
        assertAllClose("real positions of the short prompt", single,
                batch.logits().get(interval(0, 1), interval(0, 6), all()), 1e-4);
    }

    @Test
    void aFilteredRunKeepsOnlyWhatWasAskedAndStopsEarly() {
        List<String> fired = new ArrayList<>();
        Run run = gpt2.runWithCache(GPT2_IDS, false, "blocks.0.hook_resid_post", "pattern");
        assertNull(run.logits());
        assertEquals(List.of("blocks.0.attn.hook_pattern", "blocks.0.hook_resid_post", "blocks.1.attn.hook_pattern"),
                run.cache().keys());
        Run early = gpt2.run(GPT2_IDS, List.of(hook("blocks.1.hook_resid_pre", (a, h) -> { fired.add(h.name()); return null; })),
                CacheSpec.only("blocks.0.hook_mlp_out"), false);
        assertEquals(List.of("blocks.0.hook_mlp_out"), early.cache().keys());
        assertEquals(List.of("blocks.1.hook_resid_pre"), fired, "a hook on a later block still runs");
        Run onlyEmbed = gpt2.runWithCache(GPT2_IDS, false, "embed");
        assertEquals(List.of("hook_embed"), onlyEmbed.cache().keys());
        assertFalse(onlyEmbed.cache().contains("blocks.0.hook_resid_pre"));
    }

    @Test
    void patternsCanBeKeptInBf16AtHalfTheBytes() {
        Run full = gpt2.runWithCache(GPT2_IDS);
        Run half = gpt2.runWithCache(GPT2_IDS, CacheSpec.all().withPatternsInBf16());
        INDArray p = half.cache().get("pattern", 1);
        assertEquals(org.nd4j.linalg.api.buffer.DataType.BFLOAT16, p.dataType());
        assertAllClose("bf16 pattern", full.cache().get("pattern", 1), p.castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT), 4e-3);
        assertAllClose("logits are computed with the float32 pattern", full.logits(), half.logits(), 0);
        long patternBytes = 0;
        for (int l = 0; l < 2; l++) patternBytes += full.cache().get("pattern", l).length() * 4;
        assertEquals(full.cache().sizeInBytes() - patternBytes / 2, half.cache().sizeInBytes());
    }

    @Test
    void probabilitiesSumToOne() {
        INDArray logProbs = LogProbs.logSoftmax(gpt2.forward(GPT2_IDS));
        INDArray sums = Transforms.exp(logProbs).sum(2);
        assertAllClose("softmax sums", Nd4j.onesLike(sums), sums, 1e-4);
    }
}
