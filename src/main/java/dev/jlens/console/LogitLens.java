package dev.jlens.console;

import static org.nd4j.linalg.indexing.NDArrayIndex.all;
import static org.nd4j.linalg.indexing.NDArrayIndex.point;

import dev.jlens.model.HookedTransformer;
import dev.jlens.model.ModelConfig;
import dev.jlens.model.Run;
import dev.jlens.view.Table;
import dev.jlens.view.TokenText;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * The logit lens (nostalgebraist; seed 003): the residual stream after the embedding and after each
 * block, decoded as if it were the last layer, i.e. through the model's own final LayerNorm
 * ({@code ln_final} weights and eps) and unembedding ({@code W_U}, {@code b_U}). The last row is
 * therefore the model's own prediction.
 *
 * @param tokens     the input tokens, as text (raw)
 * @param layers     row names: {@code embed}, then {@code 0 … n_layers-1} (after that block)
 * @param topIds     {@code [layer][position]} the most likely next token id
 * @param topTokens  {@code [layer][position]} its text (raw)
 * @param topProbs   {@code [layer][position]} its probability
 */
public record LogitLens(List<String> tokens, List<String> layers, int[][] topIds, String[][] topTokens, double[][] topProbs) {

    /** The lens over the first prompt of {@code run} (which must have recorded the residual stream). */
    public static LogitLens of(HookedTransformer model, Run run) {
        ModelConfig cfg = model.cfg();
        int pos = (int) run.tokens().size(1);
        List<String> tokens = model.toStrTokens(run.tokens().get(point(0), all()).reshape(1, pos));
        List<String> layers = new ArrayList<>();
        List<INDArray> resid = new ArrayList<>();
        layers.add("embed");
        resid.add(run.cache().get("resid_pre", 0));
        for (int l = 0; l < cfg.nLayers(); l++) {
            layers.add(Integer.toString(l));
            resid.add(run.cache().get("resid_post", l));
        }
        int n = resid.size();
        int[][] ids = new int[n][pos];
        String[][] texts = new String[n][pos];
        double[][] probs = new double[n][pos];
        for (int i = 0; i < n; i++) {
            Work.checkInterrupted();
            INDArray x = resid.get(i).get(point(0), all(), all());           // [pos, d_model]
            INDArray logits = unembed(model, x);                             // [pos, d_vocab]
            float[][] rows = logits.toFloatMatrix();
            for (int p = 0; p < pos; p++) {
                float[] row = rows[p];
                int best = 0;
                for (int v = 1; v < row.length; v++) if (row[v] > row[best]) best = v;
                ids[i][p] = best;
                texts[i][p] = model.tokenText(best);
                probs[i][p] = softmaxAt(row, best);
            }
        }
        return new LogitLens(tokens, layers, ids, texts, probs);
    }

    /** Final LayerNorm (TransformerLens: centre, divide by √(mean(x²)+eps), scale, shift), then W_U and b_U. */
    static INDArray unembed(HookedTransformer model, INDArray x) {
        ModelConfig cfg = model.cfg();
        INDArray h = x;
        if (cfg.hasLayerNorm()) {
            long rows = x.size(0);
            INDArray centred = x.subColumnVector(x.mean(1).reshape(rows, 1));
            INDArray scale = Transforms.sqrt(centred.mul(centred).mean(1).addi(cfg.eps()), false).reshape(rows, 1);
            h = centred.diviColumnVector(scale)
                    .muliRowVector(model.param("ln_final.w"))
                    .addiRowVector(model.param("ln_final.b"));
        }
        return h.mmul(model.W_U()).addiRowVector(model.b_U());
    }

    private static double softmaxAt(float[] row, int index) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : row) max = Math.max(max, v);
        double sum = 0;
        for (float v : row) sum += Math.exp(v - max);
        return Math.exp(row[index] - max) / sum;
    }

    /** The top token of the last row (the model's own prediction) at each position. */
    public int[] finalPrediction() {
        return topIds[topIds.length - 1].clone();
    }

    /** Rows = embed and each block; columns = positions headed by their input token; cells = top token and probability. */
    public String render() {
        List<String> header = new ArrayList<>();
        header.add("layer");
        for (String t : tokens) header.add(TokenText.visible(t));
        Table table = new Table(header);
        for (int i = 0; i < layers.size(); i++) {
            Object[] cells = new Object[tokens.size() + 1];
            cells[0] = layers.get(i);
            for (int p = 0; p < tokens.size(); p++) {
                cells[p + 1] = TokenText.visible(topTokens[i][p]) + String.format(Locale.ROOT, " %.2f", topProbs[i][p]);
            }
            table.row(cells);
        }
        return table.render();
    }

    @Override
    public String toString() {
        return render();
    }
}
