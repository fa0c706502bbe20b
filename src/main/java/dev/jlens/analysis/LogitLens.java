package dev.jlens.analysis;

import dev.jlens.view.TokenText;
import dev.jlens.model.HookedTransformer;
import dev.jlens.model.Run;
import dev.jlens.view.ColourScale;
import dev.jlens.view.Heatmap;
import dev.jlens.view.HeatmapFigure;
import dev.jlens.view.Palette;
import java.util.ArrayList;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The logit lens (nostalgebraist 2020; seeds 000, 003): decode the residual stream after the
 * embedding and after every block as if it were the last one — the model's own final LayerNorm
 * (mean and scale recomputed for each vector) and unembedding — and see at which layer each
 * position's prediction forms.
 *
 * <pre>{@code
 * var lens = LogitLens.of(model, "Happy birthday to you, happy");
 * System.out.println(lens);                                   // terminal heatmap: top token per layer
 * lens.colouredBy(LogitLens.Colour.RANK).savePng("lens-rank.png");
 * }</pre>
 *
 * <p>Rows are stages from the embedding (bottom) to the last block (top); columns are positions,
 * labelled below with the input token and above with the true next token, starred (*) where the
 * model's final prediction is that token. Each cell shows the stage's top token.
 *
 * @param tokens        the prompt's tokens
 * @param nextTokens    the token that actually follows each position ("" after the last)
 * @param stages        the stage labels, embedding first ("embed", "L0", … or "L0 +attn", "L0 +mlp", …)
 * @param topIds        {@code [stage][pos]} the stage's most likely next token
 * @param topTokens     their text
 * @param topProb       {@code [stage][pos]} its probability
 * @param finalTopLogit {@code [stage][pos]} the logit the stage gives the final layer's top token
 * @param finalTopRank  {@code [stage][pos]} that token's rank at the stage (1 = top)
 * @param klToFinal     {@code [stage][pos]} KL(final ‖ stage) in nats: how far from the final prediction
 * @param finalCorrect  {@code [pos]} whether the final top token is the true next token
 * @param colour        what the heatmap's colour shows
 */
public record LogitLens(List<String> tokens, List<String> nextTokens, List<String> stages,
                        int[][] topIds, String[][] topTokens, double[][] topProb,
                        double[][] finalTopLogit, double[][] finalTopRank, double[][] klToFinal,
                        boolean[] finalCorrect, Colour colour) implements HeatmapFigure {

    /** What the colour of a cell shows (nostalgebraist's plot options). */
    public enum Colour {
        /** Probability of the stage's own top token (0..1). */
        PROBABILITY,
        /** Logit of the token the final layer ranks first. */
        LOGIT,
        /** Rank of the final layer's top token, log scale, 1 brightest. */
        RANK,
        /** KL(final ‖ stage), 0 brightest. */
        KL
    }

    /** The lens over the embedding and every block's output; BOS as {@link HookedTransformer#toTokens(String)}. */
    public static LogitLens of(HookedTransformer model, String prompt) {
        return of(model, model.toTokens(prompt), false);
    }

    /** @param afterAttention also decode each block's state after attention ({@code resid_mid}) */
    public static LogitLens of(HookedTransformer model, String prompt, boolean afterAttention) {
        return of(model, model.toTokens(prompt), afterAttention);
    }

    public static LogitLens of(HookedTransformer model, INDArray tokens, boolean afterAttention) {
        INDArray toks = Prompts.batchOfOne(tokens);
        List<ResidualStages.Stage> stageList = ResidualStages.of(model.cfg(), afterAttention);
        return of(model, model.runWithCache(toks, false, ResidualStages.hooks(stageList)), afterAttention);
    }

    /**
     * The lens over a run that recorded the residual stream (as {@code runWithCache(prompt)} does): run once, look
     * many ways. A batch is refused.
     */
    public static LogitLens of(HookedTransformer model, Run run, boolean afterAttention) {
        INDArray toks = Prompts.tokens(run);
        long[] ids = Prompts.ids(toks);
        int pos = ids.length;
        List<ResidualStages.Stage> stageList = ResidualStages.of(model.cfg(), afterAttention);
        int n = stageList.size();

        // The final stage first: every other stage is compared with it.
        INDArray finalLogits = Unembed.logits(model, ResidualStages.read(run.cache(), stageList.get(n - 1)));
        INDArray finalLp = Distributions.logProbs(finalLogits);
        int[] finalTop = argmax(finalLogits);

        int[][] topIds = new int[n][pos];
        String[][] topText = new String[n][pos];
        double[][] topProb = new double[n][pos], topLogit = new double[n][pos], rank = new double[n][pos], kl = new double[n][];
        int vocab = model.cfg().dVocab();
        // Several stages per unembedding: one larger matrix product runs faster than many small
        // ones; chunks keep each [rows, d_vocab] temporary under ~64 MB.
        int perChunk = (int) Math.max(1, Math.min(n, DECODE_FLOATS / ((long) pos * vocab)));
        for (int s0 = 0; s0 < n; s0 += perChunk) {
            int s1 = Math.min(n, s0 + perChunk);
            INDArray[] parts = new INDArray[s1 - s0];
            for (int s = s0; s < s1; s++) parts[s - s0] = ResidualStages.read(run.cache(), stageList.get(s));
            INDArray logits = Unembed.logits(model, Nd4j.concat(0, parts));                   // [stages·pos, d_vocab]
            INDArray lp = Distributions.logProbs(logits);
            int[] top = argmax(logits);
            double[] maxLp = lp.max(1).castTo(DataType.DOUBLE).toDoubleVector();
            float[] flat = logits.dup('c').data().asFloat();
            for (int s = s0; s < s1; s++) {
                int base = (s - s0) * pos;
                kl[s] = Distributions.kl(finalLp, lp.get(NDArrayIndex.interval(base, base + pos), NDArrayIndex.all()));
                for (int p = 0; p < pos; p++) {
                    int row = base + p;
                    topIds[s][p] = top[row];
                    topProb[s][p] = Math.exp(maxLp[row]);
                    topText[s][p] = Prompts.str(model, top[row]);
                    topLogit[s][p] = flat[row * vocab + finalTop[p]];
                    rank[s][p] = rankIn(flat, row * vocab, vocab, finalTop[p]);
                }
            }
        }
        List<String> tokenStrs = Prompts.strs(model, toks);
        List<String> next = new ArrayList<>();
        boolean[] correct = new boolean[pos];
        for (int p = 0; p < pos; p++) {
            next.add(p + 1 < pos ? tokenStrs.get(p + 1) : "");
            correct[p] = p + 1 < pos && finalTop[p] == ids[p + 1];
        }
        return new LogitLens(tokenStrs, next, ResidualStages.labels(stageList), topIds, topText, topProb, topLogit, rank, kl,
                correct, Colour.PROBABILITY);
    }

    private static int[] argmax(INDArray logits) {
        return Nd4j.argMax(logits, 1).castTo(DataType.INT).toIntVector();
    }

    /** Floats per chunk of decoded stages (64 MB). */
    private static final long DECODE_FLOATS = 16L << 20;

    /** 1 + how many of the {@code n} logits from {@code offset} beat the one of {@code id}. */
    private static int rankIn(float[] flat, int offset, int n, int id) {
        float v = flat[offset + id];
        int above = 0;
        for (int i = offset; i < offset + n; i++) if (flat[i] > v) above++;
        return above + 1;
    }

    /** The same lens, its heatmap coloured by {@code c}. */
    public LogitLens colouredBy(Colour c) {
        return new LogitLens(tokens, nextTokens, stages, topIds, topTokens, topProb, finalTopLogit, finalTopRank, klToFinal,
                finalCorrect, c);
    }

    /** The last stage's top tokens: the model's own greedy predictions. */
    public int[] finalPredictions() {
        return topIds[topIds.length - 1].clone();
    }

    /** The values the current colour mode shows, {@code [stage][pos]}. */
    public double[][] colourValues() {
        return switch (colour) {
            case PROBABILITY -> topProb;
            case LOGIT -> finalTopLogit;
            case RANK -> finalTopRank;
            case KL -> klToFinal;
        };
    }

    @Override
    public Heatmap heatmap() {
        int n = stages.size();
        double[][] src = colourValues();
        // The last stage on top, next to the true next tokens it is judged against.
        List<String> rows = new ArrayList<>();
        double[][] values = new double[n][];
        String[][] text = new String[n][];
        for (int i = 0; i < n; i++) {
            int s = n - 1 - i;
            rows.add(stages.get(s));
            values[i] = src[s].clone();
            text[i] = TokenText.visible(List.of(topTokens[s])).toArray(String[]::new);
        }
        List<String> top = new ArrayList<>();
        for (int p = 0; p < nextTokens.size(); p++) top.add(TokenText.visible(nextTokens.get(p)) + (finalCorrect[p] ? "*" : ""));
        ColourScale scale = switch (colour) {
            case PROBABILITY -> ColourScale.unit();
            case LOGIT -> ColourScale.sequential(values);
            case RANK -> new ColourScale(1, Math.max(2, max(values)), true, Palette.VIRIDIS_REVERSED);
            case KL -> new ColourScale(0, Math.max(1e-6, max(values)), false, Palette.VIRIDIS_REVERSED);
        };
        String what = switch (colour) {
            case PROBABILITY -> "probability of top token";
            case LOGIT -> "logit of final top token";
            case RANK -> "rank of final top token";
            case KL -> "KL(final ‖ layer), nats";
        };
        return new Heatmap("Logit lens: top token per layer (colour: " + what + "; * = final prediction right)",
                rows, TokenText.visible(tokens), top, values, text, scale, what);
    }

    private static double max(double[][] v) {
        double m = Double.NEGATIVE_INFINITY;
        for (double[] r : v) for (double x : r) if (Double.isFinite(x)) m = Math.max(m, x);
        return m;
    }

    @Override
    public String figureName() {
        return "logit-lens";
    }

    @Override
    public String toString() {
        return toText();
    }
}
