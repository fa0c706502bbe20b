package dev.jlens.model;

/** What stands where a block normalises its input ({@code cfg.normalization_type}). */
public enum Normalization {
    /** LayerNorm with its own weight and bias, not folded into the next layer. */
    LN,
    /**
     * RMSNorm: divide by {@code √(mean(x²) + eps)} and multiply by the weight (or {@code 1 + weight},
     * see {@link Architecture#normPlusOne()}); no centring, no bias (Llama, Qwen, Mistral, Gemma).
     */
    RMS,
    /** No normalisation (some attention-only toy models); the {@code ln*} hook points do not exist. */
    NONE
}
