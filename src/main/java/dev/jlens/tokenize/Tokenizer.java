package dev.jlens.tokenize;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;

/**
 * Text to token ids and back.
 *
 * <p>Three kinds exist: {@link CharTokenizer} (one token per character, as in Karpathy's char-level
 * models), {@link Gpt2Tokenizer} (OpenAI's byte-level BPE, ours) and {@link HfTokenizer} (any
 * Hugging Face {@code tokenizer.json}, run by the Hugging Face library). All are thread-safe.
 *
 * <p>The contract every implementation keeps: {@code decode(encode(s)).equals(s)} for every text
 * that {@code encode} accepts.
 */
public sealed interface Tokenizer permits CharTokenizer, Gpt2Tokenizer, HfTokenizer {

    /**
     * The tokenizer in a folder of the Hugging Face layout: GPT-2's {@code vocab.json} + {@code merges.txt},
     * else a {@code tokenizer.json} (or {@code tokenizer.json.gz}) with its {@code tokenizer_config.json}.
     */
    static Tokenizer fromPretrained(java.nio.file.Path folder) {
        if (java.nio.file.Files.isRegularFile(folder.resolve("vocab.json")) && java.nio.file.Files.isRegularFile(folder.resolve("merges.txt"))) {
            return Gpt2Tokenizer.fromFiles(folder.resolve("vocab.json"), folder.resolve("merges.txt"));
        }
        if (java.nio.file.Files.isRegularFile(folder.resolve("tokenizer.json")) || java.nio.file.Files.isRegularFile(folder.resolve("tokenizer.json.gz"))) {
            return HfTokenizer.fromFolder(folder);
        }
        throw new IllegalArgumentException(folder + " has no tokenizer files (tokenizer.json, or vocab.json + merges.txt);"
                + " give the model's folder or its tokenizer's");
    }

    /** The ids of {@code text}. No BOS is added here: the model prepends it when it wants one. */
    int[] encode(String text);

    /** The text of {@code ids}; an id outside {@code 0..vocabSize()-1} is an {@link IllegalArgumentException}. */
    String decode(int[] ids);

    /**
     * The text of one token, for display ({@code " world"} for GPT-2's id 995). A token that is not a
     * whole UTF-8 sequence on its own shows U+FFFD where its bytes are incomplete.
     */
    String tokenString(int id);

    /** The number of ids, added tokens included; ids are {@code 0..vocabSize()-1}. */
    int vocabSize();

    /** The id a model prepends as beginning-of-sequence, if the vocabulary has one. */
    OptionalInt bosTokenId();

    /** The end-of-sequence id, if the vocabulary has one. */
    OptionalInt eosTokenId();

    /**
     * The id of the token whose decoded text is exactly {@code tokenText} ({@code " world"} → 995,
     * {@code "<|endoftext|>"} → 50256), or empty when no single token has that text.
     */
    OptionalInt tokenId(String tokenText);

    /** {@link #tokenString} of each id: TransformerLens's {@code to_str_tokens} for a list of ids. */
    default List<String> tokenStrings(int[] ids) {
        List<String> out = new ArrayList<>(ids.length);
        for (int id : ids) out.add(tokenString(id));
        return out;
    }
}
