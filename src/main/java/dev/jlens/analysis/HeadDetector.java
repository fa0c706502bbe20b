package dev.jlens.analysis;

import dev.jlens.model.HookedTransformer;
import dev.jlens.model.Run;
import dev.jlens.view.Table;
import dev.jlens.view.ColourScale;
import dev.jlens.view.Heatmap;
import dev.jlens.view.HeatmapFigure;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Finds heads by what their attention does (Elhage et al. 2021; Olsson et al. 2022; ARENA 1.2),
 * scoring every layer × head from its attention pattern:
 * <ul>
 *   <li><b>previous-token</b>: mean attention from each position to the one before it;</li>
 *   <li><b>duplicate-token</b>: mean attention from a token to its earlier occurrences, over the
 *       positions whose token occurred before;</li>
 *   <li><b>induction</b>: on random tokens repeated twice ({@code r r}), mean attention from each
 *       token of the second copy to the token just after its occurrence in the first copy — the
 *       head that completes {@code … A B … A → B}.</li>
 * </ul>
 * A score is a mean of attention weights, so it lies in [0, 1], 1 meaning the head puts all its
 * attention there.
 *
 * <pre>{@code
 * var heads = HeadDetector.detect(model);
 * System.out.println(heads);                 // table: layer × head × three scores
 * heads.induction().top(3);                  // ["L1H6", …]
 * }</pre>
 */
public final class HeadDetector {
    private HeadDetector() {}

    /** All three scores on repeated random tokens (copy length fitted to the context, 4 sequences, seed 0). */
    public static Detection detect(HookedTransformer model) {
        int prefix = model.cfg().defaultPrependBos() ? 1 : 0;
        int seqLen = Math.min(50, (model.cfg().nCtx() - prefix) / 2);
        INDArray tokens = repeatedRandomTokens(model, seqLen, 4, 0);
        List<INDArray> patterns = patterns(model, tokens);
        return new Detection(
                new HeadScores("previous-token score", previousToken(patterns, tokens)),
                new HeadScores("duplicate-token score", duplicateToken(patterns, tokens)),
                new HeadScores("induction score", induction(patterns, seqLen)));
    }

    /** Previous-token scores on a prompt (BOS as {@link HookedTransformer#toTokens(String)}). */
    public static HeadScores previousToken(HookedTransformer model, String prompt) {
        return previousToken(model, model.toTokens(prompt));
    }

    /** Previous-token scores on {@code [batch, pos]} tokens, averaged over the batch. */
    public static HeadScores previousToken(HookedTransformer model, INDArray tokens) {
        INDArray t = tokens.rank() == 1 ? tokens.reshape(1, tokens.length()) : tokens;
        return new HeadScores("previous-token score", previousToken(patterns(model, t), t));
    }

    /** Duplicate-token scores on {@code [batch, pos]} tokens (0 where no token repeats). */
    public static HeadScores duplicateToken(HookedTransformer model, INDArray tokens) {
        INDArray t = tokens.rank() == 1 ? tokens.reshape(1, tokens.length()) : tokens;
        return new HeadScores("duplicate-token score", duplicateToken(patterns(model, t), t));
    }

    /** Previous-token scores in a run that recorded every layer's pattern (as {@code runWithCache(prompt)} does). */
    public static HeadScores previousToken(HookedTransformer model, Run run) {
        return new HeadScores("previous-token score", previousToken(patterns(model, run), run.tokens()));
    }

    /** Duplicate-token scores in a run that recorded every layer's pattern. */
    public static HeadScores duplicateToken(HookedTransformer model, Run run) {
        return new HeadScores("duplicate-token score", duplicateToken(patterns(model, run), run.tokens()));
    }

    /** Induction scores on {@code batch} sequences of {@code seqLen} random tokens repeated twice. */
    public static HeadScores induction(HookedTransformer model, int seqLen, int batch, long seed) {
        INDArray tokens = repeatedRandomTokens(model, seqLen, batch, seed);
        return induction(model, tokens, seqLen);
    }

    /**
     * Induction scores on given repeated sequences {@code [batch, prefix + 2·seqLen]}: the last
     * {@code 2·seqLen} positions must be a sequence followed by itself; anything before (BOS) is a
     * prefix no query in the second copy is scored against.
     */
    public static HeadScores induction(HookedTransformer model, INDArray repeated, int seqLen) {
        INDArray t = repeated.rank() == 1 ? repeated.reshape(1, repeated.length()) : repeated;
        if (t.size(1) < 2L * seqLen) throw new IllegalArgumentException("need at least 2·seqLen = " + 2 * seqLen + " tokens");
        return new HeadScores("induction score", induction(patterns(model, t), seqLen));
    }

    /**
     * {@code [batch, prefix + 2·seqLen]}: BOS when the model uses one, then {@code seqLen} random
     * tokens, then the same tokens again. Tokens are drawn without repetition inside a copy when the
     * vocabulary allows (so "its occurrence in the first copy" is unambiguous) and never BOS.
     */
    public static INDArray repeatedRandomTokens(HookedTransformer model, int seqLen, int batch, long seed) {
        int prefix = model.cfg().defaultPrependBos() ? 1 : 0;
        int vocab = model.cfg().dVocab();
        int bos = prefix == 1 ? model.tokenizer().bosTokenId().orElse(-1) : -1;
        if (prefix + 2 * seqLen > model.cfg().nCtx()) {
            throw new IllegalArgumentException("2·" + seqLen + (prefix == 1 ? " + BOS" : "") + " tokens exceed n_ctx = " + model.cfg().nCtx());
        }
        int usable = vocab - (bos >= 0 ? 1 : 0);
        boolean distinct = seqLen <= usable;
        SplittableRandom random = new SplittableRandom(seed);
        long[][] rows = new long[batch][prefix + 2 * seqLen];
        for (long[] row : rows) {
            if (prefix == 1) row[0] = bos;
            java.util.Set<Integer> used = new java.util.HashSet<>();
            for (int i = 0; i < seqLen; i++) {
                int id;
                do {
                    id = random.nextInt(vocab);
                } while (id == bos || (distinct && used.contains(id)));
                used.add(id);
                row[prefix + i] = id;
                row[prefix + seqLen + i] = id;
            }
        }
        return Nd4j.createFromArray(rows);
    }

    // ------------------------------------------------------------------ scoring

    /** Each layer's {@code [batch, head, query, key]} pattern, from one run that records only patterns. */
    private static List<INDArray> patterns(HookedTransformer model, INDArray tokens) {
        return patterns(model, model.runWithCache(tokens, false, "pattern"));
    }

    private static List<INDArray> patterns(HookedTransformer model, Run run) {
        for (int length : run.lengths()) {
            if (length != run.tokens().size(1)) {
                throw new IllegalArgumentException("head scores average over every position, but this run's batch is padded"
                        + " (lengths " + java.util.Arrays.toString(run.lengths()) + "): score prompts of one length");
            }
        }
        List<INDArray> out = new ArrayList<>();
        for (int l = 0; l < model.cfg().nLayers(); l++) out.add(run.cache().get("pattern", l).castTo(DataType.FLOAT).dup('c'));
        return out;
    }

    /** Attention at {@code [b, h, q, k]} in a c-ordered pattern's flat buffer. */
    private static float at(float[] p, int heads, int pos, int b, int h, int q, int k) {
        return p[((b * heads + h) * pos + q) * pos + k];
    }

    private static double[][] previousToken(List<INDArray> patterns, INDArray tokens) {
        return score(patterns, (p, heads, pos, b, h) -> {
            double s = 0;
            for (int q = 1; q < pos; q++) s += at(p, heads, pos, b, h, q, q - 1);
            return pos > 1 ? s / (pos - 1) : Double.NaN;
        });
    }

    private static double[][] duplicateToken(List<INDArray> patterns, INDArray tokens) {
        long[][] ids = tokens.toLongMatrix();
        return score(patterns, (p, heads, pos, b, h) -> {
            double s = 0;
            int counted = 0;
            for (int q = 1; q < pos; q++) {
                double a = 0;
                boolean any = false;
                for (int k = 0; k < q; k++) {
                    if (ids[b][k] == ids[b][q]) {
                        a += at(p, heads, pos, b, h, q, k);
                        any = true;
                    }
                }
                if (any) {
                    s += a;
                    counted++;
                }
            }
            return counted == 0 ? 0 : s / counted;
        });
    }

    private static double[][] induction(List<INDArray> patterns, int seqLen) {
        return score(patterns, (p, heads, pos, b, h) -> {
            int start = pos - seqLen;            // first query of the second copy
            double s = 0;
            for (int q = start; q < pos; q++) s += at(p, heads, pos, b, h, q, q - seqLen + 1);
            return s / seqLen;
        });
    }

    private interface PerSequence {
        double score(float[] pattern, int heads, int pos, int batchRow, int head);
    }

    /** Applies a per-sequence score to every layer × head and averages it over the batch. */
    private static double[][] score(List<INDArray> patterns, PerSequence f) {
        double[][] out = new double[patterns.size()][];
        for (int l = 0; l < patterns.size(); l++) {
            INDArray pat = patterns.get(l);
            int batch = (int) pat.size(0), heads = (int) pat.size(1), pos = (int) pat.size(2);
            float[] p = pat.data().asFloat();
            out[l] = new double[heads];
            for (int h = 0; h < heads; h++) {
                double s = 0;
                for (int b = 0; b < batch; b++) s += f.score(p, heads, pos, b, h);
                out[l][h] = s / batch;
            }
        }
        return out;
    }

    /**
     * The three scores of every head.
     *
     * @param previousToken  attention to the previous position
     * @param duplicateToken attention to earlier copies of the same token
     * @param induction      attention to the token after the earlier copy
     */
    public record Detection(HeadScores previousToken, HeadScores duplicateToken, HeadScores induction) implements HeatmapFigure {
        /**
         * The score from which a head is named after what it does: its mean attention on the pattern's target
         * (ARENA's induction-head exercises use 0.4). Below it a head is listed by score only.
         */
        public static final double THRESHOLD = 0.4;

        /** One row per head: layer, head and the three scores. */
        public Table table() {
            Table t = new Table("layer", "head", "previous-token", "duplicate-token", "induction");
            double[][] p = previousToken.scores(), d = duplicateToken.scores(), i = induction.scores();
            for (int l = 0; l < p.length; l++) for (int h = 0; h < p[l].length; h++) t.row(l, h, p[l][h], d[l][h], i[l][h]);
            return t;
        }

        /** Rows: each score kind × layer; columns: heads. */
        @Override
        public Heatmap heatmap() {
            List<String> rows = new ArrayList<>();
            List<double[]> values = new ArrayList<>();
            for (HeadScores s : List.of(previousToken, duplicateToken, induction)) {
                String kind = s.what().replace(" score", "");
                for (int l = 0; l < s.scores().length; l++) {
                    rows.add(kind + " L" + l);
                    values.add(s.scores()[l]);
                }
            }
            List<String> cols = new ArrayList<>();
            for (int h = 0; h < values.get(0).length; h++) cols.add("H" + h);
            return new Heatmap("Head detectors (mean attention on repeated random tokens)", rows, cols, null,
                    values.toArray(double[][]::new), null, ColourScale.unit(), "score");
        }

        @Override
        public String figureName() {
            return "head-detectors";
        }

        @Override
        public String toString() {
            return table() + "\ninduction heads (score ≥ " + THRESHOLD + "): " + induction.above(THRESHOLD)
                    + "\nprevious-token heads (score ≥ " + THRESHOLD + "): " + previousToken.above(THRESHOLD)
                    + "\nduplicate-token heads (score ≥ " + THRESHOLD + "): " + duplicateToken.above(THRESHOLD) + "\n";
        }
    }
}
