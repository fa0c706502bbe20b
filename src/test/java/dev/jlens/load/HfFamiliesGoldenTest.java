package dev.jlens.load;

import static dev.jlens.testing.Golden.assertClose;
import static dev.jlens.testing.Golden.flat;
import static dev.jlens.testing.Golden.longs;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jlens.model.HookedTransformer;
import dev.jlens.model.Run;
import dev.jlens.testing.Golden;
import dev.jlens.testing.TestData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The Hugging Face families beyond GPT-2 against golden values from third-party code: llama2.c's
 * {@code model.py} for {@code llama-tiny}, llama.cpp for the GPT-NeoX, Gemma 2, Qwen 2 and Qwen 3
 * fixtures (each folder's README). Logits within 1e-4 + 1e-5·|golden|, greedy ids exactly.
 */
class HfFamiliesGoldenTest {

    private static long[][] row(long[] ids) {
        return new long[][] {ids};
    }

    /** Arg-max continuation by full forward passes (no key/value cache), as the references' greedy runs. */
    private static long[] greedy(HookedTransformer model, long[] prompt, int n) {
        List<Long> ids = new ArrayList<>();
        for (long id : prompt) ids.add(id);
        long[] out = new long[n];
        for (int i = 0; i < n; i++) {
            long[] cur = ids.stream().mapToLong(Long::longValue).toArray();
            INDArray logits = model.forward(Nd4j.createFromArray(row(cur)));
            long next = logits.get(NDArrayIndex.point(0), NDArrayIndex.point(cur.length - 1), NDArrayIndex.all()).argMax().getLong(0);
            out[i] = next;
            ids.add(next);
        }
        return out;
    }

    @ParameterizedTest
    @ValueSource(strings = {"gptneox-tiny", "gemma2-tiny", "qwen2-tiny", "qwen3-tiny"})
    void llamaCppFixturesMatchTheirLogitsAndGreedyIds(String fixture) {
        Path dir = TestData.file("fixtures/" + fixture);
        JsonNode golden = Golden.read(dir.resolve("golden.json"));
        HookedTransformer model = HookedTransformer.fromPretrained(dir.toString());
        JsonNode tol = golden.get("tolerance").get("logits");
        for (int s = 0; s < golden.get("sequences").size(); s++) {
            long[] ids = longs(golden.get("sequences").get(s));
            INDArray logits = model.forward(Nd4j.createFromArray(row(ids)));
            assertClose(fixture + " logits of sequence " + s, flat(golden.get("logits").get(s)), logits,
                    tol.get("atol").asDouble(), tol.get("rtol").asDouble());
        }
        JsonNode g = golden.get("greedy");
        assertArrayEquals(longs(g.get("new_ids")), greedy(model, longs(g.get("prompt")), g.get("n_new").asInt()), fixture + " greedy ids");
    }

    /** The reference kernels ({@code -Djlens.kernels=reference}: every step with ND4J's array operations) meet the same goldens. */
    @ParameterizedTest
    @ValueSource(strings = {"gptneox-tiny", "gemma2-tiny", "qwen2-tiny", "qwen3-tiny"})
    void theReferenceKernelsMatchTheLogitsToo(String fixture) {
        Path dir = TestData.file("fixtures/" + fixture);
        JsonNode golden = Golden.read(dir.resolve("golden.json"));
        String before = System.getProperty("jlens.kernels");
        HookedTransformer model;
        try {
            System.setProperty("jlens.kernels", "reference");
            model = HookedTransformer.fromPretrained(dir.toString());
        } finally {
            if (before == null) System.clearProperty("jlens.kernels"); else System.setProperty("jlens.kernels", before);
        }
        JsonNode tol = golden.get("tolerance").get("logits");
        for (int s = 0; s < golden.get("sequences").size(); s++) {
            INDArray logits = model.forward(Nd4j.createFromArray(row(longs(golden.get("sequences").get(s)))));
            assertClose(fixture + " logits of sequence " + s + " (reference kernels)", flat(golden.get("logits").get(s)), logits,
                    tol.get("atol").asDouble(), tol.get("rtol").asDouble());
        }
    }

    /**
     * A hook on every score and pattern (which may change them) runs attention step by step on whole arrays;
     * an identity hook must leave the logits as the fused kernel computes them, with grouped heads, rotary,
     * sliding windows and soft caps.
     */
    @ParameterizedTest
    @ValueSource(strings = {"llama-tiny", "gptneox-tiny", "gemma2-tiny", "qwen2-tiny", "qwen3-tiny"})
    void stepByStepAttentionEqualsTheFusedKernel(String fixture) {
        HookedTransformer model = HookedTransformer.fromPretrained(TestData.file("fixtures/" + fixture).toString());
        INDArray tokens = Nd4j.createFromArray(new long[][] {{1, 5, 9, 2, 7, 3, 8, 4, 6, 11, 12, 10}});
        INDArray fused = model.forward(tokens);
        List<dev.jlens.model.Hook> hooks = new ArrayList<>();
        for (int l = 0; l < model.cfg().nLayers(); l++) {
            hooks.add(dev.jlens.model.Hook.hook(dev.jlens.cache.HookNames.block(l, "attn.hook_attn_scores"), (a, h) -> a));
            hooks.add(dev.jlens.model.Hook.hook(dev.jlens.cache.HookNames.block(l, "attn.hook_pattern"), (a, h) -> a));
        }
        INDArray stepByStep = model.runWithHooks(tokens, hooks.toArray(dev.jlens.model.Hook[]::new));
        float[] a = fused.data().asFloat(), b = stepByStep.data().asFloat();
        for (int i = 0; i < a.length; i++) assertEquals(a[i], b[i], 1e-4 + 1e-5 * Math.abs(a[i]), fixture + " logit " + i);
    }

    @Test
    void llamaMatchesLlama2cLogitsResidualsNormsPatternAndLoss() {
        Path dir = TestData.file("fixtures/llama-tiny");
        JsonNode golden = Golden.read(dir.resolve("golden.json"));
        HookedTransformer model = HookedTransformer.fromPretrained(dir.toString());
        assertEquals(4, model.cfg().nHeads());
        assertEquals(2, model.cfg().nKvHeads());
        JsonNode seq = golden.get("sequences").get(0);
        long[] ids = longs(seq.get("ids"));
        Run run = model.runWithCache(Nd4j.createFromArray(row(ids)));
        assertClose("logits", flat(seq.get("logits")), run.logits(), Golden.ATOL, Golden.RTOL);
        for (int l = 0; l < model.cfg().nLayers(); l++) {
            assertClose("resid_post " + l, flat(seq.get("resid_post").get(l)), run.cache().get("blocks." + l + ".hook_resid_post"),
                    Golden.ATOL, Golden.RTOL);
            INDArray pattern = run.cache().get("blocks." + l + ".attn.hook_pattern")
                    .get(NDArrayIndex.point(0), NDArrayIndex.point(1), NDArrayIndex.all(), NDArrayIndex.all());
            assertClose("pattern of head 1, layer " + l, flat(seq.get("attn_pattern_head1").get(l)), pattern, Golden.PATTERN_ATOL, 0);
        }
        assertClose("final norm output (ln_final.hook_normalized, with its weight)", flat(seq.get("final_norm_out")),
                run.cache().get("ln_final.hook_normalized"), Golden.ATOL, Golden.RTOL);
        assertClose("final norm scale", flat(seq.get("final_norm_scale")), run.cache().get("ln_final.hook_scale"), Golden.ATOL, Golden.RTOL);
        assertEquals(seq.get("loss").asDouble(), model.loss(Nd4j.createFromArray(row(ids))), 1e-4);
        JsonNode g = golden.get("greedy");
        assertArrayEquals(longs(g.get("new_ids")), greedy(model, longs(g.get("prompt")), g.get("n_new").asInt()), "greedy ids");
    }

    @Test
    void hookPointsFollowTransformerLensForEachFamily() {
        HookedTransformer llama = HookedTransformer.fromPretrained(TestData.file("fixtures/llama-tiny").toString());
        List<String> names = llama.hookNames();
        assertTrue(names.containsAll(List.of("blocks.0.attn.hook_rot_q", "blocks.0.attn.hook_rot_k", "blocks.0.mlp.hook_pre_linear",
                "blocks.0.hook_resid_mid")), names.toString());
        assertFalse(names.contains("hook_pos_embed"), "rotary models have no position embedding");
        Run run = llama.runWithCache(Nd4j.createFromArray(row(new long[] {1, 5, 9})));
        assertArrayEquals(new long[] {1, 3, 2, 16}, run.cache().get("blocks.0.attn.hook_k").shape(), "hook_k has the key/value heads");
        HookedTransformer neox = HookedTransformer.fromPretrained(TestData.file("fixtures/gptneox-tiny").toString());
        assertFalse(neox.hookNames().contains("blocks.0.hook_resid_mid"), "a parallel block has no resid_mid");
        HookedTransformer gemma = HookedTransformer.fromPretrained(TestData.file("fixtures/gemma2-tiny").toString());
        assertTrue(gemma.hookNames().containsAll(List.of("blocks.1.ln1_post.hook_normalized", "blocks.1.ln2_post.hook_normalized")));
        HookedTransformer qwen3 = HookedTransformer.fromPretrained(TestData.file("fixtures/qwen3-tiny").toString());
        assertTrue(qwen3.hookNames().contains("blocks.0.attn.q_norm.hook_normalized"));
    }

    @Test
    void groupedKeysAreRepeatedPerQueryHeadAndRecomputeTheCachedKeys() {
        HookedTransformer m = HookedTransformer.fromPretrained(TestData.file("fixtures/llama-tiny").toString());
        INDArray grouped = m.groupedW_K(0), expanded = m.W_K(0);
        assertArrayEquals(new long[] {2, 64, 16}, grouped.shape());
        assertArrayEquals(new long[] {4, 64, 16}, expanded.shape());
        assertEquals(grouped.slice(0), expanded.slice(1), "query heads 0 and 1 read key head 0 (repeat_interleave)");
        assertEquals(grouped.slice(1), expanded.slice(2));
        assertTrue(m.params().containsKey("blocks.0.attn._W_K"), "the state dict holds the grouped form, as TransformerLens's");
        // hook_k recomputed from the cached input of attention: ln1.hook_normalized · _W_K[kv] + b_K
        Run run = m.runWithCache(Nd4j.createFromArray(row(new long[] {1, 40, 80, 120})));
        INDArray x = run.cache().get("blocks.0.ln1.hook_normalized").slice(0);                 // [pos, d_model]
        INDArray k = run.cache().get("blocks.0.attn.hook_k").slice(0);                        // [pos, kv_head, d_head]
        for (int kv = 0; kv < 2; kv++) {
            INDArray mine = x.mmul(grouped.slice(kv)).addRowVector(m.params().get("blocks.0.attn._b_K").slice(kv));
            INDArray cached = k.get(NDArrayIndex.all(), NDArrayIndex.point(kv), NDArrayIndex.all());
            assertTrue(mine.equalsWithEps(cached, 1e-5), "key head " + kv);
        }
    }

    @Test
    void theResidualStreamDecomposesInEveryFamily() {
        // Invariant: resid_post = resid_pre + attn_out (+ mlp_out), in sequential and parallel blocks alike.
        for (String f : new String[] {"llama-tiny", "gptneox-tiny", "gemma2-tiny", "qwen2-tiny", "qwen3-tiny"}) {
            HookedTransformer m = HookedTransformer.fromPretrained(TestData.file("fixtures/" + f).toString());
            Run run = m.runWithCache(Nd4j.createFromArray(row(new long[] {1, 7, 3, 11, 2})));
            for (int l = 0; l < m.cfg().nLayers(); l++) {
                INDArray sum = run.cache().get("blocks." + l + ".hook_resid_pre").add(run.cache().get("blocks." + l + ".hook_attn_out"))
                        .add(run.cache().get("blocks." + l + ".hook_mlp_out"));
                INDArray post = run.cache().get("blocks." + l + ".hook_resid_post");
                assertTrue(sum.equalsWithEps(post, 1e-4), f + " layer " + l);
            }
        }
    }

    /** llama-tiny split into two shards with their index, in {@code dir}. */
    private static void shardedLlama(Path dir) throws IOException {
        Path src = TestData.file("fixtures/llama-tiny");
        Files.createDirectories(dir);
        Files.copy(src.resolve("config.json"), dir.resolve("config.json"));
        java.util.Map<String, INDArray> first = new java.util.TreeMap<>(), second = new java.util.TreeMap<>();
        StringBuilder index = new StringBuilder("{\"metadata\": {}, \"weight_map\": {");
        try (SafeTensors all = SafeTensors.open(src.resolve("model.safetensors"))) {
            for (String n : all.names()) {
                boolean one = n.contains("layers.0.") || n.contains("embed");
                (one ? first : second).put(n, all.copy(n));
                index.append(index.charAt(index.length() - 1) == '{' ? "" : ", ").append('"').append(n).append("\": \"")
                        .append(one ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors").append('"');
            }
        }
        SafeTensorsWriter.write(dir.resolve("model-00001-of-00002.safetensors"), first, java.util.Map.of());
        SafeTensorsWriter.write(dir.resolve("model-00002-of-00002.safetensors"), second, java.util.Map.of());
        Files.writeString(dir.resolve("model.safetensors.index.json"), index.append("}}").toString());
    }

    @Test
    void aShardedCheckpointLoadsThroughItsIndexAndABadIndexIsRefused(@TempDir Path tmp) throws IOException {
        Path src = TestData.file("fixtures/llama-tiny");
        Path dir = tmp.resolve("llama-sharded");
        shardedLlama(dir);
        JsonNode seq = Golden.read(src.resolve("golden.json")).get("sequences").get(0);
        HookedTransformer m = HookedTransformer.fromPretrained(dir.toString());
        assertClose("sharded logits", flat(seq.get("logits")), m.forward(Nd4j.createFromArray(row(longs(seq.get("ids"))))),
                Golden.ATOL, Golden.RTOL);

        Files.writeString(dir.resolve("model.safetensors.index.json"), "{\"weight_map\": {\"model.norm.weight\": \"../../etc/passwd\"}}");
        CorruptModelFileException e = assertThrows(CorruptModelFileException.class, () -> HookedTransformer.fromPretrained(dir.toString()));
        assertTrue(e.getMessage().contains("not a file name in the model's folder"), e.getMessage());
    }

    @Test
    void aShardedModelIsFetchedFromTheHubWithEveryShard(@TempDir Path tmp) throws IOException {
        Path dir = tmp.resolve("served");
        shardedLlama(dir);
        String[] files = {"config.json", "model.safetensors.index.json", "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"};
        try (FakeHub fake = new FakeHub().serve("meta-llama/Tiny-Llama", dir, files)) {
            var hub = new dev.jlens.load.hub.HuggingFaceHub(new dev.jlens.load.hub.HubSettings(tmp.resolve("cache"), fake.endpoint(), false,
                    null, new java.io.PrintStream(java.io.OutputStream.nullOutputStream())));
            HookedTransformer m = ModelLoader.load("meta-llama/Tiny-Llama", hub);
            JsonNode seq = Golden.read(TestData.file("fixtures/llama-tiny/golden.json")).get("sequences").get(0);
            assertClose("logits from the hub", flat(seq.get("logits")), m.forward(Nd4j.createFromArray(row(longs(seq.get("ids"))))),
                    Golden.ATOL, Golden.RTOL);
        }
    }

    @Test
    void theTrainedStories260kTellsItsOwnTextFromRandomIds() {
        // A real trained tiny Llama (grouped-query attention), not redistributed: read from ../shared.
        Path dir = dev.jlens.testing.Shared.file("models/stories260K");
        HookedTransformer m = HookedTransformer.fromPretrained(dir.toString());
        assertEquals(8, m.cfg().nHeads());
        assertEquals(4, m.cfg().nKvHeads());
        long[] story = greedy(m, new long[] {1}, 60);
        long[] own = new long[61], random = new long[61];
        own[0] = random[0] = 1;
        System.arraycopy(story, 0, own, 1, 60);
        java.util.Random r = new java.util.Random(7);
        for (int i = 1; i < 61; i++) random[i] = 3 + r.nextInt(509);
        double ownLoss = m.loss(Nd4j.createFromArray(row(own))), randomLoss = m.loss(Nd4j.createFromArray(row(random)));
        // Trained weights read correctly: confident on its own greedy text, lost on random ids (ln 512 = 6.2).
        assertTrue(ownLoss < 1.5, "loss of its own greedy continuation: " + ownLoss);
        assertTrue(randomLoss > 4, "loss of random ids: " + randomLoss);
    }

    @Test
    void anUnsupportedArchitectureIsRefusedByName(@TempDir Path tmp) throws IOException {
        Files.writeString(tmp.resolve("config.json"), "{\"architectures\": [\"MambaForCausalLM\"], \"hidden_size\": 8}");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HookedTransformer.fromPretrained(tmp.toString()));
        assertTrue(e.getMessage().contains("MambaForCausalLM") && e.getMessage().contains("LlamaForCausalLM"), e.getMessage());
    }

    @Test
    void aModelWithoutTokenizerRunsOnIdsAndSaysSoForText() {
        HookedTransformer m = HookedTransformer.fromPretrained(TestData.file("fixtures/llama-tiny").toString());
        assertEquals(256, m.forward(Nd4j.createFromArray(row(new long[] {1, 2, 3}))).size(2));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> m.toTokens("hello"));
        assertTrue(e.getMessage().contains("no tokenizer"), e.getMessage());
    }
}
