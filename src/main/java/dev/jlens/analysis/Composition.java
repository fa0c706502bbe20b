package dev.jlens.analysis;

import dev.jlens.model.HookedTransformer;
import dev.jlens.view.Table;
import dev.jlens.view.ColourScale;
import dev.jlens.view.Heatmap;
import dev.jlens.view.HeatmapFigure;
import java.util.ArrayList;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * How much a later head reads what an earlier head writes (Elhage et al. 2021):
 * {@code ‖W_A·W_B‖_F / (‖W_A‖_F·‖W_B‖_F)} with {@code W_A} the earlier head's OV circuit and
 * {@code W_B} the later head's QK circuit (Q-composition: the earlier head feeds the query),
 * its transpose {@code W_K·W_Qᵀ} (K-composition: it feeds the key) or its OV circuit
 * (V-composition), in TransformerLens's row-vector convention ({@code all_composition_scores}).
 * It is at most 1; even a perfect hand-wired match of n one-hot directions scores only
 * {@code 1/√n}, so compare heads with each other rather than with 1.
 *
 * <p>On the weights as stored (no LayerNorm folding; see {@link Circuits}).
 */
public final class Composition {
    private Composition() {}

    /** Which input of the later head the earlier head's output feeds. */
    public enum Kind { Q, K, V }

    /** {@code ‖left·right‖_F / (‖left‖_F·‖right‖_F)} for any two factored circuits. */
    public static double score(FactoredMatrix left, FactoredMatrix right) {
        return left.times(right).frobeniusNorm() / (left.frobeniusNorm() * right.frobeniusNorm());
    }

    /** The score of one pair of heads, earlier {@code (layer1, head1)} → later {@code (layer2, head2)}. */
    public static double score(HookedTransformer model, Kind kind, int layer1, int head1, int layer2, int head2) {
        return score(Circuits.ov(model, layer1, head1), reader(model, kind, layer2, head2));
    }

    /** The later head's circuit that the earlier head's output enters. */
    static FactoredMatrix reader(HookedTransformer model, Kind kind, int layer, int head) {
        return switch (kind) {
            case Q -> Circuits.qk(model, layer, head);
            case K -> Circuits.qk(model, layer, head).T();
            case V -> Circuits.ov(model, layer, head);
        };
    }

    /**
     * Every pair of heads in different layers, earlier → later. Per earlier head, one matrix
     * product against all later heads' left factors, then {@code ‖A₁·M·B₂‖²_F = Σ (A₁ᵀA₁·M) ⊙
     * (M·B₂B₂ᵀ)} with {@code M = B₁·A₂}: only {@code d_head × d_head} matrices per pair.
     */
    public static Scores all(HookedTransformer model, Kind kind) {
        int layers = model.cfg().nLayers(), heads = model.cfg().nHeads(), k = model.cfg().dHead(), d = model.cfg().dModel();
        int all = layers * heads;
        // Per head, once: the readers' left factors side by side, their right Gram matrices, and
        // every circuit's norm from its two Gram matrices.
        INDArray a2 = Nd4j.create(DataType.FLOAT, d, (long) all * k);                   // [d_model, heads·k], head-major
        INDArray h2 = Nd4j.create(DataType.FLOAT, all, k, k);                          // B₂B₂ᵀ per reader
        INDArray[] b1 = new INDArray[all], g1 = new INDArray[all];
        double[] norm1 = new double[all], norm2 = new double[all];
        for (int l = 0; l < layers; l++) {
            for (int h = 0; h < heads; h++) {
                int i = l * heads + h;
                FactoredMatrix r = reader(model, kind, l, h), w = Circuits.ov(model, l, h);
                a2.get(NDArrayIndex.all(), NDArrayIndex.interval((long) i * k, (long) (i + 1) * k)).assign(r.A());
                INDArray hb = r.B().mmul(r.B().transpose());
                h2.get(NDArrayIndex.point(i)).assign(hb);
                norm2[i] = gramNorm(r.A().transpose().mmul(r.A()), hb);
                b1[i] = w.B();
                g1[i] = w.A().transpose().mmul(w.A());
                norm1[i] = gramNorm(g1[i], w.B().mmul(w.B().transpose()));
            }
        }
        double[][][][] s = new double[layers][heads][layers][heads];
        for (double[][][] a : s) for (double[][] b : a) for (double[] c : b) java.util.Arrays.fill(c, Double.NaN);
        for (int l1 = 0; l1 < layers - 1; l1++) {
            int first = (l1 + 1) * heads, later = all - first;                           // readers in later layers
            INDArray a2Later = a2.get(NDArrayIndex.all(), NDArrayIndex.interval((long) first * k, (long) all * k));
            INDArray h2Later = h2.get(NDArrayIndex.interval(first, all), NDArrayIndex.all(), NDArrayIndex.all());
            // M = B₁·A₂ for every writer of this layer and every later reader, as one product.
            INDArray[] writers = new INDArray[heads];
            for (int h1 = 0; h1 < heads; h1++) writers[h1] = b1[l1 * heads + h1];
            INDArray mAll = Nd4j.concat(0, writers).mmul(a2Later);                         // [heads·k, R·k]
            for (int h1 = 0; h1 < heads; h1++) {
                int i = l1 * heads + h1;
                INDArray m = mAll.get(NDArrayIndex.interval((long) h1 * k, (long) (h1 + 1) * k), NDArrayIndex.all()).dup('c'); // [k, R·k]
                INDArray gm = g1[i].mmul(m);                                               // A₁ᵀA₁·M
                INDArray m3 = m.reshape(k, later, k).permute(1, 0, 2).dup('c');            // [R, k, k]
                INDArray gm3 = gm.reshape(k, later, k).permute(1, 0, 2).dup('c');
                INDArray mh = Nd4j.matmul(m3, h2Later);                                    // M·B₂B₂ᵀ: [R, k, k]
                double[] sq = gm3.muli(mh).sum(1, 2).castTo(DataType.DOUBLE).toDoubleVector();
                for (int r = 0; r < later; r++) {
                    int j = first + r;
                    s[l1][h1][j / heads][j % heads] = Math.sqrt(Math.max(0, sq[r])) / (norm1[i] * norm2[j]);
                }
            }
        }
        return new Scores(kind, s);
    }

    /** {@code ‖A·B‖_F} from {@code AᵀA} and {@code BBᵀ}. */
    private static double gramNorm(INDArray ata, INDArray bbt) {
        return Math.sqrt(Math.max(0, ata.castTo(DataType.DOUBLE).mul(bbt.castTo(DataType.DOUBLE)).sumNumber().doubleValue()));
    }

    /**
     * Composition scores of all pairs.
     *
     * @param kind   Q, K or V composition
     * @param scores {@code [layer1][head1][layer2][head2]}, NaN unless {@code layer1 < layer2}
     */
    public record Scores(Kind kind, double[][][][] scores) implements HeatmapFigure {
        public double get(int layer1, int head1, int layer2, int head2) {
            return scores[layer1][head1][layer2][head2];
        }

        /** The strongest pairs, "L0H3→L1H6", best first. */
        public Table top(int n) {
            List<double[]> pairs = new ArrayList<>();
            for (int a = 0; a < scores.length; a++)
                for (int b = 0; b < scores[a].length; b++)
                    for (int c = 0; c < scores[a][b].length; c++)
                        for (int d = 0; d < scores[a][b][c].length; d++)
                            if (!Double.isNaN(scores[a][b][c][d])) pairs.add(new double[] {scores[a][b][c][d], a, b, c, d});
            pairs.sort((x, y) -> Double.compare(y[0], x[0]));
            Table t = new Table("earlier", "later", kind + "-composition");
            for (double[] p : pairs.subList(0, Math.min(n, pairs.size()))) {
                t.row("L" + (int) p[1] + "H" + (int) p[2], "L" + (int) p[3] + "H" + (int) p[4], p[0]);
            }
            return t;
        }

        /** Rows: earlier heads; columns: later heads (layers after the first). */
        @Override
        public Heatmap heatmap() {
            int layers = scores.length, heads = layers == 0 ? 0 : scores[0].length;
            List<String> rows = new ArrayList<>(), cols = new ArrayList<>();
            for (int l = 0; l < layers - 1; l++) for (int h = 0; h < heads; h++) rows.add("L" + l + "H" + h);
            for (int l = 1; l < layers; l++) for (int h = 0; h < heads; h++) cols.add("L" + l + "H" + h);
            double[][] v = new double[rows.size()][cols.size()];
            for (int i = 0; i < rows.size(); i++) {
                for (int j = 0; j < cols.size(); j++) v[i][j] = scores[i / heads][i % heads][1 + j / heads][j % heads];
            }
            return new Heatmap(kind + "-composition scores (row: earlier head's OV, column: later head)", rows, cols, null, v, null,
                    ColourScale.sequential(v), kind + "-composition");
        }

        @Override
        public String figureName() {
            return kind + "-composition";
        }

        @Override
        public String toString() {
            return top(10).toString();
        }
    }
}
