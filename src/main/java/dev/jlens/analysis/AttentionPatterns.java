package dev.jlens.analysis;

import dev.jlens.view.TokenText;
import dev.jlens.cache.HookNames;
import dev.jlens.cache.ActivationCache;
import dev.jlens.model.HookedTransformer;
import dev.jlens.model.Run;
import dev.jlens.view.Table;
import dev.jlens.view.Browser;
import dev.jlens.view.ColourScale;
import dev.jlens.view.Heatmap;
import dev.jlens.view.HeatmapFigure;
import dev.jlens.view.HtmlPages;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The attention patterns of every head of a layer (or of all layers) on one prompt, for looking
 * at: CircuitsVis's {@code attention_patterns} as a self-contained page ({@link #show()}), one head
 * as a heatmap ({@link #head(int)}), and a summary table in the terminal.
 *
 * <pre>{@code
 * var attn = AttentionPatterns.of(model, "The cat sat on the mat. The cat", 1);
 * attn.show();                          // grid of heads; hover a token
 * }</pre>
 *
 * @param tokens    the prompt's tokens
 * @param headNames "L1H0", "L1H1", …
 * @param patterns  {@code [head][query][key]} attention weights
 */
public record AttentionPatterns(List<String> tokens, List<String> headNames, float[][][] patterns) {

    /** Every head of {@code layer} (negative counts from the end). */
    public static AttentionPatterns of(HookedTransformer model, String prompt, int layer) {
        return of(model, model.toTokens(prompt), layer);
    }

    public static AttentionPatterns of(HookedTransformer model, INDArray tokens, int layer) {
        int l = dev.jlens.cache.HookNames.checkLayer(layer, model.cfg().nLayers());
        INDArray toks = Prompts.batchOfOne(tokens);
        return of(model, model.runWithCache(toks, false, HookNames.block(l, "attn.hook_pattern")), l);
    }

    /** Every head of {@code layer} in a run that recorded its pattern (as {@code runWithCache(prompt)} does). */
    public static AttentionPatterns of(HookedTransformer model, Run run, int layer) {
        int l = dev.jlens.cache.HookNames.checkLayer(layer, model.cfg().nLayers());
        return fromCache(model, Prompts.tokens(run), run.cache(), List.of(l));
    }

    /** Every head of every layer. */
    public static AttentionPatterns all(HookedTransformer model, String prompt) {
        return all(model, model.runWithCache(model.toTokens(prompt), false, "pattern"));
    }

    /** Every head of every layer in a run that recorded the patterns. */
    public static AttentionPatterns all(HookedTransformer model, Run run) {
        INDArray toks = Prompts.tokens(run);
        List<Integer> layers = new ArrayList<>();
        for (int l = 0; l < model.cfg().nLayers(); l++) layers.add(l);
        return fromCache(model, toks, run.cache(), layers);
    }

    /** The patterns of {@code layers} from a one-prompt cache that recorded them. */
    public static AttentionPatterns fromCache(HookedTransformer model, INDArray tokens, ActivationCache cache, List<Integer> layers) {
        int heads = model.cfg().nHeads();
        List<String> names = new ArrayList<>();
        float[][][] p = new float[layers.size() * heads][][];
        int i = 0;
        for (int l : layers) {
            INDArray pattern = Prompts.first(cache.get("pattern", l)).castTo(DataType.FLOAT);   // [head, query, key]
            for (int h = 0; h < heads; h++) {
                names.add("L" + l + "H" + h);
                p[i++] = LinAlg.toFloat2d(pattern.slice(h));
            }
        }
        return new AttentionPatterns(Prompts.strs(model, tokens), names, p);
    }

    /** One head's pattern as a heatmap: rows are queries (attending), columns keys (attended to). */
    public HeatmapFigure head(int index) {
        int n = tokens.size();
        double[][] v = new double[n][n];
        for (int q = 0; q < n; q++) for (int k = 0; k < n; k++) v[q][k] = k <= q ? patterns[index][q][k] : Double.NaN;
        Heatmap h = new Heatmap(headNames.get(index) + " attention (row: query, column: key)", TokenText.visible(tokens), TokenText.visible(tokens), null, v, null,
                ColourScale.unit(), "attention");
        return HeatmapFigure.of(h, "attention-" + headNames.get(index));
    }

    /** One head by name ("L1H3"). */
    public HeatmapFigure head(String name) {
        int i = headNames.indexOf(name);
        if (i < 0) throw new IllegalArgumentException("no head " + name + "; heads: " + headNames);
        return head(i);
    }

    /** The CircuitsVis-style page. */
    public String html() {
        return HtmlPages.attention("Attention patterns: " + headNames.get(0) + (headNames.size() > 1 ? "…" + headNames.get(headNames.size() - 1) : ""),
                tokens, headNames, patterns);
    }

    public Path saveHtml(Path file) {
        return HtmlPages.write(file, html());
    }

    public Path saveHtml(String file) {
        return saveHtml(Path.of(file));
    }

    /** Writes the page and opens it in the browser (or prints where it is). */
    public Path show() {
        return Browser.show("attention", html());
    }

    /**
     * Per head, the mean attention each query pays to the first token, to itself and to the token
     * before it, and the mean entropy of its rows: enough to spot BOS-sinks, self and
     * previous-token heads without a picture.
     */
    public Table summary() {
        Table t = new Table("head", "to first", "to self", "to previous", "entropy (nats)");
        int n = tokens.size();
        for (int h = 0; h < patterns.length; h++) {
            double first = 0, self = 0, prev = 0, entropy = 0;
            for (int q = 0; q < n; q++) {
                first += patterns[h][q][0];
                self += patterns[h][q][q];
                if (q > 0) prev += patterns[h][q][q - 1];
                for (int k = 0; k <= q; k++) {
                    double a = patterns[h][q][k];
                    if (a > 0) entropy -= a * Math.log(a);
                }
            }
            t.row(headNames.get(h), first / n, self / n, n > 1 ? prev / (n - 1) : Double.NaN, entropy / n);
        }
        return t;
    }

    @Override
    public String toString() {
        return "Attention of " + patterns.length + " heads over " + tokens.size() + " tokens (head(i) draws one, show() opens the page)\n"
                + summary();
    }
}
