package dev.jlens.model;

import static dev.jlens.model.Hook.hook;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.nd4j.linalg.indexing.NDArrayIndex.all;
import static org.nd4j.linalg.indexing.NDArrayIndex.point;

import dev.jlens.cache.CacheSpec;
import dev.jlens.testing.TestData;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * The forward pass computes attention in one fused pass unless a hook sits on the scores or the
 * pattern; both ways, and with q/k/v changed by hooks, must agree with each other.
 */
class AttentionPathsTest {
    static HookedTransformer gpt2;
    static final INDArray IDS = Nd4j.createFromArray(new long[][] {{50256, 15496, 995, 11, 616, 1438, 318, 1757}});

    @BeforeAll
    static void load() {
        gpt2 = HookedTransformer.fromPretrained(TestData.file("fixtures/gpt2-tiny").toString());
    }

    static double maxDiff(INDArray a, INDArray b) {
        return Transforms.abs(a.castTo(DataType.DOUBLE).sub(b.castTo(DataType.DOUBLE))).maxNumber().doubleValue();
    }

    @Test
    void readOnlyHooksOnScoresAndPatternTakeTheStepByStepPathWithTheSameResult() {
        INDArray plain = gpt2.forward(IDS);
        INDArray hooked = gpt2.runWithHooks(IDS, hook("blocks.0.attn.hook_attn_scores", (a, h) -> null),
                hook("blocks.1.attn.hook_pattern", (a, h) -> null));
        assertTrue(maxDiff(plain, hooked) < 1e-5, "logits differ by " + maxDiff(plain, hooked));
    }

    @Test
    void aHookThatChangesThePatternChangesTheOutput() {
        // Uniform attention over the visible keys in layer 0, by replacing the pattern.
        INDArray logits = gpt2.runWithHooks(IDS, hook("blocks.0.attn.hook_pattern", (p, h) -> {
            INDArray u = Nd4j.zeros(DataType.FLOAT, p.shape());
            for (int i = 0; i < p.size(2); i++) u.get(all(), all(), point(i), org.nd4j.linalg.indexing.NDArrayIndex.interval(0, i + 1)).assign(1.0 / (i + 1));
            return u;
        }));
        // The same by changing the scores: all visible scores equal gives the same uniform pattern.
        INDArray viaScores = gpt2.runWithHooks(IDS, hook("blocks.0.attn.hook_attn_scores", (s, h) -> {
            INDArray masked = s.dup();
            Nd4j.getExecutioner().exec(new org.nd4j.linalg.api.ops.impl.transforms.comparison.CompareAndSet(masked,
                    0.0, org.nd4j.linalg.indexing.conditions.Conditions.notEquals(Double.NEGATIVE_INFINITY)));
            return masked;
        }));
        assertTrue(maxDiff(logits, viaScores) < 1e-4, "pattern vs scores hook: " + maxDiff(logits, viaScores));
        assertTrue(maxDiff(logits, gpt2.forward(IDS)) > 1e-3, "the hook had no effect");
    }

    @Test
    void qkvChangedInPlaceOrReplacedReachTheAttention() {
        INDArray inPlace = gpt2.runWithHooks(IDS, hook("blocks.0.attn.hook_v", (v, h) -> v.muli(0)));
        INDArray replaced = gpt2.runWithHooks(IDS, hook("blocks.0.attn.hook_v", (v, h) -> Nd4j.zeros(DataType.FLOAT, v.shape())));
        assertTrue(maxDiff(inPlace, replaced) < 1e-5);
        // With v = 0, z = 0 and the attention output is the bias b_O alone.
        Run run = gpt2.run(IDS, List.of(hook("blocks.0.attn.hook_v", (v, h) -> Nd4j.zeros(DataType.FLOAT, v.shape()))),
                CacheSpec.only("blocks.0.attn.hook_z", "blocks.0.hook_attn_out"), true);
        assertEquals(0.0, run.cache().get("blocks.0.attn.hook_z").amaxNumber().doubleValue());
        INDArray attnOut = run.cache().get("blocks.0.hook_attn_out");
        assertTrue(maxDiff(attnOut.get(point(0), point(3), all()), gpt2.weights().layers().get(0).oB()) < 1e-6);
        assertTrue(maxDiff(inPlace, gpt2.forward(IDS)) > 1e-4, "zeroing v had no effect");
    }

    @Test
    void bf16PatternsAreTheFloatPatternsRounded() {
        var f32 = gpt2.runWithCache(IDS, CacheSpec.all()).cache();
        var bf16 = gpt2.runWithCache(IDS, CacheSpec.all().withPatternsInBf16()).cache();
        INDArray p = bf16.get("pattern", 1);
        assertEquals(DataType.BFLOAT16, p.dataType());
        assertEquals(0.0, maxDiff(p, f32.get("pattern", 1).castTo(DataType.BFLOAT16)));
        assertEquals(f32.get("pattern", 1).length() * 2, p.length() * p.dataType().width());
    }
}
