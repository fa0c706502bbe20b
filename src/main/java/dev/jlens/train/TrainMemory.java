package dev.jlens.train;

import java.util.Locale;
import org.bytedeco.javacpp.Pointer;

/**
 * What a training run will hold in memory, estimated from its config before anything is allocated:
 * the weights, their gradients, AdamW's two moments, and one step's activations (what the forward
 * pass records for the backward pass plus the backward pass's own buffers), all float32 in native
 * memory. A run that cannot fit is refused up front instead of failing with {@code OutOfMemoryError}
 * minutes (or one allocation) in.
 *
 * @param parameters      trainable numbers
 * @param activationBytes one step's recorded activations and gradient buffers
 * @param largestTensor   elements of the largest parameter (initialised through one Java array)
 */
record TrainMemory(long parameters, long activationBytes, long largestTensor) {

    /** The estimate for a config and a vocabulary of {@code vocab} characters. */
    static TrainMemory of(TrainConfig c, int vocab) {
        long d = c.dModel(), hd = (long) c.heads() * c.dHead(), m = c.dMlp(), t = c.ctx(), h = c.heads(), v = vocab;
        boolean gpt = c.kind() == ModelKind.GPT, ln = c.hasLayerNorm();
        long perLayer = 3 * d * hd + hd * d + d + (ln ? 2 * d : 0)
                + (gpt ? d * m + m + m * d + d + 2 * d : 0);
        long params = v * d + t * d + c.layers() * perLayer + (ln ? 2 * d : 0) + d * v + v;
        // Floats per position: per layer the residual, LayerNorm scales and outputs, q/k/v, pattern and its
        // dropout mask (one row of t per head each), z, attention output and mask, and for the MLP its
        // input, hidden pre- and post-activation, output and mask; then ln_f, logits and their gradient,
        // and the backward buffers (three of d, one of d_mlp, five of heads·d_head).
        long layerFloats = d + (ln ? d + 1 : 0) + 3 * hd + 2 * h * t + hd + 2 * d + (gpt ? d + (d + 1) + 2 * m + 2 * d : 0);
        long positionFloats = c.layers() * layerFloats + (d + 1) + 2 * v + 3 * d + m + 5 * hd;
        long activations = 4L * c.batch() * t * positionFloats;
        long largest = Math.max(Math.max(v * d, t * d), Math.max(3 * d * hd, gpt ? d * m : 0));
        return new TrainMemory(params, activations, largest);
    }

    long weightBytes() {
        return 4 * parameters;
    }

    /** Gradients (one float per parameter) and AdamW's first and second moments (two). */
    long optimizerBytes() {
        return 12 * parameters;
    }

    long totalBytes() {
        return weightBytes() + optimizerBytes() + activationBytes;
    }

    /**
     * Refuses (IllegalArgumentException, one line) when the run needs more native memory than
     * {@code available} or a parameter too large to initialise in a Java heap of {@code heapMax} bytes.
     */
    void check(TrainConfig c, long available, long heapMax) {
        String what = String.format(Locale.ROOT, "%,d parameters need about %s for the weights + %s for gradients and"
                        + " AdamW's optimizer state + %s for a step's activations (batch %d × %d tokens) = %s",
                parameters, bytes(weightBytes()), bytes(optimizerBytes()), bytes(activationBytes), c.batch(), c.ctx(),
                bytes(totalBytes()));
        if (totalBytes() > available) {
            throw new IllegalArgumentException("this model does not fit in memory: " + what + ", but jlens may use only "
                    + bytes(available) + " of native memory here: choose a smaller --d-model, --layers, --batch or --ctx");
        }
        if (largestTensor > Integer.MAX_VALUE - 16 || 4 * largestTensor > heapMax / 2) {
            throw new IllegalArgumentException("this model does not fit in memory: its largest matrix has "
                    + String.format(Locale.ROOT, "%,d", largestTensor) + " numbers (" + bytes(4 * largestTensor)
                    + "), initialised through the Java heap of at most " + bytes(heapMax) + " (" + what
                    + "): choose a smaller --d-model, or give jlens more heap (JLENS_HEAP=8g)");
        }
    }

    /** Native memory this process may still allocate: JavaCPP's limit less what it holds, and the machine's free memory. */
    static long availableNative() {
        long limit = Long.MAX_VALUE;
        long max = Pointer.maxBytes();
        if (max > 0) limit = Math.max(0, max - Pointer.totalBytes());
        long physical = Pointer.availablePhysicalBytes();
        if (physical > 0) limit = Math.min(limit, physical);
        return limit;
    }

    static String bytes(long n) {
        if (n < 1L << 20) return String.format(Locale.ROOT, "%.1f KiB", n / 1024.0);
        if (n < 1L << 30) return String.format(Locale.ROOT, "%.1f MiB", n / (double) (1L << 20));
        return String.format(Locale.ROOT, "%.1f GiB", n / (double) (1L << 30));
    }
}
