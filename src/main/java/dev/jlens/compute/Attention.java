package dev.jlens.compute;

import java.nio.FloatBuffer;
import java.util.Arrays;
import java.nio.ShortBuffer;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Causal self-attention of all heads in one pass: scores {@code q·kᵀ / scale} for keys up to the
 * query only (soft-capped and limited to a sliding window where the model says so), softmax, and
 * {@code z = pattern · v}, one head of one batch row per piece of work. With grouped-query attention
 * each key/value head serves {@code heads / kvHeads} query heads.
 *
 * <p>The upper triangle (keys after the query) is never computed: its scores are -∞ and its
 * probabilities 0 by definition. A query block's score rows live in a small heap buffer from the
 * product to the softmax to the product with the values, so the {@code [batch, head, query, key]}
 * arrays are written only when someone records them ({@code scoresOut}, {@code patternOut}).
 */
public final class Attention {
    private static final VectorSpecies<Float> S = OffHeap.S;
    private static final int L = S.length();
    private static final int NR = Gemm.NR;

    private Attention() {}

    /**
     * What one attention layer computes besides its inputs.
     *
     * @param heads   query heads
     * @param kvHeads key/value heads (a divisor of {@code heads}; equal to it without grouped-query attention)
     * @param scale   the divisor of the scores ({@code attn_scale})
     * @param softCap {@code cap·tanh(score/cap)} before the mask when positive (Gemma 2), else none
     * @param window  keys {@code window} or more positions before the query are masked when positive (sliding window)
     */
    public record Shape(int batch, int pos, int heads, int kvHeads, int dHead, double scale, double softCap, int window) {
        public Shape {
            if (kvHeads <= 0 || heads % kvHeads != 0) throw new IllegalArgumentException(kvHeads + " key/value heads do not divide " + heads + " heads");
        }

        /** Columns of one row of the joined projection: all queries, then all keys, then all values. */
        public int width() {
            return (heads + 2 * kvHeads) * dHead;
        }

        /** The first key query {@code i} may see. */
        int firstKey(int i) {
            return window > 0 ? Math.max(0, i - window + 1) : 0;
        }
    }

    /**
     * A generation step's attention against a key/value cache (batch 1): the {@code shape.pos()} new tokens'
     * queries, at absolute positions {@code start ..}, over the cached keys and values of positions
     * {@code 0 .. start + pos - 1} (the new tokens' own included), with the causal mask, sliding window and soft
     * cap as in {@link #causal}. Per query and head: scores by {@link Gemm#dot}, softmax, then {@code Σ p_j v_j}.
     *
     * @param q      {@code [pos, heads·dHead]} row-major
     * @param keys   {@code [position, kvHeads·dHead]} row-major, at least {@code start + pos} rows
     * @param values likewise
     * @param z      {@code [pos, heads·dHead]} receiving {@code pattern · v}
     */
    public static void cached(float[] q, Shape shape, int start, float[] keys, float[] values, float[] z) {
        int pos = shape.pos(), heads = shape.heads(), dHead = shape.dHead(), group = heads / shape.kvHeads();
        int kvWidth = shape.kvHeads() * dHead, t = start + pos;
        if (shape.batch() != 1) throw new IllegalArgumentException("a cached step runs one sequence");
        if (keys.length < (long) t * kvWidth || values.length < (long) t * kvWidth) throw new IllegalArgumentException("the cache holds fewer than " + t + " positions");
        float inv = (float) (1 / shape.scale()), cap = (float) shape.softCap();
        float[] p = new float[t];
        Arrays.fill(z, 0, pos * heads * dHead, 0f);
        for (int i = 0; i < pos; i++) {
            int query = start + i, first = shape.firstKey(query);
            for (int h = 0; h < heads; h++) {
                int qOff = (i * heads + h) * dHead, kvOff = (h / group) * dHead;
                float max = Float.NEGATIVE_INFINITY;
                for (int j = first; j <= query; j++) {
                    float sc = Gemm.dot(q, qOff, keys, j * kvWidth + kvOff, dHead) * inv;
                    if (cap > 0) sc = (float) (cap * Math.tanh(sc / cap));
                    p[j] = sc;
                    max = Math.max(max, sc);
                }
                float sum = 0;
                for (int j = first; j <= query; j++) {
                    p[j] = (float) Math.exp(p[j] - max);
                    sum += p[j];
                }
                float norm = 1 / sum;
                for (int j = first; j <= query; j++) {
                    float w = p[j] * norm;
                    int vOff = j * kvWidth + kvOff, d = 0;
                    FloatVector wv = FloatVector.broadcast(S, w);
                    for (; d + L <= dHead; d += L) {
                        wv.fma(FloatVector.fromArray(S, values, vOff + d), FloatVector.fromArray(S, z, qOff + d)).intoArray(z, qOff + d);
                    }
                    for (; d < dHead; d++) z[qOff + d] = Math.fma(w, values[vOff + d], z[qOff + d]);
                }
            }
        }
    }

    /**
     * @param qkv        {@code [batch·pos, (heads + 2·kvHeads)·dHead]} row-major: all queries, keys, values
     * @param scoresOut  {@code [batch, heads, pos, pos]} FLOAT to receive the masked scores, or null
     * @param patternOut {@code [batch, heads, pos, pos]} FLOAT or BFLOAT16 to receive the pattern, or null
     * @param z          {@code [batch·pos, heads·dHead]} row-major FLOAT receiving {@code pattern · v}
     */
    public static void causal(INDArray qkv, Shape shape, INDArray scoresOut, INDArray patternOut, INDArray z) {
        int batch = shape.batch(), pos = shape.pos(), heads = shape.heads(), dHead = shape.dHead(), width = shape.width();
        int group = heads / shape.kvHeads();
        if (qkv.length() != (long) batch * pos * width) throw new IllegalArgumentException("qkv has the wrong size");
        float[] all = Scratch.toHeap(qkv, Scratch.IN_A);
        float inv = (float) (1.0 / shape.scale());
        float cap = (float) shape.softCap();
        int tp = (pos + NR - 1) / NR * NR;           // pos rounded up to whole panels
        int dp = (dHead + NR - 1) / NR * NR;         // d_head rounded up to whole panels
        FloatBuffer scores = scoresOut == null ? null : Layouts.floats(scoresOut);
        boolean bf16 = patternOut != null && patternOut.dataType() == DataType.BFLOAT16;
        FloatBuffer patF = patternOut == null || bf16 ? null : Layouts.floats(patternOut);
        ShortBuffer patH = bf16 ? patternOut.data().asNio().order(java.nio.ByteOrder.nativeOrder()).asShortBuffer() : null;
        long scoresBase = scoresOut == null ? 0 : scoresOut.offset(), patBase = patternOut == null ? 0 : patternOut.offset();
        int zLength = batch * pos * heads * dHead;
        float[] zAll = Scratch.of(0).floats(Scratch.OUT, zLength);
        Parallel.forEach(batch * heads, (task, worker) -> {
            int b = task / heads, h = task % heads;
            Scratch s = Scratch.of(worker);
            float[] q = s.floats(0, pos * dHead);
            float[] kp = s.floats(1, tp * dHead);   // kᵀ in panels: kp[panel][d·NR + j]
            float[] vp = s.floats(2, pos * dp);     // v in panels of NR columns: vp[panel][j·NR + c]
            float[] rows = s.floats(3, 4 * tp);     // one query block's score / probability rows
            float[] zt = s.floats(4, 4 * dp);
            float[] line = s.floats(5, pos);        // one full row on its way to an output array
            short[] half = bf16 ? s.shorts(pos) : null;
            java.util.Arrays.fill(kp, 0f);
            java.util.Arrays.fill(vp, 0f);
            int kv = h / group;
            int qCol = h * dHead, kCol = (heads + kv) * dHead, vCol = (heads + shape.kvHeads() + kv) * dHead;
            for (int t = 0; t < pos; t++) {
                int src = (b * pos + t) * width;
                System.arraycopy(all, src + qCol, q, t * dHead, dHead);
                int kBase = (t / NR) * dHead * NR + t % NR;
                for (int d = 0; d < dHead; d++) kp[kBase + d * NR] = all[src + kCol + d];
                for (int d = 0; d < dHead; d++) vp[(d / NR) * pos * NR + t * NR + d % NR] = all[src + vCol + d];
            }
            long matrix = ((long) b * heads + h) * pos * pos;
            for (int i0 = 0; i0 < pos; i0 += 4) {
                int rowsHere = Math.min(4, pos - i0);
                int keys = Math.min(pos, i0 + 4);                 // keys any row of this block may see
                int panels = (keys + NR - 1) / NR;
                for (int p = 0; p < panels; p++) {
                    if (rowsHere == 4) {
                        Gemm.micro4(q, i0 * dHead, dHead, kp, p * dHead * NR, dHead, ZEROS, 0, 0, rows, p * NR, tp);
                    } else {
                        for (int r = 0; r < rowsHere; r++) {
                            Gemm.micro1(q, (i0 + r) * dHead, kp, p * dHead * NR, dHead, ZEROS, 0, rows, r * tp + p * NR);
                        }
                    }
                }
                for (int r = 0; r < rowsHere; r++) {
                    int i = i0 + r, off = r * tp;
                    softmaxRow(rows, off, shape.firstKey(i), i + 1, keys, inv, cap, scores, scoresBase + matrix + (long) i * pos, pos, line);
                    if (patF != null) putRow(patF, patBase + matrix + (long) i * pos, rows, off, i + 1, pos, line, 0f);
                    if (patH != null) putRowBf16(patH, patBase + matrix + (long) i * pos, rows, off, i + 1, pos, half);
                }
                for (int r = rowsHere; r < 4; r++) java.util.Arrays.fill(rows, r * tp, r * tp + keys, 0f);
                // z rows = probabilities[4, keys] · v[keys, d_head]; probabilities past each query are 0.
                for (int p = 0; p < dp / NR; p++) {
                    Gemm.micro4(rows, 0, tp, vp, p * pos * NR, keys, ZEROS, 0, 0, zt, p * NR, dp);
                }
                for (int r = 0; r < rowsHere; r++) {
                    System.arraycopy(zt, r * dp, zAll, ((b * pos + i0 + r) * heads + h) * dHead, dHead);
                }
            }
        });
        Layouts.floats(z).put((int) z.offset(), zAll, 0, zLength);
    }

    private static final float[] ZEROS = new float[NR];
    private static final float NEG_INF = Float.NEGATIVE_INFINITY;

    /**
     * Scales the first {@code n} entries (keys 0..query) of a score row, soft-caps them when {@code cap} is
     * positive, masks those before {@code first} (a sliding window), writes the masked row to {@code scores}
     * when given, and turns the row into probabilities; entries n..keys become 0.
     */
    private static void softmaxRow(float[] row, int off, int first, int n, int keys, float inv, float cap, FloatBuffer scores,
                                   long at, int pos, float[] line) {
        if (cap > 0 || first > 0) {
            // Gemma 2's cap and the window: rare, so plain loops (StrictMath's tanh: the same bits on every path).
            for (int j = 0; j < n; j++) {
                float x = row[off + j] * inv;
                if (cap > 0) x = cap * (float) StrictMath.tanh(x / cap);
                row[off + j] = j < first ? NEG_INF : x;
            }
            inv = 1f;
        }
        int full = n / L * L;
        FloatVector vmax = FloatVector.broadcast(S, NEG_INF);
        int j = 0;
        for (; j < full; j += L) {
            FloatVector x = FloatVector.fromArray(S, row, off + j).mul(inv);
            x.intoArray(row, off + j);
            vmax = vmax.max(x);
        }
        float max = vmax.reduceLanes(VectorOperators.MAX);
        for (; j < n; j++) {
            row[off + j] *= inv;
            max = Math.max(max, row[off + j]);
        }
        if (scores != null) putRow(scores, at, row, off, n, pos, line, NEG_INF);
        FloatVector vsum = FloatVector.zero(S);
        FloatVector vm = FloatVector.broadcast(S, max);
        for (j = 0; j < full; j += L) {
            FloatVector e = FloatVector.fromArray(S, row, off + j).sub(vm);
            e = VectorMath.exp(e);
            e.intoArray(row, off + j);
            vsum = vsum.add(e);
        }
        float sum = VectorMath.sum(vsum);
        for (; j < n; j++) {
            float e = VectorMath.exp(row[off + j] - max);
            row[off + j] = e;
            sum += e;
        }
        float norm = 1f / sum;
        for (j = 0; j < full; j += L) FloatVector.fromArray(S, row, off + j).mul(norm).intoArray(row, off + j);
        for (; j < n; j++) row[off + j] *= norm;
        for (j = n; j < keys; j++) row[off + j] = 0f;
    }

    /** out[at .. at+pos) = row[off .. off+n) followed by {@code fill}. */
    private static void putRow(FloatBuffer out, long at, float[] row, int off, int n, int pos, float[] line, float fill) {
        System.arraycopy(row, off, line, 0, n);
        java.util.Arrays.fill(line, n, pos, fill);
        out.put((int) at, line, 0, pos);
    }

    private static void putRowBf16(ShortBuffer out, long at, float[] row, int off, int n, int pos, short[] half) {
        for (int k = 0; k < n; k++) half[k] = Bf16.round(row[off + k]);
        java.util.Arrays.fill(half, n, pos, (short) 0);
        out.put((int) at, half, 0, pos);
    }
}
