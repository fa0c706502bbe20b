package dev.jlens.model;

import dev.jlens.tokenize.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A model's text ↔ token ids: its tokenizer with the model's BOS rule, string tokens for display,
 * and batches of prompts right-padded to one length. {@link HookedTransformer}'s {@code toTokens},
 * {@code toStrTokens}, {@code toText}, {@code vocab} and {@code toSingleToken} are these, and the check of
 * the ids a run is given.
 */
final class TokenIds {
    private final ModelConfig cfg;
    private final Tokenizer tokenizer;   // null: the model runs on ids only

    TokenIds(ModelConfig cfg, Tokenizer tokenizer) {
        this.cfg = cfg;
        this.tokenizer = tokenizer;
    }

    /**
     * The batches {@link #toTokens(List)} right-padded, by identity, with each row's real length: loss, log-probs
     * and string tokens of such an array skip its padding instead of silently counting it. Weak: a batch nobody
     * holds any more is forgotten.
     */
    private final List<java.util.Map.Entry<java.lang.ref.WeakReference<INDArray>, int[]>> padded = new ArrayList<>();

    /** Each row's real length if {@code tokens} is a batch this model padded; else every row is all real. */
    synchronized int[] lengths(INDArray tokens) {
        padded.removeIf(e -> e.getKey().get() == null);
        for (var e : padded) if (e.getKey().get() == tokens) return e.getValue().clone();
        long[][] rows = rows(tokens);
        int[] all = new int[rows.length];
        java.util.Arrays.fill(all, rows.length == 0 ? 0 : rows[0].length);
        return all;
    }

    /**
     * One token's text for display: the tokenizer's, or {@code "#id"} for a model without tokenizer files
     * (which runs on ids), so tables and token lists still say which token they mean.
     */
    public String tokenText(long id) {
        return tokenizer == null ? "#" + id : tokenizer.tokenString((int) id);
    }

    /** Whether text can be tokenized: a model folder without tokenizer files runs on token ids only. */
    public boolean hasTokenizer() {
        return tokenizer != null;
    }

    public Tokenizer tokenizer() {
        if (tokenizer == null) throw new IllegalStateException("this model has no tokenizer (its folder has no tokenizer.json, nor vocab.json + merges.txt): pass token ids, e.g. model.forward(Nd4j.createFromArray(new long[][] {{1, 2, 3}})), or put the tokenizer files beside config.json");
        return tokenizer;
    }

    /** {@code [1, pos]} token ids, with BOS first when the model uses one ({@link ModelConfig#defaultPrependBos}). */
    public INDArray toTokens(String text) {
        return toTokens(text, cfg.defaultPrependBos());
    }

    /** {@code [1, pos]} token ids, with or without BOS. */
    public INDArray toTokens(String text, boolean prependBos) {
        long[] ids = ids(text, prependBos);
        // createFromArray makes shape [] of an empty row; [1, 0] keeps the promised [1, pos].
        return ids.length == 0 ? Nd4j.create(DataType.LONG, 1, 0) : Nd4j.createFromArray(new long[][] {ids});
    }

    /**
     * {@code [batch, pos]} ids for several prompts, right-padded to the longest with the EOS id (or
     * 0). Right padding needs no attention mask in a causal model: a real token never attends to a
     * later pad, so each prompt's real positions come out exactly as if run alone.
     */
    public INDArray toTokens(List<String> texts) {
        Padded p = padded(texts);
        INDArray batch = Nd4j.createFromArray(p.rows());
        synchronized (this) {
            padded.add(java.util.Map.entry(new java.lang.ref.WeakReference<>(batch), p.lengths()));
        }
        return batch;
    }

    /** Each token's text, BOS included when {@code toTokens} would add it. */
    public List<String> toStrTokens(String text) {
        return toStrTokens(text, cfg.defaultPrependBos());
    }

    public List<String> toStrTokens(String text, boolean prependBos) {
        return toStrTokens(ids(text, prependBos));
    }

    public List<String> toStrTokens(INDArray tokens) {
        long[][] rows = rows(tokens);
        if (rows.length > 1) {
            throw new IllegalArgumentException("these tokens are a batch of " + rows.length + " prompts: toStrTokens(tokens, row)"
                    + " gives one row's, toStrTokensAll(tokens) every row's");
        }
        return toStrTokens(rows.length == 0 ? new long[0] : rows[0]);
    }

    /** Row {@code row}'s tokens, without the padding of a batch {@link #toTokens(List)} made. */
    public List<String> toStrTokens(INDArray tokens, int row) {
        long[][] rows = rows(tokens);
        if (row < 0 || row >= rows.length) throw new IndexOutOfBoundsException("row " + row + " of a batch of " + rows.length);
        return toStrTokens(java.util.Arrays.copyOf(rows[row], lengths(tokens)[row]));
    }

    /** Every row's tokens, each without its padding. */
    public List<List<String>> toStrTokensAll(INDArray tokens) {
        List<List<String>> out = new ArrayList<>();
        for (int r = 0; r < rows(tokens).length; r++) out.add(toStrTokens(tokens, r));
        return out;
    }

    private List<String> toStrTokens(long[] ids) {
        List<String> out = new ArrayList<>(ids.length);
        for (long id : ids) out.add(tokenText(id));
        return new TokenStrings(out);
    }

    /** The text of token ids (TransformerLens {@code to_string}). */
    public String toText(long... ids) {
        int[] ints = new int[ids.length];
        for (int i = 0; i < ids.length; i++) ints[i] = (int) ids[i];
        return tokenizer().decode(ints);
    }

    /** The text of one row of token ids, {@code [pos]} or {@code [1, pos]}; a batch is refused. */
    public String toText(INDArray ids) {
        long[][] rows = rows(ids);
        if (rows.length != 1) throw new IllegalArgumentException("toText takes one row of ids, not a batch of " + rows.length);
        return toText(rows[0]);
    }

    /** The vocabulary, token text → id (TransformerLens {@code tokenizer.vocab}); the first id of a text wins. */
    public Map<String, Integer> vocab() {
        Tokenizer t = tokenizer();
        Map<String, Integer> v = new LinkedHashMap<>();
        for (int id = 0; id < t.vocabSize(); id++) v.putIfAbsent(t.tokenString(id), id);
        return Collections.unmodifiableMap(v);
    }

    /** The id of a string that must be exactly one token (TransformerLens {@code to_single_token}). */
    public int toSingleToken(String text) {
        int[] ids = tokenizer().encode(text);
        if (ids.length != 1) {
            throw new IllegalArgumentException("'" + text + "' is " + ids.length + " tokens, not one: "
                    + toStrTokens(text, false));
        }
        return ids[0];
    }

    long[] ids(String text, boolean prependBos) {
        int[] body = tokenizer().encode(text);
        int offset = 0;
        long[] out;
        if (prependBos) {
            int bos = tokenizer().bosTokenId().orElseThrow(() -> new IllegalArgumentException(
                    "this model's tokenizer has no BOS token: call toTokens(text, false)"));
            out = new long[body.length + 1];
            out[0] = bos;
            offset = 1;
        } else {
            out = new long[body.length];
        }
        for (int i = 0; i < body.length; i++) out[offset + i] = body[i];
        return out;
    }

    /**
     * Refuses ids a run cannot take, saying what to do instead: no tokens, more than {@code n_ctx} positions,
     * an id outside the vocabulary.
     */
    void check(long[][] rows) {
        if (rows.length == 0 || rows[0].length == 0) throw emptyPrompt();
        int pos = rows[0].length;
        if (pos > cfg.nCtx()) {
            throw new IllegalArgumentException("the prompt is " + pos + " tokens but the model's context is n_ctx = "
                    + cfg.nCtx() + " (positions 0.." + (cfg.nCtx() - 1) + "): shorten it, or keep the last "
                    + cfg.nCtx() + " tokens (generate() crops the context itself)");
        }
        for (int b = 0; b < rows.length; b++) {
            for (int t = 0; t < pos; t++) {
                long id = rows[b][t];
                if (id < 0 || id >= cfg.dVocab()) {
                    throw new IllegalArgumentException("token id " + id + " at batch " + b + ", position " + t
                            + " is outside the vocabulary 0.." + (cfg.dVocab() - 1));
                }
            }
        }
    }

    /** Zero tokens: one line saying what to run instead, which depends on whether the model has a BOS token. */
    IllegalArgumentException emptyPrompt() {
        return new IllegalArgumentException("empty prompt: there are no tokens to run; " + (cfg.defaultPrependBos()
                ? "give at least one token, e.g. toTokens(text) with its BOS (toTokens(\"\") is [BOS] alone)"
                : "this model has no BOS token, so give text of at least one character"));
    }

    record Padded(long[][] rows, int[] lengths) {}

    Padded padded(List<String> texts) {
        if (texts.isEmpty()) throw new IllegalArgumentException("no prompts given");
        long[][] unpadded = new long[texts.size()][];
        int max = 0;
        for (int i = 0; i < texts.size(); i++) {
            unpadded[i] = ids(texts.get(i), cfg.defaultPrependBos());
            max = Math.max(max, unpadded[i].length);
        }
        long pad = tokenizer().eosTokenId().orElse(0);
        long[][] rows = new long[texts.size()][max];
        int[] lengths = new int[texts.size()];
        for (int i = 0; i < rows.length; i++) {
            Arrays.fill(rows[i], pad);
            System.arraycopy(unpadded[i], 0, rows[i], 0, unpadded[i].length);
            lengths[i] = unpadded[i].length;
        }
        return new Padded(rows, lengths);
    }

    /** Token ids {@code [pos]} or {@code [batch, pos]} as rows. */
    static long[][] rows(INDArray tokens) {
        if (tokens.isEmpty()) return tokens.rank() == 2 && tokens.size(0) == 0 ? new long[0][] : new long[][] {{}};   // runs refuse it
        if (tokens.rank() == 1) return new long[][] {tokens.toLongVector()};
        if (tokens.rank() != 2) {
            throw new IllegalArgumentException("tokens must be [pos] or [batch, pos], got shape "
                    + Arrays.toString(tokens.shape()));
        }
        return tokens.toLongMatrix();
    }

}
