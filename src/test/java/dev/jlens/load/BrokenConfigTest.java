package dev.jlens.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jlens.model.HookedTransformer;
import dev.jlens.testing.TestData;
import dev.jlens.tokenize.Gpt2Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A config field with the wrong type or an impossible value is refused naming the file, the field and
 * the value: never a silent default (an unparsable epsilon becoming 1e-5, an unknown attention-scale
 * text meaning head_size), never a bare "/ by zero" from deep inside the loader.
 */
class BrokenConfigTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir Path tmp;

    /** A copy of a fixture folder whose config.json has {@code field} set to {@code json} (null removes it). */
    private Path fixtureWith(String fixture, String field, String json) throws IOException {
        Path src = TestData.file("fixtures/" + fixture);
        Path dir = Files.createDirectories(tmp.resolve(fixture));
        try (Stream<Path> files = Files.list(src)) {
            for (Path f : files.toList()) Files.copy(f, dir.resolve(f.getFileName()));
        }
        ObjectNode config = (ObjectNode) JSON.readTree(src.resolve("config.json").toFile());
        if (json == null) config.remove(field);
        else config.set(field, JSON.readTree(json));
        JSON.writeValue(dir.resolve("config.json").toFile(), config);
        return dir;
    }

    private static void assertNames(Exception e, String... fragments) {
        for (String f : fragments) assertTrue(e.getMessage().contains(f), "'" + f + "' missing from: " + e.getMessage());
        assertEquals(1, e.getMessage().lines().count(), "one line: " + e.getMessage());
    }

    @ParameterizedTest(name = "gpt2 {0} = {1}")
    @CsvSource(delimiter = '|', value = {
        "n_head              | 0       | 'n_head' is 0;positive integer",
        "n_head              | 5       | 'n_embd' (64);'n_head' (5)",
        "n_head              | -4      | 'n_head' is -4",
        "n_layer             | 1.5     | 'n_layer' is 1.5;integer",
        "n_embd              | '\"64\"'| 'n_embd' is \"64\" (a string)",
        "vocab_size          | 0       | 'vocab_size' is 0",
        "n_positions         | '\"abc\"'| 'n_positions' is \"abc\"",
        "n_inner             | -3      | 'n_inner' is -3",
        "layer_norm_epsilon  | '\"abc\"'| 'layer_norm_epsilon' is \"abc\" (a string);finite positive number",
        "layer_norm_epsilon  | -1e-5   | 'layer_norm_epsilon' is -1.0E-5",
        "layer_norm_epsilon  | 0       | 'layer_norm_epsilon' is 0",
        "layer_norm_epsilon  | 1e999   | 'layer_norm_epsilon'",
        "scale_attn_weights  | '\"yes\"'| 'scale_attn_weights' is \"yes\" (a string);true or false",
        "activation_function | 42      | 'activation_function' is 42",
        "activation_function | '\"mish\"'| 'activation_function' is \"mish\";gelu_new",
    })
    void gpt2ConfigFieldsAreChecked(String field, String json, String fragments) throws IOException {
        Path dir = fixtureWith("gpt2-tiny", field, json);
        var e = assertThrows(IllegalArgumentException.class, () -> HookedTransformer.fromPretrained(dir.toString()));
        assertNames(e, ("config.json;" + fragments).split(";"));
    }

    @Test
    void aMissingRequiredFieldIsNamed() throws IOException {
        Path dir = fixtureWith("gpt2-tiny", "n_embd", null);
        var e = assertThrows(IllegalArgumentException.class, () -> HookedTransformer.fromPretrained(dir.toString()));
        assertNames(e, "config.json", "'n_embd' is missing");
    }

    @ParameterizedTest(name = "lecture {0} = {1}")
    @CsvSource(delimiter = '|', value = {
        // The text is what decides the scale when no attn_scale_value is given: an unknown one must not mean head_size.
        "attn_scale       | '\"sqrt(d_model)\"' | 'attn_scale' is \"sqrt(d_model)\";head_size;n_embd",
        "attn_scale_value | '\"abc\"'           | 'attn_scale_value' is \"abc\" (a string)",
        "attn_scale_value | -0.25              | 'attn_scale_value' is -0.25",
        "attn_scale_value | 0.3                | 'attn_scale_value' is 0.3;head_size;n_embd",
        "chars            | 42                 | 'chars' is 42;a non-empty string",
        "chars            | '\"\"'             | 'chars' is \"\"",
        "layer_norm_eps   | '\"abc\"'           | 'layer_norm_eps' is \"abc\"",
        // Sizes the config declares must be the ones the tensors have, and be sizes at all.
        "n_head           | 0                  | 'n_head' is 0;positive integer",
        "n_head           | 5                  | 'n_head' is 5;4",
        "n_embd           | 32                 | 'n_embd' is 32;64",
        "n_layer          | 2                  | 'n_layer' is 2;3",
        "block_size       | 64                 | 'block_size' is 64;32",
        "head_size        | 8                  | 'head_size' is 8;16",
        "vocab_size       | 66                 | 'vocab_size' is 66;65",
        "ffwd_hidden      | 255                | 'ffwd_hidden' is 255;256",
    })
    void lectureConfigFieldsAreChecked(String field, String json, String fragments) throws IOException {
        Path dir = fixtureWith("charlm-tiny", field, json);
        if (field.equals("attn_scale")) {
            ObjectNode config = (ObjectNode) JSON.readTree(dir.resolve("config.json").toFile());
            config.remove("attn_scale_value");
            JSON.writeValue(dir.resolve("config.json").toFile(), config);
        }
        var e = assertThrows(IllegalArgumentException.class, () -> HookedTransformer.fromPretrained(dir.toString()));
        assertNames(e, ("config.json;" + fragments).split(";"));
    }

    @Test
    void theLectureEpsilonIsReadFromTheConfig() throws IOException {
        Path dir = fixtureWith("charlm-tiny", "layer_norm_eps", "1e-3");
        assertEquals(1e-3, HookedTransformer.fromPretrained(dir.toString()).cfg().eps(), 0);
    }

    @Test
    void aConfigJsonThatIsAFolderIsSaidToBeOne() throws IOException {
        Path dir = fixtureWith("gpt2-tiny", "n_head", "4");
        Files.delete(dir.resolve("config.json"));
        Files.createDirectory(dir.resolve("config.json"));
        var e = assertThrows(IllegalArgumentException.class, () -> HookedTransformer.fromPretrained(dir.toString()));
        assertNames(e, "config.json", "is a folder");
    }

    @Test
    void nanoGptModelArgsAreChecked() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("out"));
        TorchFileWriter.save(dir.resolve("ckpt.pt"), Map.of("model", Map.of(), "model_args",
                Map.of("n_layer", 1, "n_head", 2, "n_embd", 16, "block_size", 8, "bias", "yes", "vocab_size", 65)));
        var e = assertThrows(CorruptModelFileException.class, () -> HookedTransformer.fromPretrained(dir.resolve("ckpt.pt").toString()));
        assertNames(e, "ckpt.pt", "'bias' is \"yes\"", "true or false");
        TorchFileWriter.save(dir.resolve("ckpt.pt"), Map.of("model", Map.of(), "model_args",
                Map.of("n_layer", 1, "n_head", 0, "n_embd", 16, "block_size", 8, "bias", false, "vocab_size", 65)));
        e = assertThrows(CorruptModelFileException.class, () -> HookedTransformer.fromPretrained(dir.resolve("ckpt.pt").toString()));
        assertNames(e, "ckpt.pt", "'n_head' is 0", "positive integer");
    }

    @Test
    void anEmptyMergesFileIsRefusedInsteadOfSplittingTextIntoBytes() throws IOException {
        Path src = TestData.file("fixtures/gpt2-tiny");
        for (List<String> lines : List.of(List.<String>of(), List.of("#version: 0.2", ""))) {
            Path merges = Files.write(tmp.resolve("merges.txt"), lines);
            var e = assertThrows(IllegalArgumentException.class, () -> Gpt2Tokenizer.fromFiles(src.resolve("vocab.json"), merges));
            assertNames(e, "merges.txt", "no merges", "vocab.json");
        }
        Path dir = fixtureWith("gpt2-tiny", "n_head", "4");
        Files.write(dir.resolve("merges.txt"), new byte[0]);
        var e = assertThrows(IllegalArgumentException.class, () -> HookedTransformer.fromPretrained(dir.toString()));
        assertNames(e, "merges.txt", "no merges");
    }
}
