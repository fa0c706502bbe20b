package dev.jlens.compute;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The Vector API matrix products against plain loops in double precision, over awkward shapes. */
class GemmTest {
    static final int[] MS = {1, 3, 4, 5, 9, 17, 45, 70, 80};
    static final int[] KS = {1, 7, 64, 300};
    static final int[] NS = {1, 5, 16, 63, 64, 65, 200};

    static INDArray random(Random r, int rows, int cols) {
        float[] v = new float[rows * cols];
        for (int i = 0; i < v.length; i++) v[i] = (float) r.nextGaussian();
        return Nd4j.create(v, new long[] {rows, cols}, 'c');
    }

    static double[][] naive(INDArray x, INDArray w, INDArray bias, boolean transposed) {
        int m = (int) x.size(0), k = (int) x.size(1), n = (int) (transposed ? w.size(0) : w.size(1));
        double[][] out = new double[m][n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = bias == null ? 0 : bias.getDouble(j);
                for (int kk = 0; kk < k; kk++) s += x.getDouble(i, kk) * (transposed ? w.getDouble(j, kk) : w.getDouble(kk, j));
                out[i][j] = s;
            }
        }
        return out;
    }

    static void assertClose(double[][] want, INDArray got, int k, String what) {
        for (int i = 0; i < want.length; i++) {
            for (int j = 0; j < want[i].length; j++) {
                double tol = 1e-5 * Math.sqrt(k) * 4 + 1e-6 * Math.abs(want[i][j]);
                double d = Math.abs(want[i][j] - got.getDouble(i, j));
                assertTrue(d <= tol, what + " at [" + i + "," + j + "]: want " + want[i][j] + " got " + got.getDouble(i, j));
            }
        }
    }

    @Test
    void linearMatchesPlainLoopsForAwkwardShapes() {
        Random r = new Random(1);
        for (int m : MS) for (int k : KS) for (int n : NS) {
            INDArray x = random(r, m, k), w = random(r, k, n), bias = (m + n) % 2 == 0 ? random(r, 1, n).reshape(n) : null;
            INDArray out = Nd4j.createUninitialized(DataType.FLOAT, m, n);
            Gemm.linear(x, w, bias, out);
            assertClose(naive(x, w, bias, false), out, k, "linear m=" + m + " k=" + k + " n=" + n);
        }
    }

    @Test
    void aPackedWeightGivesTheSameBitsAsTheWeightReadInPlace() {
        Random r = new Random(4);
        // k past one block of KC rows, n across several column chunks with a ragged last panel.
        for (int m : new int[] {1, 9, 45, 80}) for (int k : new int[] {7, 128, 300}) for (int n : new int[] {5, 63, 200, 700, 1100}) {
            INDArray x = random(r, m, k), w = random(r, k, n), bias = (m + k) % 2 == 0 ? random(r, 1, n).reshape(n) : null;
            INDArray inPlace = Nd4j.createUninitialized(DataType.FLOAT, m, n), packed = Nd4j.createUninitialized(DataType.FLOAT, m, n);
            Gemm.linear(x, w, bias, inPlace);
            Gemm.Packed p = Gemm.pack(w);
            assertEquals(Gemm.packedSize(k, n), p.data().length, "packedSize");
            Gemm.linear(x, p, bias, packed);
            assertClose(naive(x, w, bias, false), packed, k, "packed m=" + m + " k=" + k + " n=" + n);
            assertEquals(inPlace, packed, "packed and in-place products differ at m=" + m + " k=" + k + " n=" + n);
        }
        // A weight that is a view inside a larger buffer (W_Q inside W_QKV) packs from its own rows.
        INDArray wBig = random(r, 3 * 40, 70);
        INDArray wView = wBig.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(40, 80), org.nd4j.linalg.indexing.NDArrayIndex.all());
        INDArray x = random(r, 5, 40), out = Nd4j.createUninitialized(DataType.FLOAT, 5, 70);
        Gemm.linear(x, Gemm.pack(wView), null, out);
        assertClose(naive(x, wView, null, false), out, 40, "packed weight view");
    }

    @Test
    void linearTransposedMatchesPlainLoopsForAwkwardShapes() {
        Random r = new Random(2);
        for (int m : MS) for (int k : KS) for (int n : new int[] {1, 3, 64, 65, 131}) {
            INDArray x = random(r, m, k), wt = random(r, n, k), bias = (m + n) % 2 == 1 ? random(r, 1, n).reshape(n) : null;
            INDArray out = Nd4j.createUninitialized(DataType.FLOAT, m, n);
            Gemm.linearTransposed(x, wt, bias, out);
            assertClose(naive(x, wt, bias, true), out, k, "linearTransposed m=" + m + " k=" + k + " n=" + n);
        }
    }

    @Test
    void heapRowsGiveTheSameBitsAsRowsReadInPlace() {
        Random r = new Random(5);
        for (int m : new int[] {1, 9, 45, 80}) for (int k : new int[] {7, 300}) for (int n : new int[] {1, 65, 131, 500}) {
            INDArray x = random(r, m, k), wt = random(r, n, k), bias = (m + n) % 2 == 1 ? random(r, 1, n).reshape(n) : null;
            INDArray inPlace = Nd4j.createUninitialized(DataType.FLOAT, m, n), heap = Nd4j.createUninitialized(DataType.FLOAT, m, n);
            Gemm.linearTransposed(x, wt, bias, inPlace);
            Gemm.PackedRows rows = Gemm.packRows(wt);
            assertEquals(Gemm.packedRowsSize(n, k), rows.data().length, "packedRowsSize");
            Gemm.linearTransposed(x, rows, bias, heap);
            assertClose(naive(x, wt, bias, true), heap, k, "heap rows m=" + m + " k=" + k + " n=" + n);
            assertEquals(inPlace, heap, "heap rows and rows in place differ at m=" + m + " k=" + k + " n=" + n);
        }
    }

    /**
     * Up to {@link Gemm#DOT_ROWS} rows (a generation step's unembedding) the transposed product takes dot products:
     * each row of the result is the same bits as that row multiplied alone, and with a bfloat16 weight too.
     */
    @Test
    void aFewRowsUnembedAsDotProductsEachRowAsIfAlone() {
        Random r = new Random(6);
        int k = 768 + 5, n = 300;   // k: whole groups of four vectors, one more vector and a scalar tail
        INDArray wt = random(r, n, k), bias = random(r, 1, n).reshape(n);
        Gemm.PackedRows rows = Gemm.packRows(wt);
        for (int m = 1; m <= Gemm.DOT_ROWS; m++) {
            INDArray x = random(r, m, k), out = Nd4j.createUninitialized(DataType.FLOAT, m, n);
            Gemm.linearTransposed(x, rows, bias, out);
            assertClose(naive(x, wt, bias, true), out, k, "dot rows m=" + m);
            for (int i = 0; i < m; i++) {
                INDArray alone = Nd4j.createUninitialized(DataType.FLOAT, 1, n);
                Gemm.linearTransposed(x.getRow(i, true).dup('c'), wt, bias, alone);
                org.junit.jupiter.api.Assertions.assertArrayEquals(alone.toFloatVector(), out.getRow(i).toFloatVector(), "row " + i + " of " + m);
            }
        }
        INDArray x = random(r, 1, k), wBf16 = wt.castTo(DataType.BFLOAT16), out = Nd4j.createUninitialized(DataType.FLOAT, 1, n);
        Gemm.linearTransposed(x, wBf16, null, out);
        assertClose(naive(x, wBf16.castTo(DataType.FLOAT), null, true), out, k, "dot rows, bfloat16 weight");
    }

    @Test
    void readsViewsAndWritesOnlyItsOutput() {
        Random r = new Random(3);
        INDArray big = random(r, 10, 40);
        INDArray x = big.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(2, 7), org.nd4j.linalg.indexing.NDArrayIndex.all()); // rows 2..6: offset view
        INDArray w = random(r, 40, 70);
        INDArray outer = Nd4j.zeros(DataType.FLOAT, 9, 70);
        INDArray out = outer.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(2, 7), org.nd4j.linalg.indexing.NDArrayIndex.all());
        Gemm.linear(x, w, null, out);
        assertClose(naive(x, w, null, false), out, 40, "view");
        assertEquals(0.0, outer.getRow(0).sumNumber().doubleValue() + outer.getRow(8).sumNumber().doubleValue());
        // The weight as a row-major view inside a larger buffer (as W_Q is inside W_QKV).
        INDArray wBig = random(r, 3 * 40, 70);
        INDArray wView = wBig.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(40, 80), org.nd4j.linalg.indexing.NDArrayIndex.all());
        INDArray out2 = Nd4j.createUninitialized(DataType.FLOAT, 5, 70);
        Gemm.linear(x, wView, null, out2);
        assertClose(naive(x, wView, null, false), out2, 40, "weight view");
    }
}
