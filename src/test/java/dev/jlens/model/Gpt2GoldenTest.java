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
import dev.jlens.testing.Golden;
import dev.jlens.testing.TestData;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A GPT-2-architecture model with random weights in the Hugging Face layout against nanoGPT run in
 * PyTorch ({@code ../shared/fixtures/gpt2-tiny/golden.json}).
 */
class Gpt2GoldenTest {
    static JsonNode golden;
    static HookedTransformer model;

    @BeforeAll
    static void load() {
        Path dir = TestData.file("fixtures/gpt2-tiny");
        golden = Golden.read(dir.resolve("golden.json"));
        model = HookedTransformer.fromPretrained(dir.toString());
    }

    static void assertMatchesGolden(HookedTransformer model, JsonNode golden) {
        long[] probes = longs(golden.get("probe_ids"));
        for (JsonNode p : golden.get("prompts")) {
            String at = " for '" + p.get("text").asText() + "'";
            long[] ids = longs(p.get("ids_with_bos"));
            INDArray tokens = Nd4j.createFromArray(new long[][] {ids});
            Run run = model.runWithCache(tokens);
            var cache = run.cache();
            int last = ids.length - 1;
            INDArray logits = run.logits().get(point(0), all(), all());       // [pos, d_vocab]

            double[][] perPosition = new double[ids.length][probes.length];
            for (int t = 0; t < ids.length; t++) {
                for (int j = 0; j < probes.length; j++) perPosition[t][j] = logits.getDouble(t, probes[j]);
            }
            assertClose("logits_at_probe_ids_all_positions" + at, flat(p.get("logits_at_probe_ids_all_positions")),
                    Arrays.stream(perPosition).flatMapToDouble(Arrays::stream).toArray(), ATOL, RTOL);
            assertClose("last_logits_at_probe_ids" + at, flat(p.get("last_logits_at_probe_ids")), perPosition[last], ATOL, RTOL);
            JsonNode top = p.get("last_logits_top10");
            INDArray lastRow = logits.getRow(last);
            long[] topIds = longs(top.get("ids"));
            double[] topValues = new double[topIds.length];
            for (int j = 0; j < topIds.length; j++) topValues[j] = lastRow.getDouble(topIds[j]);
            assertClose("last_logits_top10 values" + at, flat(top.get("values")), topValues, ATOL, RTOL);
            assertEquals(topIds[0], lastRow.argMax().getLong(), "arg-max of the last logits" + at);
            double max = lastRow.maxNumber().doubleValue();
            double lse = max + Math.log(Arrays.stream(lastRow.toDoubleVector()).map(v -> Math.exp(v - max)).sum());
            assertEquals(p.get("last_logsumexp").asDouble(), lse, ATOL + RTOL * Math.abs(lse), "last_logsumexp" + at);
            assertEquals(p.get("loss").asDouble(), model.loss(tokens), ATOL + RTOL * p.get("loss").asDouble(), "loss" + at);

            INDArray embed = cache.get("embed").add(cache.get("pos_embed"));
            assertClose("embed_pos0" + at, flat(p.get("embed_pos0")), embed.get(point(0), point(0), all()), ATOL, RTOL);
            assertClose("embed_last" + at, flat(p.get("embed_last")), embed.get(point(0), point(last), all()), ATOL, RTOL);
            for (int l = 0; l < model.cfg().nLayers(); l++) {
                assertClose("resid_post_pos0[" + l + "]" + at, flat(p.get("resid_post_pos0").get(l)),
                        cache.get("resid_post", l).get(point(0), point(0), all()), ATOL, RTOL);
                assertClose("resid_post_last[" + l + "]" + at, flat(p.get("resid_post_last").get(l)),
                        cache.get("resid_post", l).get(point(0), point(last), all()), ATOL, RTOL);
            }
            assertClose("attn_pattern_L1_H2" + at, flat(p.get("attn_pattern_L1_H2")),
                    cache.get("pattern", 1).get(point(0), point(2), all(), all()), PATTERN_ATOL, 0);
            assertClose("mlp_post_L0_last" + at, flat(p.get("mlp_post_L0_last")),
                    cache.get("post", 0).get(point(0), point(last), all()), ATOL, RTOL);

            JsonNode greedy = p.get("greedy");
            long[] out = model.generate(ids, greedy.get("n_new").asInt(), Sampling.greedy());
            assertArrayEquals(longs(greedy.get("new_ids")), Arrays.copyOfRange(out, ids.length, out.length), "greedy" + at);
        }
    }

    @Test
    void everyGoldenValueMatches() {
        assertEquals(true, model.cfg().defaultPrependBos());
        assertEquals(ActivationFunction.GELU_NEW, model.cfg().actFn());
        assertMatchesGolden(model, golden);
    }
}
