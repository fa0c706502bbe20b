package dev.jlens.analysis;

import dev.jlens.view.TokenText;
import dev.jlens.model.HookedTransformer;
import dev.jlens.model.Run;
import dev.jlens.view.ColourScale;
import dev.jlens.view.Heatmap;
import dev.jlens.view.HeatmapFigure;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * How one position's next-token distribution changes inside the blocks (seed 000's
 * {@code BlockInternalsAnalysis}): the probabilities read from the residual stream after the
 * embedding, after each block's attention and after its MLP, decoded as the logit lens decodes
 * them. One heatmap: rows are the stages, columns the vocabulary or a chosen subset.
 *
 * <pre>{@code
 * var bi = BlockInternals.of(model, "ROMEO:");
 * System.out.println(bi.subset("a", "e", "i", "o", "u", " ", "\n"));
 * }</pre>
 *
 * @param prompt   the prompt's tokens
 * @param position the position read (the last by default)
 * @param stages   "embed", "L0 +attn", "L0 +mlp", …
 * @param columnIds the vocabulary ids of the columns
 * @param columns  their token text
 * @param probs    {@code [stage][column]} probabilities of each column's token at that stage
 */
public record BlockInternals(List<String> prompt, int position, List<String> stages, int[] columnIds, List<String> columns,
                             double[][] probs) implements HeatmapFigure {

    /** At the prompt's last position, over the whole vocabulary. */
    public static BlockInternals of(HookedTransformer model, String prompt) {
        INDArray tokens = model.toTokens(prompt);
        return of(model, tokens, (int) tokens.length() - 1);
    }

    public static BlockInternals of(HookedTransformer model, INDArray tokens, int position) {
        Run run = model.runWithCache(Prompts.batchOfOne(tokens), false, ResidualStages.hooks(ResidualStages.of(model.cfg(), true)));
        return of(model, run, position);
    }

    /** At {@code position} (negative counts from the end) of a run that recorded the residual stream. */
    public static BlockInternals of(HookedTransformer model, Run run, int position) {
        INDArray toks = Prompts.tokens(run);
        int pos = (int) toks.length();
        if (position < 0) position += pos;
        if (position < 0 || position >= pos) throw new IndexOutOfBoundsException("position " + position + " of " + pos + " tokens");
        List<ResidualStages.Stage> stageList = ResidualStages.of(model.cfg(), true);
        int d = model.cfg().dModel(), n = stageList.size();
        // One decode for all stages: [stages, d_model] → [stages, d_vocab].
        INDArray resid = org.nd4j.linalg.factory.Nd4j.create(org.nd4j.linalg.api.buffer.DataType.FLOAT, n, d);
        for (int s = 0; s < n; s++) resid.putRow(s, ResidualStages.read(run.cache(), stageList.get(s)).getRow(position));
        INDArray probs = Transforms.exp(Distributions.logProbs(Unembed.logits(model, resid)), false);
        int vocab = model.cfg().dVocab();
        int[] ids = new int[vocab];
        List<String> names = new ArrayList<>(vocab);
        for (int v = 0; v < vocab; v++) {
            ids[v] = v;
            names.add(Prompts.str(model, v));
        }
        return new BlockInternals(Prompts.strs(model, toks), position, ResidualStages.labels(stageList), ids, names,
                LinAlg.toDouble(probs));
    }

    /** Only the columns of these tokens (by their text, e.g. {@code "a"}, {@code " the"}). */
    public BlockInternals subset(String... tokenTexts) {
        List<Integer> keep = new ArrayList<>();
        for (String t : tokenTexts) {
            int i = columns.indexOf(t);
            if (i < 0) throw new IllegalArgumentException("no column for token '" + t + "'");
            keep.add(i);
        }
        return keep(keep);
    }

    /** Only the columns of these vocabulary ids. */
    public BlockInternals subsetIds(int... ids) {
        List<Integer> keep = new ArrayList<>();
        for (int id : ids) {
            int i = -1;
            for (int c = 0; c < columnIds.length; c++) if (columnIds[c] == id) i = c;
            if (i < 0) throw new IllegalArgumentException("no column for id " + id);
            keep.add(i);
        }
        return keep(keep);
    }

    /** The union of each stage's {@code k} most likely tokens, in vocabulary order. */
    public BlockInternals topTokens(int k) {
        Set<Integer> keep = new java.util.TreeSet<>();
        for (double[] row : probs) {
            float[] f = new float[row.length];
            for (int i = 0; i < row.length; i++) f[i] = (float) row[i];
            for (int i : Distributions.topK(f, k)) keep.add(i);
        }
        return keep(new ArrayList<>(new LinkedHashSet<>(keep)));
    }

    private BlockInternals keep(List<Integer> cols) {
        int[] ids = new int[cols.size()];
        List<String> names = new ArrayList<>();
        double[][] p = new double[probs.length][cols.size()];
        for (int j = 0; j < cols.size(); j++) {
            int c = cols.get(j);
            ids[j] = columnIds[c];
            names.add(columns.get(c));
            for (int s = 0; s < probs.length; s++) p[s][j] = probs[s][c];
        }
        return new BlockInternals(prompt, position, stages, ids, names, p);
    }

    /** Draws all columns up to 100 of them; beyond that the union of each stage's top 8. */
    @Override
    public Heatmap heatmap() {
        BlockInternals shown = columns.size() > 100 ? topTokens(8) : this;
        return new Heatmap("Next-token probabilities inside the blocks after '" + TokenText.visible(String.join("", prompt.subList(0, position + 1)))
                + "' (position " + position + ")", stages, TokenText.visible(shown.columns), null, shown.probs, null, ColourScale.unit(), "probability");
    }

    @Override
    public String figureName() {
        return "block-internals";
    }

    @Override
    public String toString() {
        return toText();
    }
}
