package dev.jlens.view;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.jlens.tokenize.Tokenizer;
import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

class TokenTextTest {
    @Test
    void whitespaceAndControlCharactersAreVisible() {
        assertEquals("·is", TokenText.visible(" is"));
        assertEquals("⏎⏎", TokenText.visible("\n\n"));
        assertEquals("⇥x␍", TokenText.visible("\tx\r"));
        assertEquals("\\u0007", TokenText.visible("\u0007"));
    }

    @Test
    void listsAreQuotedSoCommasAndQuotesStayReadable() {
        assertEquals("['R', ',', '·', '⏎', 'it\\'s']", TokenText.list(List.of("R", ",", " ", "\n", "it's")));
        assertEquals("R|O|·", TokenText.joined(List.of("R", "O", " ")));
    }

    @Test
    void gpt2sBosShowsItsTextAndASpaceTokenIsVisible() {
        Tokenizer t = dev.jlens.tokenize.Gpt2Tokenizer.fromFiles(
                dev.jlens.testing.TestData.file("tokenizers/gpt2/encoder.json"),
                dev.jlens.testing.TestData.file("tokenizers/gpt2/vocab.bpe"));
        assertEquals("<|endoftext|>", TokenText.token(t, 50256));
        assertEquals("·", TokenText.token(t, 220));
        assertEquals("·world", TokenText.token(t, 995));
    }
}
