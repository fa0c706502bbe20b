package dev.jlens.analysis;

import dev.jlens.view.TokenText;
import dev.jlens.cache.HookNames;
import dev.jlens.model.HookedTransformer;
import dev.jlens.model.Run;
import dev.jlens.view.Table;
import dev.jlens.view.ColourScale;
import dev.jlens.view.Heatmap;
import dev.jlens.view.HeatmapFigure;
import java.util.ArrayList;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * A head's attention scores split by where query and key come from (seed 004): the residual
 * stream entering the block is a position part ({@code W_pos}, {@code hook_pos_embed}) plus a
 * token part (everything else: the token embedding and, after layer 0, what earlier blocks wrote),
 * so {@code q·k} is the sum of four terms — token·token, token·position, position·token and
 * position·position (query part first).
 *
 * <p>Exactly, with LayerNorm too: the block's LayerNorm is linear once its scale is fixed, so
 * with the cached {@code ln1.hook_scale} {@code s} and weight {@code w},
 * {@code LN(t + p) = (t − mean t)·w/s + (p − mean p)·w/s + b}. The parts that depend on neither
 * token nor position — the LayerNorm bias and {@code b_Q}, {@code b_K} — are added to the position
 * part, so the four terms add up to {@code q·k} before the {@code 1/attn_scale} scaling and the
 * causal mask: {@code hook_attn_scores = (tt + tp + pt + pp) / attn_scale} below the diagonal.
 *
 * @param head             "L0H3"
 * @param tokens           the prompt's tokens
 * @param tokenToken       {@code [query][key]} token-part query · token-part key
 * @param tokenPosition    token-part query · position-part key
 * @param positionToken    position-part query · token-part key
 * @param positionPosition position-part query · position-part key
 */
public record AttentionScoreDecomposition(String head, List<String> tokens, double[][] tokenToken, double[][] tokenPosition,
                                          double[][] positionToken, double[][] positionPosition) implements HeatmapFigure {

    public static AttentionScoreDecomposition of(HookedTransformer model, String prompt, int layer, int head) {
        return of(model, model.toTokens(prompt), layer, head);
    }

    public static AttentionScoreDecomposition of(HookedTransformer model, INDArray tokens, int layer, int head) {
        int l = dev.jlens.cache.HookNames.checkLayer(layer, model.cfg().nLayers());
        checkApplies(model, l);
        List<String> names = new ArrayList<>(List.of("hook_pos_embed", HookNames.block(l, "hook_resid_pre")));
        if (model.cfg().hasLayerNorm()) names.add(HookNames.block(l, "ln1.hook_scale"));
        return of(model, model.runWithCache(Prompts.batchOfOne(tokens), false, names.toArray(String[]::new)), l, head);
    }

    /** The split into token and position parts needs learned positions in the stream and LayerNorm's centring. */
    private static void checkApplies(HookedTransformer model, int l) {
        if (!model.hookNames().contains("hook_pos_embed")) {
            throw new IllegalArgumentException(model.cfg().modelName() + " has no position embedding in its residual stream"
                    + " (rotary positions act inside attention), so the token/position split of attention scores does not apply;"
                    + " look at " + HookNames.block(l, "attn.hook_rot_q") + "/hook_rot_k or the pattern instead");
        }
        if (model.cfg().normalization() == dev.jlens.model.Normalization.RMS) {
            throw new IllegalArgumentException("the score decomposition is written for LayerNorm models; " + model.cfg().modelName()
                    + " uses RMSNorm");
        }
    }

    /**
     * The decomposition in a run that recorded the position embedding, the layer's {@code resid_pre} and (with
     * LayerNorm) its {@code ln1.hook_scale}, as {@code runWithCache(prompt)} does.
     */
    public static AttentionScoreDecomposition of(HookedTransformer model, Run run, int layer, int head) {
        int l = dev.jlens.cache.HookNames.checkLayer(layer, model.cfg().nLayers());
        checkApplies(model, l);
        INDArray toks = Prompts.tokens(run);
        boolean ln = model.cfg().hasLayerNorm();
        INDArray pos = Prompts.first(run.cache().get("hook_pos_embed")).dup();          // [pos, d_model]
        INDArray tok = Prompts.first(run.cache().get("resid_pre", l)).sub(pos);         // [pos, d_model]
        INDArray wq = model.W_Q(l).get(NDArrayIndex.point(head), NDArrayIndex.all(), NDArrayIndex.all()).dup('c'); // [d_model, d_head]
        INDArray wk = model.W_K(l).get(NDArrayIndex.point(head), NDArrayIndex.all(), NDArrayIndex.all()).dup('c');
        INDArray bq = model.b_Q(l).getRow(head).dup(), bk = model.b_K(l).getRow(head).dup();   // [d_head]
        INDArray tokIn = tok, posIn = pos;
        INDArray constant = null;                                                       // [d_model], the LayerNorm bias
        if (ln) {
            INDArray scale = Prompts.first(run.cache().get(HookNames.block(l, "ln1.hook_scale")));   // [pos, 1]
            INDArray w = model.param(HookNames.block(l, "ln1.w"));
            tokIn = centred(tok).diviColumnVector(scale).muliRowVector(w);
            posIn = centred(pos).diviColumnVector(scale).muliRowVector(w);
            constant = model.param(HookNames.block(l, "ln1.b"));
        }
        INDArray qTok = tokIn.mmul(wq), kTok = tokIn.mmul(wk);                          // [pos, d_head]
        INDArray qPos = posIn.mmul(wq).addiRowVector(bq), kPos = posIn.mmul(wk).addiRowVector(bk);
        if (constant != null) {
            INDArray c = constant.reshape(1, constant.length());
            qPos.addiRowVector(c.mmul(wq));
            kPos.addiRowVector(c.mmul(wk));
        }
        return new AttentionScoreDecomposition("L" + l + "H" + head, Prompts.strs(model, toks),
                scores(qTok, kTok), scores(qTok, kPos), scores(qPos, kTok), scores(qPos, kPos));
    }

    private static INDArray centred(INDArray x) {
        return x.subColumnVector(x.mean(1).reshape(x.size(0), 1));
    }

    private static double[][] scores(INDArray q, INDArray k) {
        return LinAlg.toDouble(q.mmul(k.transpose()));
    }

    /** The four terms summed: the head's scores before scaling and masking. */
    public double[][] total() {
        int n = tokens.size();
        double[][] t = new double[n][n];
        for (int q = 0; q < n; q++) {
            for (int k = 0; k < n; k++) t[q][k] = tokenToken[q][k] + tokenPosition[q][k] + positionToken[q][k] + positionPosition[q][k];
        }
        return t;
    }

    /**
     * How large a term is over the entries a query can see ({@code key ≤ query}).
     *
     * @param term     its name
     * @param mean     mean value
     * @param std      standard deviation: how much the term varies between query-key pairs, which
     *                 is what moves attention (a constant shift cancels in the softmax)
     * @param meanAbs  mean absolute value
     */
    public record Magnitude(String term, double mean, double std, double meanAbs) {}

    public List<Magnitude> magnitudes() {
        List<Magnitude> out = new ArrayList<>();
        String[] names = {"token·token", "token·position", "position·token", "position·position", "total"};
        double[][][] terms = {tokenToken, tokenPosition, positionToken, positionPosition, total()};
        for (int i = 0; i < names.length; i++) {
            double s = 0, s2 = 0, a = 0;
            int n = 0;
            for (int q = 0; q < tokens.size(); q++) {
                for (int k = 0; k <= q; k++) {
                    double v = terms[i][q][k];
                    s += v;
                    s2 += v * v;
                    a += Math.abs(v);
                    n++;
                }
            }
            double mean = s / n;
            out.add(new Magnitude(names[i], mean, Math.sqrt(Math.max(0, s2 / n - mean * mean)), a / n));
        }
        return out;
    }

    /** One term as its own heatmap ({@code "token·position"}, …). */
    public HeatmapFigure term(String name) {
        double[][] t = switch (name) {
            case "token·token" -> tokenToken;
            case "token·position" -> tokenPosition;
            case "position·token" -> positionToken;
            case "position·position" -> positionPosition;
            case "total" -> total();
            default -> throw new IllegalArgumentException("terms: token·token, token·position, position·token, position·position, total");
        };
        double[][] v = masked(t);
        return HeatmapFigure.of(new Heatmap(head + " " + name + " score term (row: query, column: key)", TokenText.visible(tokens), TokenText.visible(tokens), null, v,
                null, ColourScale.diverging(v), name), "scores-" + head);
    }

    private double[][] masked(double[][] t) {
        int n = tokens.size();
        double[][] v = new double[n][n];
        for (int q = 0; q < n; q++) for (int k = 0; k < n; k++) v[q][k] = k <= q ? t[q][k] : Double.NaN;
        return v;
    }

    /** The four terms as quadrants of one picture: query part by row, key part by column. */
    @Override
    public Heatmap heatmap() {
        int n = tokens.size();
        double[][] v = new double[2 * n][2 * n];
        double[][][] parts = {masked(tokenToken), masked(tokenPosition), masked(positionToken), masked(positionPosition)};
        for (int q = 0; q < n; q++) {
            for (int k = 0; k < n; k++) {
                v[q][k] = parts[0][q][k];
                v[q][n + k] = parts[1][q][k];
                v[n + q][k] = parts[2][q][k];
                v[n + q][n + k] = parts[3][q][k];
            }
        }
        List<String> rows = new ArrayList<>(), cols = new ArrayList<>();
        for (String side : List.of("tok ", "pos ")) {
            for (int i = 0; i < n; i++) {
                String t = side + TokenText.visible(tokens.get(i));
                rows.add(t);
                cols.add(t);
            }
        }
        return new Heatmap(head + " attention score terms: rows = query part, columns = key part (token | position)", rows, cols,
                null, v, null, ColourScale.diverging(v), "score term");
    }

    @Override
    public String figureName() {
        return "score-terms-" + head;
    }

    @Override
    public String toString() {
        Table t = new Table("term", "mean", "std", "mean |·|");
        for (Magnitude m : magnitudes()) t.row(m.term(), m.mean(), m.std(), m.meanAbs());
        return head + " attention score terms over query ≥ key (before 1/attn_scale)\n" + t;
    }
}
