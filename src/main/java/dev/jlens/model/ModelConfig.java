package dev.jlens.model;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The shape and semantics of a model, with TransformerLens's field names in Java spelling.
 *
 * @param modelName            what the user called it (folder name, "gpt2", …)
 * @param architecture         where the weights came from: {@code gpt2}, {@code karpathy-char}, {@code jlens}
 * @param nLayers              number of transformer blocks
 * @param dModel               residual stream width
 * @param nHeads               attention heads per block
 * @param dHead                width of one head's query, key and value
 * @param dMlp                 hidden width of the MLP; 0 when {@code attnOnly}
 * @param dVocab               vocabulary size (rows of {@code W_E}, columns of {@code W_U})
 * @param nCtx                 longest sequence the position embedding covers
 * @param actFn                MLP non-linearity; {@code null} when {@code attnOnly}
 * @param normalization        LayerNorm or none
 * @param eps                  LayerNorm epsilon
 * @param attnScale            divisor of the attention scores, as TransformerLens's {@code attn_scale}:
 *                             {@code √d_head} for GPT-2 and today's lecture code, {@code √d_model} for the
 *                             video-era lecture code
 * @param attnOnly             blocks without an MLP (and without {@code hook_resid_mid})
 * @param defaultPrependBos    whether {@code toTokens(text)} prepends BOS (GPT-2 yes, char models have none)
 * @param arch                 what the model is beyond these sizes: positions, grouped-query attention,
 *                             gated MLP, parallel blocks, soft caps, … ({@link Architecture})
 */
public record ModelConfig(
        String modelName,
        String architecture,
        int nLayers,
        int dModel,
        int nHeads,
        int dHead,
        int dMlp,
        int dVocab,
        int nCtx,
        ActivationFunction actFn,
        Normalization normalization,
        double eps,
        double attnScale,
        boolean attnOnly,
        boolean defaultPrependBos,
        Architecture arch) {

    /** A GPT-2-style model ({@link Architecture#gpt2}): learned positions, multi-head attention, plain MLP. */
    public ModelConfig(String modelName, String architecture, int nLayers, int dModel, int nHeads, int dHead, int dMlp, int dVocab,
                       int nCtx, ActivationFunction actFn, Normalization normalization, double eps, double attnScale, boolean attnOnly,
                       boolean defaultPrependBos) {
        this(modelName, architecture, nLayers, dModel, nHeads, dHead, dMlp, dVocab, nCtx, actFn, normalization, eps, attnScale,
                attnOnly, defaultPrependBos, Architecture.gpt2(nHeads));
    }

    public ModelConfig {
        requirePositive("nLayers", nLayers);
        requirePositive("dModel", dModel);
        requirePositive("nHeads", nHeads);
        requirePositive("dHead", dHead);
        requirePositive("dVocab", dVocab);
        requirePositive("nCtx", nCtx);
        if (attnOnly) {
            if (dMlp != 0) throw new IllegalArgumentException("an attention-only model has dMlp 0, got " + dMlp);
        } else {
            requirePositive("dMlp", dMlp);
            if (actFn == null) throw new IllegalArgumentException("a model with an MLP needs an activation function");
        }
        if (normalization == null) throw new IllegalArgumentException("normalization must be LN, RMS or NONE");
        if (arch == null) throw new IllegalArgumentException("the architecture description must be given");
        if (nHeads % arch.nKvHeads() != 0) {
            throw new IllegalArgumentException("n_heads " + nHeads + " is not a multiple of n_key_value_heads " + arch.nKvHeads());
        }
        if (arch.gatedMlp() && attnOnly) throw new IllegalArgumentException("an attention-only model has no (gated) MLP");
        if (!(attnScale > 0) || !Double.isFinite(attnScale)) throw new IllegalArgumentException("attnScale must be finite and positive, got " + attnScale);
        if (!(eps >= 0) || !Double.isFinite(eps)) throw new IllegalArgumentException("eps must be finite and ≥ 0, got " + eps);
    }

    private static void requirePositive(String name, int value) {
        if (value <= 0) throw new IllegalArgumentException(name + " must be positive, got " + value);
    }

    /** LayerNorm (centred, with bias) specifically; see {@link #hasNorm()}. */
    public boolean hasLayerNorm() {
        return normalization == Normalization.LN;
    }

    /** Whether blocks normalise their inputs at all (LayerNorm or RMSNorm): the {@code ln*} hook points exist. */
    public boolean hasNorm() {
        return normalization != Normalization.NONE;
    }

    /** Key/value heads ({@code n_key_value_heads}); equal to {@link #nHeads()} without grouped-query attention. */
    public int nKvHeads() {
        return arch.nKvHeads();
    }

    /** The fields in TransformerLens's names, for printing next to what users know from Python. */
    public Map<String, Object> asTransformerLensDict() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model_name", modelName);
        m.put("original_architecture", architecture);
        m.put("n_layers", nLayers);
        m.put("d_model", dModel);
        m.put("n_heads", nHeads);
        m.put("d_head", dHead);
        m.put("d_mlp", attnOnly ? null : dMlp);
        m.put("d_vocab", dVocab);
        m.put("n_ctx", nCtx);
        m.put("act_fn", actFn == null ? null : actFn.tlName());
        m.put("normalization_type", normalization == Normalization.NONE ? null : normalization.name());
        m.put("n_key_value_heads", arch.nKvHeads());
        m.put("eps", eps);
        m.put("attn_scale", attnScale);
        m.put("attn_only", attnOnly);
        m.put("default_prepend_bos", defaultPrependBos);
        m.put("positional_embedding_type", arch.positions() instanceof Architecture.Rotary ? "rotary"
                : arch.positions() instanceof Architecture.Learned ? "standard" : null);
        if (arch.positions() instanceof Architecture.Rotary r) {
            m.put("rotary_dim", (int) Math.round(dHead * r.fraction()) / 2 * 2);
            m.put("rotary_base", r.base());
        }
        m.put("gated_mlp", arch.gatedMlp());
        m.put("parallel_attn_mlp", arch.parallel());
        m.put("use_normalization_before_and_after", arch.postNorms());
        m.put("attn_scores_soft_cap", arch.attnSoftCap() == 0 ? -1.0 : arch.attnSoftCap());
        m.put("output_logits_soft_cap", arch.finalSoftCap() == 0 ? -1.0 : arch.finalSoftCap());
        m.put("window_size", arch.slidingWindow() == 0 ? null : arch.slidingWindow());
        return m;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("ModelConfig:\n");
        asTransformerLensDict().forEach((k, v) -> sb.append(String.format("  %-27s %s%n", k, v)));
        return sb.toString().stripTrailing();
    }
}
