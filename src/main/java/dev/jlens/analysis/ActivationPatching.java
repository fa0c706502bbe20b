package dev.jlens.analysis;

import dev.jlens.view.TokenText;
import dev.jlens.cache.HookNames;
import static org.nd4j.linalg.indexing.NDArrayIndex.all;
import static org.nd4j.linalg.indexing.NDArrayIndex.point;

import dev.jlens.cache.ActivationCache;
import dev.jlens.cache.CacheSpec;
import dev.jlens.model.Hook;
import dev.jlens.model.HookedTransformer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Activation patching (causal tracing; TransformerLens's {@code patching} module): run the
 * corrupted prompt, but put back one activation from the clean run, and see how much of the clean
 * answer returns. The metric is the logit difference {@code answer − wrong} at the last position,
 * reported normalised: {@code (patched − corrupted) / (clean − corrupted)}.
 *
 * <pre>{@code
 * var p = ActivationPatching.residPre(model, "When John and Mary went to the shops, John gave the bag to",
 *                                            "When John and Mary went to the shops, Mary gave the bag to", " Mary", " John");
 * p.show();
 * }</pre>
 *
 * <p>Clean and corrupted prompts must have the same number of tokens. The patched runs of one
 * sweep are batched: the corrupted prompt repeated, each row patched at a different place, in
 * chunks of {@value #CHUNK} rows.
 */
public final class ActivationPatching {
    private ActivationPatching() {}

    static final int CHUNK = 16;

    /**
     * The logit of {@code answer} minus the logit of {@code wrong} at {@code position}.
     *
     * @param wrong a token id, or -1 for the plain logit of {@code answer}
     */
    public record LogitDiff(int answer, int wrong, int position) {
        /** The metric of batch row {@code row} of {@code [batch, pos, d_vocab]} logits. */
        public double of(INDArray logits, int row) {
            int p = position < 0 ? (int) logits.size(1) + position : position;
            return logits.getDouble(row, p, answer) - (wrong >= 0 ? logits.getDouble(row, p, wrong) : 0);
        }

        /**
         * The metric of every row of a batch run with {@code hooks}. Only the metric's position is
         * unembedded: the run stops after the last block and that one residual vector per row is
         * decoded by {@link Unembed} — for GPT-2, 1/pos of the unembedding work.
         */
        double[] of(HookedTransformer model, INDArray tokens, List<Hook> hooks) {
            int layers = model.cfg().nLayers(), pos = (int) tokens.size(1);
            int p = position < 0 ? pos + position : position;
            var run = model.run(tokens, hooks, CacheSpec.only(HookNames.block(layers - 1, "hook_resid_post")), false);
            INDArray resid = run.cache().get("resid_post", layers - 1).get(all(), point(p), all());   // [batch, d_model]
            INDArray logits = Unembed.logits(model, resid);                                           // [batch, d_vocab]
            double[] out = new double[(int) logits.size(0)];
            for (int r = 0; r < out.length; r++) out[r] = logits.getDouble(r, answer) - (wrong >= 0 ? logits.getDouble(r, wrong) : 0);
            return out;
        }
    }

    /** {@code resid_pre} of every layer at every position (texts; answer and wrong are single tokens). */
    public static PatchingResult residPre(HookedTransformer model, String clean, String corrupted, String answer, String wrong) {
        return byLayerAndPosition(model, model.toTokens(clean), model.toTokens(corrupted), metric(model, answer, wrong), "resid_pre");
    }

    /** Attention and MLP outputs, each layer's at all positions at once: rows attn_out and mlp_out. */
    public static PatchingResult attnAndMlp(HookedTransformer model, String clean, String corrupted, String answer, String wrong) {
        INDArray c = model.toTokens(clean), x = model.toTokens(corrupted);
        LogitDiff m = metric(model, answer, wrong);
        PatchingResult attn = byLayer(model, c, x, m, "attn_out");
        if (model.cfg().attnOnly()) return attn;
        PatchingResult mlp = byLayer(model, c, x, m, "mlp_out");
        return new PatchingResult("attn_out and mlp_out by layer", List.of("attn_out", "mlp_out"), attn.colLabels(),
                new double[][] {attn.normalised()[0], mlp.normalised()[0]}, new double[][] {attn.patched()[0], mlp.patched()[0]},
                attn.clean(), attn.corrupted());
    }

    /** Every head's output ({@code z}) at all positions: layer × head. */
    public static PatchingResult heads(HookedTransformer model, String clean, String corrupted, String answer, String wrong) {
        return heads(model, model.toTokens(clean), model.toTokens(corrupted), metric(model, answer, wrong));
    }

    private static LogitDiff metric(HookedTransformer model, String answer, String wrong) {
        return new LogitDiff(model.toSingleToken(answer), wrong == null ? -1 : model.toSingleToken(wrong), -1);
    }

    /** One short activation name ({@code resid_pre}, {@code attn_out}, {@code mlp_out}, {@code resid_mid}, {@code resid_post}) per layer × position. */
    public static PatchingResult byLayerAndPosition(HookedTransformer model, INDArray clean, INDArray corrupted, LogitDiff metric, String act) {
        Setup s = setup(model, clean, corrupted, metric, act);
        int layers = model.cfg().nLayers(), pos = s.pos;
        double[][] patched = new double[layers][pos];
        for (int l = 0; l < layers; l++) {
            String name = hookName(act, l);
            INDArray cleanAct = s.cleanCache.get(name);                                        // [1, pos, d]
            final int layer = l;
            sweep(model, s.corrupted, pos, (from, to) -> List.of(Hook.hook(name, (a, h) -> {
                for (int b = 0; b < to - from; b++) {
                    a.get(point(b), point(from + b), all()).assign(cleanAct.get(point(0), point(from + b), all()));
                }
                return null;
            })), metric, patched[layer]);
        }
        return s.result(act + " by layer × position", layers(layers), positions(model, clean, corrupted), patched);
    }

    /** One activation per layer, patched at all positions at once. */
    public static PatchingResult byLayer(HookedTransformer model, INDArray clean, INDArray corrupted, LogitDiff metric, String act) {
        Setup s = setup(model, clean, corrupted, metric, act);
        int layers = model.cfg().nLayers();
        double[] row = new double[layers];
        sweep(model, s.corrupted, layers, (from, to) -> {
            List<Hook> hooks = new ArrayList<>();
            for (int l = from; l < to; l++) {
                String name = hookName(act, l);
                INDArray cleanAct = s.cleanCache.get(name);
                final int b = l - from;
                hooks.add(Hook.hook(name, (a, h) -> {
                    a.get(point(b), all(), all()).assign(cleanAct.get(point(0), all(), all()));
                    return null;
                }));
            }
            return hooks;
        }, metric, row);
        return s.result(act + " by layer", List.of(act), layers(layers), new double[][] {row});
    }

    /** Each head's {@code z} at all positions: layer × head. */
    public static PatchingResult heads(HookedTransformer model, INDArray clean, INDArray corrupted, LogitDiff metric) {
        Setup s = setup(model, clean, corrupted, metric, "z");
        int layers = model.cfg().nLayers(), heads = model.cfg().nHeads();
        double[][] patched = new double[layers][heads];
        for (int l = 0; l < layers; l++) {
            String name = hookName("z", l);
            INDArray cleanZ = s.cleanCache.get(name);                                          // [1, pos, head, d_head]
            sweep(model, s.corrupted, heads, (from, to) -> List.of(Hook.hook(name, (a, h) -> {
                for (int b = 0; b < to - from; b++) {
                    a.get(point(b), all(), point(from + b), all()).assign(cleanZ.get(point(0), all(), point(from + b), all()));
                }
                return null;
            })), metric, patched[l]);
        }
        List<String> cols = new ArrayList<>();
        for (int h = 0; h < heads; h++) cols.add("H" + h);
        return s.result("head outputs (z) by layer × head", layers(layers), cols, patched);
    }

    /**
     * The logits of the corrupted prompt with one activation taken from a clean cache: at one
     * position (or all, -1) and for one head (or all, -1; heads only for {@code z}-shaped hooks).
     */
    public static INDArray runPatched(HookedTransformer model, INDArray corrupted, ActivationCache cleanCache, String hookName,
                                      int position, int head) {
        INDArray cleanAct = cleanCache.get(hookName);
        return model.runWithHooks(Prompts.batchOfOne(corrupted), Hook.hook(hookName, (a, h) -> {
            INDArray from = cleanAct, to = a;
            if (position >= 0) {
                from = from.get(all(), point(position));
                to = to.get(all(), point(position));
            }
            if (head >= 0) {
                // z is [batch, pos, head, d_head]; after a position index the head axis moved one left.
                int axis = position >= 0 ? 1 : 2;
                from = slice(from, axis, head);
                to = slice(to, axis, head);
            }
            to.assign(from);
            return null;
        }));
    }

    private static INDArray slice(INDArray a, int axis, int index) {
        org.nd4j.linalg.indexing.INDArrayIndex[] idx = new org.nd4j.linalg.indexing.INDArrayIndex[a.rank()];
        Arrays.fill(idx, all());
        idx[axis] = point(index);
        return a.get(idx);
    }

    // ------------------------------------------------------------------ plumbing

    private interface Patches {
        List<Hook> rows(int from, int to);
    }

    /** Runs {@code n} patched copies of the corrupted prompt in chunks; row i's metric goes to {@code out[i]}. */
    private static void sweep(HookedTransformer model, INDArray corrupted, int n, Patches patches, LogitDiff metric, double[] out) {
        long[] ids = Prompts.ids(corrupted);
        for (int from = 0; from < n; from += CHUNK) {
            int to = Math.min(n, from + CHUNK);
            long[][] rows = new long[to - from][];
            for (int i = 0; i < rows.length; i++) rows[i] = ids;
            double[] values = metric.of(model, Nd4j.createFromArray(rows), patches.rows(from, to));
            System.arraycopy(values, 0, out, from, values.length);
        }
    }

    private record Setup(INDArray corrupted, ActivationCache cleanCache, double clean, double corruptedValue, int pos) {
        PatchingResult result(String what, List<String> rows, List<String> cols, double[][] patched) {
            double[][] norm = new double[patched.length][];
            for (int r = 0; r < patched.length; r++) {
                norm[r] = new double[patched[r].length];
                for (int c = 0; c < patched[r].length; c++) norm[r][c] = (patched[r][c] - corruptedValue) / (clean - corruptedValue);
            }
            return new PatchingResult(what, rows, cols, norm, patched, clean, corruptedValue);
        }
    }

    private static Setup setup(HookedTransformer model, INDArray clean, INDArray corrupted, LogitDiff metric, String act) {
        INDArray c = Prompts.batchOfOne(clean), x = Prompts.batchOfOne(corrupted);
        if (c.length() != x.length()) {
            throw new IllegalArgumentException("clean and corrupted prompts must have the same number of tokens: " + c.length()
                    + " and " + x.length());
        }
        var cleanCache = model.run(c, List.of(), CacheSpec.only(act), false).cache();
        // Clean and corrupted metrics on the same path as the patched runs, so 1 and 0 are exact.
        double cv = metric.of(model, c, List.of())[0], xv = metric.of(model, x, List.of())[0];
        return new Setup(x, cleanCache, cv, xv, (int) c.length());
    }

    private static String hookName(String act, int layer) {
        return dev.jlens.cache.HookNames.resolve(act, layer, null, Integer.MAX_VALUE);
    }

    private static List<String> layers(int n) {
        List<String> out = new ArrayList<>();
        for (int l = 0; l < n; l++) out.add("L" + l);
        return out;
    }

    /** Column labels: the clean token, and the corrupted one after a slash where they differ. */
    private static List<String> positions(HookedTransformer model, INDArray clean, INDArray corrupted) {
        List<String> c = Prompts.strs(model, clean), x = Prompts.strs(model, corrupted);
        List<String> out = new ArrayList<>();
        for (int i = 0; i < c.size(); i++) {
            String ci = TokenText.visible(c.get(i)), xi = TokenText.visible(x.get(i));
            out.add(ci.equals(xi) ? ci : ci + "/" + xi);
        }
        return out;
    }
}
