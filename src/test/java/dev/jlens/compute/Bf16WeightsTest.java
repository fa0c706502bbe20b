package dev.jlens.compute;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * bfloat16 weights read in place: widening is exact (bf16 is a float32's upper half), so a product with
 * bf16 weights must equal, bit for bit, the same kernel's product with those values stored as float32.
 */
class Bf16WeightsTest {
    @Test
    void widenIsTheUpperHalfOfAFloat() {
        float[] values = {0f, -0f, 1f, -2.5f, 3.140625f, Float.MIN_NORMAL, 1e30f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN};
        // 37 entries: whole vectors and a scalar tail, whatever the vector width.
        short[] bits = new short[37];
        float[] want = new float[37];
        for (int i = 0; i < bits.length; i++) {
            float v = values[i % values.length] * (i / values.length + 1);
            bits[i] = (short) (Float.floatToRawIntBits(v) >>> 16);
            want[i] = Float.intBitsToFloat((bits[i] & 0xffff) << 16);
        }
        float[] got = new float[40];
        StoredFloats.widen(bits, 0, got, 3, bits.length);
        for (int i = 0; i < bits.length; i++) {
            assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(got[i + 3]), "entry " + i);
        }
    }

    @Test
    void productsWithBf16WeightsEqualThoseWithTheirFloat32Values() {
        Random r = new Random(7);
        for (int m : new int[] {1, 5, 45, 80}) {
            for (int[] kn : new int[][] {{64, 65}, {300, 200}, {7, 1}}) {
                int k = kn[0], n = kn[1];
                INDArray x = GemmTest.random(r, m, k);
                INDArray bf = GemmTest.random(r, k, n).castTo(DataType.BFLOAT16);
                INDArray f32 = bf.castTo(DataType.FLOAT);
                INDArray bias = GemmTest.random(r, 1, n).reshape(n);
                INDArray want = Nd4j.create(DataType.FLOAT, m, n), got = Nd4j.create(DataType.FLOAT, m, n);
                Gemm.linear(x, f32, bias, want);
                Gemm.linear(x, bf, bias, got);
                assertArrayEquals(want.data().asFloat(), got.data().asFloat(), 0f, "linear " + m + "x" + k + "x" + n);

                INDArray rowsBf = bf.transpose().dup('c'), rowsF32 = rowsBf.castTo(DataType.FLOAT);   // [n, k]
                Gemm.linearTransposed(x, rowsF32, bias, want);
                Gemm.linearTransposed(x, rowsBf, bias, got);
                assertArrayEquals(want.data().asFloat(), got.data().asFloat(), 0f, "linearTransposed " + m + "x" + k + "x" + n);
            }
        }
    }

    @Test
    void nonFiniteBf16ValuesAreCountedOnTheirBits() {
        float[] v = new float[1000];
        v[3] = Float.NaN;
        v[500] = Float.POSITIVE_INFINITY;
        v[999] = Float.NEGATIVE_INFINITY;
        v[10] = 3.0e38f;   // finite in float32 and in bfloat16
        NonFinite c = NonFinite.count(Nd4j.create(v).castTo(DataType.BFLOAT16));
        assertEquals(1, c.nan());
        assertEquals(2, c.infinite());
    }
}
