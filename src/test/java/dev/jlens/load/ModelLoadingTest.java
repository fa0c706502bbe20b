package dev.jlens.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.model.HookedTransformer;
import dev.jlens.testing.Golden;
import dev.jlens.testing.TestData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Loading real checkpoints, in every layout they come in, and refusing broken ones clearly. */
class ModelLoadingTest {
    @TempDir Path tmp;

    /** A copy of the gpt2-tiny folder whose weights went through {@code edit} (name → tensor, in file order). */
    private Path gpt2Variant(Consumer<Map<String, INDArray>> edit) throws IOException {
        Path src = TestData.file("fixtures/gpt2-tiny");
        Path dir = Files.createDirectories(tmp.resolve("gpt2-variant"));
        for (String f : List.of("config.json", "vocab.json", "merges.txt")) Files.copy(src.resolve(f), dir.resolve(f));
        Map<String, INDArray> tensors = new LinkedHashMap<>();
        try (SafeTensors st = SafeTensors.open(src.resolve("model.safetensors"))) {
            for (String n : st.names()) tensors.put(n, st.copy(n));
        }
        edit.accept(tensors);
        SafeTensors.write(dir.resolve("model.safetensors"), tensors, Map.of("format", "pt"));
        return dir;
    }

    @Test
    void gpt2WithTransformerPrefixedKeysMatchesTheGoldenValues() throws IOException {
        Path dir = gpt2Variant(t -> {
            Map<String, INDArray> prefixed = new LinkedHashMap<>();
            t.forEach((k, v) -> prefixed.put("transformer." + k, v));
            // The layout HF's GPT2LMHeadModel.save_pretrained writes: prefixed keys, the causal-mask buffer, lm_head.
            prefixed.put("transformer.h.0.attn.bias", org.nd4j.linalg.factory.Nd4j.ones(1, 1, 128, 128));
            prefixed.put("lm_head.weight", t.get("wte.weight"));
            t.clear();
            t.putAll(prefixed);
        });
        HookedTransformer model = HookedTransformer.fromPretrained(dir.toString());
        dev.jlens.model.Gpt2GoldenTestAccess.assertMatchesGolden(model,
                Golden.read(TestData.file("fixtures/gpt2-tiny/golden.json")));
    }

    @Test
    void aMissingTensorIsNamedWithTheClosestPresent() throws IOException {
        Path dir = gpt2Variant(t -> t.remove("h.1.mlp.c_fc.weight"));
        var e = assertThrows(CorruptModelFileException.class, () -> HookedTransformer.fromPretrained(dir.toString()));
        assertTrue(e.getMessage().contains("'h.1.mlp.c_fc.weight' is missing"), e.getMessage());
        assertTrue(e.getMessage().contains("h.1.mlp.c_fc.bias"), e.getMessage());
    }

    @Test
    void aShapeThatContradictsTheConfigNamesBoth() throws IOException {
        Path dir = gpt2Variant(t -> t.put("h.0.attn.c_attn.weight", t.get("h.0.attn.c_attn.weight").get(
                org.nd4j.linalg.indexing.NDArrayIndex.all(), org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 190)).dup()));
        var e = assertThrows(CorruptModelFileException.class, () -> HookedTransformer.fromPretrained(dir.toString()));
        assertTrue(e.getMessage().contains("h.0.attn.c_attn.weight") && e.getMessage().contains("[64, 190]")
                && e.getMessage().contains("[64, 192]"), e.getMessage());
    }

    @Test
    void tensorsOfAnotherArchitectureAreReported() throws IOException {
        Path dir = gpt2Variant(t -> t.put("h.0.attn.rotary_emb.inv_freq", org.nd4j.linalg.factory.Nd4j.ones(8)));
        var e = assertThrows(CorruptModelFileException.class, () -> HookedTransformer.fromPretrained(dir.toString()));
        assertTrue(e.getMessage().contains("rotary_emb"), e.getMessage());
    }

    @Test
    void aTruncatedFileIsRefusedWithItsName() throws IOException {
        Path dir = gpt2Variant(t -> {});
        Path f = dir.resolve("model.safetensors");
        byte[] bytes = Files.readAllBytes(f);
        Files.write(f, java.util.Arrays.copyOf(bytes, bytes.length - 1000));
        var e = assertThrows(CorruptModelFileException.class, () -> HookedTransformer.fromPretrained(dir.toString()));
        assertTrue(e.getMessage().contains("model.safetensors"), e.getMessage());
    }

    @Test
    void missingFoldersAndFilesSayWhatIsExpected() throws IOException {
        var none = assertThrows(IllegalArgumentException.class, () -> HookedTransformer.fromPretrained(tmp.resolve("nope").toString()));
        assertTrue(none.getMessage().contains("no model at"), none.getMessage());
        var noConfig = assertThrows(IllegalArgumentException.class, () -> HookedTransformer.fromPretrained(tmp.toString()));
        assertTrue(noConfig.getMessage().contains("config.json"), noConfig.getMessage());
        Path dir = gpt2Variant(t -> {});
        Files.delete(dir.resolve("merges.txt"));
        var noTokenizer = assertThrows(IllegalArgumentException.class, () -> HookedTransformer.fromPretrained(dir.toString()));
        assertTrue(noTokenizer.getMessage().contains("merges.txt"), noTokenizer.getMessage());
    }

    @Test
    void writingIntoALoadedWeightChangesOnlyThisProcesssCopy() throws IOException {
        Path dir = gpt2Variant(t -> {});
        HookedTransformer model = HookedTransformer.fromPretrained(dir.toString());
        float before = model.W_E().getFloat(5, 5);
        model.W_E().getRow(5).addi(1);                   // a copy-on-write page: no crash, file untouched
        assertEquals(before + 1, model.W_E().getFloat(5, 5), 1e-6);
        try (SafeTensors st = SafeTensors.open(dir.resolve("model.safetensors"))) {
            assertEquals(before, st.get("wte.weight").getFloat(5, 5), 0);
        }
    }
}
