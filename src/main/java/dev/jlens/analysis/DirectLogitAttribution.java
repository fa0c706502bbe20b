package dev.jlens.analysis;

import dev.jlens.cache.HookNames;
import dev.jlens.model.HookedTransformer;
import dev.jlens.model.Run;
import dev.jlens.view.Table;
import dev.jlens.view.BarChart;
import dev.jlens.view.Bars;
import dev.jlens.view.ChartFigure;
import dev.jlens.view.PngCharts;
import dev.jlens.view.TerminalStyle;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Direct logit attribution: the final residual stream at one position is a sum of what each
 * component wrote — token embedding, position embedding, every head ({@code z_h·W_O[h]}), every
 * attention output bias {@code b_O}, every MLP output — so the logit of a token (or a logit
 * difference) is a sum of one number per component.
 *
 * <p>The final LayerNorm, exactly as TransformerLens's {@code cache.apply_ln_to_stack} treats it:
 * each component is centred (its mean over d_model subtracted) and divided by the final
 * LayerNorm's cached scale {@code ln_final.hook_scale} at that position — the scale of the whole
 * residual, so the map is linear in the components. Then, since jlens does not fold the LayerNorm
 * weight into {@code W_U} as TransformerLens does by default, each component is projected on
 * {@code w_ln ⊙ u}, where {@code u} is the token's unembedding column {@code W_U[:, t]} (or the
 * difference of two columns). What no component wrote — {@code b_ln·u + b_U[t]} — is its own
 * component, "bias". Written out, component {@code c} contributes
 * {@code (c − mean(c))·(w_ln ⊙ u) / scale}, and the contributions sum to the model's logit (or
 * logit difference) at that position up to float rounding. Without LayerNorm it is {@code c·u}.
 *
 * <pre>{@code
 * var dla = DirectLogitAttribution.of(model, "When Mary and John went to the store, John gave a drink to", " Mary", " John");
 * System.out.println(dla);       // components sorted by |contribution|
 * dla.heads().show();            // layer × head heatmap
 * }</pre>
 *
 * @param target        what is attributed ("logit of ' Mary'" or "' Mary' − ' John'")
 * @param position      the position read
 * @param components    "embed", "pos_embed", "L0H0", …, "L0 b_O", "L0 mlp", …, "bias"
 * @param contributions one number per component
 * @param modelValue    the model's own logit (or logit difference) at the position
 * @param nLayers       layers, for {@link #heads()}
 * @param nHeads        heads per layer
 */
public record DirectLogitAttribution(String target, int position, List<String> components, double[] contributions,
                                     double modelValue, int nLayers, int nHeads) implements ChartFigure {

    /** The logit of {@code token} (one token's text) at the prompt's last position. */
    public static DirectLogitAttribution of(HookedTransformer model, String prompt, String token) {
        INDArray tokens = model.toTokens(prompt);
        return of(model, tokens, (int) tokens.length() - 1, model.toSingleToken(token), -1);
    }

    /** The logit difference {@code answer − wrong} at the prompt's last position. */
    public static DirectLogitAttribution of(HookedTransformer model, String prompt, String answer, String wrong) {
        INDArray tokens = model.toTokens(prompt);
        return of(model, tokens, (int) tokens.length() - 1, model.toSingleToken(answer), model.toSingleToken(wrong));
    }

    /**
     * A logit before Gemma 2's final soft cap ({@code cap·atanh(logit/cap)}): the components add up to that,
     * since the cap is applied after the sum. Other models' logits are returned as they are.
     */
    private static double uncapped(HookedTransformer model, double logit) {
        double cap = model.cfg().arch().finalSoftCap();
        if (cap == 0) return logit;
        double t = logit / cap;
        return cap * 0.5 * Math.log((1 + t) / (1 - t));
    }

    public static DirectLogitAttribution of(HookedTransformer model, INDArray tokens, int position, int answer, int wrong) {
        List<String> record = new ArrayList<>(List.of("hook_embed", "z"));
        if (model.hookNames().contains("hook_pos_embed")) record.add("hook_pos_embed");
        if (!model.cfg().attnOnly()) record.add("mlp_out");
        if (model.cfg().hasNorm()) record.add("ln_final.hook_scale");
        if (model.cfg().arch().postNorms()) record.add("blocks.*.ln1_post.hook_scale");
        return of(model, model.runWithCache(Prompts.batchOfOne(tokens), true, record.toArray(String[]::new)), position, answer, wrong);
    }

    /** The logit difference {@code answer − wrong} at the last position of a run (as {@code runWithCache(prompt)} gives). */
    public static DirectLogitAttribution of(HookedTransformer model, Run run, String answer, String wrong) {
        return of(model, run, -1, model.toSingleToken(answer), model.toSingleToken(wrong));
    }

    /** The logit of {@code token} at the last position of a run. */
    public static DirectLogitAttribution of(HookedTransformer model, Run run, String token) {
        return of(model, run, -1, model.toSingleToken(token), -1);
    }

    /**
     * In a run that recorded the embeddings, every layer's {@code z} and {@code mlp_out}, and the norms' scales, and
     * computed the logits (as {@code runWithCache(prompt)} does).
     *
     * @param position the position read (negative counts from the end)
     * @param answer   the token id whose logit is attributed
     * @param wrong    a token id whose logit is subtracted, or -1 for the plain logit
     */
    public static DirectLogitAttribution of(HookedTransformer model, Run run, int position, int answer, int wrong) {
        INDArray toks = Prompts.tokens(run);
        int pos = (int) toks.length();
        int p = position < 0 ? position + pos : position;
        if (p < 0 || p >= pos) throw new IndexOutOfBoundsException("position " + position + " of " + pos + " tokens");
        int layers = model.cfg().nLayers(), heads = model.cfg().nHeads(), dHead = model.cfg().dHead(), d = model.cfg().dModel();
        boolean ln = model.cfg().hasNorm(), centred = model.cfg().hasLayerNorm();
        boolean learnedPositions = model.hookNames().contains("hook_pos_embed");
        boolean postNorms = model.cfg().arch().postNorms();

        // The direction the logit (difference) reads, and what it reads without any component.
        INDArray u = model.W_U().getColumn(answer).dup();
        double constant = model.b_U().getDouble(answer);
        if (wrong >= 0) {
            u.subi(model.W_U().getColumn(wrong));
            constant -= model.b_U().getDouble(wrong);
        }
        double scale = 1;
        INDArray dir = u;
        if (centred) {
            constant += model.param("ln_final.b").castTo(DataType.DOUBLE).mul(u.castTo(DataType.DOUBLE)).sumNumber().doubleValue();
            dir = u.mul(model.param("ln_final.w"));
            dir.subi(dir.meanNumber());                 // projecting on a centred direction = centring each component
            scale = run.cache().get("ln_final.hook_scale").getDouble(0, p, 0);
        } else if (ln) {
            dir = u.mul(Unembed.finalNormWeight(model)); // RMSNorm: no centring and no bias, only the scale
            scale = run.cache().get("ln_final.hook_scale").getDouble(0, p, 0);
        }
        INDArray dirCol = dir.reshape(d, 1);

        List<String> names = new ArrayList<>();
        List<Double> values = new ArrayList<>();
        names.add("embed");
        values.add(dot(run.cache().get("hook_embed"), p, dirCol) / scale);
        if (learnedPositions) {                          // rotary models put positions inside attention, not in the stream
            names.add("pos_embed");
            values.add(dot(run.cache().get("hook_pos_embed"), p, dirCol) / scale);
        }
        for (int l = 0; l < layers; l++) {
            // Each head's z at the position times W_O[h]·dir: one [heads·d_head] product per layer. With Gemma 2's
            // norm after attention, the heads' sum is divided by that norm's cached scale and times its weight:
            // still linear in each head once the scale is fixed, as for the final norm.
            INDArray layerDir = dirCol;
            double postScale = 1;
            if (postNorms) {
                INDArray w = model.param(HookNames.block(l, "ln1_post.w"));
                layerDir = dirCol.mul((model.cfg().arch().normPlusOne() ? w.add(1f) : w).reshape(d, 1));
                postScale = run.cache().get(HookNames.block(l, "ln1_post.hook_scale")).getDouble(0, p, 0);
            }
            INDArray readOut = model.W_O(l).reshape((long) heads * dHead, d).mmul(layerDir).reshape(heads, dHead);
            INDArray z = run.cache().get("z", l).get(NDArrayIndex.point(0), NDArrayIndex.point(p), NDArrayIndex.all(), NDArrayIndex.all());
            double[] perHead = z.mul(readOut).sum(1).castTo(DataType.DOUBLE).toDoubleVector();
            for (int h = 0; h < heads; h++) {
                names.add("L" + l + "H" + h);
                values.add(perHead[h] / postScale / scale);
            }
            names.add("L" + l + " b_O");
            values.add(model.b_O(l).reshape(1, d).mmul(layerDir).getDouble(0) / postScale / scale);
            if (!model.cfg().attnOnly()) {
                names.add("L" + l + " mlp");
                values.add(dot(run.cache().get("mlp_out", l), p, dirCol) / scale);
            }
        }
        names.add("bias");
        values.add(constant);

        INDArray logits = Prompts.logits(run);
        double own = uncapped(model, logits.getDouble(0, p, answer)) - (wrong >= 0 ? uncapped(model, logits.getDouble(0, p, wrong)) : 0);
        String what = wrong >= 0
                ? "'" + Prompts.str(model, answer) + "' − '" + Prompts.str(model, wrong) + "'"
                : "logit of '" + Prompts.str(model, answer) + "'";
        return new DirectLogitAttribution(what, p, names, values.stream().mapToDouble(Double::doubleValue).toArray(), own, layers, heads);
    }

    private static double dot(INDArray act, int p, INDArray dirCol) {
        INDArray row = act.get(NDArrayIndex.point(0), NDArrayIndex.point(p), NDArrayIndex.all());
        return row.reshape(1, row.length()).mmul(dirCol).getDouble(0);
    }

    /** Σ contributions: equals {@link #modelValue()} up to float rounding. */
    public double total() {
        double s = 0;
        for (double c : contributions) s += c;
        return s;
    }

    public double get(String component) {
        int i = components.indexOf(component);
        if (i < 0) throw new IllegalArgumentException("no component " + component + "; components: " + components);
        return contributions[i];
    }

    /** The heads' contributions as {@code [layer][head]}, for a heatmap. */
    public HeadScores heads() {
        double[][] s = new double[nLayers][nHeads];
        for (int l = 0; l < nLayers; l++) for (int h = 0; h < nHeads; h++) s[l][h] = get("L" + l + "H" + h);
        return new HeadScores("direct effect on " + target, s);
    }

    public BarChart chart() {
        return new BarChart("Direct logit attribution: " + target + " at position " + position, components, contributions, "contribution");
    }

    @Override
    public String toText(TerminalStyle style) {
        Integer[] order = new Integer[contributions.length];
        for (int i = 0; i < order.length; i++) order[i] = i;
        java.util.Arrays.sort(order, Comparator.comparingDouble(i -> -Math.abs(contributions[i])));
        double max = Math.abs(contributions[order[0]]);
        Table t = new Table("component", "contribution", "");
        int shown = Math.min(order.length, 20);
        for (int i = 0; i < shown; i++) {
            double c = contributions[order[i]];
            t.row(components.get(order[i]), c, (c < 0 ? "-" : "+") + Bars.bar(max == 0 ? 0 : Math.abs(c) / max, 30));
        }
        return String.format("Direct logit attribution of %s at position %d: Σ components %.4f, model %.4f%n", target, position,
                total(), modelValue) + t + (shown < order.length ? "… " + (order.length - shown) + " smaller components\n" : "");
    }

    @Override
    public BufferedImage image() {
        return PngCharts.barsImage(chart());
    }

    @Override
    public String figureName() {
        return "dla";
    }

    @Override
    public String toString() {
        return toText();
    }
}
