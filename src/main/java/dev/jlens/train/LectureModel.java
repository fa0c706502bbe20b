package dev.jlens.train;

import dev.jlens.cache.HookNames;
import dev.jlens.model.ActivationFunction;
import dev.jlens.model.HookedTransformer;
import dev.jlens.model.LayerWeights;
import dev.jlens.model.ModelConfig;
import dev.jlens.model.Normalization;
import dev.jlens.model.Weights;
import dev.jlens.tokenize.CharTokenizer;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Karpathy's lecture GPT ({@code ng-video-lecture/gpt.py}) as jlens trains it: building one with
 * the lecture's initialisation and listing its trainable parameters under their TransformerLens names.
 * Its files use the lecture's own {@code state_dict} names (the exact inverse of {@code KarpathyCharLoader}):
 * {@link CheckpointNames} translates, at the file boundary only.
 *
 * <p>The lecture's query/key/value projections have no bias, so the fused {@code b_QKV} stays zero
 * and is not trained: a trained model stays loadable by the lecture's PyTorch code.
 */
public final class LectureModel {
    static final double EPS = 1e-5;
    static final double INIT_STD = 0.02;

    private LectureModel() {}

    /** One trainable tensor: the very array the forward pass multiplies with, and its gradient. */
    record Param(String name, INDArray value, INDArray grad, boolean decay) {}

    /** The model's config for a training config and vocabulary. */
    static ModelConfig modelConfig(TrainConfig c, int vocab, String name) {
        boolean attnOnly = c.kind() == ModelKind.ATTN_ONLY;
        return new ModelConfig(name, "karpathy-char", c.layers(), c.dModel(), c.heads(), c.dHead(), c.dMlp(), vocab, c.ctx(),
                attnOnly ? null : ActivationFunction.RELU, c.hasLayerNorm() ? Normalization.LN : Normalization.NONE,
                EPS, Math.sqrt(c.dHead()), attnOnly, false);
    }

    /**
     * A freshly initialised model as the lecture's {@code _init_weights} makes it: every Linear
     * weight and both embeddings normal(0, 0.02), biases zero, LayerNorms weight 1 and bias 0.
     * The draws come from a stream keyed by the seed alone, in state_dict order.
     */
    public static HookedTransformer create(TrainConfig c, String chars, String name) {
        ModelConfig cfg = modelConfig(c, chars.codePointCount(0, chars.length()), name);
        SplittableRandom r = Rng.stream(c.seed(), Rng.INIT);
        int d = cfg.dModel(), hd = cfg.nHeads() * cfg.dHead(), m = cfg.dMlp(), v = cfg.dVocab();
        boolean ln = cfg.hasLayerNorm();
        INDArray wte = normal(r, v, d);
        INDArray wpe = normal(r, cfg.nCtx(), d);
        List<LayerWeights> blocks = new ArrayList<>();
        for (int l = 0; l < cfg.nLayers(); l++) {
            INDArray qkvW = normal(r, d, 3L * hd);
            INDArray oW = normal(r, hd, d);
            INDArray inW = cfg.attnOnly() ? null : normal(r, d, m);
            INDArray outW = cfg.attnOnly() ? null : normal(r, m, d);
            boolean ln2 = ln && !cfg.attnOnly();
            blocks.add(new LayerWeights(ln ? ones(d) : null, ln ? zeros(d) : null, qkvW, zeros(3L * hd), oW, zeros(d),
                    ln2 ? ones(d) : null, ln2 ? zeros(d) : null,
                    inW, cfg.attnOnly() ? null : zeros(m), outW, cfg.attnOnly() ? null : zeros(d)));
        }
        INDArray wU = normal(r, d, v);
        Weights w = new Weights(wte, wpe, blocks, ln ? ones(d) : null, ln ? zeros(d) : null, wU, zeros(v));
        return new HookedTransformer(cfg, w, new CharTokenizer(chars));
    }

    private static INDArray normal(SplittableRandom r, long rows, long cols) {
        float[] a = new float[Math.toIntExact(rows * cols)];
        for (int i = 0; i < a.length; i++) a[i] = (float) (r.nextGaussian() * INIT_STD);
        return Nd4j.create(a, new long[] {rows, cols}, DataType.FLOAT);
    }

    private static INDArray ones(long n) {
        return Nd4j.ones(DataType.FLOAT, n);
    }

    private static INDArray zeros(long n) {
        return Nd4j.zeros(DataType.FLOAT, n);
    }

    /**
     * A model whose every parameter is its own writable c-order array, as the optimizer needs
     * (loaded weights may be read-only memory maps or views).
     */
    static HookedTransformer ownCopy(HookedTransformer model) {
        Weights w = model.weights();
        List<LayerWeights> blocks = new ArrayList<>();
        for (LayerWeights lw : w.layers()) {
            blocks.add(new LayerWeights(dup(lw.ln1W()), dup(lw.ln1B()), dup(lw.qkvW()), dup(lw.qkvB()), dup(lw.oW()), dup(lw.oB()),
                    dup(lw.ln2W()), dup(lw.ln2B()), dup(lw.inW()), dup(lw.inB()), dup(lw.outW()), dup(lw.outB())));
        }
        INDArray bU = w.b_U() != null ? dup(w.b_U()) : zeros(model.cfg().dVocab());
        Weights copy = new Weights(dup(w.W_E()), dup(w.W_pos()), blocks, dup(w.lnFinalW()), dup(w.lnFinalB()), dup(w.W_U()), bU);
        return new HookedTransformer(model.cfg(), copy, model.tokenizer());
    }

    private static INDArray dup(INDArray a) {
        if (a == null) return null;
        INDArray out = Nd4j.createUninitialized(DataType.FLOAT, a.shape());
        out.assign(a);
        return out;
    }

    /**
     * The trainable parameters in the lecture's state_dict order, under their TransformerLens names
     * ({@code embed.W_E}, {@code blocks.0.attn.W_QKV} for the fused query/key/value matrix jlens stores,
     * {@code ln_final.w} …, as {@code Weights.validate} and {@code model.params()} name them; the optimizer
     * state is saved under them). Matrices and embeddings are decayed, biases and LayerNorm parameters not
     * (nanoGPT's rule).
     */
    static List<Param> params(HookedTransformer model) {
        Weights w = model.weights();
        ModelConfig cfg = model.cfg();
        List<Param> out = new ArrayList<>();
        add(out, "embed.W_E", w.W_E(), true);
        add(out, "pos_embed.W_pos", w.W_pos(), true);
        for (int l = 0; l < cfg.nLayers(); l++) {
            LayerWeights lw = w.layers().get(l);
            add(out, HookNames.block(l, "attn.W_QKV"), lw.qkvW(), true);
            add(out, HookNames.block(l, "attn.W_O"), lw.oW(), true);
            add(out, HookNames.block(l, "attn.b_O"), lw.oB(), false);
            if (!cfg.attnOnly()) {
                add(out, HookNames.block(l, "mlp.W_in"), lw.inW(), true);
                add(out, HookNames.block(l, "mlp.b_in"), lw.inB(), false);
                add(out, HookNames.block(l, "mlp.W_out"), lw.outW(), true);
                add(out, HookNames.block(l, "mlp.b_out"), lw.outB(), false);
            }
            if (cfg.hasLayerNorm()) {
                add(out, HookNames.block(l, "ln1.w"), lw.ln1W(), false);
                add(out, HookNames.block(l, "ln1.b"), lw.ln1B(), false);
                if (!cfg.attnOnly()) {
                    add(out, HookNames.block(l, "ln2.w"), lw.ln2W(), false);
                    add(out, HookNames.block(l, "ln2.b"), lw.ln2B(), false);
                }
            }
        }
        if (cfg.hasLayerNorm()) {
            add(out, "ln_final.w", w.lnFinalW(), false);
            add(out, "ln_final.b", w.lnFinalB(), false);
        }
        add(out, "unembed.W_U", w.W_U(), true);
        add(out, "unembed.b_U", w.b_U(), false);
        return out;
    }

    private static void add(List<Param> out, String name, INDArray value, boolean decay) {
        if (value.isView() || value.ordering() != 'c') {
            throw new IllegalStateException(name + " is a view or not c-ordered: train an ownCopy of the model");
        }
        out.add(new Param(name, value, Nd4j.zeros(DataType.FLOAT, value.shape()), decay));
    }
}
