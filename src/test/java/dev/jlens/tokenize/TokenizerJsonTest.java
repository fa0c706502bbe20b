package dev.jlens.tokenize;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jlens.testing.TestData;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code tokenizer.json} (Hugging Face's fast-tokenizer file) against {@code vocab.json} +
 * {@code merges.txt}: the same tokenizer, built here from the gpt2-tiny fixture's two files in the
 * layout {@code tokenizers} writes (merges as "a b" strings before 0.20, as pairs since).
 */
class TokenizerJsonTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static Path fixture;
    private static Gpt2Tokenizer reference;

    @TempDir Path tmp;

    @BeforeAll
    static void load() {
        fixture = TestData.file("fixtures/gpt2-tiny");
        reference = Gpt2Tokenizer.fromFiles(fixture.resolve("vocab.json"), fixture.resolve("merges.txt"));
    }

    /** GPT-2's tokenizer.json, from vocab.json and merges.txt; {@code edit} changes it before it is written. */
    private Path tokenizerJson(boolean pairMerges, Consumer<ObjectNode> edit) throws IOException {
        ObjectNode root = JSON.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        added.addObject().put("id", 50256).put("content", "<|endoftext|>").put("single_word", false).put("lstrip", false)
                .put("rstrip", false).put("normalized", true).put("special", true);
        root.putNull("normalizer");
        root.putObject("pre_tokenizer").put("type", "ByteLevel").put("add_prefix_space", false).put("trim_offsets", true)
                .put("use_regex", true);
        root.putObject("decoder").put("type", "ByteLevel");
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        model.putNull("dropout");
        model.set("vocab", JSON.readTree(fixture.resolve("vocab.json").toFile()));
        ArrayNode merges = model.putArray("merges");
        for (String line : Files.readAllLines(fixture.resolve("merges.txt"), StandardCharsets.UTF_8)) {
            if (line.isEmpty() || line.startsWith("#version")) continue;
            if (pairMerges) {
                String[] ab = line.split(" ");
                merges.addArray().add(ab[0]).add(ab[1]);
            } else {
                merges.add(line);
            }
        }
        edit.accept(root);
        Path f = tmp.resolve("tokenizer.json");
        JSON.writeValue(f.toFile(), root);
        return f;
    }

    private static List<String> texts() throws IOException {
        List<String> texts = new ArrayList<>(List.of("Hello world", " leading space", "The quick brown fox's 12,345 jumps!!\n\n  ok",
                "naïve café — 日本語 🙂 <|endoftext|> after", "trailing   ", "", "I'm can't we'll they've", "\t\ttabs\r\n"));
        JsonNode golden = JSON.readTree(fixture.resolve("golden.json").toFile());
        for (JsonNode p : golden.get("prompts")) texts.add(p.get("text").asText());
        return texts;
    }

    @Test
    void givesTheSameIdsAsVocabJsonAndMergesTxtWithEitherMergeFormat() throws IOException {
        for (boolean pairs : new boolean[] {false, true}) {
            Gpt2Tokenizer fromJson = Gpt2Tokenizer.fromTokenizerJson(tokenizerJson(pairs, r -> {}));
            assertEquals(reference.vocabSize(), fromJson.vocabSize());
            assertEquals(reference.mergeCount(), fromJson.mergeCount());
            assertEquals(reference.bosTokenId(), fromJson.bosTokenId());
            for (String text : texts()) {
                assertArrayEquals(reference.encode(text), fromJson.encode(text), "ids of '" + text + "' (pair merges: " + pairs + ")");
                assertEquals(text, fromJson.decode(fromJson.encode(text)));
            }
        }
    }

    @Test
    void addedTokensBeyondTheVocabularyKeepTheirIds() throws IOException {
        Path f = tokenizerJson(true, r -> {
            ArrayNode added = (ArrayNode) r.get("added_tokens");
            added.addObject().put("id", 50258).put("content", "[END]").put("special", false);
            added.addObject().put("id", 50257).put("content", "[BEGIN]").put("special", false);
        });
        Gpt2Tokenizer t = Gpt2Tokenizer.fromTokenizerJson(f);
        assertEquals(50259, t.vocabSize());
        assertEquals(List.of("[BEGIN]", "[END]"), t.addedTokens());
        assertArrayEquals(reference.withAddedTokens("[BEGIN]", "[END]").encode("[BEGIN] We [END]"), t.encode("[BEGIN] We [END]"));
        assertEquals(50257, t.encode("[BEGIN]")[0]);
    }

    @Test
    void aFolderWithOnlyTokenizerJsonLoads() throws IOException {
        tokenizerJson(false, r -> {});
        assertArrayEquals(reference.encode("Hello world"), Gpt2Tokenizer.fromDirectory(tmp).encode("Hello world"));
    }

    @Test
    void tokenizersOfAnotherKindAreRefusedByName() throws IOException {
        var wordPiece = assertThrows(IllegalArgumentException.class, () -> Gpt2Tokenizer.fromTokenizerJson(
                tokenizerJson(false, r -> ((ObjectNode) r.get("model")).put("type", "WordPiece"))));
        assertTrue(wordPiece.getMessage().contains("WordPiece"), wordPiece.getMessage());
        var prefix = assertThrows(IllegalArgumentException.class, () -> Gpt2Tokenizer.fromTokenizerJson(
                tokenizerJson(false, r -> ((ObjectNode) r.get("pre_tokenizer")).put("add_prefix_space", true))));
        assertTrue(prefix.getMessage().contains("add_prefix_space"), prefix.getMessage());
        var gap = assertThrows(IllegalArgumentException.class, () -> Gpt2Tokenizer.fromTokenizerJson(tokenizerJson(false,
                r -> ((ArrayNode) r.get("added_tokens")).addObject().put("id", 60000).put("content", "[X]"))));
        assertTrue(gap.getMessage().contains("[X]") && gap.getMessage().contains("60000"), gap.getMessage());
        var badMerge = assertThrows(IllegalArgumentException.class, () -> Gpt2Tokenizer.fromTokenizerJson(tokenizerJson(false,
                r -> ((ArrayNode) r.get("model").get("merges")).insert(0, "notatoken x"))));
        assertTrue(badMerge.getMessage().contains("model.merges[0]") && badMerge.getMessage().contains("notatoken"), badMerge.getMessage());
    }

    @Test
    void brokenFieldsAreRefusedInsteadOfReadAsDefaults() throws IOException {
        var noMerges = assertThrows(IllegalArgumentException.class, () -> Gpt2Tokenizer.fromTokenizerJson(
                tokenizerJson(false, r -> ((ObjectNode) r.get("model")).putArray("merges"))));
        assertTrue(noMerges.getMessage().contains("model.merges has no merges"), noMerges.getMessage());
        var prefix = assertThrows(IllegalArgumentException.class, () -> Gpt2Tokenizer.fromTokenizerJson(
                tokenizerJson(false, r -> ((ObjectNode) r.get("pre_tokenizer")).put("add_prefix_space", "yes"))));
        assertTrue(prefix.getMessage().contains("'add_prefix_space' = \"yes\"; it must be true or false"), prefix.getMessage());
        var id = assertThrows(IllegalArgumentException.class, () -> Gpt2Tokenizer.fromTokenizerJson(
                tokenizerJson(false, r -> ((ObjectNode) r.get("model").get("vocab")).put("!", 0.5))));
        assertTrue(id.getMessage().contains("0.5"), id.getMessage());
    }
}
