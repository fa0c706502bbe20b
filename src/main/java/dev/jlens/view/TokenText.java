package dev.jlens.view;

import dev.jlens.tokenize.Tokenizer;
import java.util.List;
import java.util.OptionalInt;

/**
 * Token strings made visible: a token that is a space, a newline or the BOS marker must not look
 * like nothing on screen.
 *
 * <ul>
 *   <li>space → {@code ·}, newline → {@code ⏎}, tab → {@code ⇥}, carriage return → {@code ␍},</li>
 *   <li>other control characters → {@code \u0000}-style escapes,</li>
 *   <li>the BOS token → its own text ({@code <|endoftext|>}) or {@code ⟨BOS⟩} when that is blank.</li>
 * </ul>
 */
public final class TokenText {
    private TokenText() {}

    /** The marker shown for a BOS token whose text is blank. */
    public static final String BOS = "⟨BOS⟩";

    /** One token's text with whitespace and control characters replaced by visible marks. */
    public static String visible(String token) {
        // What makes any label printable (⏎ ⇥ ␍, escapes), and for a token also its spaces.
        return Labels.printable(token).replace(' ', '·');
    }

    /** Each token visible: what an analysis hands a view as labels that are tokens. */
    public static List<String> visible(List<String> tokens) {
        return tokens.stream().map(TokenText::visible).toList();
    }

    /** Token {@code id} of {@code tokenizer}, visible, with BOS marked. */
    public static String token(Tokenizer tokenizer, long id) {
        OptionalInt bos = tokenizer.bosTokenId();
        String text = tokenizer.tokenString((int) id);
        if (bos.isPresent() && bos.getAsInt() == id && text.isBlank()) return BOS;
        return visible(text);
    }

    /**
     * {@code ['R', 'O', 'M', 'E', 'O', ':', '⏎']}: a token list in one line, each token visible and
     * quoted (as Python prints {@code to_str_tokens}), so a token that is a comma stays readable.
     */
    public static String list(List<String> tokens) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < tokens.size(); i++) {
            if (i > 0) sb.append(", ");
            sb.append('\'').append(visible(tokens.get(i)).replace("'", "\\'")).append('\'');
        }
        return sb.append(']').toString();
    }

    /** The tokens joined with {@code |} between them: {@code R|O|M|E|O|:}, to show where they split. */
    public static String joined(List<String> tokens) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < tokens.size(); i++) {
            if (i > 0) sb.append('|');
            sb.append(visible(tokens.get(i)));
        }
        return sb.toString();
    }
}
