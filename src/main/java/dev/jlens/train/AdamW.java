package dev.jlens.train;

import java.nio.FloatBuffer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * AdamW as PyTorch's {@code torch.optim.AdamW} computes it (decoupled weight decay applied to the
 * parameter before the Adam update, bias-corrected moments, eps added to the corrected second
 * moment's square root), with the gradients first clipped to a global norm as
 * {@code clip_grad_norm_} does. The moments are float32 arrays saved with checkpoints.
 */
final class AdamW {
    static final double EPS = 1e-8;

    private final List<LectureModel.Param> params;
    private final double beta1, beta2, weightDecay, clip;
    private final INDArray[] m, v;
    private long t;  // updates done so far
    private final float[] pa = new float[8192], ga = new float[8192], ma = new float[8192], va = new float[8192];

    AdamW(List<LectureModel.Param> params, double beta1, double beta2, double weightDecay, double clip) {
        this.params = params;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.weightDecay = weightDecay;
        this.clip = clip;
        this.m = new INDArray[params.size()];
        this.v = new INDArray[params.size()];
        for (int i = 0; i < params.size(); i++) {
            m[i] = Nd4j.zeros(DataType.FLOAT, params.get(i).value().shape());
            v[i] = Nd4j.zeros(DataType.FLOAT, params.get(i).value().shape());
        }
    }

    /** The global L2 norm of all gradients (before clipping). */
    double gradNorm() {
        double sum = 0;
        for (LectureModel.Param p : params) {
            FloatBuffer g = Backprop.floats(p.grad());
            int n = (int) p.grad().length();
            for (int off = 0; off < n; off += ga.length) {
                int len = Math.min(ga.length, n - off);
                g.get(off, ga, 0, len);
                for (int j = 0; j < len; j++) sum += (double) ga[j] * ga[j];
            }
        }
        return Math.sqrt(sum);
    }

    /**
     * One update with learning rate {@code lr}, gradients scaled down to norm {@code clip} when
     * their norm exceeds it.
     *
     * @return the gradient norm before clipping
     */
    double step(double lr) {
        double norm = gradNorm();
        float gScale = clip > 0 && norm > clip ? (float) (clip / (norm + 1e-6)) : 1f;
        t++;
        double bc1 = 1 - Math.pow(beta1, t), bc2 = 1 - Math.pow(beta2, t);
        float b1 = (float) beta1, b2 = (float) beta2;
        float stepSize = (float) (lr / bc1);
        float invSqrtBc2 = (float) (1 / Math.sqrt(bc2));
        float eps = (float) EPS;
        for (int i = 0; i < params.size(); i++) {
            LectureModel.Param p = params.get(i);
            float decay = p.decay() ? (float) (1 - lr * weightDecay) : 1f;
            FloatBuffer pb = Backprop.floats(p.value()), gb = Backprop.floats(p.grad()),
                    mb = Backprop.floats(m[i]), vb = Backprop.floats(v[i]);
            int n = (int) p.value().length();
            for (int off = 0; off < n; off += pa.length) {
                int len = Math.min(pa.length, n - off);
                pb.get(off, pa, 0, len);
                gb.get(off, ga, 0, len);
                mb.get(off, ma, 0, len);
                vb.get(off, va, 0, len);
                for (int j = 0; j < len; j++) {
                    float gj = ga[j] * gScale;
                    float mj = b1 * ma[j] + (1 - b1) * gj;
                    float vj = b2 * va[j] + (1 - b2) * gj * gj;
                    ma[j] = mj;
                    va[j] = vj;
                    float denom = (float) Math.sqrt(vj) * invSqrtBc2 + eps;
                    pa[j] = pa[j] * decay - stepSize * mj / denom;
                }
                pb.put(off, pa, 0, len);
                mb.put(off, ma, 0, len);
                vb.put(off, va, 0, len);
            }
        }
        return norm;
    }

    long updates() {
        return t;
    }

    /** The moments by parameter name ({@code NAME.exp_avg}, {@code NAME.exp_avg_sq}, PyTorch's words). */
    Map<String, INDArray> state() {
        Map<String, INDArray> s = new LinkedHashMap<>();
        for (int i = 0; i < params.size(); i++) {
            s.put(params.get(i).name() + ".exp_avg", m[i]);
            s.put(params.get(i).name() + ".exp_avg_sq", v[i]);
        }
        return s;
    }

    /**
     * Restores moments and update count saved by {@link #state()} (a file's names as
     * {@link CheckpointNames#optimizerState} reads them).
     */
    void restore(Map<String, INDArray> state, long updates) {
        for (int i = 0; i < params.size(); i++) {
            String name = params.get(i).name();
            m[i].assign(require(state, name + ".exp_avg", m[i]));
            v[i].assign(require(state, name + ".exp_avg_sq", v[i]));
        }
        t = updates;
    }

    private static INDArray require(Map<String, INDArray> state, String name, INDArray like) {
        INDArray a = state.get(name);
        if (a == null || !java.util.Arrays.equals(a.shape(), like.shape())) {
            throw new IllegalArgumentException("the optimizer state has no " + name + " of shape "
                    + java.util.Arrays.toString(like.shape()) + (a == null ? "" : " (it has " + java.util.Arrays.toString(a.shape()) + ")")
                    + ": it belongs to another model");
        }
        return a;
    }
}
