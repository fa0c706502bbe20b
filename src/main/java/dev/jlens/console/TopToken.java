package dev.jlens.console;

import dev.jlens.view.Token;
import dev.jlens.view.TokenText;
import java.util.Locale;

/**
 * One row of a top-k table.
 *
 * @param rank        1 for the most likely token
 * @param id          the token id
 * @param token       the token's text (raw; {@link TokenText#visible} shows its whitespace)
 * @param probability softmax probability at that position
 * @param logit       the raw logit
 */
public record TopToken(int rank, int id, @Token String token, double probability, double logit) {
    @Override
    public String toString() {
        return String.format(Locale.ROOT, "#%d '%s' (id %d) p=%.4f logit=%.3f", rank, TokenText.visible(token), id, probability, logit);
    }
}
