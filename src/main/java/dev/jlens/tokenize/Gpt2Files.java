package dev.jlens.tokenize;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads GPT-2's two tokenizer files and checks that they make one consistent byte-level BPE.
 * Every complaint names the file, where in it, what was found and what to do.
 */
final class Gpt2Files {
    private static final String VOCAB_KIND = "vocab.json (HF) / encoder.json (OpenAI)";
    private static final String MERGES_KIND = "merges.txt (HF) / vocab.bpe (OpenAI)";

    private Gpt2Files() {}

    static BpeModel load(Path vocabJson, Path mergesTxt) {
        Map<String, Integer> vocab = readVocab(vocabJson);
        byte[][] tokenBytes = tokenBytes(vocab, vocabJson);
        int[][] merges = readMerges(mergesTxt, vocab);
        requireMerges(merges.length, tokenBytes, MERGES_KIND + " " + mergesTxt, "the merges.txt that belongs to " + vocabJson.getFileName());
        return new BpeModel(tokenBytes, merges);
    }

    /**
     * No merges while the vocabulary has tokens longer than one byte (other than {@code <|endoftext|>}) is
     * a broken or missing merges file, not a byte-level tokenizer: every text would split into single bytes.
     *
     * @param what the merges, for messages ("merges.txt (HF) … /path", "tokenizer.json /path model.merges")
     * @param remedy what to pass instead
     */
    static void requireMerges(int merges, byte[][] tokenBytes, String what, String remedy) {
        if (merges > 0) return;
        long multiByte = 0;
        byte[] eot = Gpt2Tokenizer.END_OF_TEXT.getBytes(StandardCharsets.UTF_8);
        for (byte[] b : tokenBytes) if (b.length > 1 && !java.util.Arrays.equals(b, eot)) multiByte++;
        if (multiByte == 0) return;
        throw new IllegalArgumentException(what + " has no merges, but the vocabulary has " + multiByte + " tokens longer than one"
                + " byte that only merges can make: every text would be split into single bytes; pass " + remedy);
    }

    /** Token key (in the byte-level alphabet) -> id, as written in the file. */
    static Map<String, Integer> readVocab(Path file) {
        Map<String, Integer> vocab = new HashMap<>(1 << 17);
        try (JsonParser p = new JsonFactory().createParser(open(file, VOCAB_KIND))) {
            JsonToken first = p.nextToken();
            if (first != JsonToken.START_OBJECT) {
                throw new IllegalArgumentException(VOCAB_KIND + " " + file + ": expected a JSON object mapping each token to its id, like {\"!\": 0, ...}, but it starts with "
                        + (first == null ? "nothing (the file is empty)" : describe(first)) + "; pass the tokenizer's vocab.json or encoder.json");
            }
            for (JsonToken t = p.nextToken(); t != JsonToken.END_OBJECT; t = p.nextToken()) {
                String key = p.currentName();
                JsonToken value = p.nextToken();
                if (value != JsonToken.VALUE_NUMBER_INT || p.getNumberType() != JsonParser.NumberType.INT || p.getIntValue() < 0) {
                    throw new IllegalArgumentException(VOCAB_KIND + " " + file + " line " + p.currentLocation().getLineNr() + ": token "
                            + Chars.quote(key, 40) + " has " + (value.isScalarValue() ? "value " + p.getText() : describe(value))
                            + "; every id must be a non-negative integer");
                }
                if (vocab.put(key, p.getIntValue()) != null) {
                    throw new IllegalArgumentException(VOCAB_KIND + " " + file + " line " + p.currentLocation().getLineNr() + ": token "
                            + Chars.quote(key, 40) + " appears twice; the file is corrupt");
                }
            }
            if (p.nextToken() != null) {
                throw new IllegalArgumentException(VOCAB_KIND + " " + file + " line " + p.currentLocation().getLineNr()
                        + ": unexpected content after the closing '}'; the file is corrupt");
            }
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(VOCAB_KIND + " " + file + " is not valid JSON (" + e.getOriginalMessage() + " at line "
                    + (e.getLocation() == null ? "?" : e.getLocation().getLineNr()) + "); the file is corrupt or not a tokenizer vocabulary", e);
        } catch (IOException e) {
            throw unreadable(file, VOCAB_KIND, e);
        }
        if (vocab.isEmpty()) throw new IllegalArgumentException(VOCAB_KIND + " " + file + " is an empty object: it has no tokens");
        return vocab;
    }

    /** id -> bytes, checking that the ids are 0..n-1 and that all 256 single bytes are tokens. */
    static byte[][] tokenBytes(Map<String, Integer> vocab, Path file) {
        byte[][] bytes = new byte[vocab.size()][];
        for (var e : vocab.entrySet()) {
            int id = e.getValue();
            if (id >= bytes.length) {
                throw new IllegalArgumentException(VOCAB_KIND + " " + file + ": token " + Chars.quote(e.getKey(), 40) + " has id " + id
                        + ", but with " + bytes.length + " tokens the ids must be 0.." + (bytes.length - 1) + " (ids are missing or out of range)");
            }
            if (bytes[id] != null) {
                throw new IllegalArgumentException(VOCAB_KIND + " " + file + ": id " + id + " is given to two tokens, "
                        + Chars.quote(e.getKey(), 40) + " and " + Chars.quote(ByteLevel.keyOf(bytes[id]), 40) + "; the file is corrupt");
            }
            bytes[id] = ByteLevel.bytesOf(e.getKey());
            if (bytes[id] == null) {
                throw new IllegalArgumentException(VOCAB_KIND + " " + file + ": token " + Chars.quote(e.getKey(), 40) + " (id " + id
                        + ") has characters outside GPT-2's byte-level alphabet (bytes_to_unicode); this is not a byte-level BPE vocabulary");
            }
        }
        for (int b = 0; b < 256; b++) {
            if (!vocab.containsKey(String.valueOf(ByteLevel.charOf(b)))) {
                throw new IllegalArgumentException(VOCAB_KIND + " " + file + " has no token for the byte 0x" + String.format("%02X", b) + " (key "
                        + Chars.quote(String.valueOf(ByteLevel.charOf(b)), 4) + "); a byte-level BPE vocabulary needs all 256 to encode any text");
            }
        }
        return bytes;
    }

    /** {@code [rank][left, right, result]} ids; the "#version" header and blank lines are skipped. */
    static int[][] readMerges(Path file, Map<String, Integer> vocab) {
        List<int[]> merges = new ArrayList<>(50_000);
        PairRanks lineOfPair = new PairRanks(1 << 16);   // pair -> line it was first seen on
        try (BufferedReader in = open(file, MERGES_KIND)) {
            int lineNo = 0;
            for (String line; (line = in.readLine()) != null; ) {
                lineNo++;
                if (line.endsWith("\r")) line = line.substring(0, line.length() - 1);
                if (line.isEmpty() || lineNo == 1 && line.startsWith("#version")) continue;
                int space = line.indexOf(' ');
                if (space <= 0 || space == line.length() - 1 || line.indexOf(' ', space + 1) >= 0) {
                    throw new IllegalArgumentException(MERGES_KIND + " " + file + " line " + lineNo
                            + ": expected two tokens separated by one space, got " + Chars.quote(line, 60) + "; the file is corrupt");
                }
                String left = line.substring(0, space), right = line.substring(space + 1);
                int leftId = idOf(left, vocab, file, lineNo, line), rightId = idOf(right, vocab, file, lineNo, line);
                int earlier = lineOfPair.putIfAbsent(leftId, rightId, lineNo);
                if (earlier != PairRanks.NONE) {
                    throw new IllegalArgumentException(MERGES_KIND + " " + file + " line " + lineNo + ": the merge " + Chars.quote(line, 60)
                            + " repeats line " + earlier + "; the file is corrupt");
                }
                merges.add(new int[] {leftId, rightId, idOf(left + right, vocab, file, lineNo, line)});
            }
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException(MERGES_KIND + " " + file + " is not UTF-8 text; the file is corrupt or not a merges file", e);
        } catch (IOException e) {
            throw unreadable(file, MERGES_KIND, e);
        }
        return merges.toArray(new int[0][]);
    }

    private static int idOf(String token, Map<String, Integer> vocab, Path file, int lineNo, String line) {
        Integer id = vocab.get(token);
        if (id == null) {
            throw new IllegalArgumentException(MERGES_KIND + " " + file + " line " + lineNo + ": the merge " + Chars.quote(line, 60)
                    + " needs the token " + Chars.quote(token, 60) + ", which is not in the vocabulary; vocab.json and merges.txt must come from the same tokenizer");
        }
        return id;
    }

    private static BufferedReader open(Path file, String kind) {
        try {
            return Files.newBufferedReader(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw unreadable(file, kind, e);
        }
    }

    private static UncheckedIOException unreadable(Path file, String kind, IOException e) {
        String why = e instanceof NoSuchFileException ? "no such file" : e.toString();
        return new UncheckedIOException("cannot read the GPT-2 " + kind + " file " + file.toAbsolutePath() + ": " + why
                + "; pass the path of the tokenizer file (Gpt2Tokenizer.fromFiles(vocabJson, mergesTxt))", e);
    }

    private static String describe(JsonToken t) {
        return switch (t) {
            case START_ARRAY -> "an array";
            case START_OBJECT -> "an object";
            case VALUE_STRING -> "a string";
            case VALUE_NUMBER_FLOAT -> "a fractional number";
            case VALUE_TRUE, VALUE_FALSE -> "a boolean";
            case VALUE_NULL -> "null";
            default -> t.asString() == null ? t.name() : "'" + t.asString() + "'";
        };
    }
}
