package dev.jlens.model;

import java.util.AbstractList;
import java.util.List;
import java.util.RandomAccess;

/**
 * The text of each token of a prompt ({@code toStrTokens}): a list of strings that says it holds tokens,
 * so the console shows them the one way tokens are shown (spaces as {@code ·}, newlines as {@code ⏎}) and
 * any other list of strings as it is. Immutable.
 */
public final class TokenStrings extends AbstractList<String> implements RandomAccess {
    private final List<String> tokens;

    TokenStrings(List<String> tokens) {
        this.tokens = List.copyOf(tokens);
    }

    @Override
    public String get(int index) {
        return tokens.get(index);
    }

    @Override
    public int size() {
        return tokens.size();
    }
}
