package dev.jlens.analysis;

import static org.nd4j.linalg.indexing.NDArrayIndex.all;
import static org.nd4j.linalg.indexing.NDArrayIndex.point;

import dev.jlens.compute.Metric;
import dev.jlens.compute.RowSimilarity;
import dev.jlens.model.HookedTransformer;
import dev.jlens.model.Run;
import dev.jlens.view.Table;
import dev.jlens.view.TokenText;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Seed 000's headline analysis: do the tokens that follow the corpus strings a block treats like the
 * prompt explain the model's prediction? For each threshold, the samples at least that similar to
 * the prompt (cosine similarity ≥ t, or Euclidean distance ≤ t) pool their next-token counts into one
 * distribution, compared with the model's next-token distribution for the prompt by Hellinger
 * distance (0: the same, 1: no token in common).
 *
 * @param prompt    the prompt
 * @param hook      where the activations were taken (last token)
 * @param metric    how similarity was measured
 * @param samples   how many samples were searched
 * @param predicted the model's next-token probabilities after the prompt, {@code [d_vocab]}
 * @param predictedTop the model's five most likely next tokens, {@code "e 0.41, a 0.22, …"}
 * @param levels    one per threshold, the strictest first
 */
public record NextTokenPooling(String prompt, String hook, Metric metric, int samples, double[] predicted, String predictedTop,
                               List<Level> levels) {

    /**
     * One threshold of the sweep.
     *
     * @param threshold   the least cosine similarity, or the greatest Euclidean distance, kept
     * @param kept        how many samples pass it
     * @param occurrences how many next tokens they pooled (a sample counts once per occurrence in the text)
     * @param pooled      the pooled next-token distribution {@code [d_vocab]}, or {@code null} when nothing was pooled
     * @param hellinger   Hellinger distance between {@code pooled} and the model's prediction; NaN when nothing was pooled
     * @param pooledTop   the three most frequent pooled tokens, {@code "e 0.45, a 0.20, o 0.08"}
     */
    public record Level(double threshold, int kept, long occurrences, double[] pooled, double hellinger, String pooledTop) {}

    /** Kept-sample counts at which {@link #sweep(HookedTransformer, SampleActivations, String, Metric)} sets its thresholds. */
    static final int[] DEFAULT_KEPT = {1, 3, 10, 30, 100, 300, 1000, 3000, 10000, 30000, 100000};

    /**
     * The sweep at thresholds chosen from the data: the values of the 1st, 3rd, 10th, 30th, … nearest
     * sample, so that each level keeps about 1, 3, 10, 30, … samples (more where values tie),
     * whatever the scale of the metric.
     */
    public static NextTokenPooling sweep(HookedTransformer model, SampleActivations acts, String prompt, Metric metric) {
        return sweep(model, acts, prompt, metric, null);
    }

    /** The sweep at the given thresholds (any order; shown strictest first). */
    public static NextTokenPooling sweep(HookedTransformer model, SampleActivations acts, String prompt, Metric metric,
                                         double... thresholds) {
        Run run = acts.run(model, prompt, true);
        float[] query = acts.lastPosition(run);
        double[] predicted = lastProbabilities(run.logits());
        if (predicted.length != acts.vocabSize()) {
            throw new IllegalArgumentException("the model predicts over " + predicted.length + " tokens but the next-token counts "
                    + "are over " + acts.vocabSize() + ": count them with this model's tokenizer");
        }
        float[] values = RowSimilarity.values(acts.rows(), query, metric);
        double[] levels = thresholds == null ? byRank(values, metric) : strictestFirst(thresholds, metric);
        return new NextTokenPooling(prompt, acts.hook(), metric, acts.count(), predicted, TokenCounts.top(acts::tokenString, predicted, 5),
                pool(acts, values, metric, levels, predicted));
    }

    /** Thresholds at the values of the {@link #DEFAULT_KEPT}-th nearest samples, strictest first. */
    static double[] byRank(float[] values, Metric metric) {
        float[] sorted = values.clone();
        Arrays.sort(sorted);                                   // ascending: the nearest are last under cosine
        List<Double> out = new ArrayList<>();
        for (int kept : DEFAULT_KEPT) {
            if (kept > sorted.length) break;
            double t = metric == Metric.COSINE ? sorted[sorted.length - kept] : sorted[kept - 1];
            if (out.isEmpty() || out.get(out.size() - 1) != t) out.add(t);
        }
        return out.stream().mapToDouble(Double::doubleValue).toArray();
    }

    static double[] strictestFirst(double[] thresholds, Metric metric) {
        if (thresholds.length == 0) throw new IllegalArgumentException("no thresholds: give at least one, e.g. 0.9");
        double[] t = thresholds.clone();
        for (double v : t) if (!Double.isFinite(v)) throw new IllegalArgumentException("threshold " + v + " is not a number");
        Arrays.sort(t);                                        // ascending: strictest first for distances
        if (metric == Metric.COSINE) {
            for (int i = 0, j = t.length - 1; i < j; i++, j--) {
                double x = t[i];
                t[i] = t[j];
                t[j] = x;
            }
        }
        return t;
    }

    /**
     * Each sample's counts go to the strictest level it passes; the levels then accumulate, since a
     * sample that passes one threshold passes every looser one.
     */
    static List<Level> pool(SampleActivations acts, float[] values, Metric metric, double[] levels, double[] predicted) {
        int nLevels = levels.length, vocab = acts.vocabSize();
        long[][] counts = new long[nLevels][vocab];
        int[] kept = new int[nLevels];
        for (int i = 0; i < values.length; i++) {
            int level = strictestPassed(values[i], metric, levels);
            if (level < 0) continue;
            kept[level]++;
            acts.addNextTokens(i, counts[level]);
        }
        List<Level> out = new ArrayList<>(nLevels);
        long[] running = new long[vocab];
        int runningKept = 0;
        for (int l = 0; l < nLevels; l++) {
            for (int v = 0; v < vocab; v++) running[v] += counts[l][v];
            runningKept += kept[l];
            double[] pooled = TokenCounts.distribution(running);
            double h = pooled == null ? Double.NaN : Distributions.hellinger(pooled, predicted);
            out.add(new Level(levels[l], runningKept, TokenCounts.total(running), pooled, h,
                    pooled == null ? "—" : TokenCounts.top(acts::tokenString, pooled, 3)));
        }
        return List.copyOf(out);
    }

    /** The first (strictest) level whose threshold the value passes, or −1 for none. */
    private static int strictestPassed(float value, Metric metric, double[] levels) {
        // Levels are nested, so "passes level l" is monotone in l: binary search for the first pass.
        // The values are float32, so the thresholds are compared as float32 too (0.95 passes 0.95f).
        int lo = 0, hi = levels.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            float t = (float) levels[mid];
            boolean passes = metric == Metric.COSINE ? value >= t : value <= t;
            if (passes) hi = mid;
            else lo = mid + 1;
        }
        return lo == levels.length ? -1 : lo;
    }

    /** Softmax of the last position of {@code [1, pos, d_vocab]} logits, in double. */
    static double[] lastProbabilities(INDArray logits) {
        INDArray last = logits.get(point(0), point(logits.size(1) - 1), all()).reshape(1, logits.size(2));
        return Transforms.exp(Distributions.logProbs(last), false).castTo(DataType.DOUBLE).toDoubleVector();
    }

    /** The level with the least Hellinger distance (the first on a tie), or {@code null} if none pooled anything. */
    public Level best() {
        Level best = null;
        for (Level l : levels) if (!Double.isNaN(l.hellinger()) && (best == null || l.hellinger() < best.hellinger())) best = l;
        return best;
    }

    /** The table: threshold, samples kept, occurrences, Hellinger distance, the pooled top tokens. */
    public String render() {
        Table t = new Table(metric == Metric.COSINE ? "similarity ≥" : "distance ≤", "strings kept", "next tokens pooled",
                "Hellinger", "pooled next tokens");
        for (Level l : levels) {
            t.row(String.format(Locale.ROOT, "%.4f", l.threshold()), l.kept(), l.occurrences(),
                    Double.isNaN(l.hellinger()) ? "—" : String.format(Locale.ROOT, "%.4f", l.hellinger()),
                    l.pooledTop());
        }
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "next tokens of the strings near '%s' by %s of %s (%,d strings) against the model%n",
                TokenText.visible(prompt), metric.label(), hook, samples));
        sb.append("the model predicts: ").append(predictedTop).append('\n');
        sb.append(t.render());
        Level best = best();
        if (best != null) {
            sb.append(String.format(Locale.ROOT, "closest to the model: Hellinger %.4f with the %,d string%s at %s %s %.4f%n",
                    best.hellinger(), best.kept(), best.kept() == 1 ? "" : "s", metric.label(), metric == Metric.COSINE ? "≥" : "≤",
                    best.threshold()));
        }
        return sb.toString();
    }

    @Override
    public String toString() {
        return render();
    }
}
