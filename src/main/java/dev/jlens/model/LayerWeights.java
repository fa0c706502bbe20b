package dev.jlens.model;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * One block's weights, stored in the form the forward pass multiplies with.
 *
 * <p>Query, key and value projections of all heads are one matrix so that one matrix product
 * computes them all; TransformerLens's per-head {@code W_Q [n_heads, d_model, d_head]} and friends
 * are views of it (see {@link HookedTransformer#W_Q(int)}), so both names read the same memory.
 *
 * @param ln1W  LayerNorm before attention, weight {@code [d_model]}; {@code null} without LayerNorm
 * @param ln1B  its bias {@code [d_model]}
 * @param qkvW  {@code [d_model, 3·n_heads·d_head]}: all heads' Q, then all heads' K, then V
 * @param qkvB  {@code [3·n_heads·d_head]}, zeros for models without these biases
 * @param oW    {@code [n_heads·d_head, d_model]}
 * @param oB    {@code [d_model]}
 * @param ln2W  LayerNorm before the MLP; {@code null} without LayerNorm or without an MLP
 * @param ln2B  its bias
 * @param inW   {@code [d_model, d_mlp]}; {@code null} for attention-only blocks
 * @param inB   {@code [d_mlp]}
 * @param outW  {@code [d_mlp, d_model]}
 * @param outB  {@code [d_model]}
 * @param gateW {@code [d_model, d_mlp]}, the gate of a gated MLP ({@code W_gate}); {@code null} otherwise
 * @param qNormW {@code [d_head]}, RMSNorm of each query head (Qwen 3); {@code null} otherwise
 * @param kNormW {@code [d_head]}, RMSNorm of each key head
 * @param ln1PostW {@code [d_model]}, the norm after attention (Gemma 2); {@code null} otherwise
 * @param ln2PostW {@code [d_model]}, the norm after the MLP
 *
 * <p>With grouped-query attention {@code qkvW} is {@code [d_model, (n_heads + 2·n_kv_heads)·d_head]}:
 * all query heads, then the key heads, then the value heads. RMSNorm has no bias: {@code ln1B},
 * {@code ln2B} are {@code null} then.
 */
public record LayerWeights(
        INDArray ln1W, INDArray ln1B,
        INDArray qkvW, INDArray qkvB,
        INDArray oW, INDArray oB,
        INDArray ln2W, INDArray ln2B,
        INDArray inW, INDArray inB,
        INDArray outW, INDArray outB,
        INDArray gateW,
        INDArray qNormW, INDArray kNormW,
        INDArray ln1PostW, INDArray ln2PostW) {

    /** A GPT-2-style block: no gate, no query/key norms, no post-norms. */
    public LayerWeights(INDArray ln1W, INDArray ln1B, INDArray qkvW, INDArray qkvB, INDArray oW, INDArray oB,
                        INDArray ln2W, INDArray ln2B, INDArray inW, INDArray inB, INDArray outW, INDArray outB) {
        this(ln1W, ln1B, qkvW, qkvB, oW, oB, ln2W, ln2B, inW, inB, outW, outB, null, null, null, null, null);
    }
}
