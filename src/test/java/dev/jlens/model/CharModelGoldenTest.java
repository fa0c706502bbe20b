package dev.jlens.model;

import static dev.jlens.testing.Golden.ATOL;
import static dev.jlens.testing.Golden.PATTERN_ATOL;
import static dev.jlens.testing.Golden.RTOL;
import static dev.jlens.testing.Golden.assertClose;
import static dev.jlens.testing.Golden.flat;
import static dev.jlens.testing.Golden.longs;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.nd4j.linalg.indexing.NDArrayIndex.all;
import static org.nd4j.linalg.indexing.NDArrayIndex.point;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jlens.load.KarpathyCharLoader;
import dev.jlens.testing.Golden;
import dev.jlens.testing.TestData;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Karpathy's lecture model with random weights against values computed by the lecture's own
 * PyTorch code ({@code ../shared/fixtures/charlm-tiny/golden.json}; its {@code conventions} block
 * says what each value is).
 */
class CharModelGoldenTest {
    static JsonNode golden;
    static HookedTransformer model;

    @BeforeAll
    static void load() {
        Path dir = TestData.file("fixtures/charlm-tiny");
        golden = Golden.read(dir.resolve("golden.json"));
        model = HookedTransformer.fromPretrained(dir.toString());
    }

    @Test
    void configIsInferredFromTheTensors() {
        ModelConfig cfg = model.cfg();
        JsonNode c = golden.get("config");
        assertEquals(c.get("n_layer").asInt(), cfg.nLayers());
        assertEquals(c.get("n_embd").asInt(), cfg.dModel());
        assertEquals(c.get("n_head").asInt(), cfg.nHeads());
        assertEquals(c.get("head_size").asInt(), cfg.dHead());
        assertEquals(c.get("ffwd_hidden").asInt(), cfg.dMlp());
        assertEquals(c.get("vocab_size").asInt(), cfg.dVocab());
        assertEquals(c.get("block_size").asInt(), cfg.nCtx());
        assertEquals(1 / c.get("attn_scale_value").asDouble(), cfg.attnScale(), 1e-9);
        assertEquals(ActivationFunction.RELU, cfg.actFn());
        assertEquals(false, cfg.defaultPrependBos());
    }

    @Test
    void everyGoldenValueMatches() {
        assertMatchesGolden(model, golden);
    }

    /** Every per-prompt value of charlm-tiny's golden.json; shared with tests that load the model from other files. */
    static void assertMatchesGolden(HookedTransformer model, JsonNode golden) {
        for (JsonNode p : golden.get("prompts")) {
            String text = p.get("text").asText();
            INDArray tokens = model.toTokens(text);
            assertArrayEquals(longs(p.get("ids")), tokens.toLongVector(), "ids of " + text);
            Run run = model.runWithCache(tokens);
            var cache = run.cache();
            int last = p.get("T").asInt() - 1;
            String at = " for '" + text + "'";

            assertClose("logits" + at, flat(p.get("logits")), run.logits().get(point(0), all(), all()), ATOL, RTOL);
            assertEquals(p.get("loss").asDouble(), model.loss(tokens), ATOL + RTOL * p.get("loss").asDouble(), "loss" + at);
            assertClose("embed_last" + at, flat(p.get("embed_last")),
                    cache.get("resid_pre", 0).get(point(0), point(last), all()), ATOL, RTOL);
            for (int l = 0; l < model.cfg().nLayers(); l++) {
                assertClose("block_out_last[" + l + "]" + at, flat(p.get("block_out_last").get(l)),
                        cache.get("resid_post", l).get(point(0), point(last), all()), ATOL, RTOL);
            }
            assertClose("block0_head_out_last" + at, flat(p.get("block0_head_out_last")),
                    cache.get("z", 0).get(point(0), point(last), all(), all()), ATOL, RTOL);
            assertClose("block1_sa_proj_out_last" + at, flat(p.get("block1_sa_proj_out_last")),
                    cache.get("attn_out", 1).get(point(0), point(last), all()), ATOL, RTOL);
            assertClose("block1_ffwd_out_last" + at, flat(p.get("block1_ffwd_out_last")),
                    cache.get("mlp_out", 1).get(point(0), point(last), all()), ATOL, RTOL);
            assertClose("block0_attn_pattern" + at, flat(p.get("block0_attn_pattern")),
                    cache.get("pattern", 0).get(point(0), all(), all(), all()), PATTERN_ATOL, 0);

            JsonNode greedy = p.get("greedy");
            long[] ids = tokens.toLongVector();
            long[] out = model.generate(ids, greedy.get("n_new").asInt(), Sampling.greedy());
            assertArrayEquals(longs(greedy.get("new_ids")), Arrays.copyOfRange(out, ids.length, out.length), "greedy ids" + at);
            assertEquals(greedy.get("new_text").asText(), model.toText(Arrays.copyOfRange(out, ids.length, out.length)));
        }
    }

    @Test
    void videoEraAttentionScaleMatchesTheLegacyCode() {
        Path dir = TestData.file("fixtures/charlm-tiny");
        HookedTransformer legacy = KarpathyCharLoader.load(dir.resolve("model.safetensors"),
                golden.get("config").get("chars").asText(), KarpathyCharLoader.AttentionScale.N_EMBD);
        assertEquals(Math.sqrt(64), legacy.cfg().attnScale(), 1e-12);
        for (JsonNode p : golden.get("prompts")) {
            if (!p.has("diag_legacy_cscale_last_logits")) continue;
            INDArray tokens = legacy.toTokens(p.get("text").asText());
            INDArray logits = legacy.forward(tokens);
            int last = (int) tokens.size(1) - 1;
            assertClose("legacy last logits", flat(p.get("diag_legacy_cscale_last_logits")),
                    logits.get(point(0), point(last), all()), ATOL, RTOL);
            assertEquals(p.get("diag_legacy_cscale_loss").asDouble(), legacy.loss(tokens), ATOL + RTOL * 6);
        }
    }
}
