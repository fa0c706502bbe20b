package dev.jlens.data;

import dev.jlens.tokenize.Tokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;

/**
 * A text as a model sees it: a UTF-8 file (or a string) encoded once with the model's tokenizer, or,
 * for training a character model, with the characters of the text itself ({@link #readChars}: the
 * lecture's {@code sorted(set(text))}). The one corpus of jlens: experiments read it, training samples
 * windows of its splits. Its SHA-256 names the text in experiment manifests; its CRC-32 in a training
 * run's resume state (both: a run can tell when it is given another text).
 */
public final class Corpus {
    private final String source;
    private final String sha256;
    private final long crc32;
    private final Tokenizer tokenizer;
    private final int[] tokens;

    private Corpus(String source, String sha256, long crc32, Tokenizer tokenizer, int[] tokens) {
        this.source = source;
        this.sha256 = sha256;
        this.crc32 = crc32;
        this.tokenizer = tokenizer;
        this.tokens = tokens;
    }

    /**
     * Reads a UTF-8 text file and encodes it with {@code tokenizer} (no BOS: a corpus is one long text).
     *
     * @throws IllegalArgumentException when the file is missing, a folder, empty, not UTF-8, or holds a
     *                                  character the tokenizer cannot encode; the message says which and
     *                                  what to do
     * @throws UncheckedIOException     when it cannot be read (permissions, I/O)
     */
    public static Corpus read(Path file, Tokenizer tokenizer) {
        Objects.requireNonNull(tokenizer, "tokenizer");
        return read(file, text -> tokenizer);
    }

    /** Reads a UTF-8 text file for a character model of its own: the vocabulary is the text's distinct characters. */
    public static Corpus readChars(Path file) {
        return read(file, Corpus::charsOf);
    }

    private static Corpus read(Path file, java.util.function.Function<String, Tokenizer> tokenizerFor) {
        Objects.requireNonNull(file, "file");
        byte[] bytes = readBytes(file);
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("the corpus " + file + " is not UTF-8 text (" + e.getMessage()
                    + "); convert it (iconv -t UTF-8) or pass another file", e);
        }
        return encode(file.toString(), text, bytes, tokenizerFor);
    }

    /** A corpus from text in memory; {@code name} stands for the file in messages and manifests. */
    public static Corpus of(String text, String name, Tokenizer tokenizer) {
        Objects.requireNonNull(tokenizer, "tokenizer");
        Objects.requireNonNull(text, "text");
        return encode(name, text, text.getBytes(StandardCharsets.UTF_8), t -> tokenizer);
    }

    /** {@link #readChars} for text in memory. */
    public static Corpus ofChars(String text, String name) {
        Objects.requireNonNull(text, "text");
        return encode(name, text, text.getBytes(StandardCharsets.UTF_8), Corpus::charsOf);
    }

    private static Tokenizer charsOf(String text) {
        return text.isEmpty() ? null : dev.jlens.tokenize.CharTokenizer.fromText(text);
    }

    private static byte[] readBytes(Path file) {
        try {
            if (Files.isDirectory(file)) {
                throw new IllegalArgumentException("the corpus " + file + " is a folder; pass a text file (e.g. input.txt)");
            }
            return Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("no corpus at " + file.toAbsolutePath() + ": check the path"
                    + " (for TinyShakespeare pass tinyshakespeare, which downloads it once)", e);
        } catch (AccessDeniedException e) {
            throw new UncheckedIOException("cannot read the corpus " + file + ": permission denied; check its"
                    + " permissions (chmod +r) or copy it somewhere readable", e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the corpus " + file + ": " + e.getMessage(), e);
        }
    }

    private static Corpus encode(String source, String text, byte[] bytes,
                                 java.util.function.Function<String, Tokenizer> tokenizerFor) {
        if (text.isEmpty()) {
            throw new IllegalArgumentException("the corpus " + source + " is empty: there is nothing to learn from or run;"
                    + " pass a text file (e.g. TinyShakespeare, ~1.1 MB)");
        }
        Tokenizer tokenizer = tokenizerFor.apply(text);
        int[] ids;
        try {
            ids = tokenizer.encode(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("the corpus " + source + " cannot be encoded with the model's tokenizer ("
                    + e.getMessage() + "); use a text in the model's vocabulary, or a model trained on this text", e);
        }
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(bytes);
        return new Corpus(source, sha256(bytes), crc.getValue(), tokenizer, ids);
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JDK has no SHA-256", e);
        }
    }

    /** The file it was read from (or the name it was given). */
    public String source() {
        return source;
    }

    /** SHA-256 of the text's UTF-8 bytes, in hex. */
    public String sha256() {
        return sha256;
    }

    /** CRC-32 of the text's UTF-8 bytes: a resumed training run checks it is learning the same text. */
    public long crc32() {
        return crc32;
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    /** Number of tokens in the whole corpus. */
    public int size() {
        return tokens.length;
    }

    /** The token ids of a split (a copy). */
    public int[] tokens(Split split) {
        return Arrays.copyOfRange(tokens, split.start(tokens.length), split.end(tokens.length));
    }

    /** The text of token ids (for a char model, the substring itself). */
    public String text(int[] ids) {
        return tokenizer.decode(ids);
    }

    @Override
    public String toString() {
        return "Corpus[" + source + ", " + String.format("%,d", tokens.length) + " tokens, sha256 "
                + sha256.substring(0, 12) + "…]";
    }
}
