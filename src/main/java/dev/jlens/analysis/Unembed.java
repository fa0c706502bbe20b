package dev.jlens.analysis;

import dev.jlens.model.HookedTransformer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Residual-stream vectors read out the way the model reads its last one: the final LayerNorm or
 * RMSNorm (with the mean and scale of each vector recomputed, not taken from a cache), then
 * {@code W_U} and {@code b_U} (and Gemma 2's final soft cap). This is the logit lens's decoder; for the final residual it gives exactly the
 * model's logits.
 */
public final class Unembed {
    private Unembed() {}

    /** {@code [..., d_model]} as rows {@code [n, d_model]}. */
    private static INDArray rows(HookedTransformer model, INDArray resid) {
        long d = resid.size(resid.rank() - 1);
        if (resid.rank() < 1 || d != model.cfg().dModel()) {
            throw new IllegalArgumentException("expected residual vectors [..., " + model.cfg().dModel() + "], got "
                    + java.util.Arrays.toString(resid.shape()));
        }
        return resid.dup('c').reshape(resid.length() / d, d);
    }

    /** The final norm's multiplier: {@code ln_final.w}, or {@code 1 + ln_final.w} for Gemma's RMSNorm. */
    static INDArray finalNormWeight(HookedTransformer model) {
        INDArray w = model.param("ln_final.w");
        return model.cfg().arch().normPlusOne() ? w.add(1f) : w;
    }

    /** Residual vectors {@code [..., d_model]} (any leading axes: {@code [n, d]}, {@code [batch, pos, d]}) → logits {@code [..., d_vocab]}. */
    public static INDArray logits(HookedTransformer model, INDArray resid) {
        if (resid.rank() != 2) {
            long[] shape = resid.shape().clone();
            INDArray flat = logits(model, rows(model, resid));
            shape[shape.length - 1] = model.cfg().dVocab();
            return flat.reshape(shape);
        }
        INDArray x = finalNorm(model, resid);
        INDArray out = Nd4j.createUninitialized(DataType.FLOAT, x.size(0), model.cfg().dVocab());
        Nd4j.gemm(x, model.W_U(), out, false, false, 1.0, 0.0);
        out.addiRowVector(model.b_U());                     // zeros for models without one (x + 0 = x)
        double cap = model.cfg().arch().finalSoftCap();
        if (cap > 0) Transforms.tanh(out.divi(cap), false).muli(cap);   // Gemma 2: the model's own logits are capped
        return out;
    }

    /**
     * The final LayerNorm applied to each row of {@code [n, d_model]}: centre, divide by
     * {@code √(mean(x²) + eps)}, times {@code ln_final.w}, plus {@code ln_final.b}, in the same
     * order of float operations as the forward pass, so the final row reproduces its logits. A
     * model without LayerNorm returns the rows unchanged (as a copy).
     */
    public static INDArray finalNorm(HookedTransformer model, INDArray resid) {
        if (resid.rank() != 2) return finalNorm(model, rows(model, resid)).reshape(resid.shape());
        if (resid.size(1) != model.cfg().dModel()) {
            throw new IllegalArgumentException("expected residual vectors [n, " + model.cfg().dModel() + "], got "
                    + java.util.Arrays.toString(resid.shape()));
        }
        INDArray x = resid.castTo(DataType.FLOAT).dup('c');
        if (!model.cfg().hasNorm()) return x;
        if (!model.cfg().hasLayerNorm()) {
            // RMSNorm: no centring, no bias; the weight is w, or 1 + w for Gemma.
            long n = x.size(0);
            INDArray scale = Transforms.sqrt(x.mul(x).mean(1).addi(model.cfg().eps()), false).reshape(n, 1);
            return x.diviColumnVector(scale).muliRowVector(finalNormWeight(model));
        }
        long n = x.size(0);
        INDArray mean = x.mean(1).reshape(n, 1);
        INDArray centered = x.subColumnVector(mean);
        INDArray scale = Transforms.sqrt(centered.mul(centered).mean(1).addi(model.cfg().eps()), false).reshape(n, 1);
        return centered.diviColumnVector(scale).muliRowVector(model.param("ln_final.w")).addiRowVector(model.param("ln_final.b"));
    }
}
