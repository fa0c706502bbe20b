package dev.jlens.compute;

import java.nio.FloatBuffer;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Rotary position embeddings (RoPE) in Hugging Face's layout ("rotate half"): within each head, the
 * first {@code rotaryDim} dimensions are rotated in pairs {@code (i, i + rotaryDim/2)} by the angle
 * {@code position · invFreq[i]}; the rest of the head passes through (GPT-NeoX's partial rotary).
 * TransformerLens calls this layout {@code rotary_adjacent_pairs=False}.
 *
 * @param dHead     width of one head
 * @param rotaryDim how many leading dimensions of each head rotate (even, ≤ dHead)
 * @param invFreq   {@code rotaryDim/2} inverse frequencies, {@code base^(−2i/rotaryDim)} or scaled
 */
public record Rotary(int dHead, int rotaryDim, double[] invFreq) {

    public Rotary {
        if (rotaryDim <= 0 || rotaryDim % 2 != 0 || rotaryDim > dHead) {
            throw new IllegalArgumentException("rotary dimension must be even and in 2.." + dHead + ", got " + rotaryDim);
        }
        if (invFreq.length != rotaryDim / 2) throw new IllegalArgumentException(rotaryDim / 2 + " frequencies needed, got " + invFreq.length);
    }

    /** Plain RoPE over {@code fraction} of each head ({@code rotary_pct}), with the given base ({@code rope_theta}). */
    public static Rotary of(int dHead, double fraction, double base) {
        int dim = (int) Math.round(dHead * fraction);
        dim -= dim % 2;
        double[] inv = new double[dim / 2];
        for (int i = 0; i < inv.length; i++) inv[i] = 1.0 / Math.pow(base, 2.0 * i / dim);
        return new Rotary(dHead, dim, inv);
    }

    /**
     * Llama 3.1's frequency scaling ({@code rope_scaling.rope_type = "llama3"}): long wavelengths are
     * divided by {@code factor}, short ones kept, those between blended smoothly (as Hugging Face's
     * {@code _compute_llama3_parameters}).
     */
    public Rotary llama3Scaled(double factor, double lowFreqFactor, double highFreqFactor, int originalContext) {
        double lowWavelen = originalContext / lowFreqFactor, highWavelen = originalContext / highFreqFactor;
        double[] out = new double[invFreq.length];
        for (int i = 0; i < out.length; i++) {
            double f = invFreq[i], wavelen = 2 * Math.PI / f;
            if (wavelen < highWavelen) out[i] = f;
            else if (wavelen > lowWavelen) out[i] = f / factor;
            else {
                double smooth = (originalContext / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
                out[i] = (1 - smooth) * f / factor + smooth * f;
            }
        }
        return new Rotary(dHead, rotaryDim, out);
    }

    /**
     * Rotates {@code x [batch, pos, heads, dHead]} (contiguous, row-major) in place; position {@code p}
     * of the array is absolute position {@code start + p}.
     */
    public void apply(INDArray x, int start) {
        if (x.rank() != 4 || x.size(3) != dHead || !Layouts.isContiguousRowMajor(x)) {
            throw new IllegalArgumentException("rotary needs a contiguous [batch, pos, heads, " + dHead + "] array, got "
                    + java.util.Arrays.toString(x.shape()));
        }
        int batch = (int) x.size(0), pos = (int) x.size(1), heads = (int) x.size(2), half = rotaryDim / 2;
        float[] cos = new float[pos * half], sin = new float[pos * half];
        for (int p = 0; p < pos; p++) {
            for (int i = 0; i < half; i++) {
                double angle = (double) (start + p) * invFreq[i];
                cos[p * half + i] = (float) Math.cos(angle);
                sin[p * half + i] = (float) Math.sin(angle);
            }
        }
        FloatBuffer buf = Layouts.floats(x);
        int base = (int) x.offset();
        float[] row = new float[dHead];
        for (int b = 0; b < batch; b++) {
            for (int p = 0; p < pos; p++) {
                for (int h = 0; h < heads; h++) {
                    int at = base + ((b * pos + p) * heads + h) * dHead;
                    buf.get(at, row);
                    for (int i = 0; i < half; i++) {
                        float c = cos[p * half + i], s = sin[p * half + i];
                        float x1 = row[i], x2 = row[i + half];
                        row[i] = x1 * c - x2 * s;            // x·cos + rotate_half(x)·sin, first half
                        row[i + half] = x2 * c + x1 * s;     // second half
                    }
                    buf.put(at, row);
                }
            }
        }
    }
}
