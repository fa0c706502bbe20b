package dev.jlens.load;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jlens.testing.TestData;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The real fixture files open, hold the tensors their configs imply, and read the right values. */
class SafeTensorsFixturesTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static JsonNode json(Path p) throws IOException {
        return JSON.readTree(p.toFile());
    }

    /** HF GPT2Model keys: no "transformer." prefix in this file, Conv1D weights stored [in, out]. */
    @Test
    void gpt2TinyHasTheShapesItsConfigImplies() throws IOException {
        Path file = TestData.file("fixtures/gpt2-tiny/model.safetensors");
        JsonNode cfg = json(TestData.file("fixtures/gpt2-tiny/config.json"));
        long d = cfg.get("n_embd").asLong(), vocab = cfg.get("vocab_size").asLong();
        long ctx = cfg.get("n_positions").asLong();
        int layers = cfg.get("n_layer").asInt();

        Map<String, long[]> expected = new LinkedHashMap<>();
        expected.put("wte.weight", new long[] {vocab, d});
        expected.put("wpe.weight", new long[] {ctx, d});
        for (int l = 0; l < layers; l++) {
            String h = "h." + l + ".";
            expected.put(h + "ln_1.weight", new long[] {d});
            expected.put(h + "ln_1.bias", new long[] {d});
            expected.put(h + "attn.c_attn.weight", new long[] {d, 3 * d});
            expected.put(h + "attn.c_attn.bias", new long[] {3 * d});
            expected.put(h + "attn.c_proj.weight", new long[] {d, d});
            expected.put(h + "attn.c_proj.bias", new long[] {d});
            expected.put(h + "ln_2.weight", new long[] {d});
            expected.put(h + "ln_2.bias", new long[] {d});
            expected.put(h + "mlp.c_fc.weight", new long[] {d, 4 * d});
            expected.put(h + "mlp.c_fc.bias", new long[] {4 * d});
            expected.put(h + "mlp.c_proj.weight", new long[] {4 * d, d});
            expected.put(h + "mlp.c_proj.bias", new long[] {d});
        }
        expected.put("ln_f.weight", new long[] {d});
        expected.put("ln_f.bias", new long[] {d});

        try (SafeTensors st = SafeTensors.open(file)) {
            assertEquals(expected.keySet(), st.names(), "key layout");
            expected.forEach((name, shape) -> {
                assertArrayEquals(shape, st.info(name).shape(), name);
                assertEquals("F32", st.info(name).dtype(), name);
                assertArrayEquals(shape, st.get(name).shape(), name);
            });
            assertEquals("pt", st.metadata().get("format"));
        }
    }

    /** golden.json's embed_pos0 is wte[bos] + wpe[0], rounded to 6 significant digits. */
    @Test
    void gpt2TinyValuesMatchTheGoldenEmbedding() throws IOException {
        JsonNode prompt = json(TestData.file("fixtures/gpt2-tiny/golden.json")).get("prompts").get(0);
        int bos = prompt.get("ids_with_bos").get(0).asInt();
        assertEquals(50256, bos);
        JsonNode golden = prompt.get("embed_pos0");
        try (SafeTensors st = SafeTensors.open(TestData.file("fixtures/gpt2-tiny/model.safetensors"))) {
            INDArray embed = st.get("wte.weight").getRow(bos).add(st.get("wpe.weight").getRow(0));
            assertEquals(golden.size(), embed.length());
            for (int i = 0; i < golden.size(); i++) {
                assertEquals(golden.get(i).asDouble(), embed.getDouble(i), 1e-5, "embed_pos0[" + i + "]");
            }
        }
    }

    @Test
    void charlmTinyHasKarpathyNamesAndShapes() throws IOException {
        Path file = TestData.file("fixtures/charlm-tiny/model.safetensors");
        JsonNode cfg = json(TestData.file("fixtures/charlm-tiny/config.json"));
        long d = cfg.get("n_embd").asLong(), vocab = cfg.get("vocab_size").asLong();
        long head = cfg.get("head_size").asLong(), block = cfg.get("block_size").asLong();
        long hidden = cfg.get("ffwd_hidden").asLong();
        int layers = cfg.get("n_layer").asInt(), heads = cfg.get("n_head").asInt();
        try (SafeTensors st = SafeTensors.open(file)) {
            assertArrayEquals(new long[] {vocab, d}, st.info("token_embedding_table.weight").shape());
            assertArrayEquals(new long[] {block, d}, st.info("position_embedding_table.weight").shape());
            assertArrayEquals(new long[] {vocab, d}, st.info("lm_head.weight").shape());
            assertArrayEquals(new long[] {vocab}, st.info("lm_head.bias").shape());
            for (int l = 0; l < layers; l++) {
                String b = "blocks." + l + ".";
                for (int h = 0; h < heads; h++) {
                    for (String w : new String[] {"key", "query", "value"}) {
                        assertArrayEquals(new long[] {head, d}, st.info(b + "sa.heads." + h + "." + w + ".weight").shape());
                    }
                    INDArray tril = st.get(b + "sa.heads." + h + ".tril");
                    for (int i = 0; i < block; i++) {
                        for (int j = 0; j < block; j++) {
                            assertEquals(j <= i ? 1f : 0f, tril.getFloat(i, j), "tril is lower-triangular ones");
                        }
                    }
                }
                assertArrayEquals(new long[] {d, heads * head}, st.info(b + "sa.proj.weight").shape());
                assertArrayEquals(new long[] {hidden, d}, st.info(b + "ffwd.net.0.weight").shape());
                assertArrayEquals(new long[] {d, hidden}, st.info(b + "ffwd.net.2.weight").shape());
            }
            long perLayer = 4L * heads + 2 + 4 + 4;
            assertEquals(layers * perLayer + 6, st.names().size());
        }
    }

    /** Opening maps nothing and reading the 13 MB embedding maps it: both far below a full-copy read. */
    @Test
    void openingAndReadingTheLargestTensorIsFast() {
        Path file = TestData.file("fixtures/gpt2-tiny/model.safetensors");
        Nd4j.create(1); // ND4J's first-use start-up is not what is being timed
        long t0 = System.nanoTime();
        try (SafeTensors st = SafeTensors.open(file)) {
            INDArray wte = st.get("wte.weight");
            assertEquals(50257L * 64, wte.length());
            double ms = (System.nanoTime() - t0) / 1e6;
            assertTrue(ms < 500, "open + get(wte) took " + ms + " ms");
            assertEquals(st.get("wte.weight"), wte, "reading twice gives equal data");
        }
    }
}
