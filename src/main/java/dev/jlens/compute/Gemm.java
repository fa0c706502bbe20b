package dev.jlens.compute;

import java.nio.FloatBuffer;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Matrix products of activations with weights, {@code out = x · W + bias}, written with the Java
 * Vector API for the shapes of a transformer forward pass.
 *
 * <p>ND4J's gemm (OpenBLAS) re-packs the whole weight matrix on every call, which dominates when
 * the activation has few rows (a short prompt), and multiplies by a transposed view (the tied
 * unembedding {@code W_E^T}) at a fraction of its speed. Here the weights are read in place from
 * native memory, {@link #KC} rows of a column chunk at a time, one bulk copy per row into a heap
 * block that stays in the core's cache while every row of {@code x} passes over it, {@link #PT}
 * columns at a time. The inner loop holds a 9 × PT block of the output in 27 vector registers
 * ({@link #micro9x3}).
 *
 * <p>The tied unembedding ({@link #linearTransposed}) computes {@code (W_E · xᵀ)ᵀ}: rows of
 * {@code W_E} are broadcast against panels of {@code xᵀ} packed once per call.
 *
 * <p>Work is split over column chunks claimed by the cores as they come free ({@link Parallel}).
 * {@link #micro4} and {@link #micro1} (four-vector panels, {@link #NR}) serve {@link Attention}.
 */
public final class Gemm {
    private static final VectorSpecies<Float> S = OffHeap.S;
    private static final int L = S.length();
    /** Columns of one panel in {@link #micro4}: four vectors. */
    static final int NR = 4 * L;
    /** Rows of the weight matrix per packed block. */
    static final int KC = 128;
    /** Widest column chunk (one piece of work) in {@link #linear}. */
    private static final int MAX_CHUNK = 12 * 3 * L;
    /**
     * Whether the vectors are 512 bits wide (AVX-512, 32 registers): then products take rows nine
     * at a time ({@link #micro9x3}), otherwise four ({@link #micro4x3}: 12 accumulators fit AVX2's 16).
     */
    private static final boolean WIDE = L >= 16;
    /** Rows of x per block in {@link #linear} (a multiple of 9 and of 4). */
    private static final int MC = 72;
    /** Weight rows per piece of work in {@link #linearTransposed} (a multiple of 9 and of 4). */
    private static final int NB = 72;

    private Gemm() {}

    /**
     * {@code out = x · w (+ bias)}.
     *
     * @param x    {@code [m, k]}, any layout (copied to the heap first)
     * @param w    {@code [k, n]} in row-major order, read in place
     * @param bias {@code [n]} or {@code null}
     * @param out  {@code [m, n]} row-major, contiguous; overwritten
     */
    public static void linear(INDArray x, INDArray w, INDArray bias, INDArray out) {
        int m = (int) x.size(0), k = (int) x.size(1), n = (int) w.size(1);
        checkShapes(x, w.size(0) == k, w, bias, out, m, n);
        if (!Layouts.isRowMajor(w)) throw new IllegalArgumentException("w must be a row-major [k, n] array");
        product(x, StoredFloats.of(w), w.offset(), null, k, n, bias, out);
    }

    /**
     * {@code out = x · w (+ bias)} with {@code w} {@linkplain #pack packed}: the same arithmetic as
     * {@link #linear(INDArray, INDArray, INDArray, INDArray)} in the same order, so the same result
     * to the bit, without copying weight blocks out of native memory on every call.
     */
    public static void linear(INDArray x, Packed w, INDArray bias, INDArray out) {
        int m = (int) x.size(0), k = (int) x.size(1), n = w.n();
        if (x.rank() != 2 || w.k() != k) {
            throw new IllegalArgumentException("shapes " + Arrays.toString(x.shape()) + " and [" + w.k() + ", " + n
                    + "] do not multiply");
        }
        checkShapes(x, true, x, bias, out, m, n);   // x stands in for the packed weight, checked above
        if (w.chunk() != chunkColumns(n)) throw new IllegalArgumentException("packed for another column split");
        product(x, null, 0, w, k, n, bias, out);
    }

    /** Either {@code wBuf} (native, copied block by block) or {@code packed} is given. */
    private static void product(INDArray x, StoredFloats wBuf, long wOffset, Packed packed, int k, int n,
                                INDArray bias, INDArray out) {
        int m = (int) x.size(0);
        float[] a = Scratch.toHeap(x, Scratch.IN_A);
        float[] b = bias == null ? null : Scratch.toHeap(bias);
        FloatBuffer outBuf = Layouts.floats(out);
        int chunk = chunkColumns(n);
        int tasks = (n + chunk - 1) / chunk;
        Parallel.forEach(tasks, (t, worker) -> {
            int j0 = t * chunk, cols = Math.min(chunk, n - j0), panels = (cols + PT - 1) / PT, ldb = panels * PT;
            Scratch s = Scratch.of(worker);
            float[] c = s.staging(m * chunk);
            float[] block = packed != null ? null : s.packed(KC * ldb);
            float[] bRow = s.bias(chunk);
            Arrays.fill(bRow, 0, chunk, 0f);
            if (b != null) System.arraycopy(b, j0, bRow, 0, cols);
            for (int k0 = 0; k0 < k; k0 += KC) {
                int kc = Math.min(KC, k - k0);
                // Where panel q of this block starts (src[base + q·panelStep]) and how far apart its rows lie.
                float[] src;
                int base, panelStep, rowStep;
                if (packed != null) {
                    src = packed.data();
                    base = packed.blockStart(t, k0);
                    panelStep = kc * PT;
                    rowStep = PT;
                } else {
                    copyBlock(wBuf, wOffset, n, k0, kc, j0, cols, ldb, block);
                    src = block;
                    base = 0;
                    panelStep = PT;
                    rowStep = ldb;
                }
                boolean first = k0 == 0;
                // Rows in blocks of MC so that their part of x and of the output stay in this core's cache
                // while every panel of the block passes over them.
                for (int i0 = 0; i0 < m; i0 += MC) {
                    int i1 = Math.min(m, i0 + MC);
                    for (int q = 0; q < panels; q++) {
                        int cCol = q * PT, bOff = base + q * panelStep;
                        int i = i0;
                        for (; WIDE && i + 9 <= i1; i += 9) {
                            micro9x3(a, i * k + k0, k, src, bOff, rowStep, kc, first ? bRow : c, first ? cCol : i * chunk + cCol,
                                    first ? 0 : chunk, c, i * chunk + cCol, chunk);
                        }
                        for (; i + 4 <= i1; i += 4) {
                            micro4x3(a, i * k + k0, k, src, bOff, rowStep, kc, first ? bRow : c, first ? cCol : i * chunk + cCol,
                                    first ? 0 : chunk, c, i * chunk + cCol, chunk);
                        }
                        for (; i < i1; i++) {
                            micro1x3(a, i * k + k0, k, src, bOff, rowStep, kc, first ? bRow : c, first ? cCol : i * chunk + cCol,
                                    0, c, i * chunk + cCol, chunk);
                        }
                    }
                }
            }
            for (int i = 0; i < m; i++) outBuf.put((int) (out.offset() + (long) i * n + j0), c, i * chunk, cols);
        });
    }

    /**
     * A weight matrix {@code [k, n]} copied once into the order {@link #linear(INDArray, Packed, INDArray, INDArray)}
     * reads it: column chunks (one piece of work each), then blocks of {@link #KC} rows, then panels
     * of {@link #PT} columns (zero past n), then rows. Each micro-kernel call then streams one
     * contiguous run of memory, which the hardware prefetcher fetches while the arithmetic runs:
     * at 45 rows about 1.4x the speed of copying each block out of native memory first.
     *
     * @param data the packed floats, on the Java heap (the fast kernels load from heap arrays)
     */
    public record Packed(int k, int n, int chunk, float[] data) {
        /** Where block {@code k0} of column chunk {@code t} starts in {@link #data}. */
        int blockStart(int t, int k0) {
            int panels = (Math.min(chunk, n - t * chunk) + PT - 1) / PT;
            return t * k * (chunk / PT) * PT + k0 * panels * PT;
        }

        /** The floats a packed {@code [k, n]} matrix takes (n rounded up to whole panels). */
        static long size(int k, int n) {
            int chunk = chunkColumns(n), full = n / chunk, rest = n - full * chunk;
            return (long) k * (full * (long) chunk + (rest + PT - 1) / PT * PT);
        }

        public long bytes() {
            return 4L * data.length;
        }
    }

    /** The floats {@link #pack} would allocate for a {@code [k, n]} matrix. */
    public static long packedSize(long k, long n) {
        return Packed.size((int) k, (int) n);
    }

    /** {@code w [k, n]} (row-major) in the layout of {@link Packed}; the cores share the copying. */
    public static Packed pack(INDArray w) {
        if (w.rank() != 2 || !Layouts.isRowMajor(w) || w.dataType() != DataType.FLOAT) {
            throw new IllegalArgumentException("pack needs a row-major FLOAT [k, n] array, got " + Arrays.toString(w.shape()));
        }
        int k = (int) w.size(0), n = (int) w.size(1), chunk = chunkColumns(n);
        long size = Packed.size(k, n);
        if (size > Integer.MAX_VALUE - 16) throw new IllegalArgumentException("matrix too large to pack: " + k + " x " + n);
        Packed p = new Packed(k, n, chunk, new float[(int) size]);
        FloatBuffer wBuf = Layouts.floats(w);
        long off = w.offset();
        Parallel.forEach((n + chunk - 1) / chunk, (t, worker) -> {
            int j0 = t * chunk, cols = Math.min(chunk, n - j0), panels = (cols + PT - 1) / PT;
            for (int k0 = 0; k0 < k; k0 += KC) {
                int kc = Math.min(KC, k - k0), start = p.blockStart(t, k0);
                for (int q = 0; q < panels; q++) {
                    int width = Math.min(PT, cols - q * PT);
                    for (int kk = 0; kk < kc; kk++) {
                        wBuf.get((int) (off + (long) (k0 + kk) * n + j0 + q * PT), p.data(), start + q * kc * PT + kk * PT, width);
                    }
                }
            }
        });
        return p;
    }

    /**
     * Rows {@code k0 .. k0+kc} of columns {@code j0 .. j0+cols} of w into a heap block with rows
     * {@code ldb} apart: block[kk·ldb + jj] = w[k0 + kk, j0 + jj], zero from {@code cols} to {@code ldb}.
     * One bulk copy per row (a memcpy, or a widening copy from bfloat16): vector loads from the native
     * memory cost about as much again as the arithmetic on the block at 45 rows.
     */
    private static void copyBlock(StoredFloats w, long wOffset, int n, int k0, int kc, int j0, int cols, int ldb,
                                  float[] block) {
        for (int kk = 0; kk < kc; kk++) {
            w.get(wOffset + (long) (k0 + kk) * n + j0, block, kk * ldb, cols);
            if (cols < ldb) Arrays.fill(block, kk * ldb + cols, (kk + 1) * ldb, 0f);
        }
    }

    /**
     * {@code out = x · wtᵀ (+ bias)} for a weight stored transposed, as the tied unembedding
     * ({@code W_U = W_Eᵀ}, {@code W_E [d_vocab, d_model]}).
     *
     * @param wt {@code [n, k]} row-major, float32 or bfloat16, read in place
     */
    public static void linearTransposed(INDArray x, INDArray wt, INDArray bias, INDArray out) {
        int m = (int) x.size(0), k = (int) x.size(1), n = (int) wt.size(0);
        checkShapes(x, wt.size(1) == k, wt, bias, out, m, n);
        if (!Layouts.isRowMajor(wt)) throw new IllegalArgumentException("wt must be a row-major [n, k] array");
        productTransposed(x, StoredFloats.of(wt), wt.offset(), null, n, bias, out);
    }

    /**
     * The same product with {@code wt}'s rows {@linkplain #packRows copied to the heap} once: the
     * same arithmetic in the same order, so the same bits, without copying rows out of native
     * memory on every call.
     */
    public static void linearTransposed(INDArray x, PackedRows wt, INDArray bias, INDArray out) {
        int m = (int) x.size(0), k = (int) x.size(1), n = wt.n();
        if (x.rank() != 2 || wt.k() != k) {
            throw new IllegalArgumentException("shapes " + Arrays.toString(x.shape()) + " and [" + n + ", " + wt.k()
                    + "]ᵀ do not multiply");
        }
        checkShapes(x, true, x, bias, out, m, n);   // x stands in for the packed weight, checked above
        productTransposed(x, null, 0, wt, n, bias, out);
    }

    /** Either {@code wtBuf} (native, copied {@link #NB} rows at a time) or {@code heapRows} is given. */
    private static void productTransposed(INDArray x, StoredFloats wtBuf, long wtOffset, PackedRows heapRows, int n,
                                          INDArray bias, INDArray out) {
        int m = (int) x.size(0), k = (int) x.size(1);
        float[] a = Scratch.toHeap(x, Scratch.IN_A);
        float[] b = bias == null ? null : Scratch.toHeap(bias);
        if (m <= DOT_ROWS) {
            productTransposedFewRows(a, m, k, wtBuf, wtOffset, heapRows, n, b, out);
            return;
        }
        // xᵀ in panels of PT rows of x: xp[p][kk·PT + r] = x[p·PT + r, kk], zero past m.
        int panels = (m + PT - 1) / PT;
        float[] xp = packTransposed(a, m, k, Scratch.of(0).floats(Scratch.IN_B, panels * k * PT));
        FloatBuffer outBuf = Layouts.floats(out);
        int tasks = (n + NB - 1) / NB;
        Parallel.forEach(tasks, (t, worker) -> {
            int n0 = t * NB, rows = Math.min(NB, n - n0);
            Scratch s = Scratch.of(worker);
            WeightRows w = weightRows(heapRows, wtBuf, wtOffset, n0, rows, k, s, true);
            float[] wRows = w.data();
            int wStart = w.start();
            float[] tile = s.bias(NB * PT);           // [NB weight rows, PT rows of x]
            float[] c = s.staging(m * NB);            // [m, NB]
            for (int p = 0; p < panels; p++) {
                for (int k0 = 0; k0 < k; k0 += KC) {
                    int kc = Math.min(KC, k - k0);
                    boolean first = k0 == 0;
                    int pOff = p * k * PT + k0 * PT;
                    for (int r = 0; r < NB; r += WIDE ? 9 : 4) {
                        if (WIDE) {
                            micro9x3(wRows, wStart + r * k + k0, k, xp, pOff, PT, kc, first ? ZEROS : tile, first ? 0 : r * PT,
                                    first ? 0 : PT, tile, r * PT, PT);
                        } else {
                            micro4x3(wRows, wStart + r * k + k0, k, xp, pOff, PT, kc, first ? ZEROS : tile, first ? 0 : r * PT,
                                    first ? 0 : PT, tile, r * PT, PT);
                        }
                    }
                }
                int mRows = Math.min(PT, m - p * PT);
                for (int r = 0; r < rows; r++) {
                    float add = b == null ? 0f : b[n0 + r];
                    for (int i = 0; i < mRows; i++) c[(p * PT + i) * NB + r] = tile[r * PT + i] + add;
                }
            }
            for (int i = 0; i < m; i++) outBuf.put((int) (out.offset() + (long) i * n + n0), c, i * NB, rows);
        });
    }

    /** A block of weight rows as floats: {@code data[start + r·k + j]} is row {@code n0 + r}, column j. */
    private record WeightRows(float[] data, int start) {}

    /**
     * Rows {@code [n0, n0 + rows)} of the weights: in place when they are packed on the heap, else read (widened
     * from bf16 as need be) into the worker's scratch, the rest of an {@link #NB}-row block zeroed when
     * {@code padToBlock} (the panel kernel reads whole blocks).
     */
    private static WeightRows weightRows(PackedRows heapRows, StoredFloats wtBuf, long wtOffset, int n0, int rows, int k, Scratch s,
                                         boolean padToBlock) {
        if (heapRows != null) return new WeightRows(heapRows.data(), n0 * k);
        float[] w = s.packed(NB * k);
        if (padToBlock) Arrays.fill(w, rows * k, NB * k, 0f);
        wtBuf.get(wtOffset + (long) n0 * k, w, 0, rows * k);
        return new WeightRows(w, 0);
    }

    /**
     * Up to this many rows of x, {@link #productTransposed} takes dot products of each weight row with each
     * row of x instead of broadcasting weight rows against {@link #PT}-wide panels of xᵀ: a panel holds one
     * row of x and {@code PT - 1} zeros when a generation step unembeds its one new token, so the panel
     * kernel did {@code PT} times the arithmetic (3 vector products per weight element), which made the tied
     * unembedding (50,257 × 768) more than half of a GPT-2 decode step. The dot products read each weight
     * row once for all rows of x, which is all a matrix-vector product can do.
     */
    static final int DOT_ROWS = 4;

    /**
     * {@link #productTransposed} for at most {@link #DOT_ROWS} rows of x. Each output is {@link #dot} of one
     * weight row and one row of x plus the bias: the same code for every row whatever m and the thread count,
     * and the same bits for weights read in place or from {@link PackedRows}. (Its sums run in another order
     * than the panel kernel's, so a product with more rows than {@link #DOT_ROWS} may differ from this one
     * in the last bits of a row.)
     */
    private static void productTransposedFewRows(float[] a, int m, int k, StoredFloats wtBuf, long wtOffset,
                                                 PackedRows heapRows, int n, float[] b, INDArray out) {
        FloatBuffer outBuf = Layouts.floats(out);
        int tasks = (n + NB - 1) / NB;
        Parallel.forEach(tasks, (t, worker) -> {
            int n0 = t * NB, rows = Math.min(NB, n - n0);
            Scratch s = Scratch.of(worker);
            WeightRows w = weightRows(heapRows, wtBuf, wtOffset, n0, rows, k, s, false);
            float[] wRows = w.data();
            int wStart = w.start();
            float[] c = s.staging(m * NB);            // [m, NB]
            for (int r = 0; r < rows; r++) {
                float add = b == null ? 0f : b[n0 + r];
                for (int i = 0; i < m; i++) c[i * NB + r] = dot(wRows, wStart + r * k, a, i * k, k) + add;
            }
            for (int i = 0; i < m; i++) outBuf.put((int) (out.offset() + (long) i * n + n0), c, i * NB, rows);
        });
    }

    /**
     * {@code Σ u[uOff + j] · v[vOff + j]} over j < k: four vector accumulators (vectors j ≡ 0, 1, 2, 3 mod 4),
     * added pairwise, {@link VectorMath#sum} across the lanes, then the last {@code k mod L} products in order.
     * The same bits in the interpreter and in compiled code (fma and add are exact operations; the lane sum is
     * VectorMath's fixed order).
     */
    static float dot(float[] u, int uOff, float[] v, int vOff, int k) {
        FloatVector s0 = FloatVector.zero(S), s1 = FloatVector.zero(S), s2 = FloatVector.zero(S), s3 = FloatVector.zero(S);
        int j = 0;
        for (; j + 4 * L <= k; j += 4 * L) {
            s0 = FloatVector.fromArray(S, u, uOff + j).fma(FloatVector.fromArray(S, v, vOff + j), s0);
            s1 = FloatVector.fromArray(S, u, uOff + j + L).fma(FloatVector.fromArray(S, v, vOff + j + L), s1);
            s2 = FloatVector.fromArray(S, u, uOff + j + 2 * L).fma(FloatVector.fromArray(S, v, vOff + j + 2 * L), s2);
            s3 = FloatVector.fromArray(S, u, uOff + j + 3 * L).fma(FloatVector.fromArray(S, v, vOff + j + 3 * L), s3);
        }
        for (; j + L <= k; j += L) s0 = FloatVector.fromArray(S, u, uOff + j).fma(FloatVector.fromArray(S, v, vOff + j), s0);
        float sum = VectorMath.sum(s0.add(s1).add(s2.add(s3)));
        for (; j < k; j++) sum = Math.fma(u[uOff + j], v[vOff + j], sum);
        return sum;
    }

    /**
     * The rows of a weight stored transposed ({@code wt [n, k]}, the tied unembedding {@code W_E})
     * on the heap, followed by zero rows up to a whole piece of work, read by
     * {@link #linearTransposed(INDArray, PackedRows, INDArray, INDArray)} in place.
     */
    public record PackedRows(int n, int k, float[] data) {
        public long bytes() {
            return 4L * data.length;
        }
    }

    /** The floats {@link #packRows} allocates for {@code [n, k]}. */
    public static long packedRowsSize(long n, long k) {
        return (n + NB - 1) / NB * NB * k;
    }

    /** {@code wt [n, k]} (row-major) copied to the heap for {@link #linearTransposed(INDArray, PackedRows, INDArray, INDArray)}. */
    public static PackedRows packRows(INDArray wt) {
        if (wt.rank() != 2 || !Layouts.isRowMajor(wt) || wt.dataType() != DataType.FLOAT) {
            throw new IllegalArgumentException("packRows needs a row-major FLOAT [n, k] array, got " + Arrays.toString(wt.shape()));
        }
        int n = (int) wt.size(0), k = (int) wt.size(1);
        long size = packedRowsSize(n, k);
        if (size > Integer.MAX_VALUE - 16) throw new IllegalArgumentException("matrix too large to pack: " + n + " x " + k);
        PackedRows p = new PackedRows(n, k, new float[(int) size]);
        FloatBuffer buf = Layouts.floats(wt);
        long off = wt.offset();
        Parallel.forEach((n + NB - 1) / NB, (t, worker) -> {
            int rows = Math.min(NB, n - t * NB);
            buf.get((int) (off + (long) t * NB * k), p.data(), t * NB * k, rows * k);
        });
        return p;
    }

    /**
     * {@code x [m, k]} (row-major in {@code a}) transposed into panels of PT rows of x, the right-hand
     * operand of {@link #micro8x3}: {@code xp[p·k·PT + kk·PT + r] = x[p·PT + r, kk]}, zero past row m.
     */
    static float[] packTransposed(float[] a, int m, int k, float[] xp) {
        int panels = (m + PT - 1) / PT;
        Arrays.fill(xp, 0, panels * k * PT, 0f);
        for (int i = 0; i < m; i++) {
            int base = (i / PT) * k * PT + i % PT;
            for (int kk = 0, src = i * k; kk < k; kk++) xp[base + kk * PT] = a[src + kk];
        }
        return xp;
    }

    /** Width of the panels of {@code xᵀ} in {@link #linearTransposed}: three vectors. */
    static final int PT = 3 * L;

    /**
     * c[9 rows, PT] = cin[9 rows, PT] + a[9 rows, kc] · b[kc, PT] (b rows ldb apart); {@code cinLd} 0 repeats
     * one cin row. 27 accumulators, three b vectors and a broadcast fill 31 of AVX-512's 32 registers:
     * with a ninth row each load of b serves nine rows, about 10% faster than eight.
     */
    static void micro9x3(float[] a, int aOff, int lda, float[] b, int bOff, int ldb, int kc,
                         float[] cin, int cinOff, int cinLd, float[] c, int cOff, int ldc) {
        FloatVector c00 = FloatVector.fromArray(S, cin, cinOff + 0 * cinLd), c01 = FloatVector.fromArray(S, cin, cinOff + 0 * cinLd + L), c02 = FloatVector.fromArray(S, cin, cinOff + 0 * cinLd + 2 * L);
        FloatVector c10 = FloatVector.fromArray(S, cin, cinOff + 1 * cinLd), c11 = FloatVector.fromArray(S, cin, cinOff + 1 * cinLd + L), c12 = FloatVector.fromArray(S, cin, cinOff + 1 * cinLd + 2 * L);
        FloatVector c20 = FloatVector.fromArray(S, cin, cinOff + 2 * cinLd), c21 = FloatVector.fromArray(S, cin, cinOff + 2 * cinLd + L), c22 = FloatVector.fromArray(S, cin, cinOff + 2 * cinLd + 2 * L);
        FloatVector c30 = FloatVector.fromArray(S, cin, cinOff + 3 * cinLd), c31 = FloatVector.fromArray(S, cin, cinOff + 3 * cinLd + L), c32 = FloatVector.fromArray(S, cin, cinOff + 3 * cinLd + 2 * L);
        FloatVector c40 = FloatVector.fromArray(S, cin, cinOff + 4 * cinLd), c41 = FloatVector.fromArray(S, cin, cinOff + 4 * cinLd + L), c42 = FloatVector.fromArray(S, cin, cinOff + 4 * cinLd + 2 * L);
        FloatVector c50 = FloatVector.fromArray(S, cin, cinOff + 5 * cinLd), c51 = FloatVector.fromArray(S, cin, cinOff + 5 * cinLd + L), c52 = FloatVector.fromArray(S, cin, cinOff + 5 * cinLd + 2 * L);
        FloatVector c60 = FloatVector.fromArray(S, cin, cinOff + 6 * cinLd), c61 = FloatVector.fromArray(S, cin, cinOff + 6 * cinLd + L), c62 = FloatVector.fromArray(S, cin, cinOff + 6 * cinLd + 2 * L);
        FloatVector c70 = FloatVector.fromArray(S, cin, cinOff + 7 * cinLd), c71 = FloatVector.fromArray(S, cin, cinOff + 7 * cinLd + L), c72 = FloatVector.fromArray(S, cin, cinOff + 7 * cinLd + 2 * L);
        FloatVector c80 = FloatVector.fromArray(S, cin, cinOff + 8 * cinLd), c81 = FloatVector.fromArray(S, cin, cinOff + 8 * cinLd + L), c82 = FloatVector.fromArray(S, cin, cinOff + 8 * cinLd + 2 * L);
        int a0 = aOff + 0 * lda, a1 = aOff + 1 * lda, a2 = aOff + 2 * lda, a3 = aOff + 3 * lda, a4 = aOff + 4 * lda, a5 = aOff + 5 * lda, a6 = aOff + 6 * lda, a7 = aOff + 7 * lda, a8 = aOff + 8 * lda;
        for (int kk = 0; kk < kc; kk++) {
            int bo = bOff + kk * ldb;
            FloatVector b0 = FloatVector.fromArray(S, b, bo), b1 = FloatVector.fromArray(S, b, bo + L), b2 = FloatVector.fromArray(S, b, bo + 2 * L);
            FloatVector x;
            x = FloatVector.broadcast(S, a[a0 + kk]);
            c00 = x.fma(b0, c00); c01 = x.fma(b1, c01); c02 = x.fma(b2, c02);
            x = FloatVector.broadcast(S, a[a1 + kk]);
            c10 = x.fma(b0, c10); c11 = x.fma(b1, c11); c12 = x.fma(b2, c12);
            x = FloatVector.broadcast(S, a[a2 + kk]);
            c20 = x.fma(b0, c20); c21 = x.fma(b1, c21); c22 = x.fma(b2, c22);
            x = FloatVector.broadcast(S, a[a3 + kk]);
            c30 = x.fma(b0, c30); c31 = x.fma(b1, c31); c32 = x.fma(b2, c32);
            x = FloatVector.broadcast(S, a[a4 + kk]);
            c40 = x.fma(b0, c40); c41 = x.fma(b1, c41); c42 = x.fma(b2, c42);
            x = FloatVector.broadcast(S, a[a5 + kk]);
            c50 = x.fma(b0, c50); c51 = x.fma(b1, c51); c52 = x.fma(b2, c52);
            x = FloatVector.broadcast(S, a[a6 + kk]);
            c60 = x.fma(b0, c60); c61 = x.fma(b1, c61); c62 = x.fma(b2, c62);
            x = FloatVector.broadcast(S, a[a7 + kk]);
            c70 = x.fma(b0, c70); c71 = x.fma(b1, c71); c72 = x.fma(b2, c72);
            x = FloatVector.broadcast(S, a[a8 + kk]);
            c80 = x.fma(b0, c80); c81 = x.fma(b1, c81); c82 = x.fma(b2, c82);
        }
        c00.intoArray(c, cOff + 0 * ldc); c01.intoArray(c, cOff + 0 * ldc + L); c02.intoArray(c, cOff + 0 * ldc + 2 * L);
        c10.intoArray(c, cOff + 1 * ldc); c11.intoArray(c, cOff + 1 * ldc + L); c12.intoArray(c, cOff + 1 * ldc + 2 * L);
        c20.intoArray(c, cOff + 2 * ldc); c21.intoArray(c, cOff + 2 * ldc + L); c22.intoArray(c, cOff + 2 * ldc + 2 * L);
        c30.intoArray(c, cOff + 3 * ldc); c31.intoArray(c, cOff + 3 * ldc + L); c32.intoArray(c, cOff + 3 * ldc + 2 * L);
        c40.intoArray(c, cOff + 4 * ldc); c41.intoArray(c, cOff + 4 * ldc + L); c42.intoArray(c, cOff + 4 * ldc + 2 * L);
        c50.intoArray(c, cOff + 5 * ldc); c51.intoArray(c, cOff + 5 * ldc + L); c52.intoArray(c, cOff + 5 * ldc + 2 * L);
        c60.intoArray(c, cOff + 6 * ldc); c61.intoArray(c, cOff + 6 * ldc + L); c62.intoArray(c, cOff + 6 * ldc + 2 * L);
        c70.intoArray(c, cOff + 7 * ldc); c71.intoArray(c, cOff + 7 * ldc + L); c72.intoArray(c, cOff + 7 * ldc + 2 * L);
        c80.intoArray(c, cOff + 8 * ldc); c81.intoArray(c, cOff + 8 * ldc + L); c82.intoArray(c, cOff + 8 * ldc + 2 * L);
    }

    static final float[] ZEROS = new float[NR];

    /** c[4 rows, PT] = cin[4 rows, PT] + a[4 rows, kc] · b[kc, PT] (b rows ldb apart); {@code cinLd} 0 repeats one cin row. */
    static void micro4x3(float[] a, int aOff, int lda, float[] b, int bOff, int ldb, int kc,
                          float[] cin, int cinOff, int cinLd, float[] c, int cOff, int ldc) {
        FloatVector c00 = FloatVector.fromArray(S, cin, cinOff + 0 * cinLd), c01 = FloatVector.fromArray(S, cin, cinOff + 0 * cinLd + L), c02 = FloatVector.fromArray(S, cin, cinOff + 0 * cinLd + 2 * L);
        FloatVector c10 = FloatVector.fromArray(S, cin, cinOff + 1 * cinLd), c11 = FloatVector.fromArray(S, cin, cinOff + 1 * cinLd + L), c12 = FloatVector.fromArray(S, cin, cinOff + 1 * cinLd + 2 * L);
        FloatVector c20 = FloatVector.fromArray(S, cin, cinOff + 2 * cinLd), c21 = FloatVector.fromArray(S, cin, cinOff + 2 * cinLd + L), c22 = FloatVector.fromArray(S, cin, cinOff + 2 * cinLd + 2 * L);
        FloatVector c30 = FloatVector.fromArray(S, cin, cinOff + 3 * cinLd), c31 = FloatVector.fromArray(S, cin, cinOff + 3 * cinLd + L), c32 = FloatVector.fromArray(S, cin, cinOff + 3 * cinLd + 2 * L);
        int a0 = aOff + 0 * lda, a1 = aOff + 1 * lda, a2 = aOff + 2 * lda, a3 = aOff + 3 * lda;
        for (int kk = 0; kk < kc; kk++) {
            int bo = bOff + kk * ldb;
            FloatVector b0 = FloatVector.fromArray(S, b, bo), b1 = FloatVector.fromArray(S, b, bo + L), b2 = FloatVector.fromArray(S, b, bo + 2 * L);
            FloatVector x;
            x = FloatVector.broadcast(S, a[a0 + kk]);
            c00 = x.fma(b0, c00); c01 = x.fma(b1, c01); c02 = x.fma(b2, c02);
            x = FloatVector.broadcast(S, a[a1 + kk]);
            c10 = x.fma(b0, c10); c11 = x.fma(b1, c11); c12 = x.fma(b2, c12);
            x = FloatVector.broadcast(S, a[a2 + kk]);
            c20 = x.fma(b0, c20); c21 = x.fma(b1, c21); c22 = x.fma(b2, c22);
            x = FloatVector.broadcast(S, a[a3 + kk]);
            c30 = x.fma(b0, c30); c31 = x.fma(b1, c31); c32 = x.fma(b2, c32);
        }
        c00.intoArray(c, cOff + 0 * ldc); c01.intoArray(c, cOff + 0 * ldc + L); c02.intoArray(c, cOff + 0 * ldc + 2 * L);
        c10.intoArray(c, cOff + 1 * ldc); c11.intoArray(c, cOff + 1 * ldc + L); c12.intoArray(c, cOff + 1 * ldc + 2 * L);
        c20.intoArray(c, cOff + 2 * ldc); c21.intoArray(c, cOff + 2 * ldc + L); c22.intoArray(c, cOff + 2 * ldc + 2 * L);
        c30.intoArray(c, cOff + 3 * ldc); c31.intoArray(c, cOff + 3 * ldc + L); c32.intoArray(c, cOff + 3 * ldc + 2 * L);
    }

    /** c[1 row, PT] = cin[1 row, PT] + a[1 row, kc] · b[kc, PT] (b rows ldb apart); {@code cinLd} 0 repeats one cin row. */
    static void micro1x3(float[] a, int aOff, int lda, float[] b, int bOff, int ldb, int kc,
                          float[] cin, int cinOff, int cinLd, float[] c, int cOff, int ldc) {
        FloatVector c00 = FloatVector.fromArray(S, cin, cinOff + 0 * cinLd), c01 = FloatVector.fromArray(S, cin, cinOff + 0 * cinLd + L), c02 = FloatVector.fromArray(S, cin, cinOff + 0 * cinLd + 2 * L);
        int a0 = aOff + 0 * lda;
        for (int kk = 0; kk < kc; kk++) {
            int bo = bOff + kk * ldb;
            FloatVector b0 = FloatVector.fromArray(S, b, bo), b1 = FloatVector.fromArray(S, b, bo + L), b2 = FloatVector.fromArray(S, b, bo + 2 * L);
            FloatVector x;
            x = FloatVector.broadcast(S, a[a0 + kk]);
            c00 = x.fma(b0, c00); c01 = x.fma(b1, c01); c02 = x.fma(b2, c02);
        }
        c00.intoArray(c, cOff + 0 * ldc); c01.intoArray(c, cOff + 0 * ldc + L); c02.intoArray(c, cOff + 0 * ldc + 2 * L);
    }

    /**
     * c[4 rows, NR] = cin[4 rows, NR] + a[4 rows, kc] · b[kc, NR], with b packed NR-wide.
     * {@code cinLd} 0 broadcasts one row of {@code cin} (the bias) to all four.
     */
    static void micro4(float[] a, int aOff, int lda, float[] b, int bOff, int kc,
                       float[] cin, int cinOff, int cinLd, float[] c, int cOff, int ldc) {
        int r1 = cinOff + cinLd, r2 = r1 + cinLd, r3 = r2 + cinLd;
        FloatVector c00 = FloatVector.fromArray(S, cin, cinOff), c01 = FloatVector.fromArray(S, cin, cinOff + L);
        FloatVector c02 = FloatVector.fromArray(S, cin, cinOff + 2 * L), c03 = FloatVector.fromArray(S, cin, cinOff + 3 * L);
        FloatVector c10 = FloatVector.fromArray(S, cin, r1), c11 = FloatVector.fromArray(S, cin, r1 + L);
        FloatVector c12 = FloatVector.fromArray(S, cin, r1 + 2 * L), c13 = FloatVector.fromArray(S, cin, r1 + 3 * L);
        FloatVector c20 = FloatVector.fromArray(S, cin, r2), c21 = FloatVector.fromArray(S, cin, r2 + L);
        FloatVector c22 = FloatVector.fromArray(S, cin, r2 + 2 * L), c23 = FloatVector.fromArray(S, cin, r2 + 3 * L);
        FloatVector c30 = FloatVector.fromArray(S, cin, r3), c31 = FloatVector.fromArray(S, cin, r3 + L);
        FloatVector c32 = FloatVector.fromArray(S, cin, r3 + 2 * L), c33 = FloatVector.fromArray(S, cin, r3 + 3 * L);
        int a0 = aOff, a1 = aOff + lda, a2 = a1 + lda, a3 = a2 + lda;
        for (int kk = 0; kk < kc; kk++) {
            int bo = bOff + kk * NR;
            FloatVector b0 = FloatVector.fromArray(S, b, bo), b1 = FloatVector.fromArray(S, b, bo + L);
            FloatVector b2 = FloatVector.fromArray(S, b, bo + 2 * L), b3 = FloatVector.fromArray(S, b, bo + 3 * L);
            FloatVector x = FloatVector.broadcast(S, a[a0 + kk]);
            c00 = x.fma(b0, c00); c01 = x.fma(b1, c01); c02 = x.fma(b2, c02); c03 = x.fma(b3, c03);
            x = FloatVector.broadcast(S, a[a1 + kk]);
            c10 = x.fma(b0, c10); c11 = x.fma(b1, c11); c12 = x.fma(b2, c12); c13 = x.fma(b3, c13);
            x = FloatVector.broadcast(S, a[a2 + kk]);
            c20 = x.fma(b0, c20); c21 = x.fma(b1, c21); c22 = x.fma(b2, c22); c23 = x.fma(b3, c23);
            x = FloatVector.broadcast(S, a[a3 + kk]);
            c30 = x.fma(b0, c30); c31 = x.fma(b1, c31); c32 = x.fma(b2, c32); c33 = x.fma(b3, c33);
        }
        int o1 = cOff + ldc, o2 = o1 + ldc, o3 = o2 + ldc;
        c00.intoArray(c, cOff); c01.intoArray(c, cOff + L); c02.intoArray(c, cOff + 2 * L); c03.intoArray(c, cOff + 3 * L);
        c10.intoArray(c, o1); c11.intoArray(c, o1 + L); c12.intoArray(c, o1 + 2 * L); c13.intoArray(c, o1 + 3 * L);
        c20.intoArray(c, o2); c21.intoArray(c, o2 + L); c22.intoArray(c, o2 + 2 * L); c23.intoArray(c, o2 + 3 * L);
        c30.intoArray(c, o3); c31.intoArray(c, o3 + L); c32.intoArray(c, o3 + 2 * L); c33.intoArray(c, o3 + 3 * L);
    }

    /** One row: c[NR] = cin[NR] + a[kc] · b[kc, NR]. */
    static void micro1(float[] a, int aOff, float[] b, int bOff, int kc, float[] cin, int cinOff, float[] c, int cOff) {
        FloatVector c0 = FloatVector.fromArray(S, cin, cinOff), c1 = FloatVector.fromArray(S, cin, cinOff + L);
        FloatVector c2 = FloatVector.fromArray(S, cin, cinOff + 2 * L), c3 = FloatVector.fromArray(S, cin, cinOff + 3 * L);
        for (int kk = 0; kk < kc; kk++) {
            int bo = bOff + kk * NR;
            FloatVector x = FloatVector.broadcast(S, a[aOff + kk]);
            c0 = x.fma(FloatVector.fromArray(S, b, bo), c0);
            c1 = x.fma(FloatVector.fromArray(S, b, bo + L), c1);
            c2 = x.fma(FloatVector.fromArray(S, b, bo + 2 * L), c2);
            c3 = x.fma(FloatVector.fromArray(S, b, bo + 3 * L), c3);
        }
        c0.intoArray(c, cOff); c1.intoArray(c, cOff + L); c2.intoArray(c, cOff + 2 * L); c3.intoArray(c, cOff + 3 * L);
    }

    /** Column chunks: at least a panel, and about four per thread so that a slow core holds nobody up. */
    private static int chunkColumns(int n) {
        int perTask = (n + 4 * Parallel.THREADS - 1) / (4 * Parallel.THREADS);
        return Math.min(MAX_CHUNK, Math.max(PT, (perTask + PT - 1) / PT * PT));
    }

    private static void checkShapes(INDArray x, boolean kMatches, INDArray w, INDArray bias, INDArray out, int m, int n) {
        if (x.rank() != 2 || w.rank() != 2 || !kMatches) {
            throw new IllegalArgumentException("shapes " + Arrays.toString(x.shape()) + " and " + Arrays.toString(w.shape())
                    + " do not multiply");
        }
        if (bias != null && bias.length() != n) throw new IllegalArgumentException("bias has " + bias.length() + " entries, not " + n);
        if (out.rank() != 2 || out.size(0) != m || out.size(1) != n || !Layouts.isRowMajor(out)) {
            throw new IllegalArgumentException("out must be a row-major [" + m + ", " + n + "] array, got "
                    + Arrays.toString(out.shape()));
        }
        for (INDArray arr : new INDArray[] {x, bias, out}) {
            if (arr != null && arr.dataType() != DataType.FLOAT) throw new IllegalArgumentException("expected FLOAT arrays");
        }
        if (!StoredFloats.readable(w)) throw new IllegalArgumentException("weights must be FLOAT or BFLOAT16, got " + w.dataType());
    }


}
