package dev.jlens.tokenize;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.OptionalInt;
import java.util.zip.GZIPInputStream;

/**
 * A Hugging Face {@code tokenizer.json} (Llama 2/3, Qwen, Mistral, Gemma, GPT-NeoX …) run by the real
 * Hugging Face tokenizers library (Rust, through DJL's binding), so every normalizer, pre-tokenizer,
 * added-token rule and decoder behaves exactly as in Python.
 *
 * <p>{@link #encode} adds no special tokens (no BOS: the model prepends one when its rule says so,
 * see {@link #addsBos()}), but special tokens written in the text ({@code <|eot_id|>}) are matched as
 * the file's added tokens are. The vocabulary, BOS/EOS and token texts for display come from the
 * file itself ({@code model.vocab}, {@code added_tokens}, {@code tokenizer_config.json}).
 */
public final class HfTokenizer implements Tokenizer {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final HuggingFaceTokenizer rust;
    private final String[] pieces;                 // id → the vocabulary's own string for it
    private final boolean[] added;                 // ids of added tokens: shown as they are written
    private final Map<String, Integer> byText;     // display text → id
    private final PieceStyle style;
    private final OptionalInt bos, eos;
    private final boolean addsBos;

    /** How the file spells token text: GPT-2's byte-to-character map, or SentencePiece's ▁ and {@code <0xNN>}. */
    enum PieceStyle { BYTE_LEVEL, SENTENCEPIECE }

    private HfTokenizer(HuggingFaceTokenizer rust, String[] pieces, boolean[] added, PieceStyle style, OptionalInt bos,
                        OptionalInt eos, boolean addsBos) {
        this.rust = rust;
        this.pieces = pieces;
        this.added = added;
        this.style = style;
        this.bos = bos;
        this.eos = eos;
        this.addsBos = addsBos;
        this.byText = new HashMap<>(pieces.length * 2);
        for (int id = pieces.length - 1; id >= 0; id--) if (pieces[id] != null) byText.put(tokenString(id), id);
    }

    /**
     * The tokenizer in {@code folder}: its {@code tokenizer.json} (or {@code tokenizer.json.gz}) and,
     * when present, {@code tokenizer_config.json} for BOS, EOS and whether BOS is added.
     */
    public static HfTokenizer fromFolder(Path folder) {
        Path file = folder.resolve("tokenizer.json");
        boolean gz = !Files.exists(file) && Files.exists(folder.resolve("tokenizer.json.gz"));
        if (gz) file = folder.resolve("tokenizer.json.gz");
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException(folder + " has no tokenizer.json; give a folder with a Hugging Face tokenizer.json");
        }
        JsonNode root = readJson(file, gz);
        Path configFile = folder.resolve("tokenizer_config.json");
        JsonNode config = Files.isRegularFile(configFile) ? readJson(configFile, false) : JSON.createObjectNode();
        return of(file, root, config);
    }

    static HfTokenizer of(Path file, JsonNode root, JsonNode config) {
        if (root == null || !root.isObject() || !root.path("model").isObject()) {
            throw bad(file, "has no \"model\" object; it is not a Hugging Face tokenizer.json");
        }
        JsonNode model = root.get("model");
        Map<Integer, String> ids = new HashMap<>();
        JsonNode vocab = model.path("vocab");
        if (vocab.isObject()) {
            vocab.fields().forEachRemaining(e -> ids.put(idOf(file, e.getKey(), e.getValue()), e.getKey()));
        } else if (vocab.isArray()) {                                 // Unigram: [[piece, score], …], id = index
            for (int i = 0; i < vocab.size(); i++) ids.put(i, vocab.get(i).path(0).asText());
        } else {
            throw bad(file, "has no model.vocab");
        }
        Map<Integer, String> addedTokens = new HashMap<>();
        for (JsonNode t : root.path("added_tokens")) addedTokens.put(idOf(file, t.path("content").asText(), t.path("id")), t.path("content").asText());
        int size = 0;
        for (int id : ids.keySet()) size = Math.max(size, id + 1);
        for (int id : addedTokens.keySet()) size = Math.max(size, id + 1);
        String[] pieces = new String[size];
        boolean[] isAdded = new boolean[size];
        ids.forEach((id, p) -> pieces[id] = p);
        addedTokens.forEach((id, p) -> {
            pieces[id] = p;
            isAdded[id] = true;
        });

        HuggingFaceTokenizer rust;
        try (InputStream in = new ByteArrayInputStream(JSON.writeValueAsBytes(withUnambiguousMerges(file, root, ids)))) {
            rust = HuggingFaceTokenizer.newInstance(in, Map.of("addSpecialTokens", "false"));
        } catch (IOException | RuntimeException e) {
            throw bad(file, "could not be read by the Hugging Face tokenizers library: " + Chars.quote(String.valueOf(e.getMessage()), 200));
        }
        // The decoder says how token text reads (only its small subtree is looked at, not the whole vocabulary).
        PieceStyle style = hasType(root.path("decoder"), "ByteLevel") || hasType(root.path("pre_tokenizer"), "ByteLevel")
                ? PieceStyle.BYTE_LEVEL : PieceStyle.SENTENCEPIECE;
        OptionalInt bos = specialId(config.path("bos_token"), pieces);
        OptionalInt eos = specialId(config.path("eos_token"), pieces);
        boolean addsBos = config.has("add_bos_token") ? config.get("add_bos_token").asBoolean()
                : bos.isPresent() && postProcessorStartsWith(root.path("post_processor"), pieces[bos.getAsInt()]);
        return new HfTokenizer(rust, pieces, isAdded, style, bos, eos, addsBos);
    }

    /** Whether the model's tokenizer puts BOS in front of a text ({@code add_bos_token}, else its post-processor). */
    public boolean addsBos() {
        return addsBos;
    }

    @Override
    public int[] encode(String text) {
        long[] ids = rust.encode(text, false, false).getIds();
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) out[i] = Math.toIntExact(ids[i]);
        return out;
    }

    @Override
    public String decode(int[] ids) {
        long[] l = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            checkId(ids[i]);
            l[i] = ids[i];
        }
        return rust.decode(l, false);
    }

    /**
     * The token's text as it reads inside a longer text: {@code " world"} for Llama 3's {@code Ġworld}
     * and for Llama 2's {@code ▁world} (the Rust decoder would strip that leading space when the token
     * is decoded alone), a byte-fallback token's byte, an added token as written.
     */
    @Override
    public String tokenString(int id) {
        checkId(id);
        String p = pieces[id];
        if (p == null) return "\uFFFD";
        if (added[id]) return p;
        if (style == PieceStyle.BYTE_LEVEL) return new String(ByteLevel.bytesOf(p), StandardCharsets.UTF_8);
        if (p.length() == 6 && p.startsWith("<0x") && p.endsWith(">")) {
            int b = Integer.parseInt(p.substring(3, 5), 16);
            return b < 0x80 ? String.valueOf((char) b) : "\uFFFD";
        }
        return p.replace('▁', ' ');
    }

    @Override
    public int vocabSize() {
        return pieces.length;
    }

    @Override
    public OptionalInt bosTokenId() {
        return bos;
    }

    @Override
    public OptionalInt eosTokenId() {
        return eos;
    }

    @Override
    public OptionalInt tokenId(String tokenText) {
        Integer id = byText.get(tokenText);
        return id == null ? OptionalInt.empty() : OptionalInt.of(id);
    }

    private void checkId(int id) {
        if (id < 0 || id >= pieces.length) {
            throw new IllegalArgumentException("token id " + id + " is outside this tokenizer's ids 0.." + (pieces.length - 1));
        }
    }

    /**
     * Merges written as {@code "a b"} strings are ambiguous when a token holds a space (Llama 2's file
     * spells its no-break-space token as a plain space), and the Rust library refuses such a file. A
     * merge is always two vocabulary tokens whose concatenation is one too: that picks the split, and
     * the merges are handed over as pairs (the form tokenizers 0.20 writes).
     */
    private static JsonNode withUnambiguousMerges(Path file, JsonNode root, Map<Integer, String> ids) {
        JsonNode merges = root.path("model").path("merges");
        boolean ambiguous = false;
        for (JsonNode m : merges) if (m.isTextual() && m.asText().indexOf(' ') != m.asText().lastIndexOf(' ')) ambiguous = true;
        if (!ambiguous) return root;
        java.util.Set<String> vocab = new java.util.HashSet<>(ids.values());
        ArrayNode pairs = JSON.createArrayNode();
        for (JsonNode m : merges) {
            if (!m.isTextual()) {
                pairs.add(m);
                continue;
            }
            String s = m.asText();
            int split = -1;
            for (int i = s.indexOf(' '); i >= 0; i = s.indexOf(' ', i + 1)) {
                String a = s.substring(0, i), b = s.substring(i + 1);
                if (vocab.contains(a) && vocab.contains(b) && vocab.contains(a + b)) {
                    split = i;
                    break;
                }
            }
            if (split < 0) throw bad(file, "has the merge " + Chars.quote(s, 40) + ", which is not two vocabulary tokens");
            pairs.add(JSON.createArrayNode().add(s.substring(0, split)).add(s.substring(split + 1)));
        }
        ObjectNode copy = root.deepCopy();
        ((ObjectNode) copy.get("model")).set("merges", pairs);
        return copy;
    }

    /** Whether {@code node} or a component of it (a {@code Sequence}'s steps) has {@code "type": type}. */
    private static boolean hasType(JsonNode node, String type) {
        if (type.equals(node.path("type").asText())) return true;
        for (JsonNode child : node) if (child.isContainerNode() && hasType(child, type)) return true;
        return false;
    }

    private static boolean postProcessorStartsWith(JsonNode post, String bosText) {
        if (post.path("type").asText().equals("Sequence")) {
            for (JsonNode p : post.path("processors")) if (postProcessorStartsWith(p, bosText)) return true;
            return false;
        }
        JsonNode single = post.path("single");
        return post.path("type").asText().equals("TemplateProcessing") && single.size() > 0
                && bosText.equals(single.get(0).path("SpecialToken").path("id").asText(null));
    }

    /** {@code "bos_token": "<s>"} or {@code {"content": "<s>", …}}, as an id of this vocabulary. */
    private static OptionalInt specialId(JsonNode token, String[] pieces) {
        String text = token.isTextual() ? token.asText() : token.path("content").asText(null);
        if (text == null) return OptionalInt.empty();
        for (int id = 0; id < pieces.length; id++) if (text.equals(pieces[id])) return OptionalInt.of(id);
        return OptionalInt.empty();
    }

    private static int idOf(Path file, String token, JsonNode id) {
        if (!id.canConvertToInt() || id.asInt() < 0) {
            throw bad(file, "gives token " + Chars.quote(token, 40) + " the id " + id + "; ids are non-negative integers");
        }
        return id.asInt();
    }

    private static JsonNode readJson(Path file, boolean gz) {
        try (InputStream raw = Files.newInputStream(file); InputStream in = gz ? new GZIPInputStream(raw) : raw) {
            return JSON.readTree(in);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw bad(file, "is not valid JSON (" + Chars.quote(e.getOriginalMessage(), 120) + "); the file is corrupt");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    private static IllegalArgumentException bad(Path file, String what) {
        return new IllegalArgumentException(file + " " + what);
    }
}
