package dev.jlens.analysis;

import dev.jlens.view.TokenText;
import dev.jlens.model.HookedTransformer;
import dev.jlens.view.Table;
import java.util.ArrayList;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * A head's two circuits from its weights alone (Elhage et al. 2021), as {@link FactoredMatrix}es:
 * the QK circuit {@code W_Q·W_Kᵀ} (which residual directions attend to which) and the OV circuit
 * {@code W_V·W_O} (what an attended direction writes), and both read from and to tokens through
 * the embedding and unembedding.
 *
 * <p>On the weights as stored: jlens never folds the LayerNorm before a head into its weights,
 * so for GPT-2 these differ from TransformerLens's defaults ({@code fold_ln=True}) by the
 * LayerNorm's per-dimension weight; for models without LayerNorm they are the same.
 */
public final class Circuits {
    private Circuits() {}

    private static INDArray headSlice(INDArray perHead, int head) {
        return perHead.get(NDArrayIndex.point(head), NDArrayIndex.all(), NDArrayIndex.all()).dup('c');
    }

    /** {@code W_Q[h]·W_K[h]ᵀ}, {@code [d_model, d_model]}: query direction × key direction → score (before scaling). */
    public static FactoredMatrix qk(HookedTransformer model, int layer, int head) {
        return new FactoredMatrix(headSlice(model.W_Q(layer), head), headSlice(model.W_K(layer), head).transpose().dup('c'));
    }

    /** {@code W_V[h]·W_O[h]}, {@code [d_model, d_model]}: what the head writes for an attended residual vector. */
    public static FactoredMatrix ov(HookedTransformer model, int layer, int head) {
        return new FactoredMatrix(headSlice(model.W_V(layer), head), headSlice(model.W_O(layer), head));
    }

    /** {@code W_E·W_V·W_O·W_U}, {@code [d_vocab, d_vocab]}: attending to token i raises token j's logit by [i, j]. */
    public static FactoredMatrix fullOv(HookedTransformer model, int layer, int head) {
        return ov(model, layer, head).leftTimes(model.W_E()).times(model.W_U());
    }

    /** {@code W_E·W_Q·W_Kᵀ·W_Eᵀ}, {@code [d_vocab, d_vocab]}: how much query token i attends to key token j. */
    public static FactoredMatrix fullQk(HookedTransformer model, int layer, int head) {
        return qk(model, layer, head).leftTimes(model.W_E()).times(model.W_E().transpose());
    }

    /**
     * Elhage et al.'s copying score of a head: {@code Σ Re λ / Σ |λ|} over the eigenvalues of its
     * full OV circuit; near 1 for a head that raises the logits of the tokens it attends to.
     */
    public static double copyingScore(HookedTransformer model, int layer, int head) {
        return fullOv(model, layer, head).eigenvalues().positivity();
    }

    /** Copying scores of every head, {@code [layer][head]}. */
    public static HeadScores copyingScores(HookedTransformer model) {
        double[][] s = new double[model.cfg().nLayers()][model.cfg().nHeads()];
        for (int l = 0; l < s.length; l++) for (int h = 0; h < s[l].length; h++) s[l][h] = copyingScore(model, l, h);
        return new HeadScores("OV copying score", s);
    }

    /**
     * The OV circuit decoded (seed 004): for each input token, the tokens whose logits the head
     * raises most when it attends to that token — row {@code W_E[t]·W_V·W_O·W_U}.
     */
    public static OvTopTokens ovTopTokens(HookedTransformer model, int layer, int head, int k, String... inputTokens) {
        int[] ids = new int[inputTokens.length];
        for (int i = 0; i < ids.length; i++) ids[i] = model.toSingleToken(inputTokens[i]);
        return ovTopTokens(model, layer, head, k, ids);
    }

    public static OvTopTokens ovTopTokens(HookedTransformer model, int layer, int head, int k, int... inputIds) {
        FactoredMatrix ov = ov(model, layer, head);
        INDArray rows = model.W_E().getRows(inputIds);                                    // [n, d_model]
        INDArray logits = rows.mmul(ov.A()).mmul(ov.B().mmul(model.W_U()));               // [n, d_vocab]
        List<String> inputs = new ArrayList<>();
        List<List<String>> tops = new ArrayList<>();
        double[][] values = new double[inputIds.length][];
        float[][] m = LinAlg.toFloat2d(logits);
        for (int i = 0; i < inputIds.length; i++) {
            inputs.add(Prompts.str(model, inputIds[i]));
            int[] top = Distributions.topK(m[i], k);
            List<String> names = new ArrayList<>();
            values[i] = new double[top.length];
            for (int j = 0; j < top.length; j++) {
                names.add(Prompts.str(model, top[j]));
                values[i][j] = m[i][top[j]];
            }
            tops.add(names);
        }
        return new OvTopTokens("L" + layer + "H" + head + " OV", inputs, tops, values);
    }

    /**
     * What a circuit writes for each input token, decoded: its top output tokens and their logits.
     *
     * @param circuit "L1H4 OV" or "L0H3·L1H4 virtual OV"
     * @param inputs  the input tokens (or positions, for virtual heads on a prompt)
     * @param top     per input, its top output tokens, best first
     * @param logits  their logit contributions
     */
    public record OvTopTokens(String circuit, List<String> inputs, List<List<String>> top, double[][] logits) {
        /** Whether each input token is its own top output: the mark of a copying head. */
        public boolean[] copies() {
            boolean[] c = new boolean[inputs.size()];
            for (int i = 0; i < c.length; i++) c[i] = !top.get(i).isEmpty() && top.get(i).get(0).equals(inputs.get(i));
            return c;
        }

        @Override
        public String toString() {
            Table t = new Table("input", "top outputs (logit)");
            for (int i = 0; i < inputs.size(); i++) {
                StringBuilder sb = new StringBuilder();
                for (int j = 0; j < top.get(i).size(); j++) {
                    if (j > 0) sb.append("  ");
                    sb.append(TokenText.visible(top.get(i).get(j))).append(String.format(" (%.2f)", logits[i][j]));
                }
                t.row(TokenText.visible(inputs.get(i)), sb.toString());
            }
            return circuit + "\n" + t;
        }
    }

    /** {@code OV} of every head of every layer, {@code [layer][head]}. */
    public static FactoredMatrix[][] allOv(HookedTransformer model) {
        FactoredMatrix[][] out = new FactoredMatrix[model.cfg().nLayers()][model.cfg().nHeads()];
        for (int l = 0; l < out.length; l++) for (int h = 0; h < out[l].length; h++) out[l][h] = ov(model, l, h);
        return out;
    }

    /** {@code QK} of every head of every layer, {@code [layer][head]}. */
    public static FactoredMatrix[][] allQk(HookedTransformer model) {
        FactoredMatrix[][] out = new FactoredMatrix[model.cfg().nLayers()][model.cfg().nHeads()];
        for (int l = 0; l < out.length; l++) for (int h = 0; h < out[l].length; h++) out[l][h] = qk(model, l, h);
        return out;
    }

    static INDArray eye(int n) {
        return Nd4j.eye(n).castTo(DataType.FLOAT);
    }
}
