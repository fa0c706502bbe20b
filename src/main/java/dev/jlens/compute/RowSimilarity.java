package dev.jlens.compute;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Exact nearest rows of an {@code [N, d]} matrix to query vectors, by cosine similarity or Euclidean
 * distance, without an {@code N × queries} matrix: the rows pass in blocks of {@link #BLOCK}, each
 * block's products with every query are computed in tiles of 8 rows × {@link Gemm#PT} queries by
 * {@link Gemm}'s micro-kernel, and each tile is reduced at once (a top-k per query, the value per
 * row, or the nearest query per row) while it is still in the core's cache. Blocks are shared among
 * the cores ({@link Parallel}); each core keeps its own top-k lists, merged at the end.
 *
 * <p>Scores inside the scan are float32 and linear in the products: cosine is {@code q̂·x / ‖x‖};
 * Euclidean ranks by {@code q·x − ‖x‖²/2}, which orders rows as {@code −‖q − x‖²/2} does (FAISS and
 * {@code torch.cdist} compute distances the same way). That form loses digits to cancellation
 * between near points, so {@link #nearest} keeps {@link #EXTRA} more candidates than asked and ranks
 * them again by the exact value in double precision; ties go to the lower row index.
 */
public final class RowSimilarity {
    private static final VectorSpecies<Float> S = OffHeap.S;
    private static final int L = S.length();
    private static final int PT = Gemm.PT;
    /** Rows per piece of work: their heap copy (≈ 400 KB at d = 192) stays in a core's L2 while every query passes. */
    static final int BLOCK = 512;
    /** Queries up to which a plain dot product per row beats the micro-kernel ({@link #dots}). */
    static final int FEW = 4;
    /** Candidates kept beyond k per query and core, ranked again exactly. */
    static final int EXTRA = 8;

    private RowSimilarity() {}

    /**
     * One query's nearest rows, nearest first.
     *
     * @param rows   row indices into the matrix
     * @param values their cosine similarities or Euclidean distances, exact (double precision)
     */
    public record Neighbours(int[] rows, double[] values) {
        public int size() {
            return rows.length;
        }
    }

    /**
     * The {@code k} nearest rows to each query (all rows when {@code k ≥ N}).
     *
     * @param queries each {@code d} long; under {@link Metric#COSINE} none may be zero
     */
    public static List<Neighbours> nearest(FloatRows data, float[][] queries, int k, Metric metric) {
        if (k <= 0) throw new IllegalArgumentException("k must be positive, got " + k);
        Queries qs = Queries.of(queries, data.width(), metric);
        int n = data.rows();
        int cap = (int) Math.min(n, (long) k + EXTRA);
        TopK sink = new TopK(qs, cap);
        scan(data, qs, metric, sink);
        List<Neighbours> out = new ArrayList<>(qs.count);
        for (int j = 0; j < qs.count; j++) out.add(sink.merged(j, data, queries[j], metric, Math.min(k, n)));
        return out;
    }

    /**
     * The value of {@code metric} between the query and every row, in row order (float precision;
     * a Euclidean distance below about {@code 1e-3·‖q‖} is not resolved).
     */
    public static float[] values(FloatRows data, float[] query, Metric metric) {
        Queries qs = Queries.of(new float[][] {query}, data.width(), metric);
        float[] out = new float[data.rows()];
        scan(data, qs, metric, (worker, row0, rows, panel, tile) -> {
            for (int r = 0; r < rows; r++) out[row0 + r] = qs.value(0, tile[r * PT]);
        });
        return out;
    }

    /**
     * Every row's nearest centre.
     *
     * @param centre per row, the index of the nearest centre (ties: the lower index)
     * @param value  per row, its cosine similarity or Euclidean distance to that centre (float precision, as {@link #values})
     */
    public record Assignment(int[] centre, float[] value) {}

    /** For every row, the nearest of {@code centres} (the k-means assignment step). */
    public static Assignment nearestCentre(FloatRows data, float[][] centres, Metric metric) {
        Queries qs = Queries.of(centres, data.width(), metric);
        int n = data.rows();
        int[] best = new int[n];
        float[] bestScore = new float[n];
        Arrays.fill(bestScore, Float.NEGATIVE_INFINITY);
        // Cosine scores are the similarities themselves. The Euclidean score q·x − ‖x‖²/2 ranks rows for
        // one centre; across centres −‖c‖²/2 differs too, and with it the score is −‖c − x‖²/2.
        float[] halfSquare = new float[centres.length];
        if (metric == Metric.EUCLIDEAN) for (int j = 0; j < centres.length; j++) halfSquare[j] = (float) (qs.squares[j] / 2);
        // Each row belongs to one piece of work, which passes the panels in order: no row is shared.
        scan(data, qs, metric, (worker, row0, rows, panel, tile) -> {
            int j0 = panel * PT, real = Math.min(PT, qs.count - j0);
            for (int r = 0; r < rows; r++) {
                int row = row0 + r;
                for (int j = 0; j < real; j++) {
                    float s = tile[r * PT + j] - halfSquare[j0 + j];
                    if (s > bestScore[row]) {
                        bestScore[row] = s;
                        best[row] = j0 + j;
                    }
                }
            }
        });
        if (metric == Metric.EUCLIDEAN) {
            for (int i = 0; i < n; i++) bestScore[i] = (float) Math.sqrt(Math.max(0, -2.0 * bestScore[i]));
        }
        return new Assignment(best, bestScore);
    }

    // ------------------------------------------------------------------ the scan

    /** Takes one tile: scores of rows {@code row0 .. row0+rows} (≤ 8) against the queries of {@code panel}, {@code [8][PT]}. */
    private interface TileSink {
        void take(int worker, int row0, int rows, int panel, float[] tile);
    }

    /** One core's heap blocks. */
    private static final class Scratch {
        final float[] block, scale, shift, tile;

        Scratch(int d) {
            block = new float[BLOCK * d];
            scale = new float[BLOCK];
            shift = new float[BLOCK];
            tile = new float[8 * PT];
        }
    }

    private static void scan(FloatRows data, Queries qs, Metric metric, TileSink sink) {
        int n = data.rows(), d = data.width();
        int tasks = (n + BLOCK - 1) / BLOCK;
        Scratch[] scratch = new Scratch[Parallel.THREADS];
        Parallel.forEach(tasks, (t, worker) -> {
            Scratch s = scratch[worker] == null ? (scratch[worker] = new Scratch(d)) : scratch[worker];
            int row0 = t * BLOCK, rows = Math.min(BLOCK, n - row0);
            data.copy(row0, rows, s.block, 0);
            int padded = (rows + 7) / 8 * 8;
            Arrays.fill(s.block, rows * d, padded * d, 0f);
            rowTerms(s.block, rows, d, metric, row0, s.scale, s.shift);
            for (int p = 0; p < qs.panels; p++) {
                for (int g = 0; g < rows; g += 8) {
                    int here = Math.min(8, rows - g);
                    if (qs.count <= FEW) {
                        dots(s.block, g, here, d, qs, s.tile);
                    } else {
                        for (int k0 = 0; k0 < d; k0 += Gemm.KC) {
                            int kc = Math.min(Gemm.KC, d - k0);
                            boolean first = k0 == 0;
                            for (int h = 0; h < 8; h += 4) {   // eight rows as two four-row kernels
                                Gemm.micro4x3(s.block, (g + h) * d + k0, d, qs.packed, p * d * PT + k0 * PT, PT, kc,
                                        first ? Gemm.ZEROS : s.tile, first ? 0 : h * PT, first ? 0 : PT, s.tile, h * PT, PT);
                            }
                        }
                    }
                    for (int r = 0; r < here; r++) {
                        FloatVector a = FloatVector.broadcast(S, s.scale[g + r]), b = FloatVector.broadcast(S, s.shift[g + r]);
                        for (int v = 0; v < PT; v += L) {
                            FloatVector.fromArray(S, s.tile, r * PT + v).fma(a, b).intoArray(s.tile, r * PT + v);
                        }
                    }
                    sink.take(worker, row0 + g, here, p, s.tile);
                }
            }
        });
    }

    /**
     * Up to {@link #FEW} queries: {@code tile[r][j] = x_r · q_j} by one pass over each row, instead of
     * the micro-kernel, whose panels of {@link Gemm#PT} queries would be mostly padding.
     */
    private static void dots(float[] block, int g, int rows, int d, Queries qs, float[] tile) {
        int full = d / L * L, n = qs.count;
        float[] q = qs.flat;
        for (int r = 0; r < rows; r++) {
            int off = (g + r) * d;
            FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
            int j = 0;
            for (; j < full; j += L) {
                FloatVector x = FloatVector.fromArray(S, block, off + j);
                a0 = x.fma(FloatVector.fromArray(S, q, j), a0);
                if (n > 1) a1 = x.fma(FloatVector.fromArray(S, q, d + j), a1);
                if (n > 2) a2 = x.fma(FloatVector.fromArray(S, q, 2 * d + j), a2);
                if (n > 3) a3 = x.fma(FloatVector.fromArray(S, q, 3 * d + j), a3);
            }
            FloatVector[] acc = {a0, a1, a2, a3};
            // The padding lanes get zeros, not last row's values, so that rescaling never grows them.
            for (int v = 0; v < PT; v += L) FloatVector.zero(S).intoArray(tile, r * PT + v);
            for (int i = 0; i < n; i++) {
                float sum = VectorMath.sum(acc[i]);
                for (int t = j; t < d; t++) sum += block[off + t] * q[i * d + t];
                tile[r * PT + i] = sum;
            }
        }
    }

    /**
     * Per row, the scale and shift that turn {@code q·x} into the scan's score: cosine
     * {@code 1/‖x‖, 0}; Euclidean {@code 1, −‖x‖²/2}. Refuses rows that are not finite.
     */
    private static void rowTerms(float[] block, int rows, int d, Metric metric, int row0, float[] scale, float[] shift) {
        int full = d / L * L;
        for (int r = 0; r < rows; r++) {
            int off = r * d;
            FloatVector acc = FloatVector.zero(S);
            int j = 0;
            for (; j < full; j += L) {
                FloatVector x = FloatVector.fromArray(S, block, off + j);
                acc = x.fma(x, acc);
            }
            float sq = VectorMath.sum(acc);
            for (; j < d; j++) sq += block[off + j] * block[off + j];
            if (!Float.isFinite(sq)) {
                throw new IllegalArgumentException("row " + (row0 + r) + " of the matrix is not finite (NaN or ±∞, or too large to "
                        + "square in float32): the activations saved there are broken; run that batch again");
            }
            if (metric == Metric.COSINE) {
                scale[r] = sq > 0 ? (float) (1 / Math.sqrt(sq)) : 0f;
                shift[r] = 0f;
            } else {
                scale[r] = 1f;
                shift[r] = -sq / 2;
            }
        }
    }

    /** The queries packed as {@link Gemm#micro8x3}'s right-hand operand; unit length under cosine. */
    private static final class Queries {
        final Metric metric;
        final int count, panels;
        final float[] flat;          // [count, d], unit length under cosine
        final float[] packed;
        final double[] squares;      // ‖q‖²

        private Queries(Metric metric, int count, float[] flat, float[] packed, double[] squares) {
            this.metric = metric;
            this.count = count;
            this.flat = flat;
            this.panels = (count + PT - 1) / PT;
            this.packed = packed;
            this.squares = squares;
        }

        static Queries of(float[][] queries, int d, Metric metric) {
            if (queries.length == 0) throw new IllegalArgumentException("no queries");
            float[] flat = new float[queries.length * d];
            double[] squares = new double[queries.length];
            for (int j = 0; j < queries.length; j++) {
                float[] q = queries[j];
                String which = queries.length == 1 ? "the query" : "query " + j;
                if (q.length != d) {
                    throw new IllegalArgumentException(which + " has " + q.length + " values but the rows have " + d
                            + ": take the query from the same hook the rows were saved from");
                }
                double sq = 0;
                for (float v : q) {
                    if (!Float.isFinite(v)) throw new IllegalArgumentException(which + " has a value that is not finite: " + v);
                    sq += (double) v * v;
                }
                if (metric == Metric.COSINE && sq == 0) {
                    throw new IllegalArgumentException(which + " is the zero vector, which has no cosine similarity to anything; "
                            + "use Metric.EUCLIDEAN");
                }
                squares[j] = sq;
                double unit = metric == Metric.COSINE ? 1 / Math.sqrt(sq) : 1;
                for (int i = 0; i < d; i++) flat[j * d + i] = (float) (q[i] * unit);
            }
            int panels = (queries.length + PT - 1) / PT;
            float[] packed = Gemm.packTransposed(flat, queries.length, d, new float[panels * d * PT]);
            return new Queries(metric, queries.length, flat, packed, squares);
        }

        /** A scan score as the metric's value: cosine as it is; Euclidean {@code √(‖q‖² − 2·score)}. */
        float value(int query, float score) {
            if (metric == Metric.COSINE) return score;
            return (float) Math.sqrt(Math.max(0, squares[query] - 2.0 * score));
        }
    }

    // ------------------------------------------------------------------ top-k

    /** Per core and query, the best {@code cap} (score, row) pairs seen, and the score a row must reach to enter. */
    private static final class TopK implements TileSink {
        private final Queries qs;
        private final int cap;
        private final Heap[][] heaps;       // [worker][query]
        private final float[][] thresholds; // [worker][panel · PT + lane]; +∞ for padding lanes

        TopK(Queries qs, int cap) {
            this.qs = qs;
            this.cap = cap;
            this.heaps = new Heap[Parallel.THREADS][];
            this.thresholds = new float[Parallel.THREADS][];
        }

        @Override
        public void take(int worker, int row0, int rows, int panel, float[] tile) {
            Heap[] h = heaps[worker];
            float[] thr = thresholds[worker];
            if (h == null) {
                h = heaps[worker] = new Heap[qs.count];
                for (int j = 0; j < qs.count; j++) h[j] = new Heap(cap);
                thr = thresholds[worker] = new float[qs.panels * PT];
                Arrays.fill(thr, 0, qs.count, Float.NEGATIVE_INFINITY);
                Arrays.fill(thr, qs.count, thr.length, Float.POSITIVE_INFINITY);
            }
            int base = panel * PT;
            for (int r = 0; r < rows; r++) {
                for (int v = 0; v < PT; v += L) {
                    // Most rows beat no query's current k-th best: one vector compare skips L queries.
                    VectorMask<Float> in = FloatVector.fromArray(S, tile, r * PT + v)
                            .compare(VectorOperators.GE, FloatVector.fromArray(S, thr, base + v));
                    if (!in.anyTrue()) continue;
                    for (long bits = in.toLong(); bits != 0; bits &= bits - 1) {
                        int lane = Long.numberOfTrailingZeros(bits), j = base + v + lane;
                        Heap q = h[j];
                        q.offer(tile[r * PT + v + lane], row0 + r);
                        thr[j] = q.threshold();
                    }
                }
            }
        }

        /** Query j's candidates from every core, ranked by the exact value, the first k. */
        Neighbours merged(int j, FloatRows data, float[] query, Metric metric, int k) {
            List<Integer> candidates = new ArrayList<>();
            for (Heap[] h : heaps) {
                if (h == null) continue;
                for (int i = 0; i < h[j].size; i++) candidates.add(h[j].rows[i]);
            }
            int m = candidates.size();
            int[] rows = new int[m];
            double[] values = new double[m];
            Integer[] order = new Integer[m];
            for (int i = 0; i < m; i++) {
                rows[i] = candidates.get(i);
                values[i] = metric.between(query, data.row(rows[i]));
                order[i] = i;
            }
            Arrays.sort(order, (a, b) -> metric.nearer(values[a], values[b]) ? -1
                    : metric.nearer(values[b], values[a]) ? 1 : Integer.compare(rows[a], rows[b]));
            int keep = Math.min(k, m);
            int[] outRows = new int[keep];
            double[] outValues = new double[keep];
            for (int i = 0; i < keep; i++) {
                outRows[i] = rows[order[i]];
                outValues[i] = values[order[i]];
            }
            return new Neighbours(outRows, outValues);
        }
    }

    /** A bounded min-heap of (score, row): its root is the worst kept; higher score, then lower row, is better. */
    private static final class Heap {
        final float[] scores;
        final int[] rows;
        int size;

        Heap(int cap) {
            scores = new float[cap];
            rows = new int[cap];
        }

        void offer(float s, int row) {
            if (size < scores.length) {
                int i = size++;
                scores[i] = s;
                rows[i] = row;
                while (i > 0) {
                    int parent = (i - 1) / 2;
                    if (!worse(i, parent)) break;
                    swap(i, parent);
                    i = parent;
                }
            } else if (s > scores[0] || (s == scores[0] && row < rows[0])) {
                scores[0] = s;
                rows[0] = row;
                int i = 0;
                while (true) {
                    int l = 2 * i + 1, r = l + 1, w = i;
                    if (l < size && worse(l, w)) w = l;
                    if (r < size && worse(r, w)) w = r;
                    if (w == i) break;
                    swap(i, w);
                    i = w;
                }
            }
        }

        /** The score a row must reach to enter: −∞ until the heap is full. */
        float threshold() {
            return size < scores.length ? Float.NEGATIVE_INFINITY : scores[0];
        }

        private boolean worse(int a, int b) {
            return scores[a] < scores[b] || (scores[a] == scores[b] && rows[a] > rows[b]);
        }

        private void swap(int a, int b) {
            float s = scores[a];
            scores[a] = scores[b];
            scores[b] = s;
            int r = rows[a];
            rows[a] = rows[b];
            rows[b] = r;
        }
    }
}
