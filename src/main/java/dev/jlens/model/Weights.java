package dev.jlens.model;

import dev.jlens.cache.HookNames;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * All of a model's parameters. The matrices ({@code W_E}, {@code W_U} and each block's) are float32 or,
 * from a bfloat16 checkpoint, bfloat16 (kept in the file's dtype, widened as the kernels read them);
 * everything else is float32. Researchers read them through the model's accessors, which always give float32.
 *
 * @param W_E     token embedding {@code [d_vocab, d_model]}
 * @param W_pos   position embedding {@code [n_ctx, d_model]}; {@code null} for rotary or no positions
 * @param layers  one entry per block
 * @param lnFinalW final LayerNorm weight {@code [d_model]}, {@code null} without LayerNorm
 * @param lnFinalB final LayerNorm bias
 * @param W_U     unembedding {@code [d_model, d_vocab]}; for tied models a transposed view of {@code W_E}
 * @param b_U     unembedding bias {@code [d_vocab]}; {@code null} when the model has none (GPT-2)
 */
public record Weights(
        INDArray W_E,
        INDArray W_pos,
        List<LayerWeights> layers,
        INDArray lnFinalW,
        INDArray lnFinalB,
        INDArray W_U,
        INDArray b_U) {

    public Weights {
        layers = List.copyOf(layers);
    }

    /**
     * Checks every array against the config and says which one disagrees and how. Loaders check
     * the source tensors first, with the file's own names; this is the last line of defence.
     */
    public void validate(ModelConfig cfg) {
        List<String> problems = new ArrayList<>();
        int d = cfg.dModel(), hd = cfg.nHeads() * cfg.dHead(), kv = cfg.nKvHeads() * cfg.dHead();
        Architecture arch = cfg.arch();
        boolean norm = cfg.hasNorm(), bias = cfg.hasLayerNorm();
        expectMatrix(problems, "embed.W_E", W_E, cfg.dVocab(), d);
        if (arch.positions() instanceof Architecture.Learned
                && (W_pos == null || W_pos.rank() != 2 || W_pos.size(1) != d || W_pos.size(0) < cfg.nCtx())) {
            problems.add("pos_embed.W_pos has shape " + shape(W_pos) + ", expected [" + cfg.nCtx() + ", " + d + "]");
        }
        if (layers.size() != cfg.nLayers()) {
            problems.add("the weights have " + layers.size() + " blocks but the config says n_layers " + cfg.nLayers());
        }
        for (int l = 0; l < layers.size(); l++) {
            LayerWeights w = layers.get(l);
            String p = HookNames.blockPrefix(l);
            if (norm) expect(problems, p + "ln1.w", w.ln1W(), d);
            if (bias) expect(problems, p + "ln1.b", w.ln1B(), d);
            expectMatrix(problems, p + "attn.W_QKV", w.qkvW(), d, (long) hd + 2L * kv);
            expect(problems, p + "attn.b_QKV", w.qkvB(), (long) hd + 2L * kv);
            expectMatrix(problems, p + "attn.W_O", w.oW(), hd, d);
            expect(problems, p + "attn.b_O", w.oB(), d);
            if (arch.qkNorm()) {
                expect(problems, p + "attn.q_norm.w", w.qNormW(), cfg.dHead());
                expect(problems, p + "attn.k_norm.w", w.kNormW(), cfg.dHead());
            }
            if (arch.postNorms()) expect(problems, p + "ln1_post.w", w.ln1PostW(), d);
            if (!cfg.attnOnly()) {
                if (norm) expect(problems, p + "ln2.w", w.ln2W(), d);
                if (bias) expect(problems, p + "ln2.b", w.ln2B(), d);
                if (arch.gatedMlp()) expectMatrix(problems, p + "mlp.W_gate", w.gateW(), d, cfg.dMlp());
                expectMatrix(problems, p + "mlp.W_in", w.inW(), d, cfg.dMlp());
                expect(problems, p + "mlp.b_in", w.inB(), cfg.dMlp());
                expectMatrix(problems, p + "mlp.W_out", w.outW(), cfg.dMlp(), d);
                expect(problems, p + "mlp.b_out", w.outB(), d);
                if (arch.postNorms()) expect(problems, p + "ln2_post.w", w.ln2PostW(), d);
            }
        }
        if (norm) expect(problems, "ln_final.w", lnFinalW, d);
        if (bias) expect(problems, "ln_final.b", lnFinalB, d);
        expectMatrix(problems, "unembed.W_U", W_U, d, cfg.dVocab());
        if (b_U != null) expect(problems, "unembed.b_U", b_U, cfg.dVocab());
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("the weights do not fit the config ("
                    + cfg.nLayers() + " layers, d_model " + d + ", " + cfg.nHeads() + " heads of " + cfg.dHead()
                    + ", d_vocab " + cfg.dVocab() + "):\n  " + String.join("\n  ", problems));
        }
    }

    private static void expect(List<String> problems, String name, INDArray a, long... dims) {
        expect(problems, name, a, false, dims);
    }

    /** A matrix may also be kept in a checkpoint's bfloat16: the kernels widen it to float32 as they read it. */
    private static void expectMatrix(List<String> problems, String name, INDArray a, long... dims) {
        expect(problems, name, a, true, dims);
    }

    private static void expect(List<String> problems, String name, INDArray a, boolean bf16Allowed, long... dims) {
        if (a == null) {
            problems.add(name + " is missing");
        } else if (!Arrays.equals(a.shape(), dims)) {
            problems.add(name + " has shape " + shape(a) + ", expected " + Arrays.toString(dims));
        } else if (a.dataType() != DataType.FLOAT && !(bf16Allowed && a.dataType() == DataType.BFLOAT16)) {
            problems.add(name + " is " + a.dataType() + ", expected FLOAT" + (bf16Allowed ? " or BFLOAT16" : "")
                    + " (jlens computes in float32)");
        }
    }

    private static String shape(INDArray a) {
        return a == null ? "(missing)" : Arrays.toString(a.shape());
    }
}
