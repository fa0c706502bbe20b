package dev.jlens.tokenize;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jlens.testing.Shared;
import dev.jlens.testing.TestData;
import java.io.IOException;
import java.nio.file.Files;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

class CharTokenizerTest {
    /** data/SOURCES.md: the sorted vocabulary of TinyShakespeare. */
    private static final String SHAKESPEARE_CHARS = "\n !$&',-.3:;?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    @Test
    void tinyShakespeareVocabularyAndGolden() throws IOException {
        CharTokenizer chars = CharTokenizer.fromText(Files.readString(Shared.file("data/tinyshakespeare/input.txt")));
        assertEquals(SHAKESPEARE_CHARS, chars.chars());
        assertEquals(65, chars.vocabSize());

        JsonNode golden = new ObjectMapper().readTree(TestData.file("fixtures/charlm-tiny/golden.json").toFile());
        assertEquals(golden.at("/config/chars").asText(), chars.chars());
        for (JsonNode prompt : golden.get("prompts")) {
            String text = prompt.get("text").asText();
            assertArrayEquals(ints(prompt.get("ids")), chars.encode(text), text);
            JsonNode greedy = prompt.get("greedy");
            assertEquals(greedy.get("new_text").asText(), chars.decode(ints(greedy.get("new_ids"))));
        }
        assertArrayEquals(new int[] {30, 27, 25, 17, 27, 10}, chars.encode("ROMEO:"));
    }

    @Test
    void idsAreIndicesInTheGivenString() {
        CharTokenizer t = new CharTokenizer("ba\n");
        assertArrayEquals(new int[] {1, 0, 2}, t.encode("ab\n"));
        assertEquals("ab\n", t.decode(new int[] {1, 0, 2}));
        assertEquals("\n", t.tokenString(2));
        assertEquals(OptionalInt.of(1), t.tokenId("a"));
        assertEquals(OptionalInt.empty(), t.tokenId("ab"));
        assertEquals(OptionalInt.empty(), t.tokenId("z"));
        assertEquals(OptionalInt.empty(), t.tokenId(""));
        assertEquals(OptionalInt.empty(), t.bosTokenId());
        assertEquals(OptionalInt.empty(), t.eosTokenId());
        assertArrayEquals(new int[0], t.encode(""));
    }

    /** Python's sorted(set(text)) orders code points; UTF-16 order would put 😀 (D83D…) before U+FFFD. */
    @Test
    void fromTextSortsByCodePointAndKeepsEmojiWhole() {
        CharTokenizer t = CharTokenizer.fromText("😀b\uFFFDab😀");
        assertEquals("ab\uFFFD😀", t.chars());
        assertEquals(4, t.vocabSize());
        assertArrayEquals(new int[] {3, 0}, t.encode("😀a"));
        assertEquals("😀a", t.decode(t.encode("😀a")));
        assertEquals("😀", t.tokenString(3));
        assertEquals(OptionalInt.of(3), t.tokenId("😀"));
    }

    @Test
    void unknownCharacterNamesItsPositionAndTheVocabulary() {
        CharTokenizer t = new CharTokenizer(SHAKESPEARE_CHARS);
        var e = assertThrows(IllegalArgumentException.class, () -> t.encode("Romé"));
        String m = e.getMessage();
        assertTrue(m.contains("'é' (U+00E9)"), m);
        assertTrue(m.contains("at index 3"), m);
        assertTrue(m.contains("65 characters") && m.contains("ABCDEFGHIJ"), m);
        e = assertThrows(IllegalArgumentException.class, () -> t.encode("a\tb"));
        assertTrue(e.getMessage().contains("'\\t' (U+0009) at index 1"), e.getMessage());
    }

    @Test
    void badVocabulariesAndIds() {
        var e = assertThrows(IllegalArgumentException.class, () -> new CharTokenizer("abca"));
        assertTrue(e.getMessage().contains("'a' (U+0061) twice"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new CharTokenizer(""));
        assertThrows(IllegalArgumentException.class, () -> CharTokenizer.fromText(""));
        e = assertThrows(IllegalArgumentException.class, () -> new CharTokenizer("ab").decode(new int[] {0, 2}));
        assertTrue(e.getMessage().contains("token id 2") && e.getMessage().contains("2 ids"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new CharTokenizer("ab").tokenString(-1));
    }

    private static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) out[i] = array.get(i).asInt();
        return out;
    }
}
