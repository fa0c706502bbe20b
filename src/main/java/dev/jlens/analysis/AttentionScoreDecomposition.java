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
 * so {@code q·k} is the sum of four terms — token-token, token-position, position-token and
 * position-position (query part first).
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

    /** The four terms' plain names, query part first, in the order they are drawn (query part by row, key part by column). */
    public static final List<String> TERMS = List.of("token-token", "token-position", "position-token", "position-position");

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
        List<String> names = new ArrayList<>(TERMS);
        names.add("total");
        for (String name : names) {
            double[][] term = values(name);
            double s = 0, s2 = 0, a = 0;
            int n = 0;
            for (int q = 0; q < tokens.size(); q++) {
                for (int k = 0; k <= q; k++) {
                    double v = term[q][k];
                    s += v;
                    s2 += v * v;
                    a += Math.abs(v);
                    n++;
                }
            }
            double mean = s / n;
            out.add(new Magnitude(name, mean, Math.sqrt(Math.max(0, s2 / n - mean * mean)), a / n));
        }
        return out;
    }

    /**
     * A term's plain name ({@code "position-position"}, …, or {@code "total"}) from how a user may write it: any case,
     * with spaces, underscores or the older {@code "token·position"} spelling; anything else is an error naming the terms.
     */
    public static String termName(String name) {
        String plain = name.strip().toLowerCase(java.util.Locale.ROOT).replaceAll("[\\s·_×*.-]+", "-");
        if (TERMS.contains(plain) || plain.equals("total")) return plain;
        throw new IllegalArgumentException("no score term '" + name + "'; the terms are " + String.join(", ", TERMS) + " and total");
    }

    /** One term's {@code [query][key]} values by name (see {@link #termName}). */
    public double[][] values(String name) {
        return switch (termName(name)) {
            case "token-token" -> tokenToken;
            case "token-position" -> tokenPosition;
            case "position-token" -> positionToken;
            case "position-position" -> positionPosition;
            default -> total();
        };
    }

    /** One term as its own heatmap ({@code "position-position"}, …, see {@link #values}). */
    public HeatmapFigure term(String name) {
        return HeatmapFigure.of(termHeatmap(name), "scores-" + head);
    }

    /**
     * One term over the causal triangle (keys after the query are NaN: the mask removes them, so they are not drawn
     * as values), on its own scale symmetric around zero: the terms differ in size by orders of magnitude, so on
     * one shared scale the small ones would look blank.
     */
    private Heatmap termHeatmap(String name) {
        double[][] v = masked(values(name));
        String plain = termName(name);
        return new Heatmap(head + " " + plain + " score term (row: query, column: key)", TokenText.visible(tokens),
                TokenText.visible(tokens), null, v, null, ColourScale.diverging(v), plain + " score");
    }

    private double[][] masked(double[][] t) {
        int n = tokens.size();
        double[][] v = new double[n][n];
        for (int q = 0; q < n; q++) for (int k = 0; k < n; k++) v[q][k] = k <= q ? t[q][k] : Double.NaN;
        return v;
    }

    /** The scores the head computes: the four terms summed, over the causal triangle. */
    @Override
    public Heatmap heatmap() {
        return termHeatmap("total");
    }

    /** The four terms, each on its own scale: token-token and token-position above, position-token and position-position below. */
    @Override
    public List<Heatmap> panels() {
        return TERMS.stream().map(this::termHeatmap).toList();
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
