package dev.jlens.load;

import static dev.jlens.load.TorchFileWriter.Tensor;
import static dev.jlens.load.TorchFileWriter.Tuple;
import static dev.jlens.load.TorchFileWriter.floats;
import static dev.jlens.load.TorchFileWriter.tensor;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jlens.model.CharModelGoldenTestAccess;
import dev.jlens.model.Gpt2GoldenTestAccess;
import dev.jlens.model.HookedTransformer;
import dev.jlens.testing.Golden;
import dev.jlens.testing.TestData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * PyTorch files: the real charlm-tiny model.pt, and files written by {@link TorchFileWriter} in the
 * layouts users have (state dicts, Hugging Face pytorch_model.bin, nanoGPT ckpt.pt), with every
 * storage type and view shape the reader handles.
 */
class TorchFilesTest {
    @TempDir Path tmp;

    // ---- the real file ---------------------------------------------------------------------------

    @Test
    void charlmModelPtHoldsExactlyTheSafetensorsWeights() {
        Path dir = TestData.file("fixtures/charlm-tiny");
        Map<String, INDArray> torch = TorchFiles.readStateDict(dir.resolve("model.pt"));
        try (SafeTensors st = SafeTensors.open(dir.resolve("model.safetensors"))) {
            assertEquals(st.names(), torch.keySet());
            for (String n : st.names()) assertEquals(st.get(n), torch.get(n), n);
        }
        assertTrue(TorchFiles.isTorchFile(dir.resolve("model.pt")));
    }

    @Test
    void charlmModelPtLoadsAndMatchesTheGoldenValues() throws IOException {
        Path src = TestData.file("fixtures/charlm-tiny");
        JsonNode golden = Golden.read(src.resolve("golden.json"));
        // The file itself, with config.json beside it (the fixture folder also has model.safetensors).
        CharModelGoldenTestAccess.assertMatchesGolden(HookedTransformer.fromPretrained(src.resolve("model.pt").toString()), golden);
        // A folder with only config.json and model.pt.
        Path dir = Files.createDirectories(tmp.resolve("charlm-pt"));
        Files.copy(src.resolve("config.json"), dir.resolve("config.json"));
        Files.copy(src.resolve("model.pt"), dir.resolve("model.pt"));
        HookedTransformer model = HookedTransformer.fromPretrained(dir.toString());
        assertEquals("charlm-pt", model.cfg().modelName());
        CharModelGoldenTestAccess.assertMatchesGolden(model, golden);
    }

    // ---- storage types and views ---------------------------------------------------------------

    @Test
    void everyStorageTypeBecomesFloat32() {
        Path f = tmp.resolve("dtypes.pt");
        Map<String, Object> sd = new LinkedHashMap<>();
        sd.put("f16", tensor(TorchFileWriter.halves("0", 1.5f, -2f, 0f, 65504f), 2, 2));
        sd.put("bf16", tensor(TorchFileWriter.bfloat16s("1", 1.5f, -3f, 0.0078125f), 3));
        sd.put("f64", tensor(TorchFileWriter.doubles("2", 0.1, -1e10), 2));
        sd.put("i64", tensor(TorchFileWriter.longs("3", 50256, -7), 2));
        sd.put("bool", tensor(TorchFileWriter.bools("4", true, false, true), 3));
        sd.put("f32", tensor(floats("5", 1f, 2f, 3f, 4f, 5f, 6f), 2, 3));
        TorchFileWriter.save(f, new TorchFileWriter.OrderedDict(sd));
        Map<String, INDArray> t = TorchFiles.readStateDict(f);
        assertEquals(List.of("f16", "bf16", "f64", "i64", "bool", "f32"), new ArrayList<>(t.keySet()));
        for (INDArray a : t.values()) assertEquals(DataType.FLOAT, a.dataType());
        assertArrayEquals(new float[] {1.5f, -2f, 0f, 65504f}, t.get("f16").data().asFloat());
        assertArrayEquals(new long[] {2, 2}, t.get("f16").shape());
        assertArrayEquals(new float[] {1.5f, -3f, 0.0078125f}, t.get("bf16").data().asFloat());
        assertArrayEquals(new float[] {0.1f, -1e10f}, t.get("f64").data().asFloat());
        assertArrayEquals(new float[] {50256f, -7f}, t.get("i64").data().asFloat());
        assertArrayEquals(new float[] {1f, 0f, 1f}, t.get("bool").data().asFloat());
        assertEquals(Nd4j.createFromArray(new float[][] {{1, 2, 3}, {4, 5, 6}}), t.get("f32"));
    }

    @Test
    void stridedViewsTransposesScalarsAndSharedStoragesReadAsPyTorchShowsThem() {
        float[] values = new float[20];
        for (int i = 0; i < values.length; i++) values[i] = i;
        TorchFileWriter.Storage big = floats("0", values);
        Map<String, Object> sd = new LinkedHashMap<>();
        // x = torch.arange(20.).view(4, 5); x[1:4, 1:4] → offset 6, stride (5, 1)
        sd.put("slice", new Tensor(big, 6, new long[] {3, 3}, new long[] {5, 1}));
        // x.t() → shape (5, 4), stride (1, 5)
        sd.put("transposed", new Tensor(big, 0, new long[] {5, 4}, new long[] {1, 5}));
        // x[:, 2] → offset 2, stride (5,)
        sd.put("column", new Tensor(big, 2, new long[] {4}, new long[] {5}));
        sd.put("scalar", new Tensor(big, 7, new long[] {}, new long[] {}));
        sd.put("empty", new Tensor(big, 0, new long[] {0, 5}, new long[] {5, 1}));
        // a half-precision transpose goes through the same gather
        sd.put("half_t", new Tensor(TorchFileWriter.halves("1", 1, 2, 3, 4, 5, 6), 0, new long[] {3, 2}, new long[] {1, 3}));
        sd.put("tied_a", tensor(big, 4, 5));
        sd.put("tied_b", tensor(big, 4, 5));
        Path f = tmp.resolve("views.pt");
        TorchFileWriter.save(f, sd);
        Map<String, INDArray> t = TorchFiles.readStateDict(f);
        INDArray x = Nd4j.arange(20).castTo(DataType.FLOAT).reshape(4, 5);
        assertEquals(x.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(1, 4), org.nd4j.linalg.indexing.NDArrayIndex.interval(1, 4)),
                t.get("slice"));
        assertEquals(x.transpose(), t.get("transposed"));
        assertEquals('c', t.get("transposed").ordering());
        assertArrayEquals(new float[] {2, 7, 12, 17}, t.get("column").data().asFloat());
        assertEquals(0, t.get("scalar").rank());
        assertEquals(7f, t.get("scalar").getFloat(0));
        assertArrayEquals(new long[] {0, 5}, t.get("empty").shape());
        assertEquals(Nd4j.createFromArray(new float[][] {{1, 4}, {2, 5}, {3, 6}}), t.get("half_t"));
        assertEquals(x, t.get("tied_a"));
        assertSame(t.get("tied_a"), t.get("tied_b"), "tensors sharing bytes share one array, like tied weights in PyTorch");
    }

    // ---- the layouts users have ------------------------------------------------------------------

    /** The gpt2-tiny weights, HF names without a prefix, in file order. */
    private static Map<String, INDArray> gpt2TinyWeights() {
        Map<String, INDArray> w = new LinkedHashMap<>();
        try (SafeTensors st = SafeTensors.open(TestData.file("fixtures/gpt2-tiny/model.safetensors"))) {
            for (String n : st.names()) w.put(n, st.copy(n));
        }
        return w;
    }

    private Path gpt2Folder(String name) throws IOException {
        Path src = TestData.file("fixtures/gpt2-tiny");
        Path dir = Files.createDirectories(tmp.resolve(name));
        for (String f : List.of("config.json", "vocab.json", "merges.txt")) Files.copy(src.resolve(f), dir.resolve(f));
        return dir;
    }

    @Test
    void huggingFacePytorchModelBinMatchesTheGoldenValues() throws IOException {
        Path dir = gpt2Folder("gpt2-bin");
        // What GPT2LMHeadModel.save_pretrained(safe_serialization=False) writes: transformer.-prefixed keys,
        // the causal-mask buffers, and lm_head.weight sharing wte's storage.
        Map<String, Object> sd = new LinkedHashMap<>();
        int key = 0;
        Tensor wte = null;
        for (var e : gpt2TinyWeights().entrySet()) {
            Tensor t = tensor(String.valueOf(key++), e.getValue());
            if (e.getKey().equals("wte.weight")) wte = t;
            sd.put("transformer." + e.getKey(), t);
            if (e.getKey().endsWith("attn.c_attn.bias")) {
                String p = e.getKey().substring(0, e.getKey().length() - "c_attn.bias".length());
                sd.put("transformer." + p + "bias", tensor(String.valueOf(key++), Nd4j.ones(DataType.FLOAT, 1, 1, 8, 8)));
            }
        }
        sd.put("lm_head.weight", wte);
        TorchFileWriter.save(dir.resolve("pytorch_model.bin"), new TorchFileWriter.OrderedDict(sd));
        HookedTransformer model = HookedTransformer.fromPretrained(dir.toString());
        Gpt2GoldenTestAccess.assertMatchesGolden(model, Golden.read(TestData.file("fixtures/gpt2-tiny/golden.json")));
        assertEquals("gpt2-bin", model.cfg().modelName());
    }

    /**
     * nanoGPT's ckpt.pt: {'model': state_dict with _orig_mod. keys and nn.Linear [out, in] weights,
     * 'optimizer': AdamW state, 'model_args', 'iter_num', 'best_val_loss', 'config'}.
     */
    private Path nanoGptCheckpoint(Path dir, boolean bias) {
        Map<String, INDArray> hf = gpt2TinyWeights();
        Map<String, Object> model = new LinkedHashMap<>();
        int key = 0;
        Tensor wte = null;
        for (var e : hf.entrySet()) {
            String n = e.getKey();
            boolean isBias = n.endsWith(".bias");
            if (!bias && isBias) continue;
            INDArray v = e.getValue();
            boolean conv1d = n.matches("h\\.\\d+\\.(attn\\.c_attn|attn\\.c_proj|mlp\\.c_fc|mlp\\.c_proj)\\.weight");
            // nanoGPT stores nn.Linear weights [out, in] as a contiguous tensor (.t().contiguous() of HF's Conv1D)
            Tensor t = tensor(String.valueOf(key++), conv1d ? v.transpose().dup('c') : v);
            if (n.equals("wte.weight")) wte = t;
            model.put("_orig_mod.transformer." + n, t);
        }
        model.put("_orig_mod.lm_head.weight", wte);           // weight tying: one storage
        Map<Object, Object> state = new LinkedHashMap<>();
        List<Object> params = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            params.add((long) i);
            Map<String, Object> s = new LinkedHashMap<>();
            s.put("step", tensor(floats("opt_step_" + i, 5000f)));
            s.put("exp_avg", tensor("opt_avg_" + i, Nd4j.rand(DataType.FLOAT, 4, 4)));
            s.put("exp_avg_sq", tensor("opt_sq_" + i, Nd4j.rand(DataType.FLOAT, 4, 4)));
            state.put((long) i, s);
        }
        Map<String, Object> group = new LinkedHashMap<>();
        group.put("lr", 6e-4);
        group.put("betas", Tuple.of(0.9, 0.95));
        group.put("eps", 1e-8);
        group.put("weight_decay", 0.1);
        group.put("amsgrad", false);
        group.put("foreach", null);
        group.put("maximize", false);
        group.put("capturable", false);
        group.put("differentiable", false);
        group.put("fused", null);
        group.put("params", params);
        Map<String, Object> optimizer = new LinkedHashMap<>();
        optimizer.put("state", state);
        optimizer.put("param_groups", List.of(group));
        Map<String, Object> modelArgs = new LinkedHashMap<>();
        modelArgs.put("n_layer", 2);
        modelArgs.put("n_head", 4);
        modelArgs.put("n_embd", 64);
        modelArgs.put("block_size", 128);
        modelArgs.put("bias", bias);
        modelArgs.put("vocab_size", 50257);
        modelArgs.put("dropout", 0.0);
        Map<String, Object> config = new LinkedHashMap<>(modelArgs);
        config.put("dataset", "openwebtext");
        config.put("compile", true);
        config.put("out_dir", "out");
        Map<String, Object> ckpt = new LinkedHashMap<>();
        ckpt.put("model", model);
        ckpt.put("optimizer", optimizer);
        ckpt.put("model_args", modelArgs);
        ckpt.put("iter_num", 5000);
        ckpt.put("best_val_loss", tensor(floats("best", 2.875f)));
        ckpt.put("config", config);
        Path f = dir.resolve("ckpt.pt");
        TorchFileWriter.save(f, ckpt);
        return f;
    }

    @Test
    void nanoGptCheckpointGivesTheModelStateDictWithoutPrefixesOrOptimizerState() throws IOException {
        Path f = nanoGptCheckpoint(Files.createDirectories(tmp.resolve("out")), true);
        Map<String, INDArray> sd = TorchFiles.readStateDict(f);
        assertEquals(gpt2TinyWeights().size() + 1, sd.size());
        assertTrue(sd.containsKey("transformer.wte.weight") && sd.containsKey("lm_head.weight"), sd.keySet().toString());
        assertTrue(sd.keySet().stream().noneMatch(k -> k.startsWith("_orig_mod.") || k.contains("exp_avg")), sd.keySet().toString());
        assertSame(sd.get("transformer.wte.weight"), sd.get("lm_head.weight"));
    }

    @Test
    void nanoGptCheckpointLoadsAsAModelWithExactGelu() throws IOException {
        Path dir = gpt2Folder("out-nanogpt");
        Files.delete(dir.resolve("config.json"));               // nanoGPT's out/ has no config.json; model_args says it all
        Path f = nanoGptCheckpoint(dir, true);
        JsonNode golden = Golden.read(TestData.file("fixtures/gpt2-tiny/golden.json"));
        for (String pathOrDir : List.of(f.toString(), dir.toString())) {
            HookedTransformer model = HookedTransformer.fromPretrained(pathOrDir);
            assertEquals("nanogpt", model.cfg().architecture());
            assertEquals(dev.jlens.model.ActivationFunction.GELU, model.cfg().actFn());
            assertEquals(50257, model.tokenizer().vocabSize());
            // golden.json records what nanoGPT's own (erf-GELU) MLP gives, as a diagnostic next to the gelu_new values.
            long[] probes = Golden.longs(golden.get("probe_ids"));
            for (JsonNode p : golden.get("prompts")) {
                long[] ids = Golden.longs(p.get("ids_with_bos"));
                INDArray logits = model.forward(Nd4j.createFromArray(new long[][] {ids}));
                double[] got = new double[probes.length];
                for (int j = 0; j < probes.length; j++) got[j] = logits.getDouble(0, ids.length - 1, probes[j]);
                Golden.assertClose("erf-GELU last logits for " + p.get("text"), Golden.flat(p.get("diag_erf_gelu_last_logits_at_probe_ids")),
                        got, Golden.ATOL, Golden.RTOL);
            }
        }
    }

    @Test
    void nanoGptCheckpointWithoutBiasesGetsZeroBiases() throws IOException {
        Path f = nanoGptCheckpoint(Files.createDirectories(tmp.resolve("nobias")), false);
        HookedTransformer model = HookedTransformer.fromPretrained(f.toString());
        assertEquals(0.0, model.weights().layers().get(0).qkvB().norm1Number().doubleValue());
        assertEquals(0.0, model.weights().lnFinalB().norm1Number().doubleValue());
        assertEquals(null, tokenizerOrNull(model), "no tokenizer files beside the checkpoint: token ids only");
    }

    private static Object tokenizerOrNull(HookedTransformer m) {
        try {
            return m.tokenizer();
        } catch (IllegalStateException e) {
            return null;
        }
    }

    @Test
    void nanoGptCharCheckpointTakesItsVocabularyFromMetaPkl() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("out-shakespeare-char"));
        Path src = TestData.file("fixtures/charlm-tiny");
        String chars = Golden.read(src.resolve("golden.json")).get("config").get("chars").asText();
        // A 1-layer bias-free char GPT: random weights, shapes from model_args.
        int d = 16, v = chars.length(), ctx = 8;
        Map<String, Object> model = new LinkedHashMap<>();
        Tensor wte = tensor("wte", Nd4j.rand(DataType.FLOAT, v, d));
        model.put("transformer.wte.weight", wte);
        model.put("transformer.wpe.weight", tensor("wpe", Nd4j.rand(DataType.FLOAT, ctx, d)));
        model.put("transformer.h.0.ln_1.weight", tensor("a", Nd4j.ones(DataType.FLOAT, d)));
        model.put("transformer.h.0.attn.c_attn.weight", tensor("b", Nd4j.rand(DataType.FLOAT, 3 * d, d)));
        model.put("transformer.h.0.attn.c_proj.weight", tensor("c", Nd4j.rand(DataType.FLOAT, d, d)));
        model.put("transformer.h.0.ln_2.weight", tensor("d", Nd4j.ones(DataType.FLOAT, d)));
        model.put("transformer.h.0.mlp.c_fc.weight", tensor("e", Nd4j.rand(DataType.FLOAT, 4 * d, d)));
        model.put("transformer.h.0.mlp.c_proj.weight", tensor("f", Nd4j.rand(DataType.FLOAT, d, 4 * d)));
        model.put("transformer.ln_f.weight", tensor("g", Nd4j.ones(DataType.FLOAT, d)));
        model.put("lm_head.weight", wte);
        TorchFileWriter.save(dir.resolve("ckpt.pt"), Map.of("model", model, "model_args",
                Map.of("n_layer", 1, "n_head", 2, "n_embd", d, "block_size", ctx, "bias", false, "vocab_size", v)));
        // meta.pkl as nanoGPT's prepare.py writes it (pickle.dump, protocol 4 there; 2 here, same values)
        Map<Object, Object> itos = new LinkedHashMap<>(), stoi = new LinkedHashMap<>();
        for (int i = 0; i < v; i++) {
            itos.put((long) i, String.valueOf(chars.charAt(i)));
            stoi.put(String.valueOf(chars.charAt(i)), (long) i);
        }
        TorchFileWriter.Pickler p = new TorchFileWriter.Pickler();
        p.proto(2).dump(Map.of("vocab_size", (long) v, "itos", itos, "stoi", stoi)).stop();
        Files.write(dir.resolve("meta.pkl"), p.bytes());
        HookedTransformer m = HookedTransformer.fromPretrained(dir.resolve("ckpt.pt").toString());
        assertArrayEquals(new long[] {chars.indexOf('h'), chars.indexOf('i')}, m.toTokens("hi").toLongVector());
        assertEquals(1, m.cfg().nLayers());
    }

    @Test
    void aCheckpointWithoutAStateDictSaysWhatItHolds() {
        Path f = tmp.resolve("opt.pt");
        TorchFileWriter.save(f, Map.of("optimizer", Map.of("lr", 0.1), "epoch", 3));
        var e = assertThrows(CorruptModelFileException.class, () -> TorchFiles.readStateDict(f));
        assertTrue(e.getMessage().contains("holds no state dict") && e.getMessage().contains("optimizer"), e.getMessage());
    }

    @Test
    void deflatedEntriesFromRepackedFilesAreRead() {
        Map<String, byte[]> storages = new LinkedHashMap<>();
        TorchFileWriter.Pickler p = new TorchFileWriter.Pickler();
        p.proto(2).dump(Map.of("w", tensor(floats("0", 1, 2, 3, 4), 2, 2))).stop();
        storages.putAll(p.storages);
        Path f = tmp.resolve("deflated.pt");
        TorchFileWriter.writeZip(f, "deflated", p.bytes(), storages, true);
        assertEquals(Nd4j.createFromArray(new float[][] {{1, 2}, {3, 4}}), TorchFiles.readStateDict(f).get("w"));
    }
}
