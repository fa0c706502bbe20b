package dev.jlens.compute;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The two Vector API operations whose bits the JIT may change, written out in a fixed order of
 * IEEE operations so that a kernel gives the same bits interpreted, compiled by C1 or by C2.
 *
 * <ul>
 *   <li>{@code lanewise(EXP)} is {@code Math.exp} per lane until C2 compiles the caller, then Intel's
 *       SVML routine, which rounds differently (measured: softmax rows up to 1.4e-6 apart between the
 *       first batch of a process and a later one). {@link #exp} is Cephes' {@code expf} from plain
 *       adds, multiplies and fused multiply-adds, each exactly rounded on every path.</li>
 *   <li>{@code reduceLanes(ADD)} may add the lanes in any order (its documentation says so; C2 on
 *       newer JDKs uses a tree, the Java fallback a sequence). {@link #sum} always uses the same tree.</li>
 * </ul>
 * The scalar {@link #exp(float)} performs the same operations as one lane of the vector form, so a
 * row's vector part and its scalar tail agree to the bit as well.
 */
public final class VectorMath {
    private static final VectorSpecies<Float> S = OffHeap.S;
    private static final int L = S.length();

    private static final float LOG2E = 1.44269504088896341f;
    /** ln 2 split in two (Cephes): n·C1 is exact for the n that occur, C2 the rest. */
    private static final float C1 = 0.693359375f, C2 = -2.12194440e-4f;
    /** Adding and subtracting 1.5·2²³ rounds a float of magnitude below 2²² to the nearest integer. */
    private static final float ROUND = 12582912f;
    /** Beyond these e^x is ∞ or 0: 2^n must stay a normal float (n from −126 to 127). */
    private static final float HI = 88.37626f, LO = -87.33654f;
    private static final float P0 = 1.9875691500e-4f, P1 = 1.3981999507e-3f, P2 = 8.3334519073e-3f, P3 = 4.1665795894e-2f,
            P4 = 1.6666665459e-1f, P5 = 5.0000001201e-1f;

    /** Lane i takes lane i + w (mod L), for w = L/2, L/4, … 1. */
    @SuppressWarnings("unchecked")
    private static final VectorShuffle<Float>[] HALVES = new VectorShuffle[Integer.numberOfTrailingZeros(L)];

    static {
        if (Integer.bitCount(L) != 1) throw new IllegalStateException("vector length " + L + " is not a power of two");
        for (int s = 0, w = L / 2; w >= 1; s++, w /= 2) HALVES[s] = VectorShuffle.iota(S, w, 1, true);
    }

    private VectorMath() {}

    /** e^x per lane, within about one unit in the last place of the exact value; the same bits on every path. */
    public static FloatVector exp(FloatVector x) {
        FloatVector n = x.mul(LOG2E).add(ROUND).sub(ROUND);                     // round(x·log2 e)
        FloatVector r = n.fma(FloatVector.broadcast(S, -C1), x);
        r = n.fma(FloatVector.broadcast(S, -C2), r);                                                      // x − n·ln 2, |r| ≤ ln2/2
        FloatVector z = r.mul(r);
        FloatVector y = FloatVector.broadcast(S, P0).fma(r, FloatVector.broadcast(S, P1));
        y = y.fma(r, FloatVector.broadcast(S, P2));
        y = y.fma(r, FloatVector.broadcast(S, P3));
        y = y.fma(r, FloatVector.broadcast(S, P4));
        y = y.fma(r, FloatVector.broadcast(S, P5));
        y = y.fma(z, r).add(1f);                                               // e^r
        IntVector bits = ((IntVector) n.convert(VectorOperators.F2I, 0)).add(127).lanewise(VectorOperators.LSHL, 23);
        FloatVector result = y.mul(bits.reinterpretAsFloats());               // · 2^n
        VectorMask<Float> over = x.compare(VectorOperators.GT, HI), under = x.compare(VectorOperators.LT, LO);
        return result.blend(Float.POSITIVE_INFINITY, over).blend(0f, under);
    }

    /** e^x with exactly the operations of one lane of {@link #exp(FloatVector)}. */
    public static float exp(float x) {
        if (x > HI) return Float.POSITIVE_INFINITY;
        if (x < LO) return 0f;
        float n = x * LOG2E + ROUND - ROUND;
        float r = Math.fma(n, -C1, x);
        r = Math.fma(n, -C2, r);
        float z = r * r;
        float y = Math.fma(P0, r, P1);
        y = Math.fma(y, r, P2);
        y = Math.fma(y, r, P3);
        y = Math.fma(y, r, P4);
        y = Math.fma(y, r, P5);
        y = Math.fma(y, z, r) + 1f;
        return y * Float.intBitsToFloat(((int) n + 127) << 23);
    }

    /** The lanes' sum, always added as the same tree: lanes i and i + L/2, then i and i + L/4, … */
    public static float sum(FloatVector v) {
        for (VectorShuffle<Float> h : HALVES) v = v.add(v.rearrange(h));
        return v.lane(0);
    }
}
