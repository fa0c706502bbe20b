package dev.jlens.analysis;

import dev.jlens.view.Token;
import dev.jlens.view.TokenText;
import dev.jlens.cache.HookNames;
import static org.nd4j.linalg.indexing.NDArrayIndex.all;
import static org.nd4j.linalg.indexing.NDArrayIndex.point;

import dev.jlens.model.Hook;
import dev.jlens.model.HookedTransformer;
import dev.jlens.view.Table;
import dev.jlens.view.ChartFigure;
import dev.jlens.view.ColourScale;
import dev.jlens.view.Heatmap;
import dev.jlens.view.HeatmapFigure;
import dev.jlens.view.LineChart;
import dev.jlens.view.PngCharts;
import dev.jlens.view.TerminalStyle;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Ablation: knock out one component — a head's output ({@code z}), a block's attention output or
 * its MLP output (seed 000 drops {@code sa} and {@code ffwd}) — and measure how far each
 * position's next-token distribution moves: KL(unablated ‖ ablated) in nats, and the Hellinger
 * distance, which is bounded by 1 and symmetric.
 *
 * <p>Zero ablation replaces the activation by 0; mean ablation by its mean over the prompt's
 * positions (so the component still adds its average, and only what it does differently at each
 * position is removed).
 *
 * <pre>{@code
 * System.out.println(Ablation.head(model, "abc abc", 1, 3, Ablation.Mode.ZERO));
 * Ablation.blocks(model, "ROMEO: What", Ablation.Mode.ZERO).show();
 * }</pre>
 */
public final class Ablation {
    private Ablation() {}

    public enum Mode { ZERO, MEAN }

    public static Result head(HookedTransformer model, String prompt, int layer, int head, Mode mode) {
        return of(model, model.toTokens(prompt), HookNames.block(layer, "attn.hook_z"), head, mode);
    }

    public static Result attention(HookedTransformer model, String prompt, int layer, Mode mode) {
        return of(model, model.toTokens(prompt), HookNames.block(layer, "hook_attn_out"), -1, mode);
    }

    public static Result mlp(HookedTransformer model, String prompt, int layer, Mode mode) {
        return of(model, model.toTokens(prompt), HookNames.block(layer, "hook_mlp_out"), -1, mode);
    }

    /**
     * Ablates {@code hookName} ({@code [batch, pos, …]}), or only head {@code head} of a
     * {@code hook_z} ({@code -1}: the whole activation).
     */
    public static Result of(HookedTransformer model, INDArray tokens, String hookName, int head, Mode mode) {
        INDArray toks = Prompts.batchOfOne(tokens);
        INDArray clean = model.forward(toks);
        INDArray ablated = model.runWithHooks(toks, Hook.hook(hookName, (a, h) -> {
            ablate(a, 0, head, mode);
            return null;
        }));
        INDArray lpClean = Distributions.logProbs(clean.slice(0)), lpAblated = Distributions.logProbs(ablated.slice(0));
        int last = (int) toks.length() - 1;
        String what = hookName + (head >= 0 ? " head " + head : "");
        return new Result(what, mode, Prompts.strs(model, toks), Distributions.kl(lpClean, lpAblated),
                Distributions.hellinger(lpClean, lpAblated),
                Prompts.str(model, argmax(clean, last)), Prompts.str(model, argmax(ablated, last)));
    }

    /** Zero or mean-ablates batch row {@code b} of an activation in place (one head of z, or all). */
    private static void ablate(INDArray act, int b, int head, Mode mode) {
        INDArray target = head >= 0 ? act.get(point(b), all(), point(head), all()) : act.get(point(b));   // [pos, …]
        if (mode == Mode.ZERO) {
            target.assign(0);
        } else {
            INDArray mean = target.mean(0);                                                              // mean over positions
            // One assign of the repeated mean: ND4J loses the data of a view taken from a strided view.
            target.assign(mean.reshape(1, mean.length()).repeat(0, target.size(0)).reshape(target.shape()));
        }
    }

    private static int argmax(INDArray logits, int position) {
        return Nd4j.argMax(logits.get(point(0), point(position), all())).getInt(0);
    }

    /** Every head ablated in turn (batched per layer): mean KL and Hellinger over positions. */
    public static Sweep heads(HookedTransformer model, String prompt, Mode mode) {
        INDArray toks = model.toTokens(prompt);
        int layers = model.cfg().nLayers(), heads = model.cfg().nHeads();
        INDArray lpClean = Distributions.logProbs(model.forward(toks).slice(0));
        double[][] kl = new double[layers][heads], hel = new double[layers][heads];
        long[] ids = Prompts.ids(toks);
        for (int l = 0; l < layers; l++) {
            long[][] rows = new long[heads][];
            java.util.Arrays.fill(rows, ids);
            INDArray logits = model.runWithHooks(Nd4j.createFromArray(rows), Hook.hook(HookNames.block(l, "attn.hook_z"), (a, h) -> {
                for (int b = 0; b < heads; b++) ablate(a, b, b, mode);
                return null;
            }));
            for (int b = 0; b < heads; b++) {
                INDArray lp = Distributions.logProbs(logits.slice(b));
                kl[l][b] = mean(Distributions.kl(lpClean, lp));
                hel[l][b] = mean(Distributions.hellinger(lpClean, lp));
            }
        }
        List<String> rows = new ArrayList<>(), cols = new ArrayList<>();
        for (int l = 0; l < layers; l++) rows.add("L" + l);
        for (int h = 0; h < heads; h++) cols.add("H" + h);
        return new Sweep(mode + "-ablated heads", rows, cols, kl, hel);
    }

    /** Each block's attention output and MLP output ablated in turn: layer × {attn, mlp}. */
    public static Sweep blocks(HookedTransformer model, String prompt, Mode mode) {
        INDArray toks = model.toTokens(prompt);
        int layers = model.cfg().nLayers();
        List<String> cols = model.cfg().attnOnly() ? List.of("attn_out") : List.of("attn_out", "mlp_out");
        double[][] kl = new double[layers][cols.size()], hel = new double[layers][cols.size()];
        for (int l = 0; l < layers; l++) {
            for (int c = 0; c < cols.size(); c++) {
                Result r = of(model, toks, HookNames.block(l, "hook_") + cols.get(c), -1, mode);
                kl[l][c] = r.meanKl();
                hel[l][c] = r.meanHellinger();
            }
        }
        List<String> rows = new ArrayList<>();
        for (int l = 0; l < layers; l++) rows.add("L" + l);
        return new Sweep(mode + "-ablated block outputs", rows, cols, kl, hel);
    }

    private static double mean(double[] v) {
        double s = 0;
        for (double x : v) s += x;
        return s / v.length;
    }

    /**
     * One ablation's effect on every position's prediction.
     *
     * @param what       the ablated hook (and head)
     * @param mode       zero or mean
     * @param tokens     the prompt
     * @param kl         per position, KL(unablated ‖ ablated) in nats
     * @param hellinger  per position, Hellinger distance in [0, 1]
     * @param topBefore  the unablated model's top next token after the last position
     * @param topAfter   the ablated model's
     */
    public record Result(String what, Mode mode, List<String> tokens, double[] kl, double[] hellinger, @Token String topBefore,
                         @Token String topAfter) implements ChartFigure {
        public double meanKl() {
            return mean(kl);
        }

        public double meanHellinger() {
            return mean(hellinger);
        }

        public LineChart chart() {
            return new LineChart(mode + "-ablating " + what + ": distance of each position's prediction", "position", "distance",
                    tokens, List.of(new LineChart.Series("KL (nats)", kl), new LineChart.Series("Hellinger", hellinger)));
        }

        @Override
        public String toText(TerminalStyle style) {
            Table t = new Table("token", "KL", "Hellinger");
            for (int i = 0; i < tokens.size(); i++) t.row(TokenText.visible(tokens.get(i)), kl[i], hellinger[i]);
            return String.format("%s-ablating %s: mean KL %.4g nats, mean Hellinger %.4g; last prediction '%s' → '%s'%n",
                    mode, what, meanKl(), meanHellinger(), TokenText.visible(topBefore),
                    TokenText.visible(topAfter)) + t;
        }

        @Override
        public BufferedImage image() {
            return PngCharts.lineImage(chart());
        }

        @Override
        public String figureName() {
            return "ablation-" + what.replaceAll("[^A-Za-z0-9]+", "-");
        }

        @Override
        public String toString() {
            return toText();
        }
    }

    /**
     * Many ablations, one per cell: mean KL (the heatmap) and mean Hellinger over positions.
     *
     * @param what       what was ablated
     * @param rows       layers
     * @param cols       heads or block parts
     * @param kl         {@code [row][col]} mean KL(unablated ‖ ablated)
     * @param hellinger  {@code [row][col]} mean Hellinger distance
     */
    public record Sweep(String what, List<String> rows, List<String> cols, double[][] kl, double[][] hellinger) implements HeatmapFigure {
        @Override
        public Heatmap heatmap() {
            return new Heatmap(what + ": mean KL(unablated ‖ ablated) over positions", rows, cols, null, kl, null,
                    new ColourScale(0, Math.max(1e-9, max(kl)), false, dev.jlens.view.Palette.VIRIDIS), "KL (nats)");
        }

        /** The same sweep coloured by Hellinger distance. */
        public HeatmapFigure hellingerMap() {
            return HeatmapFigure.of(new Heatmap(what + ": mean Hellinger distance over positions", rows, cols, null, hellinger, null,
                    ColourScale.unit(), "Hellinger"), "ablation-hellinger");
        }

        @Override
        public String figureName() {
            return "ablation";
        }

        @Override
        public String toString() {
            Table t = new Table("layer", "part", "mean KL", "mean Hellinger");
            for (int r = 0; r < rows.size(); r++) for (int c = 0; c < cols.size(); c++) t.row(rows.get(r), cols.get(c), kl[r][c], hellinger[r][c]);
            return what + "\n" + t;
        }
    }

    private static double max(double[][] v) {
        double m = 0;
        for (double[] r : v) for (double x : r) if (Double.isFinite(x)) m = Math.max(m, x);
        return m;
    }
}
