package dev.jlens.compute;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.testing.ChildJvm;
import dev.jlens.testing.Subprocess;
import java.time.Duration;
import java.util.List;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;

/**
 * The kernels give the same bits whatever the JIT has compiled so far: the same computation in a
 * cold JVM and after warm-up, and {@link VectorMath}'s exp and lane sum on their own.
 */
class KernelDeterminismTest {
    private static final VectorSpecies<Float> S = OffHeap.S;
    private static final int L = S.length();

    @Test
    void aColdJvmAndAWarmOneComputeTheSameBits() {
        // No tiered compilation and a low threshold: the first call runs in the interpreter (the Vector
        // API's Java fallback), later ones in C2 code with its intrinsics. -Xbatch compiles in the
        // foreground, so the warm calls really run compiled code.
        List<String> cmd = ChildJvm.command(List.of("-XX:-TieredCompilation", "-XX:CompileThreshold=100", "-Xbatch"),
                KernelBitsMain.class, "300");
        Subprocess.Result r = Subprocess.of(cmd.toArray(String[]::new)).timeout(Duration.ofMinutes(3)).run();
        assertEquals(0, r.exit(), r.both());
        List<String> lines = r.out().lines().filter(s -> s.startsWith("cold ") || s.startsWith("warm ")).toList();
        assertEquals(2, lines.size(), r.both());
        assertEquals(lines.get(0).substring(5), lines.get(1).substring(5), "kernel outputs, cold vs warm JVM\n" + r.both());
    }

    @Test
    void expIsWithinTwoUlpsOfMathExpAndItsVectorAndScalarFormsAgreeToTheBit() {
        float[] xs = new float[L];
        float[] lanes = new float[L];
        int worst = 0;
        for (int i = 0; i <= 200_000; i += L) {
            for (int l = 0; l < L; l++) xs[l] = -87f + 175f * (i + l) / 200_000f;
            VectorMath.exp(FloatVector.fromArray(S, xs, 0)).intoArray(lanes, 0);
            for (int l = 0; l < L; l++) {
                float x = xs[l], scalar = VectorMath.exp(x);
                assertEquals(Float.floatToRawIntBits(scalar), Float.floatToRawIntBits(lanes[l]), "vector vs scalar exp(" + x + ")");
                if (x > 88.37f) continue;   // the range VectorMath treats as overflow
                double exact = Math.exp(x);
                int ulps = (int) Math.round(Math.abs(scalar - exact) / Math.ulp((float) exact));
                worst = Math.max(worst, ulps);
            }
        }
        assertTrue(worst <= 2, "worst error " + worst + " ulps");
        assertEquals(1f, VectorMath.exp(0f));
        assertEquals(0f, VectorMath.exp(Float.NEGATIVE_INFINITY));
        assertEquals(0f, VectorMath.exp(-200f));
        assertEquals(Float.POSITIVE_INFINITY, VectorMath.exp(Float.POSITIVE_INFINITY));
        assertTrue(Float.isNaN(VectorMath.exp(Float.NaN)));
        float[] special = new float[L];
        special[0] = Float.NEGATIVE_INFINITY;
        special[1 % L] = Float.NaN;
        VectorMath.exp(FloatVector.fromArray(S, special, 0)).intoArray(lanes, 0);
        assertEquals(0f, lanes[0]);
        if (L > 1) assertTrue(Float.isNaN(lanes[1]));
    }

    @Test
    void sumAddsTheLanesAsOneFixedTree() {
        // Lanes whose sum depends on the order: 2^24 + 1 rounds the 1 away, so a sequential sum and a
        // pairwise tree give different answers.
        float[] v = new float[L];
        for (int i = 0; i < L; i++) v[i] = i % 2 == 0 ? 16_777_216f : 1f;
        v[L - 1] = -16_777_216f * (L / 2);
        // The tree by hand: lane i + lane i + w, for w = L/2 … 1, then lane 0.
        float[] t = v.clone();
        for (int w = L / 2; w >= 1; w /= 2) {
            float[] next = new float[L];
            for (int i = 0; i < L; i++) next[i] = t[i] + t[(i + w) % L];
            t = next;
        }
        assertEquals(t[0], VectorMath.sum(FloatVector.fromArray(S, v, 0)));
    }
}
