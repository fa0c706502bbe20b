package dev.jlens.cache;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * TransformerLens's hook-name conventions: the shorthand of {@code utils.get_act_name}, layer
 * parsing, and "did you mean" suggestions for names that do not exist.
 */
public final class HookNames {
    private HookNames() {}

    /** {@code blocks.{layer}.{rest}}: the one place a block's hook or parameter name is spelled. */
    public static String block(int layer, String rest) {
        return blockPrefix(layer) + rest;
    }

    /** {@code blocks.{layer}.}, for names built from one prefix. */
    public static String blockPrefix(int layer) {
        return "blocks." + layer + ".";
    }

    private static final Map<String, String> ACT_ALIASES = Map.of(
            "attn", "pattern", "attn_logits", "attn_scores", "key", "k", "query", "q", "value", "v",
            "mlp_pre", "pre", "mlp_mid", "mid", "mlp_post", "post");
    private static final Map<String, String> SUBLAYER_ALIASES = Map.of(
            "a", "attn", "m", "mlp", "b", "", "block", "", "blocks", "", "attention", "attn");
    private static final Set<String> ATTN_ACTS =
            Set.of("k", "v", "q", "z", "rot_k", "rot_q", "result", "pattern", "attn_scores");
    private static final Set<String> MLP_ACTS = Set.of("pre", "post", "mid", "pre_linear");
    private static final Set<String> NORM_ACTS = Set.of("scale", "normalized");
    private static final Pattern LAYER = Pattern.compile("^blocks\\.(\\d+)\\.");
    private static final Pattern NAME_WITH_LAYER = Pattern.compile("^([a-z_]+?)(\\d+)([a-z]*)$");

    /**
     * The full hook name for TransformerLens shorthand, exactly as {@code get_act_name} builds it:
     * {@code ("pattern", 5)} → {@code blocks.5.attn.hook_pattern}, {@code ("normalized", 0, "ln2")}
     * → {@code blocks.0.ln2.hook_normalized}, {@code ("normalized")} → {@code ln_final.hook_normalized},
     * {@code ("pattern3")} → {@code blocks.3.attn.hook_pattern}. A negative layer counts from the end.
     *
     * @param layer    the block, or {@code null} for names outside the blocks
     * @param sublayer {@code attn}, {@code mlp}, {@code ln1}, {@code ln2}, an alias (a, m, b), or {@code null}
     * @param nLayers  the model's layer count, to resolve negative layers and reject those out of range
     */
    public static String resolve(String name, Integer layer, String sublayer, int nLayers) {
        if (name == null || name.isBlank()) throw new IllegalArgumentException("empty hook name");
        if ((name.contains(".") || name.startsWith("hook_")) && layer == null && sublayer == null) return name;
        if (layer == null && sublayer == null) {
            Matcher m = NAME_WITH_LAYER.matcher(name);
            if (m.matches() && !name.startsWith("hook_")) {
                name = m.group(1);
                layer = Integer.parseInt(m.group(2));
                sublayer = m.group(3).isEmpty() ? null : m.group(3);
            }
        }
        if (layer != null) layer = checkLayer(layer, nLayers);
        String act = ACT_ALIASES.getOrDefault(name, name);
        String type;
        if (ATTN_ACTS.contains(act)) type = "attn";
        else if (MLP_ACTS.contains(act)) type = "mlp";
        else if (sublayer != null) type = SUBLAYER_ALIASES.getOrDefault(sublayer, sublayer);
        else type = "";
        StringBuilder full = new StringBuilder();
        if (layer != null) full.append(blockPrefix(layer));
        if (!type.isEmpty()) full.append(type).append('.');
        full.append("hook_").append(act);
        if (NORM_ACTS.contains(act) && layer == null) full.insert(0, "ln_final.");
        return full.toString();
    }

    /** A layer index in {@code [0, nLayers)}, counting a negative one from the end. */
    public static int checkLayer(int layer, int nLayers) {
        int resolved = layer < 0 ? nLayers + layer : layer;
        if (resolved < 0 || resolved >= nLayers) {
            throw new IndexOutOfBoundsException("layer " + layer + " is out of range: the model has " + nLayers
                    + " layers, 0.." + (nLayers - 1) + " (or -" + nLayers + "..-1 from the end)");
        }
        return resolved;
    }

    /** The block a full hook name belongs to, or -1 ({@code hook_embed}, {@code ln_final.hook_scale}). */
    public static int layerOf(String fullName) {
        Matcher m = LAYER.matcher(fullName);
        return m.find() ? Integer.parseInt(m.group(1)) : -1;
    }

    /**
     * Up to {@code max} valid names closest to {@code wanted}: first those that end with what was
     * typed after the last dot (so {@code hook_patern} finds every layer's {@code hook_pattern}
     * only if spelled right), then by edit distance.
     */
    public static List<String> closest(String wanted, Collection<String> valid, int max) {
        String w = wanted.toLowerCase(Locale.ROOT);
        List<String> ranked = new ArrayList<>(valid);
        ranked.sort(Comparator.comparingInt((String v) -> distance(w, v.toLowerCase(Locale.ROOT)))
                .thenComparing(Comparator.naturalOrder()));
        return ranked.subList(0, Math.min(max, ranked.size()));
    }

    /** The error for a name that is not a hook point, listing the closest ones that are. */
    public static IllegalArgumentException unknown(String wanted, Collection<String> valid) {
        return new IllegalArgumentException("no hook point named '" + wanted + "'; closest: "
                + String.join(", ", closest(wanted, valid, 5))
                + " (hooks() or model.hookNames() lists all " + valid.size() + ")");
    }

    /** Levenshtein distance; the names are short, so the quadratic table is fine. */
    static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1], cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) prev[j] = j;
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int sub = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                cur[j] = Math.min(sub, Math.min(prev[j] + 1, cur[j - 1] + 1));
            }
            int[] t = prev; prev = cur; cur = t;
        }
        return prev[b.length()];
    }
}
