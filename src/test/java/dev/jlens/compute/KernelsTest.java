package dev.jlens.compute;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Each fast kernel against its reference, step by step with ND4J's operations, on awkward shapes. */
class KernelsTest {
    private static final Kernels FAST = Kernels.FAST, REF = Kernels.REFERENCE;

    private static INDArray random(Random r, long... shape) {
        INDArray a = Nd4j.create(DataType.FLOAT, shape);
        float[] v = new float[(int) a.length()];
        for (int i = 0; i < v.length; i++) v[i] = (float) (r.nextGaussian() * 1.5 + 0.3);
        return Nd4j.create(v, shape, 'c');
    }

    private static void assertClose(INDArray want, INDArray got, double tol, String what) {
        float[] a = want.castTo(DataType.FLOAT).dup('c').data().asFloat(), b = got.castTo(DataType.FLOAT).dup('c').data().asFloat();
        assertEquals(a.length, b.length, what);
        for (int i = 0; i < a.length; i++) {
            if (Float.isInfinite(a[i])) assertEquals(a[i], b[i], what + " entry " + i);
            else assertEquals(a[i], b[i], tol * (1 + Math.abs(a[i])), what + " entry " + i);
        }
    }

    @Test
    void norms() {
        Random r = new Random(1);
        for (int[] nd : new int[][] {{1, 1}, {3, 7}, {45, 64}, {130, 768}}) {
            int n = nd[0], d = nd[1];
            INDArray x = random(r, n, d), w = random(r, d), b = random(r, d);
            INDArray s1 = Nd4j.create(DataType.FLOAT, n), s2 = Nd4j.create(DataType.FLOAT, n);
            INDArray o1 = Nd4j.create(DataType.FLOAT, n, d), o2 = Nd4j.create(DataType.FLOAT, n, d);
            REF.layerNorm(x, w, b, 1e-5, s1, o1);
            FAST.layerNorm(x, w, b, 1e-5, s2, o2);
            assertClose(s1, s2, 1e-5, "LayerNorm scale " + n + "x" + d);
            assertClose(o1, o2, 1e-5, "LayerNorm " + n + "x" + d);
            for (boolean plusOne : new boolean[] {false, true}) {
                REF.rmsNorm(x, w, plusOne, 1e-6, s1, o1);
                FAST.rmsNorm(x, w, plusOne, 1e-6, s2, o2);
                assertClose(s1, s2, 1e-5, "RMSNorm scale " + n + "x" + d);
                assertClose(o1, o2, 1e-5, "RMSNorm " + n + "x" + d + (plusOne ? " (1 + w)" : ""));
            }
        }
    }

    @Test
    void attention() {
        Random r = new Random(2);
        Attention.Shape[] shapes = {
                new Attention.Shape(1, 1, 1, 1, 4, 2, 0, 0), new Attention.Shape(2, 45, 12, 12, 64, 8, 0, 0),
                new Attention.Shape(1, 37, 8, 2, 16, 4, 0, 0), new Attention.Shape(2, 30, 4, 4, 32, 5.6, 50, 7),
                new Attention.Shape(1, 100, 6, 3, 8, 2.8, 3, 16)};
        for (Attention.Shape sh : shapes) {
            INDArray qkv = random(r, (long) sh.batch() * sh.pos(), sh.width());
            INDArray[] ref = outputs(sh, DataType.FLOAT), fast = outputs(sh, DataType.FLOAT), fastBf16 = outputs(sh, DataType.BFLOAT16);
            REF.attention(qkv, sh, ref[0], ref[1], ref[2]);
            FAST.attention(qkv, sh, fast[0], fast[1], fast[2]);
            FAST.attention(qkv, sh, null, fastBf16[1], fastBf16[2]);
            assertClose(ref[0], fast[0], 1e-5, sh + " scores");
            assertClose(ref[1], fast[1], 2e-6, sh + " pattern");
            assertClose(ref[2], fast[2], 1e-5, sh + " z");
            assertClose(ref[1], fastBf16[1], 8e-3, sh + " pattern in bf16");
        }
    }

    private static INDArray[] outputs(Attention.Shape sh, DataType patternType) {
        return new INDArray[] {Nd4j.create(DataType.FLOAT, sh.batch(), sh.heads(), sh.pos(), sh.pos()),
                Nd4j.create(patternType, sh.batch(), sh.heads(), sh.pos(), sh.pos()),
                Nd4j.create(DataType.FLOAT, (long) sh.batch() * sh.pos(), (long) sh.heads() * sh.dHead())};
    }

    @Test
    void linearInEveryLayoutAndDtype() {
        Random r = new Random(3);
        for (int[] mkn : new int[][] {{1, 8, 3}, {45, 64, 200}, {9, 300, 65}, {130, 96, 50}}) {
            int m = mkn[0], k = mkn[1], n = mkn[2];
            INDArray x = random(r, m, k), bias = random(r, n), rowMajor = random(r, k, n);
            INDArray transposed = rowMajor.transpose().dup('c').transpose();   // [k, n] view of a row-major [n, k]
            for (INDArray w : new INDArray[] {rowMajor, transposed, rowMajor.castTo(DataType.BFLOAT16),
                    transposed.transpose().castTo(DataType.BFLOAT16).transpose()}) {
                INDArray want = Nd4j.create(DataType.FLOAT, m, n), got = Nd4j.create(DataType.FLOAT, m, n);
                REF.linear(x, w, null, bias, want);
                FAST.linear(x, w, null, bias, got);
                String what = m + "x" + k + "x" + n + " " + w.dataType() + (Layouts.isRowMajor(w) ? " row-major" : " transposed");
                assertClose(want, got, 2e-5, what);
                if (w.dataType() == DataType.FLOAT) {
                    Object packed = Layouts.isRowMajor(w) ? Gemm.pack(w) : Gemm.packRows(w.transpose());
                    FAST.linear(x, w, packed, bias, got);
                    assertClose(want, got, 2e-5, what + " packed");
                }
            }
        }
    }
}
