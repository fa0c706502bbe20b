package dev.jlens.compute;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Hand-computed cases of the rotary embedding and RMSNorm kernels. */
class RotaryAndRmsNormTest {

    @Test
    void rotateHalfPairsDimensionIWithIPlusHalf() {
        Rotary r = Rotary.of(4, 1.0, 10_000);                       // invFreq = [1, 10000^-0.5 = 0.01]
        assertArrayEquals(new double[] {1, 0.01}, r.invFreq(), 1e-12);
        INDArray x = Nd4j.createFromArray(new float[] {1, 0, 0, 0, 0, 1, 0, 0}).reshape(1, 2, 1, 4); // positions 0, 1
        r.apply(x, 1);                                              // absolute positions 1 and 2
        float[] got = x.data().asFloat();
        // position 1, unit vector in dim 0: (cos 1, 0, sin 1, 0); position 2, dim 1: angle 2·0.01 in pair (1, 3)
        assertArrayEquals(new float[] {(float) Math.cos(1), 0, (float) Math.sin(1), 0,
                0, (float) Math.cos(0.02), 0, (float) Math.sin(0.02)}, got, 1e-6f);
    }

    @Test
    void partialRotaryLeavesTheRestOfTheHead() {
        Rotary r = Rotary.of(4, 0.5, 10_000);                       // GPT-NeoX rotary_pct 0.5: dims 0 and 1 rotate
        assertEquals(2, r.rotaryDim());
        INDArray x = Nd4j.createFromArray(new float[] {1, 2, 3, 4}).reshape(1, 1, 1, 4);
        r.apply(x, 3);
        double c = Math.cos(3), s = Math.sin(3);
        assertArrayEquals(new float[] {(float) (1 * c - 2 * s), (float) (2 * c + 1 * s), 3, 4}, x.data().asFloat(), 1e-6f);
    }

    @Test
    void scoresDependOnlyOnTheDistance() {
        Rotary r = Rotary.of(8, 1.0, 100);
        float[] q = {0.3f, -1, 2, 0.5f, 1, 0, -0.7f, 0.2f}, k = {1, 0.4f, -0.3f, 2, 0, 1, 0.5f, -1};
        double a = dot(rotated(r, q, 5), rotated(r, k, 2)), b = dot(rotated(r, q, 13), rotated(r, k, 10));
        assertEquals(a, b, 1e-4);
    }

    @Test
    void llama3ScalingKeepsShortWavelengthsAndDividesLongOnes() {
        // factor 8, low 1, high 4, original context 8192 (Llama 3.1's values)
        Rotary r = new Rotary(6, 6, new double[] {1.0, 2 * Math.PI / 4096, 2 * Math.PI / 10_000}).llama3Scaled(8, 1, 4, 8192);
        assertEquals(1.0, r.invFreq()[0], 1e-15);                   // wavelength 2π < 2048: kept
        double smooth = (8192 / 4096.0 - 1) / (4 - 1);              // 2048 ≤ 4096 ≤ 8192: blended
        assertEquals((1 - smooth) * (2 * Math.PI / 4096) / 8 + smooth * (2 * Math.PI / 4096), r.invFreq()[1], 1e-15);
        assertEquals(2 * Math.PI / 10_000 / 8, r.invFreq()[2], 1e-15); // 10000 > 8192: divided by the factor
    }

    @Test
    void rmsNormDividesByTheRootMeanSquareAndTheGemmaFormAddsOne() {
        INDArray x = Nd4j.createFromArray(new float[] {3, 4, 0, -2}).reshape(2, 2);
        INDArray w = Nd4j.createFromArray(new float[] {1, 2});
        INDArray scale = Nd4j.create(DataType.FLOAT, 2), out = Nd4j.create(DataType.FLOAT, 2, 2);
        RmsNorm.apply(x, w, false, 0, scale, out);
        double s0 = Math.sqrt(12.5), s1 = Math.sqrt(2);
        assertArrayEquals(new float[] {(float) s0, (float) s1}, scale.data().asFloat(), 1e-6f);
        assertArrayEquals(new float[] {(float) (3 / s0), (float) (8 / s0), 0, (float) (-4 / s1)}, out.data().asFloat(), 1e-6f);
        RmsNorm.apply(x, w.sub(1), true, 0, scale, out);           // 1 + (w − 1) = w
        assertArrayEquals(new float[] {(float) (3 / s0), (float) (8 / s0), 0, (float) (-4 / s1)}, out.data().asFloat(), 1e-6f);
    }

    private static float[] rotated(Rotary r, float[] v, int position) {
        INDArray x = Nd4j.createFromArray(v.clone()).reshape(1, 1, 1, v.length);
        r.apply(x, position);
        return x.data().asFloat();
    }

    private static double dot(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }
}
