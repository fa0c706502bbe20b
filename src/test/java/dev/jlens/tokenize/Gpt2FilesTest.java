package dev.jlens.tokenize;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.testing.TestData;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Corrupt, mismatched and missing tokenizer files give messages that say what and where. */
class Gpt2FilesTest {
    private static Path vocab;
    private static Path merges;
    @TempDir
    Path dir;

    @BeforeAll
    static void files() {
        vocab = TestData.file("tokenizers/gpt2/encoder.json");
        merges = TestData.file("tokenizers/gpt2/vocab.bpe");
    }

    @Test
    void mergesLineWithoutTwoTokens() throws IOException {
        Path bad = write("merges.txt", "#version: 0.2", "Ġ t", "Ġ a", "Ġtx", "h e");
        var e = assertThrows(IllegalArgumentException.class, () -> Gpt2Tokenizer.fromFiles(vocab, bad));
        assertTrue(e.getMessage().contains("line 4: expected two tokens separated by one space, got \"Ġtx\""), e.getMessage());
        Path tooMany = write("merges2.txt", "#version: 0.2", "Ġ t h");
        e = assertThrows(IllegalArgumentException.class, () -> Gpt2Tokenizer.fromFiles(vocab, tooMany));
        assertTrue(e.getMessage().contains("line 2"), e.getMessage());
    }

    @Test
    void mergesThatDoNotBelongToTheVocabulary() throws IOException {
        Path bad = write("merges.txt", "#version: 0.2", "Ġ t", "Ġt qqqzzz");
        var e = assertThrows(IllegalArgumentException.class, () -> Gpt2Tokenizer.fromFiles(vocab, bad));
        assertTrue(e.getMessage().contains("line 3") && e.getMessage().contains("\"qqqzzz\", which is not in the vocabulary"), e.getMessage());
        Path repeated = write("merges2.txt", "#version: 0.2", "Ġ t", "Ġ a", "Ġ t");
        e = assertThrows(IllegalArgumentException.class, () -> Gpt2Tokenizer.fromFiles(vocab, repeated));
        assertTrue(e.getMessage().contains("line 4") && e.getMessage().contains("repeats line 2"), e.getMessage());
    }

    @Test
    void vocabularyThatIsNotAnObject() throws IOException {
        Path array = write("vocab.json", "[1, 2, 3]");
        var e = assertThrows(IllegalArgumentException.class, () -> Gpt2Tokenizer.fromFiles(array, merges));
        assertTrue(e.getMessage().contains("expected a JSON object") && e.getMessage().contains("an array"), e.getMessage());
        Path broken = write("broken.json", "{\"a\": 0,");
        e = assertThrows(IllegalArgumentException.class, () -> Gpt2Tokenizer.fromFiles(broken, merges));
        assertTrue(e.getMessage().contains("not valid JSON"), e.getMessage());
        Path text = write("text.json", "{\"a\": \"zero\"}");
        e = assertThrows(IllegalArgumentException.class, () -> Gpt2Tokenizer.fromFiles(text, merges));
        assertTrue(e.getMessage().contains("non-negative integer"), e.getMessage());
        Path tiny = write("tiny.json", "{\"a\": 0}");
        e = assertThrows(IllegalArgumentException.class, () -> Gpt2Tokenizer.fromFiles(tiny, merges));
        assertTrue(e.getMessage().contains("no token for the byte 0x00"), e.getMessage());
    }

    @Test
    void missingFilesAreUncheckedIoErrorsNamingThePath() {
        Path missing = dir.resolve("nope/vocab.json");
        var e = assertThrows(UncheckedIOException.class, () -> Gpt2Tokenizer.fromFiles(missing, merges));
        assertTrue(e.getMessage().contains(missing.toString()) && e.getMessage().contains("no such file"), e.getMessage());
        e = assertThrows(UncheckedIOException.class, () -> Gpt2Tokenizer.fromFiles(vocab, dir.resolve("merges.txt")));
        assertTrue(e.getMessage().contains("merges.txt"), e.getMessage());
        assertThrows(UncheckedIOException.class, () -> Gpt2Tokenizer.fromDirectory(dir));
    }

    /**
     * A vocabulary of the 256 bytes alone needs no merges: every byte is its own token. (With GPT-2's
     * 50,257 tokens an empty merges file is refused, see BrokenConfigTest.)
     */
    @Test
    void noMergesMeansBytes() throws IOException {
        StringBuilder json = new StringBuilder("{");
        Gpt2Files.readVocab(vocab).forEach((k, id) -> {
            if (id < 256) json.append(json.length() > 1 ? "," : "").append(new com.fasterxml.jackson.databind.ObjectMapper().valueToTree(k).toString()).append(':').append(id);
        });
        Path bytesOnly = Files.writeString(dir.resolve("vocab.json"), json.append('}').toString());
        Gpt2Tokenizer bytes = Gpt2Tokenizer.fromFiles(bytesOnly, write("merges.txt", "#version: 0.2", ""));
        assertEquals(0, bytes.mergeCount());
        assertArrayEquals(new int[] {39, 72, 220, 72}, bytes.encode("Hi i"));   // "H"=39, "i"=72, "Ġ"=220
    }

    private Path write(String name, String... lines) throws IOException {
        return Files.write(dir.resolve(name), List.of(lines), StandardCharsets.UTF_8);
    }
}
