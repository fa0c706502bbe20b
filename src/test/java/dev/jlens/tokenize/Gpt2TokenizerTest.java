package dev.jlens.tokenize;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jlens.testing.TestData;
import java.io.IOException;
import java.util.List;
import java.util.OptionalInt;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * GPT-2's tokenizer against outside references: the seed notebooks (Hugging Face's tokenizer), the
 * gpt2-tiny golden file (gpt-3-encoder), and ids computed with OpenAI's encoder.py algorithm under
 * Python's {@code regex} package (marked "encoder.py" below).
 */
class Gpt2TokenizerTest {
    private static Gpt2Tokenizer gpt2;

    @BeforeAll
    static void load() {
        gpt2 = Gpt2Tokenizer.fromFiles(TestData.file("tokenizers/gpt2/encoder.json"), TestData.file("tokenizers/gpt2/vocab.bpe"));
    }

    // Seed 001: gpt2.tokenizer.encode(text) and gpt2.to_str_tokens(text) in TransformerLens; also data/SOURCES.md.
    private static final String QUOMATARUS = "This is a story about Quomatarus."
            + " When one day Quomatarus decided to do something different and bought a plane ticket to Lamanandu."
            + " When he arrived to the airport Quomatarus noticed";

    @Test
    void seedSentenceGivesTheReferenceIds() {
        int[] expected = {1212, 318, 257, 1621, 546, 2264, 296, 9459, 385, 13, 1649, 530, 1110, 2264, 296, 9459, 385, 3066, 284,
            466, 1223, 1180, 290, 5839, 257, 6614, 7846, 284, 406, 10546, 392, 84, 13, 1649, 339, 5284, 284, 262,
            9003, 2264, 296, 9459, 385, 6810};
        assertArrayEquals(expected, gpt2.encode(QUOMATARUS));
    }

    @Test
    void seedSentenceStrTokensAreThoseTheSeedPrints() {
        List<String> expected = List.of("This", " is", " a", " story", " about", " Qu", "om", "atar", "us", ".", " When", " one",
                " day", " Qu", "om", "atar", "us", " decided", " to", " do", " something", " different", " and", " bought", " a",
                " plane", " ticket", " to", " L", "aman", "and", "u", ".", " When", " he", " arrived", " to", " the", " airport",
                " Qu", "om", "atar", "us", " noticed");
        assertEquals(expected, gpt2.tokenStrings(gpt2.encode(QUOMATARUS)));
        assertEquals("<|endoftext|>", gpt2.tokenString(gpt2.bosTokenId().getAsInt()));
    }

    @Test
    void goldenPromptsAndGreedyText() throws IOException {
        JsonNode golden = new ObjectMapper().readTree(TestData.file("fixtures/gpt2-tiny/golden.json").toFile());
        assertTrue(golden.get("prompts").size() > 0);
        for (JsonNode prompt : golden.get("prompts")) {
            String text = prompt.get("text").asText();
            assertArrayEquals(ints(prompt.get("ids_no_bos")), gpt2.encode(text), text);
            JsonNode greedy = prompt.get("greedy");
            if (greedy != null) assertEquals(greedy.get("new_text").asText(), gpt2.decode(ints(greedy.get("new_ids"))), text);
        }
        assertArrayEquals(new int[] {15496, 995}, gpt2.encode("Hello world"));
    }

    @Test
    void huggingFaceFileNamesLoadTheSameTokenizer() {
        Gpt2Tokenizer hf = Gpt2Tokenizer.fromDirectory(TestData.file("fixtures/gpt2-tiny/vocab.json").getParent());
        assertEquals(50257, hf.vocabSize());
        assertArrayEquals(gpt2.encode(QUOMATARUS), hf.encode(QUOMATARUS));
    }

    @Test
    void vocabularyFacts() {
        assertEquals(50257, gpt2.vocabSize());
        assertEquals(50000, gpt2.mergeCount());
        assertEquals(OptionalInt.of(50256), gpt2.bosTokenId());
        assertEquals(OptionalInt.of(50256), gpt2.eosTokenId());
        assertEquals(" world", gpt2.tokenString(995));
        assertEquals(OptionalInt.of(995), gpt2.tokenId(" world"));
        assertEquals(OptionalInt.of(50256), gpt2.tokenId("<|endoftext|>"));
        assertEquals(OptionalInt.of(15496), gpt2.tokenId("Hello"));
        assertEquals(OptionalInt.empty(), gpt2.tokenId(" Quomatarus"));
        assertEquals(List.of(), gpt2.addedTokens());
    }

    /** encode.py ids for text that exercises each pre-tokenizer branch and multi-byte characters. */
    @Test
    void matchesEncoderPyOnAssortedText() {
        assertArrayEquals(new int[] {40, 1183, 836, 470}, gpt2.encode("I'll don't"));
        assertArrayEquals(new int[] {64, 220, 220, 275}, gpt2.encode("a   b"));
        assertArrayEquals(new int[] {220, 628, 220, 220}, gpt2.encode(" \n\n  "));
        assertArrayEquals(new int[] {33768, 98, 17312, 105, 45739, 252, 5641, 24336, 25084, 43302}, gpt2.encode("日本語のテキスト"));
        assertArrayEquals(new int[] {25405, 26897, 148, 255, 39848, 12919, 17550, 101, 23525, 44690, 23525, 25405}, gpt2.encode("مرحبا بالعالم"));
        assertArrayEquals(new int[] {47249, 222, 41840, 235, 8582, 237, 121}, gpt2.encode("😀👍🏽"));
        assertArrayEquals(new int[] {2634}, gpt2.encode("\u00e9"));
        assertArrayEquals(new int[] {68, 136, 223}, gpt2.encode("e\u0301"));
        assertArrayEquals(new int[] {64, 188, 65}, gpt2.encode("a\u0000b"));
        assertArrayEquals(new int[0], gpt2.encode(""));
    }

    @ParameterizedTest
    @ValueSource(strings = {"😀👍🏽 family: 👩\u200D👩\u200D👧", "日本語のテキストです。中文文本", "مرحبا بالعالم", "\u0301", "\u0301\u0300 lone marks",
        "\u00e9 vs e\u0301", "nul\u0000in\u0000text", "\r\n\t\u000B\f \u00A0\u3000\u2028", "🇩🇪🇫🇷", "\uFFFD\uFEFF\uE000", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ½ ② Ⅻ",
        "<|endoftext|>", "<|endoftext", " trailing  ", "\n\n"})
    void roundTripsUnicode(String text) {
        assertEquals(text, gpt2.decode(gpt2.encode(text)));
    }

    @Test
    void roundTripsRandomCodePoints() {
        Random random = new Random(7);
        for (int n = 0; n < 500; n++) {
            String text = randomText(random, 1 + random.nextInt(60));
            assertEquals(text, gpt2.decode(gpt2.encode(text)), () -> Chars.quote(text, 200));
        }
    }

    @Test
    void loneSurrogatesAreRejectedWithTheirIndex() {
        var e = assertThrows(IllegalArgumentException.class, () -> gpt2.encode("ab\uD800c"));
        assertTrue(e.getMessage().contains("lone surrogate U+D800 at index 2"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> gpt2.encode("x \uDE00\uD83D"));   // pair in the wrong order
        assertTrue(e.getMessage().contains("U+DE00 at index 2"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> gpt2.encode("end\uD83D"));
    }

    @Test
    void endOfTextInsideTextIsTheSpecialToken() {
        assertArrayEquals(new int[] {15496, 50256, 6894}, gpt2.encode("Hello<|endoftext|>world"));
        // The space before it is a piece of its own, as when the text ended there.
        assertArrayEquals(new int[] {220, 50256, 220}, gpt2.encode(" <|endoftext|> "));
        assertArrayEquals(new int[] {50256, 50256}, gpt2.encode("<|endoftext|><|endoftext|>"));
        assertEquals("a<|endoftext|>b", gpt2.decode(gpt2.encode("a<|endoftext|>b")));
        // Not a whole special token: plain BPE (encode.py ids of "<|endoftext")
        assertArrayEquals(new int[] {27, 91, 437, 1659, 5239}, gpt2.encode("<|endoftext"));
    }

    /** Seed 004: {@code tokenizer._add_tokens(["[BEGIN]", "[END]"])} on the 50257-token GPT-2 vocabulary. */
    @Test
    void addedTokensOfSeed004() {
        Gpt2Tokenizer seed = gpt2.withAddedTokens("[BEGIN]", "[END]");
        assertEquals(List.of("[BEGIN]", "[END]"), seed.addedTokens());
        assertEquals(50259, seed.vocabSize());
        assertEquals(OptionalInt.of(50257), seed.tokenId("[BEGIN]"));
        assertEquals(OptionalInt.of(50258), seed.tokenId("[END]"));
        assertEquals("[END]", seed.tokenString(50258));

        String rest = " We dog eating ice cream. We dog in the park.";
        int[] ids = seed.encode("[BEGIN]" + rest);
        assertEquals(50257, ids[0]);
        int[] restIds = java.util.Arrays.copyOfRange(ids, 1, ids.length);
        assertArrayEquals(seed.encode(rest), restIds);
        assertArrayEquals(new int[] {775, 3290, 6600, 4771, 8566, 13, 775, 3290, 287, 262, 3952, 13}, restIds);   // encode.py
        assertArrayEquals(new int[] {9703, 50258, 50257}, seed.encode("dog[END][BEGIN]"));   // encode.py: "dog" = 9703
        assertEquals("[BEGIN]" + rest + "[END]", seed.decode(seed.encode("[BEGIN]" + rest + "[END]")));

        // The original is unchanged.
        assertEquals(50257, gpt2.vocabSize());
        assertTrue(gpt2.encode("[BEGIN]").length > 1);
        assertThrows(IllegalArgumentException.class, () -> gpt2.decode(new int[] {50257}));
    }

    @Test
    void addingExistingOrRepeatedTokens() {
        Gpt2Tokenizer t = gpt2.withAddedTokens("hello", "foo", "foobar", "hello", "<|endoftext|>");
        assertEquals(List.of("hello", "foo", "foobar"), t.addedTokens());
        assertEquals(50258, t.vocabSize());   // only "foobar" is new
        assertEquals(OptionalInt.of(31373), t.tokenId("hello"));
        // Recognised as a whole unit even inside a word; the longest match wins where two start.
        assertArrayEquals(new int[] {16706, 220, 31373}, t.encode("say hello"));
        assertArrayEquals(new int[] {87, 31373, 87}, t.encode("xhellox"));
        assertArrayEquals(new int[] {50257}, t.encode("foobar"));
        assertArrayEquals(new int[] {21943, 2318}, t.encode("foo bar"));
        assertEquals(t.vocabSize(), t.withAddedTokens("foobar").vocabSize());
        assertThrows(IllegalArgumentException.class, () -> gpt2.withAddedTokens(""));
        var e = assertThrows(IllegalArgumentException.class, () -> gpt2.withAddedTokens("[\uD800]"));
        assertTrue(e.getMessage().contains("lone surrogate"), e.getMessage());
    }

    @Test
    void decodeJoinsBytesBeforeUtf8() {
        int[] ids = gpt2.encode("😀");   // one character over two tokens
        assertEquals(2, ids.length);
        assertEquals("😀", gpt2.decode(ids));
        assertTrue(gpt2.tokenString(ids[0]).contains("\uFFFD"), "a partial character shows U+FFFD");
        assertTrue(gpt2.decode(new int[] {ids[0]}).contains("\uFFFD"));
        // A partial character has no exact text: its display text "\uFFFD" is another token's (4210, the real U+FFFD).
        assertEquals(OptionalInt.of(4210), gpt2.tokenId(gpt2.tokenString(ids[0])));
    }

    @Test
    void unknownIdNamesTheIdAndTheVocabularySize() {
        var e = assertThrows(IllegalArgumentException.class, () -> gpt2.decode(new int[] {15496, 50257}));
        assertTrue(e.getMessage().contains("token id 50257") && e.getMessage().contains("50257 ids"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> gpt2.tokenString(-1));
        assertTrue(e.getMessage().contains("token id -1"), e.getMessage());
    }

    /** Both merge algorithms on long words (the heap is used above BpeModel.HEAP_THRESHOLD bytes). */
    @Test
    void heapMergeEqualsScanningMerge() {
        BpeModel model = gpt2.model();
        assertTrue(model.heapSafe(), "GPT-2's merges rank after the merges of their parts");
        Random random = new Random(11);
        String letters = "abcdefghijklmnopqrstuvwxyzéüßжب中日😀\u0301 ";
        int[] cps = letters.codePoints().toArray();
        for (int n = 0; n < 300; n++) {
            StringBuilder word = new StringBuilder();
            int length = 20 + random.nextInt(200);
            for (int i = 0; i < length; i++) word.appendCodePoint(cps[random.nextInt(cps.length)]);
            String w = word.toString();
            assertArrayEquals(model.mergeForTest(w, false), model.mergeForTest(w, true), w);
        }
        String spaces = " ".repeat(1000), han = "中".repeat(700);
        assertArrayEquals(model.mergeForTest(spaces, false), model.mergeForTest(spaces, true));
        assertArrayEquals(model.mergeForTest(han, false), model.mergeForTest(han, true));
    }

    @Test
    void concurrentEncodingAgrees() {
        int[] expected = gpt2.encode(QUOMATARUS);
        gpt2.clearCache();
        IntStream.range(0, 64).parallel().forEach(i -> assertArrayEquals(expected, gpt2.encode(QUOMATARUS)));
    }

    private static String randomText(Random random, int length) {
        StringBuilder b = new StringBuilder();
        while (b.length() < length) {
            int kind = random.nextInt(4);
            int cp = switch (kind) {
                case 0 -> random.nextInt(0x80);
                case 1 -> random.nextInt(0x800);
                case 2 -> random.nextInt(0x10000);
                default -> 0x10000 + random.nextInt(0x100000);
            };
            if (Character.getType(cp) != Character.SURROGATE) b.appendCodePoint(cp);
        }
        return b.toString();
    }

    private static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) out[i] = array.get(i).asInt();
        return out;
    }
}
