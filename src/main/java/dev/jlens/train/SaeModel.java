package dev.jlens.train;

import dev.jlens.sae.SAE;
import dev.jlens.sae.SaeConfig;
import dev.jlens.sae.TopK;
import java.util.List;
import java.util.SplittableRandom;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * An SAE being trained (SAELens's standard and TopK SAEs, {@code apply_b_dec_to_input}): its four parameters, their
 * gradients, and the forward and backward pass written out by hand — it is two linear maps with a ReLU or TopK
 * between them. For a batch {@code x [B, d]}:
 * <pre>
 *   x' = x − b_dec,   pre = x'·W_enc + b_enc,   f = act(pre),   x̂ = f·W_dec + b_dec
 *   loss = (1/B) Σ_b ‖x̂_b − x_b‖²  +  λ·(1/B) Σ_b Σ_i f_bi·‖W_dec,i‖      (λ = 0 for TopK)
 * </pre>
 * as SAELens computes it (the MSE summed over the width and averaged over the batch; the L1 penalty weighted by the
 * decoder rows' norms, so shrinking a row cannot buy sparsity).
 */
final class SaeModel {
    final SaeConfig cfg;
    final INDArray wEnc, bEnc, wDec, bDec;
    final INDArray gWEnc, gBEnc, gWDec, gBDec;

    /** One batch's figures: the two loss terms, and the feature activations {@code [B, d_sae]} (for dead-feature counts). */
    record Pass(double mse, double sparsity, double loss, INDArray features) {}

    SaeModel(SaeConfig cfg, INDArray wEnc, INDArray bEnc, INDArray wDec, INDArray bDec) {
        this.cfg = cfg;
        this.wEnc = wEnc;
        this.bEnc = bEnc;
        this.wDec = wDec;
        this.bDec = bDec;
        this.gWEnc = Nd4j.zerosLike(wEnc);
        this.gBEnc = Nd4j.zerosLike(bEnc);
        this.gWDec = Nd4j.zerosLike(wDec);
        this.gBDec = Nd4j.zerosLike(bDec);
    }

    /**
     * SAELens's initialisation: decoder rows random directions of unit norm, the encoder their transpose, {@code b_enc = 0},
     * {@code b_dec} the given centre (the data's mean).
     */
    static SaeModel init(SaeConfig cfg, INDArray centre, long seed) {
        SplittableRandom r = Rng.stream(seed, Rng.INIT);
        float[] w = new float[cfg.dSae() * cfg.dIn()];
        for (int i = 0; i < w.length; i++) w[i] = (float) gaussian(r);
        INDArray wDec = Nd4j.create(w, new long[] {cfg.dSae(), cfg.dIn()}, DataType.FLOAT);
        SaeModel m = new SaeModel(cfg, wDec.transpose().dup('c'), Nd4j.zeros(DataType.FLOAT, cfg.dSae()), wDec,
                centre.castTo(DataType.FLOAT).reshape(cfg.dIn()).dup('c'));
        m.normaliseDecoder();
        m.wEnc.assign(m.wDec.transpose());
        return m;
    }

    /** A standard normal draw (Box-Muller; SplittableRandom has none of its own on Java 17). */
    private static double gaussian(SplittableRandom r) {
        double u = 1 - r.nextDouble(), v = r.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    }

    /** The parameters for {@link AdamW}, under SAELens's names; no weight decay (SAELens trains with plain Adam). */
    List<LectureModel.Param> params() {
        return List.of(new LectureModel.Param("W_enc", wEnc, gWEnc, false), new LectureModel.Param("b_enc", bEnc, gBEnc, false),
                new LectureModel.Param("W_dec", wDec, gWDec, false), new LectureModel.Param("b_dec", bDec, gBDec, false));
    }

    /** The loss on {@code x [B, d_in]} with L1 coefficient {@code l1}; the gradients are overwritten with its gradients. */
    Pass forwardBackward(INDArray x, double l1) {
        long batch = x.size(0);
        INDArray centred = x.subRowVector(bDec);
        INDArray f = centred.mmul(wEnc).addiRowVector(bEnc);
        activate(f);
        INDArray err = f.mmul(wDec).addiRowVector(bDec).subi(x);               // x̂ − x
        double mse = err.mul(err).sumNumber().doubleValue() / batch;
        double lambda = cfg.activation() == SaeConfig.Activation.TOPK ? 0 : l1;
        INDArray norms = wDec.norm2(1);                                          // [d_sae]
        double sparsity = f.mmul(norms.reshape(cfg.dSae(), 1)).sumNumber().doubleValue() / batch;

        INDArray g = err.muli(2.0 / batch);                                      // ∂loss/∂x̂
        gWDec.assign(f.transpose().mmul(g));
        INDArray dF = g.mmul(wDec.transpose());
        if (lambda != 0) {
            // ∂(λ/B Σ f_bi‖w_i‖)/∂w_i = λ/B (Σ_b f_bi) w_i/‖w_i‖;  ∂/∂f_bi = λ/B ‖w_i‖  (f ≥ 0, so |f| = f)
            INDArray featureSums = f.sum(0).divi(norms).muli(lambda / batch);
            gWDec.addi(wDec.mulColumnVector(featureSums.reshape(cfg.dSae(), 1)));
            dF.addiRowVector(norms.mul(lambda / batch));
        }
        dF.muli(Transforms.sign(f, true));                                      // only active features pass gradient
        gWEnc.assign(centred.transpose().mmul(dF));
        gBEnc.assign(dF.sum(0));
        gBDec.assign(g.sum(0).subi(dF.mmul(wEnc.transpose()).sum(0)));         // x̂ adds b_dec; x' subtracts it
        return new Pass(mse, sparsity, mse + lambda * sparsity, f);
    }

    /** ReLU or TopK, in place. */
    private void activate(INDArray pre) {
        if (cfg.activation() == SaeConfig.Activation.TOPK) TopK.keepLargest(pre, cfg.k());
        else Transforms.relu(pre, false);
    }

    /** SAELens's step before the update: each decoder row's gradient loses its component along the (unit) row. */
    void removeParallelDecoderGradient() {
        INDArray along = gWDec.mul(wDec).sum(1).reshape(cfg.dSae(), 1);
        gWDec.subi(wDec.mulColumnVector(along));
    }

    /** The step after the update: every decoder row back to unit norm. */
    void normaliseDecoder() {
        wDec.diviColumnVector(wDec.norm2(1).reshape(cfg.dSae(), 1).addi(1e-12));
    }

    /** An {@link SAE} with copies of the current weights. */
    SAE sae() {
        return new SAE(cfg, wEnc.dup('c'), bEnc.dup('c'), wDec.dup('c'), bDec.dup('c'), null, null);
    }
}
