package dev.jlens.tokenize;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Hugging Face's fast-tokenizer file ({@code tokenizer.json}) for a byte-level BPE: {@code model.vocab}
 * (token → id), {@code model.merges} (either {@code "a b"} strings or, since tokenizers 0.20,
 * {@code ["a", "b"]} pairs) and {@code added_tokens}. Only what GPT-2's tokenizer is made of is
 * accepted: a {@code BPE} model behind a {@code ByteLevel} pre-tokenizer without {@code add_prefix_space};
 * anything else would tokenize differently, so it is refused by name.
 */
final class TokenizerJson {
    private static final String KIND = "tokenizer.json";

    /** An added token as the file lists it. */
    record AddedToken(int id, String content, boolean special) {}

    /** The BPE and the added tokens, in id order. */
    record Contents(BpeModel model, List<AddedToken> addedTokens) {}

    private TokenizerJson() {}

    static Contents read(Path file) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(file.toFile());
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(KIND + " " + file + " is not valid JSON (" + e.getOriginalMessage() + "); the file is corrupt");
        } catch (IOException e) {
            String why = e instanceof NoSuchFileException || !file.toFile().exists() ? "no such file" : e.toString();
            throw new UncheckedIOException("cannot read " + KIND + " " + file.toAbsolutePath() + ": " + why, e);
        }
        if (root == null || !root.isObject()) throw bad(file, "is not a JSON object");
        JsonNode model = root.path("model");
        if (!model.path("type").asText("BPE").equals("BPE")) {
            throw bad(file, "has a " + model.path("type").asText() + " model; jlens reads byte-level BPE tokenizers (GPT-2's kind)");
        }
        checkByteLevel(file, root.path("pre_tokenizer"));
        if (!root.path("normalizer").isMissingNode() && !root.path("normalizer").isNull()) {
            throw bad(file, "has a normalizer (" + root.path("normalizer").path("type").asText() + "), which GPT-2's tokenizer does not; jlens would tokenize differently");
        }
        if (!model.path("vocab").isObject()) throw bad(file, "has no model.vocab object");
        Map<String, Integer> vocab = new HashMap<>(1 << 17);
        for (var it = model.get("vocab").fields(); it.hasNext(); ) {
            var e = it.next();
            if (!e.getValue().isIntegralNumber() || !e.getValue().canConvertToInt() || e.getValue().asInt() < 0) {
                throw bad(file, "model.vocab gives token " + Chars.quote(e.getKey(), 40) + " the id " + e.getValue() + "; ids are non-negative integers");
            }
            vocab.put(e.getKey(), e.getValue().asInt());
        }
        byte[][] tokenBytes = Gpt2Files.tokenBytes(vocab, file);
        int[][] merges = merges(file, model.path("merges"), vocab);
        Gpt2Files.requireMerges(merges.length, tokenBytes, KIND + " " + file + " model.merges", "the tokenizer.json the model was saved with");
        return new Contents(new BpeModel(tokenBytes, merges), addedTokens(file, root.path("added_tokens")));
    }

    private static int[][] merges(Path file, JsonNode merges, Map<String, Integer> vocab) {
        if (!merges.isArray()) throw bad(file, "has no model.merges array");
        List<int[]> out = new ArrayList<>(merges.size());
        PairRanks seen = new PairRanks(Math.max(1, merges.size()));
        for (int i = 0; i < merges.size(); i++) {
            JsonNode m = merges.get(i);
            String left, right;
            if (m.isTextual()) {
                String[] parts = m.asText().split(" ", -1);
                if (parts.length != 2 || parts[0].isEmpty() || parts[1].isEmpty()) {
                    throw bad(file, "model.merges[" + i + "] is " + Chars.quote(m.asText(), 60) + ", not two tokens separated by one space");
                }
                left = parts[0];
                right = parts[1];
            } else if (m.isArray() && m.size() == 2 && m.get(0).isTextual() && m.get(1).isTextual()) {
                left = m.get(0).asText();
                right = m.get(1).asText();
            } else {
                throw bad(file, "model.merges[" + i + "] is " + m + ", neither \"a b\" nor [\"a\", \"b\"]");
            }
            int l = id(file, vocab, left, i), r = id(file, vocab, right, i), merged = id(file, vocab, left + right, i);
            if (seen.putIfAbsent(l, r, i) != PairRanks.NONE) {
                throw bad(file, "model.merges[" + i + "] repeats the merge " + Chars.quote(left + " " + right, 60) + "; the file is corrupt");
            }
            out.add(new int[] {l, r, merged});
        }
        return out.toArray(new int[0][]);
    }

    private static List<AddedToken> addedTokens(Path file, JsonNode added) {
        List<AddedToken> out = new ArrayList<>();
        if (added.isMissingNode() || added.isNull()) return out;
        if (!added.isArray()) throw bad(file, "added_tokens is not an array");
        for (JsonNode t : added) {
            if (!t.path("id").isIntegralNumber() || !t.path("id").canConvertToInt() || !t.path("content").isTextual() || t.path("content").asText().isEmpty()) {
                throw bad(file, "added_tokens has the entry " + t + " without an integer id and a content string");
            }
            out.add(new AddedToken(t.get("id").asInt(), t.get("content").asText(), flag(file, t, "special", false, "added_tokens entry " + t.get("content"))));
        }
        out.sort((a, b) -> Integer.compare(a.id(), b.id()));
        return out;
    }

    /** GPT-2's pre-tokenizer is ByteLevel (alone or inside a Sequence) with add_prefix_space off. */
    private static void checkByteLevel(Path file, JsonNode pre) {
        if (pre.isMissingNode() || pre.isNull()) throw bad(file, "has no pre_tokenizer; a byte-level BPE needs the ByteLevel one");
        List<JsonNode> parts = new ArrayList<>();
        if ("Sequence".equals(pre.path("type").asText())) pre.path("pretokenizers").forEach(parts::add);
        else parts.add(pre);
        boolean byteLevel = false;
        for (JsonNode p : parts) {
            String type = p.path("type").asText();
            if (!type.equals("ByteLevel")) throw bad(file, "uses the pre-tokenizer " + type + ", which GPT-2's tokenizer does not; jlens reads GPT-2-style byte-level BPE only");
            if (flag(file, p, "add_prefix_space", false, "pre_tokenizer")) {
                throw bad(file, "sets add_prefix_space, which jlens's GPT-2 tokenizer does not do; save the tokenizer without it");
            }
            if (!flag(file, p, "use_regex", true, "pre_tokenizer")) throw bad(file, "turns off the ByteLevel pre-tokenizer's regex (use_regex false), which GPT-2's tokenizer uses");
            byteLevel = true;
        }
        if (!byteLevel) throw bad(file, "has an empty pre_tokenizer sequence");
    }

    private static int id(Path file, Map<String, Integer> vocab, String token, int merge) {
        Integer id = vocab.get(token);
        if (id == null) {
            throw bad(file, "model.merges[" + merge + "] needs the token " + Chars.quote(token, 60) + ", which model.vocab lacks; the file is corrupt");
        }
        return id;
    }

    /** A true/false field; absent or null means {@code fallback}, anything else but a boolean is refused by name. */
    private static boolean flag(Path file, JsonNode node, String field, boolean fallback, String where) {
        JsonNode v = node.path(field);
        if (v.isMissingNode() || v.isNull()) return fallback;
        if (!v.isBoolean()) throw bad(file, "has " + where + " '" + field + "' = " + v + "; it must be true or false");
        return v.booleanValue();
    }

    private static IllegalArgumentException bad(Path file, String problem) {
        return new IllegalArgumentException(KIND + " " + file + " " + problem);
    }
}
