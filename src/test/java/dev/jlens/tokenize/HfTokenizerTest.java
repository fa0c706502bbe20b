package dev.jlens.tokenize;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.testing.Shared;
import dev.jlens.testing.TestData;
import java.nio.file.Path;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real {@code tokenizer.json} files of four families through {@link Tokenizer#fromPretrained}. The
 * expected ids are the published ones of each model (and those the provenance file
 * {@code src/test/data/tokenizers/SOURCES.md} records), not values this code produced.
 */
class HfTokenizerTest {

    private static HfTokenizer load(String name) {
        return (HfTokenizer) Tokenizer.fromPretrained(TestData.file("tokenizers/" + name));
    }

    @Test
    void llama3ByteLevelWithItsBosRuleAndSpecialTokensInText() {
        HfTokenizer t = load("llama3");
        assertArrayEquals(new int[] {9906, 1917}, t.encode("Hello world"), "no BOS from encode");
        assertEquals(OptionalInt.of(128000), t.bosTokenId());
        assertTrue(t.addsBos(), "Llama 3's post-processor prepends <|begin_of_text|>");
        assertArrayEquals(new int[] {9906, 128009}, t.encode("Hello<|eot_id|>"), "a special token written in the text is one id");
        assertEquals(" world", t.tokenString(1917));
        assertEquals(OptionalInt.of(1917), t.tokenId(" world"));
        assertEquals(128256, t.vocabSize());
        String s = "Numbers 12345, café, 日本語 and\ttabs\n";
        assertEquals(s, t.decode(t.encode(s)));
    }

    @Test
    void qwenMatchesEndOfTextAndComposesWithNfc() {
        HfTokenizer t = load("qwen2.5");
        assertArrayEquals(new int[] {9707, 1879}, t.encode("Hello world"));
        assertFalse(t.addsBos(), "add_bos_token: false");
        assertArrayEquals(new int[] {151643}, t.encode("<|endoftext|>"));
        assertArrayEquals(t.encode("caf\u00e9"), t.encode("cafe\u0301"), "the NFC normalizer composes e + U+0301");
        assertArrayEquals(new int[] {16, 17, 18}, t.encode("123"), "Qwen splits digits one by one");
    }

    @Test
    void gemmaFromItsGzippedFileHasNoPrefixSpace() {
        HfTokenizer t = load("gemma");
        assertArrayEquals(new int[] {4521}, t.encode("Hello"));
        assertArrayEquals(new int[] {25957}, t.encode(" Hello"));
        assertEquals(" Hello", t.tokenString(25957), "▁ reads as a space");
        assertEquals(OptionalInt.of(2), t.bosTokenId());
        assertTrue(t.addsBos());
        assertEquals(256000, t.vocabSize());
    }

    @Test
    void llama2LoadsDespiteItsAmbiguousMergesAndAbsorbsTheSpaceBeforeBos() {
        Path folder = Shared.file("data/tokenizers/llama2");
        HfTokenizer t = (HfTokenizer) Tokenizer.fromPretrained(folder);
        assertArrayEquals(new int[] {15043}, t.encode("Hello"), "SentencePiece's prefix ▁: ▁Hello");
        assertEquals(OptionalInt.of(1), t.bosTokenId());
        assertTrue(t.addsBos());
        int[] ids = t.encode("Hello <s>");
        assertEquals(1, ids[ids.length - 1], "' <s>' is the single id 1");
        assertEquals(2, ids.length);
        int[] plain = t.encode("x</s>");
        assertFalse(java.util.Arrays.stream(plain).anyMatch(id -> id == 2), "x</s> is plain text");
        assertEquals(32000, t.vocabSize());
    }

    @Test
    void aFolderWithoutTokenizerFilesSaysWhatItNeeds(@TempDir Path empty) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tokenizer.fromPretrained(empty));
        assertTrue(e.getMessage().contains("no tokenizer files"), e.getMessage());
    }
}
