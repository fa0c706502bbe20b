package dev.jlens.train;

import static dev.jlens.train.Kernels.root;

import java.nio.FloatBuffer;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The backward pass of causal self-attention, all heads in one pass, one batch row per piece of
 * work (the mirror of {@code dev.jlens.compute.Attention#causal}). Given {@code dz}, the gradient
 * of {@code z = dropout(P) · v}, it writes the gradients of q, k and v straight into their columns
 * of {@code dqkv [B·T, 3·H·dh]}:
 *
 * <pre>
 * dPd = dz · vᵀ                  (keys ≤ query only)
 * dv  = Pdᵀ · dz                 Pd = P ⊙ mask / (1 − p), the pattern the values were mixed with
 * dP  = dPd ⊙ mask / (1 − p)     undo the dropout
 * dS' = P ⊙ (dP − Σ_k dP_k P_k) / attn_scale     softmax backward, with the scores' scale
 * dq  = dS' · k,   dk = dS'ᵀ · q (the forward computes scores as (q / attn_scale) · kᵀ)
 * </pre>
 *
 * The upper triangle (keys after the query) is never touched: its probabilities are 0, so are its
 * gradients. A batch row's q, k, v and dz are copied to the heap in one piece, each head's work
 * stays in a few small arrays, every reduction runs on several independent SIMD accumulators, and
 * nothing of size {@code [B, H, T, T]} is written.
 */
final class AttentionBackward {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int LANES = S.length();
    private static final VectorSpecies<Byte> SB = speciesOfBytes();

    private AttentionBackward() {}

    /** Bytes in the vector shape whose lane count matches {@link #S}, for widening masks to floats. */
    private static VectorSpecies<Byte> speciesOfBytes() {
        return VectorSpecies.of(byte.class, jdk.incubator.vector.VectorShape.forBitSize(LANES * 8));
    }

    private static int roundUp(int n, int to) {
        return (n + to - 1) / to * to;
    }

    /**
     * @param q, k, v   {@code [B, T, H, dh]} views (any strides; last dimension contiguous), as the forward recorded them
     * @param dz        {@code [B·T, H·dh]} c-order: the gradient of z
     * @param pattern   {@code [B, H, T, T]} c-order: the softmax output before dropout
     * @param mask      dropout keep-mask in the pattern's layout (1 keep, 0 drop), or null without dropout
     * @param keepScale {@code 1 / (1 − p)}
     * @param invScale  {@code 1 / attn_scale}
     * @param dqkv      {@code [B·T, 3·H·dh]} c-order: receives dq, dk and dv in the columns of q, k and v
     */
    static void run(INDArray q, INDArray k, INDArray v, INDArray dz, INDArray pattern, byte[] mask, float keepScale,
                    float invScale, INDArray dqkv, int B, int T, int H, int dh) {
        View qv = View.of(q), kv = View.of(k), vv = View.of(v);
        FloatBuffer dzb = Backprop.floats(dz), pb = Backprop.floats(pattern), outb = Backprop.floats(dqkv);
        int hd = H * dh, width = 3 * hd;
        int tp = roundUp(T, 4 * LANES);                    // pattern rows (and their count) padded to whole groups of vectors
        int dp = roundUp(dh, LANES);                       // head rows padded to whole vectors
        boolean packed = View.packedQkv(qv, kv, vv, T, dh, hd);
        boolean direct = dh % LANES == 0;                 // head rows are whole vectors: work on the row arrays in place
        Kernels.rows(B, (chunk, from, to) -> {
            float[] rowQkv = new float[T * width], rowDz = new float[T * hd], rowOut = new float[T * width];
            float[] qa = direct ? null : new float[T * dp], ka = direct ? null : new float[T * dp];
            float[] dza = direct ? null : new float[T * dp];
            float[] dq = direct ? null : new float[T * dp], dk = direct ? null : new float[T * dp], dv = direct ? null : new float[T * dp];
            float[] vt = new float[dh * tp];                       // vᵀ, rows padded
            float[] pat = new float[T * T];
            float[] p = new float[tp], dpd = new float[tp], keep = new float[tp];
            float[] pdAll = new float[tp * tp], dsAll = new float[tp * tp];   // Pd and dS' rows of this head (rows padded too)
            for (int b = from; b < to; b++) {
                if (packed) {
                    qv.buf.get((int) (qv.offset + b * qv.sb), rowQkv, 0, T * width);
                } else {
                    for (int t = 0; t < T; t++) {
                        for (int h = 0; h < H; h++) {
                            qv.row(b, t, h, rowQkv, t * width + h * dh, dh);
                            kv.row(b, t, h, rowQkv, t * width + hd + h * dh, dh);
                            vv.row(b, t, h, rowQkv, t * width + 2 * hd + h * dh, dh);
                        }
                    }
                }
                dzb.get(b * T * hd, rowDz, 0, T * hd);
                for (int h = 0; h < H; h++) {
                    // Where this head's rows live: in the row arrays (stride = row width) or in padded copies.
                    float[] Q = qa, K = ka, DZ = dza, DQ = dq, DK = dk, DV = dv;
                    int qBase = 0, kBase = 0, dzBase = 0, dqBase = 0, dkBase = 0, dvBase = 0, st = dp, dzSt = dp, outSt = dp;
                    if (direct) {
                        Q = rowQkv; K = rowQkv; DZ = rowDz; DQ = rowOut; DK = rowOut; DV = rowOut;
                        qBase = h * dh; kBase = hd + h * dh; dzBase = h * dh;
                        dqBase = h * dh; dkBase = hd + h * dh; dvBase = 2 * hd + h * dh;
                        st = width; dzSt = hd; outSt = width;
                    } else {
                        for (int t = 0; t < T; t++) {
                            System.arraycopy(rowQkv, t * width + h * dh, qa, t * dp, dh);
                            System.arraycopy(rowQkv, t * width + hd + h * dh, ka, t * dp, dh);
                            System.arraycopy(rowDz, t * hd + h * dh, dza, t * dp, dh);
                        }
                    }
                    for (int t = 0; t < T; t++) {
                        int vAt = t * width + 2 * hd + h * dh;
                        for (int d = 0; d < dh; d++) vt[d * tp + t] = rowQkv[vAt + d];
                    }
                    int matrix = (b * H + h) * T * T;
                    pb.get(matrix, pat, 0, T * T);
                    for (int i = 0; i < T; i++) {
                        int n = i + 1, nv = roundUp(n, LANES), row = i * tp;
                        patternGradRow(DZ, dzBase + i * dzSt, dh, vt, tp, nv, dpd);     // dPd[j] = dz_i · v_j
                        System.arraycopy(pat, i * T, p, 0, n);
                        java.util.Arrays.fill(p, n, tp, 0f);
                        if (mask != null) {
                            keepFactors(mask, matrix + i * T, n, nv, keepScale, keep);
                            dropRow(p, dpd, keep, nv, pdAll, row);                     // Pd, and dP = dPd ⊙ keep
                        } else {
                            System.arraycopy(p, 0, pdAll, row, nv);
                        }
                        java.util.Arrays.fill(pdAll, row + nv, row + tp, 0f);
                        softmaxGradRow(p, dpd, tp, nv, invScale, dsAll, row);          // dS' (0 past the query)
                    }
                    for (int i = T; i < tp; i++) {                                     // padding rows: no queries there
                        java.util.Arrays.fill(dsAll, i * tp, (i + 1) * tp, 0f);
                        java.util.Arrays.fill(pdAll, i * tp, (i + 1) * tp, 0f);
                    }
                    for (int i0 = 0; i0 < T; i0 += 4) queryGrads(dsAll, tp, i0, T, K, kBase, st, DQ, dqBase, outSt, dp);
                    for (int j0 = 0; j0 < T; j0 += 4) {
                        keyGrads(dsAll, pdAll, tp, j0, T, Q, qBase, st, DZ, dzBase, dzSt, DK, dkBase, DV, dvBase, outSt, dp);
                    }
                    if (!direct) {
                        for (int t = 0; t < T; t++) {
                            int base = t * width + h * dh;
                            System.arraycopy(dq, t * dp, rowOut, base, dh);
                            System.arraycopy(dk, t * dp, rowOut, base + hd, dh);
                            System.arraycopy(dv, t * dp, rowOut, base + 2 * hd, dh);
                        }
                    }
                }
                outb.put(b * T * width, rowOut, 0, T * width);
            }
        });
    }

    /**
     * {@code out[0..nv) = Σ_d dz[d] · vt[d][0..nv)}: one row of the pattern's gradient, four vectors
     * of keys at a time (four independent accumulators). Entries past the query are discarded later.
     */
    private static void patternGradRow(float[] dz, int dzAt, int dh, float[] vt, int tp, int nv, float[] out) {
        for (int j = 0; j < nv; j += 4 * LANES) {                // rows are padded to whole groups of four
            FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
            for (int d = 0, at = j; d < dh; d++, at += tp) {
                FloatVector x = FloatVector.broadcast(S, dz[dzAt + d]);
                a0 = x.fma(FloatVector.fromArray(S, vt, at), a0);
                a1 = x.fma(FloatVector.fromArray(S, vt, at + LANES), a1);
                a2 = x.fma(FloatVector.fromArray(S, vt, at + 2 * LANES), a2);
                a3 = x.fma(FloatVector.fromArray(S, vt, at + 3 * LANES), a3);
            }
            a0.intoArray(out, j);
            a1.intoArray(out, j + LANES);
            a2.intoArray(out, j + 2 * LANES);
            a3.intoArray(out, j + 3 * LANES);
        }
    }

    /** {@code keep[j] = mask[at + j] · keepScale} for {@code j < n}, 0 up to {@code nv}. */
    private static void keepFactors(byte[] mask, int at, int n, int nv, float keepScale, float[] keep) {
        int j = 0;
        for (; j + LANES <= n; j += LANES) {
            ((FloatVector) ByteVector.fromArray(SB, mask, at + j).convertShape(VectorOperators.B2F, S, 0)).mul(keepScale).intoArray(keep, j);
        }
        for (; j < n; j++) keep[j] = mask[at + j] * keepScale;
        for (; j < nv; j++) keep[j] = 0f;
    }

    /** {@code pd[at + j] = p[j] · keep[j]}, {@code dp[j] *= keep[j]} over {@code [0, nv)}. */
    private static void dropRow(float[] p, float[] dp, float[] keep, int nv, float[] pd, int at) {
        for (int j = 0; j < nv; j += LANES) {
            FloatVector kj = FloatVector.fromArray(S, keep, j);
            FloatVector.fromArray(S, p, j).mul(kj).intoArray(pd, at + j);
            FloatVector.fromArray(S, dp, j).mul(kj).intoArray(dp, j);
        }
    }

    /** {@code ds[at + j] = p[j] (dp[j] − Σ_k dp[k] p[k]) · invScale} over {@code [0, tp)}; p is 0 past the query. */
    private static void softmaxGradRow(float[] p, float[] dp, int tp, int nv, float invScale, float[] ds, int at) {
        FloatVector acc0 = FloatVector.zero(S), acc1 = acc0;
        int j = 0;
        for (; j + 2 * LANES <= nv; j += 2 * LANES) {
            acc0 = FloatVector.fromArray(S, dp, j).fma(FloatVector.fromArray(S, p, j), acc0);
            acc1 = FloatVector.fromArray(S, dp, j + LANES).fma(FloatVector.fromArray(S, p, j + LANES), acc1);
        }
        if (j < nv) acc0 = FloatVector.fromArray(S, dp, j).fma(FloatVector.fromArray(S, p, j), acc0);
        FloatVector dot = FloatVector.broadcast(S, dev.jlens.compute.VectorMath.sum(acc0.add(acc1)));
        for (j = 0; j < nv; j += LANES) {
            FloatVector pj = FloatVector.fromArray(S, p, j);
            pj.mul(FloatVector.fromArray(S, dp, j).sub(dot)).mul(invScale).intoArray(ds, at + j);
        }
        java.util.Arrays.fill(ds, at + nv, at + tp, 0f);
    }

    /**
     * {@code dq_i = Σ_j dS'[i][j] k_j} for the four queries {@code i0..i0+3} (rows past T or keys past a
     * query are zero in dS'), sharing each loaded key row between the four.
     */
    private static void queryGrads(float[] ds, int tp, int i0, int T, float[] k, int kBase, int kSt, float[] dq, int dqBase,
                                   int dqSt, int dp) {
        int n = Math.min(T, i0 + 4);                     // keys the last of the four queries sees
        int r0 = i0 * tp, r1 = r0 + tp, r2 = r1 + tp, r3 = r2 + tp;
        for (int c = 0; c < dp; c += LANES) {
            FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
            for (int j = 0, at = kBase + c; j < n; j++, at += kSt) {
                FloatVector kj = FloatVector.fromArray(S, k, at);
                a0 = FloatVector.broadcast(S, ds[r0 + j]).fma(kj, a0);
                a1 = FloatVector.broadcast(S, ds[r1 + j]).fma(kj, a1);
                a2 = FloatVector.broadcast(S, ds[r2 + j]).fma(kj, a2);
                a3 = FloatVector.broadcast(S, ds[r3 + j]).fma(kj, a3);
            }
            int out = dqBase + i0 * dqSt + c;
            a0.intoArray(dq, out);
            if (i0 + 1 < T) a1.intoArray(dq, out + dqSt);
            if (i0 + 2 < T) a2.intoArray(dq, out + 2 * dqSt);
            if (i0 + 3 < T) a3.intoArray(dq, out + 3 * dqSt);
        }
    }

    /**
     * {@code dk_j = Σ_{i≥j} dS'[i][j] q_i} and {@code dv_j = Σ_{i≥j} Pd[i][j] dz_i} for the four keys
     * {@code j0..j0+3}, sharing each loaded query and dz row between the four (entries above the
     * diagonal are zero, so every key can start at query j0).
     */
    private static void keyGrads(float[] ds, float[] pd, int tp, int j0, int T, float[] q, int qBase, int qSt, float[] dz,
                                 int dzBase, int dzSt, float[] dk, int dkBase, float[] dv, int dvBase, int outSt, int dp) {
        for (int c = 0; c < dp; c += LANES) {
            FloatVector k0 = FloatVector.zero(S), k1 = k0, k2 = k0, k3 = k0, v0 = k0, v1 = k0, v2 = k0, v3 = k0;
            for (int i = j0, qa = qBase + j0 * qSt + c, za = dzBase + j0 * dzSt + c, m = j0 * tp + j0; i < T;
                 i++, qa += qSt, za += dzSt, m += tp) {
                FloatVector qi = FloatVector.fromArray(S, q, qa), zi = FloatVector.fromArray(S, dz, za);
                k0 = FloatVector.broadcast(S, ds[m]).fma(qi, k0);
                k1 = FloatVector.broadcast(S, ds[m + 1]).fma(qi, k1);
                k2 = FloatVector.broadcast(S, ds[m + 2]).fma(qi, k2);
                k3 = FloatVector.broadcast(S, ds[m + 3]).fma(qi, k3);
                v0 = FloatVector.broadcast(S, pd[m]).fma(zi, v0);
                v1 = FloatVector.broadcast(S, pd[m + 1]).fma(zi, v1);
                v2 = FloatVector.broadcast(S, pd[m + 2]).fma(zi, v2);
                v3 = FloatVector.broadcast(S, pd[m + 3]).fma(zi, v3);
            }
            int kOut = dkBase + j0 * outSt + c, vOut = dvBase + j0 * outSt + c;
            k0.intoArray(dk, kOut);
            v0.intoArray(dv, vOut);
            if (j0 + 1 < T) {
                k1.intoArray(dk, kOut + outSt);
                v1.intoArray(dv, vOut + outSt);
            }
            if (j0 + 2 < T) {
                k2.intoArray(dk, kOut + 2 * outSt);
                v2.intoArray(dv, vOut + 2 * outSt);
            }
            if (j0 + 3 < T) {
                k3.intoArray(dk, kOut + 3 * outSt);
                v3.intoArray(dv, vOut + 3 * outSt);
            }
        }
    }

    /** Rows of a {@code [B, T, H, dh]} array with any strides (last one 1), read through its owning buffer. */
    private record View(org.nd4j.linalg.api.buffer.DataBuffer owner, FloatBuffer buf, long offset, long sb, long st, long sh) {
        static View of(INDArray a) {
            long[] s = a.stride();
            if (a.rank() != 4 || s[3] != 1) {
                throw new IllegalArgumentException("expected a [B, T, H, dh] array with contiguous rows, got strides "
                        + java.util.Arrays.toString(s));
            }
            org.nd4j.linalg.api.buffer.DataBuffer owner = root(a.data());
            return new View(owner, owner.asNioFloat(), a.offset(), s[0], s[1], s[2]);
        }

        void row(int b, int t, int h, float[] dst, int at, int dh) {
            buf.get((int) (offset + b * sb + t * st + h * sh), dst, at, dh);
        }

        /** Whether q, k and v are the three column blocks of one {@code [B·T, 3·H·dh]} projection (the usual case). */
        static boolean packedQkv(View q, View k, View v, int T, int dh, int hd) {
            int width = 3 * hd;
            for (View x : new View[] {q, k, v}) {
                if (x.owner != q.owner) return false;
                if (x.st != width || x.sb != (long) T * width || x.sh != dh) return false;
            }
            return k.offset == q.offset + hd && v.offset == q.offset + 2L * hd;
        }
    }
}
