package dev.jlens.analysis;

import dev.jlens.cache.CacheSpec;
import dev.jlens.cache.HookNames;
import dev.jlens.model.HookedTransformer;
import dev.jlens.model.Run;
import dev.jlens.sae.SAE;
import dev.jlens.view.Bars;
import dev.jlens.view.ColourScale;
import dev.jlens.view.Heatmap;
import dev.jlens.view.HeatmapFigure;
import dev.jlens.view.HtmlPages;
import dev.jlens.view.Table;
import dev.jlens.view.TerminalStyle;
import dev.jlens.view.Token;
import dev.jlens.view.TokenText;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * One SAE feature the way a Neuronpedia dashboard shows it: the tokens of a prompt coloured by the feature's
 * activation, the tokens its decoder direction promotes and suppresses through {@code W_U}, and, from a
 * {@link dev.jlens.sae.FeatureStatistics} run over a corpus, its density, its activation histogram and its max-activating contexts
 * (each coloured token by token). Prints as coloured text, saves as PNG, and {@link #show()} opens the HTML page.
 *
 * <pre>{@code
 * var d = FeatureDashboard.of(model, sae, 12, "ROMEO: But soft").withContexts(model, sae, FeatureContexts.open(dir));
 * d.show();
 * }</pre>
 *
 * @param sae        the SAE, in words
 * @param feature    the feature's index
 * @param prompt     the prompt's tokens (empty when none was given)
 * @param promptActs the feature's activation at each prompt token
 * @param promoted   the tokens {@code W_dec[f]·W_U} raises most, with their logit weights
 * @param suppressed the tokens it lowers most
 * @param density    the fraction of corpus tokens it fires on (NaN without a corpus run)
 * @param binEdges   the histogram's bin edges (empty without a corpus run)
 * @param histogram  counts of positive activations per bin
 * @param contexts   its max-activating contexts, largest first
 */
public record FeatureDashboard(String sae, int feature, List<String> prompt, double[] promptActs, List<Logit> promoted,
                               List<Logit> suppressed, double density, double[] binEdges, long[] histogram,
                               List<Context> contexts) implements HeatmapFigure {

    /** A token and the logit weight the feature's direction gives it. */
    public record Logit(@Token String token, double weight) {}

    /** A corpus window around a max: its tokens, the feature's activation at each, and where the max is. */
    public record Context(double max, int sample, int position, List<String> tokens, double[] acts, int maxIndex) {}

    /** The feature on a prompt: its activations there and its logit weights. */
    public static FeatureDashboard of(HookedTransformer model, SAE sae, int feature, String prompt) {
        return of(model, sae, feature, model.runWithCache(model.toTokens(prompt), false, sae.hookName()));
    }

    /** The feature on a run that recorded the SAE's hook (as {@code runWithCache(prompt)} does). */
    public static FeatureDashboard of(HookedTransformer model, SAE sae, int feature, Run run) {
        sae.feature(feature);   // checks the index
        INDArray acts = sae.encode(run.cache().get(sae.hookName())).get(NDArrayIndex.point(0), NDArrayIndex.all(), NDArrayIndex.point(feature));
        List<Logit> up = new ArrayList<>(), down = new ArrayList<>();
        logits(model, sae, feature, 10, up, down);
        return new FeatureDashboard(sae.toString(), feature, Prompts.strs(model, Prompts.tokens(run)), acts.castTo(DataType.DOUBLE).toDoubleVector(),
                up, down, Double.NaN, new double[0], new long[0], List.of());
    }

    /**
     * With the feature's corpus statistics and its top contexts, {@code before}/{@code after} 8/4 tokens around each max;
     * each context's activations are recomputed on its whole sample, so earlier tokens count as in the run.
     */
    public FeatureDashboard withContexts(HookedTransformer model, SAE sae, dev.jlens.sae.FeatureStatistics results) {
        if (!results.hookName().equals(sae.hookName())) {
            throw new IllegalArgumentException("these contexts are of an SAE at " + results.hookName() + ", not " + sae.hookName());
        }
        List<dev.jlens.sae.FeatureStatistics.TopContext> top = results.top(feature, 8, 4);
        List<Context> cs = new ArrayList<>();
        if (!top.isEmpty()) {
            // Every context's whole sample in one run (a corpus run's samples share their length): [contexts, length].
            long[][] ids = new long[top.size()][];
            for (int i = 0; i < ids.length; i++) ids[i] = java.util.Arrays.stream(results.sampleTokens(top.get(i).sample())).asLongStream().toArray();
            Run run = model.run(Nd4j.createFromArray(ids), List.of(), CacheSpec.only(sae.hookName()), false);
            double[][] acts = LinAlg.toDouble(sae.encode(run.cache().get(sae.hookName()))
                    .get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.point(feature)));
            for (int i = 0; i < ids.length; i++) {
                dev.jlens.sae.FeatureStatistics.TopContext c = top.get(i);
                int from = c.position() - c.maxIndex();
                List<String> toks = new ArrayList<>();
                for (int id : c.tokenIds()) toks.add(model.tokenText(id));
                cs.add(new Context(c.value(), c.sample(), c.position(), toks,
                        java.util.Arrays.copyOfRange(acts[i], from, from + c.tokenIds().length), c.maxIndex()));
            }
        }
        double[] edges = results.binEdges();
        return new FeatureDashboard(this.sae, feature, prompt, promptActs, promoted, suppressed, results.density(feature), edges,
                results.histogram(feature), cs);
    }

    /** The feature's decoder direction in the residual stream, read through the unembedding (no final norm, as dashboards do). */
    private static void logits(HookedTransformer model, SAE sae, int feature, int n, List<Logit> up, List<Logit> down) {
        INDArray dir = sae.feature(feature).direction();
        int d = model.cfg().dModel();
        if (sae.cfg().readsZ()) {
            // z-space [n_heads·d_head] → what the heads write: Σ_h z_h · W_O[h].
            int layer = HookNames.layerOf(sae.hookName());
            dir = dir.reshape(1, dir.length()).mmul(model.W_O(layer).reshape('c', dir.length(), d)).reshape(d);
        }
        if (dir.length() != d) return;   // not in the residual stream's space (e.g. an MLP's hidden layer): no logits
        float[] logits = dir.reshape(1, d).mmul(model.W_U()).reshape(model.cfg().dVocab()).toFloatVector();
        int[] top = Distributions.topK(logits, n);
        float[] neg = logits.clone();
        for (int i = 0; i < neg.length; i++) neg[i] = -neg[i];
        int[] bottom = Distributions.topK(neg, n);
        for (int t : top) up.add(new Logit(Prompts.str(model, t), logits[t]));
        for (int t : bottom) down.add(new Logit(Prompts.str(model, t), logits[t]));
    }

    @Override
    public String figureName() {
        return "feature-" + feature;
    }

    @Override
    public Heatmap heatmap() {
        return panels().get(0);
    }

    @Override
    public List<Heatmap> panels() {
        List<Heatmap> out = new ArrayList<>();
        double max = 0;
        for (double a : promptActs) max = Math.max(max, a);
        for (Context c : contexts) max = Math.max(max, c.max());
        ColourScale scale = new ColourScale(0, max > 0 ? max : 1, false, dev.jlens.view.Palette.VIRIDIS);
        if (!prompt.isEmpty()) {
            List<String> cols = new ArrayList<>();
            for (int i = 0; i < prompt.size(); i++) cols.add(Integer.toString(i));
            String[][] text = {TokenText.visible(prompt).toArray(String[]::new)};
            out.add(new Heatmap("Feature " + feature + " on the prompt", List.of("prompt"), cols, null, new double[][] {promptActs}, text,
                    scale, "activation"));
        }
        if (!contexts.isEmpty()) {
            int before = 0, after = 0;
            for (Context c : contexts) {
                before = Math.max(before, c.maxIndex());
                after = Math.max(after, c.tokens().size() - c.maxIndex() - 1);
            }
            List<String> cols = new ArrayList<>(), rows = new ArrayList<>();
            for (int o = -before; o <= after; o++) cols.add(o == 0 ? "max" : (o > 0 ? "+" : "") + o);
            double[][] v = new double[contexts.size()][before + after + 1];
            String[][] text = new String[contexts.size()][before + after + 1];
            for (int r = 0; r < contexts.size(); r++) {
                Context c = contexts.get(r);
                java.util.Arrays.fill(v[r], Double.NaN);
                rows.add(String.format(Locale.ROOT, "%.2f", c.max()));
                for (int i = 0; i < c.tokens().size(); i++) {
                    int col = before - c.maxIndex() + i;
                    v[r][col] = c.acts()[i];
                    text[r][col] = TokenText.visible(c.tokens().get(i));
                }
            }
            out.add(new Heatmap("Top contexts of feature " + feature + " (row: its max)", rows, cols, null, v, text, scale, "activation"));
        }
        if (out.isEmpty()) {
            out.add(new Heatmap("Feature " + feature + " (no prompt, no contexts)", List.of("-"), List.of("-"), null, new double[][] {{Double.NaN}},
                    null, scale, "activation"));
        }
        return out;
    }

    /** The logit weights and the histogram, as text. */
    public String tables() {
        StringBuilder b = new StringBuilder();
        if (!promoted.isEmpty()) {
            Table t = new Table("promoted", "logit weight", "suppressed", "logit weight ");
            for (int i = 0; i < promoted.size(); i++) {
                t.row(TokenText.visible(promoted.get(i).token()), promoted.get(i).weight(), TokenText.visible(suppressed.get(i).token()),
                        suppressed.get(i).weight());
            }
            b.append(t.render());
        }
        if (histogram.length > 0) {
            long most = 1;
            for (long c : histogram) most = Math.max(most, c);
            b.append(String.format(Locale.ROOT, "%nactivation density %.4f%% of corpus tokens; histogram of its positive activations:%n", 100 * density));
            for (int i = 0; i < histogram.length; i++) {
                if (histogram[i] == 0) continue;
                b.append(String.format(Locale.ROOT, "  ≥ %-9.3g %s %,d%n", binEdges[i], Bars.bar(histogram[i] / (double) most, 30), histogram[i]));
            }
        }
        return b.toString();
    }

    @Override
    public String toText(TerminalStyle style) {
        return sae + "\nfeature " + feature + "\n" + HeatmapFigure.super.toText(style) + "\n" + tables();
    }

    @Override
    public String html() {
        return HtmlPages.heatmaps(panels(), "feature " + feature + " of " + sae + "\n\n" + tables());
    }

    @Override
    public String toString() {
        return toText();
    }
}
