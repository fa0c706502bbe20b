package dev.jlens.compute;

import java.nio.FloatBuffer;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * RMSNorm of each row of {@code x [n, d]} (Llama, Qwen, Mistral, Gemma): {@code scale = √(mean(x²) + eps)},
 * {@code out = x / scale · w}, where {@code w} is the stored weight, or {@code 1 + weight} for Gemma's
 * offset form. No centring and no bias. Sums run in double, in index order, so the result does not
 * depend on threads or on what the JIT has compiled.
 */
public final class RmsNorm {
    private RmsNorm() {}

    /**
     * @param plusOne  Gemma's {@code x·(1 + w)}: the stored weight is an offset from 1
     * @param scaleOut {@code n} floats receiving the scales (TransformerLens {@code hook_scale})
     * @param out      {@code [n, d]} receiving the result
     */
    public static void apply(INDArray x, INDArray weight, boolean plusOne, double eps, INDArray scaleOut, INDArray out) {
        int d = (int) weight.length();
        long n = x.length() / d;
        if (!Layouts.isContiguousRowMajor(x) || !Layouts.isContiguousRowMajor(out)) throw new IllegalArgumentException("RMSNorm needs contiguous arrays");
        float[] w = weight.castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT).dup('c').data().asFloat();
        if (plusOne) for (int j = 0; j < d; j++) w[j] += 1f;
        FloatBuffer in = Layouts.floats(x), y = Layouts.floats(out), s = Layouts.floats(scaleOut);
        long xOff = x.offset(), yOff = out.offset(), sOff = scaleOut.offset();
        int rowsPerTask = Math.max(1, (1 << 15) / d);
        int tasks = (int) ((n + rowsPerTask - 1) / rowsPerTask);
        Parallel.forEach(tasks, (t, worker) -> {
            float[] row = new float[d];
            for (long r = (long) t * rowsPerTask, end = Math.min(n, r + rowsPerTask); r < end; r++) {
                in.get((int) (xOff + r * d), row);
                double sq = 0;
                for (float v : row) sq += (double) v * v;
                double scale = Math.sqrt(sq / d + eps);
                float inv = (float) (1 / scale);
                for (int j = 0; j < d; j++) row[j] = row[j] * inv * w[j];
                y.put((int) (yOff + r * d), row);
                s.put((int) (sOff + r), (float) scale);
            }
        });
    }
}
