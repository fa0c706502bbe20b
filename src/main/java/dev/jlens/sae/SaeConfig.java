package dev.jlens.sae;

import java.util.Objects;

/**
 * What an SAE computes, independent of the file it came from.
 *
 * @param activation       how pre-activations become feature activations
 * @param k                the features kept per token by {@link Activation#TOPK} (0 otherwise)
 * @param dIn              the width it reads ({@code n_heads·d_head} for a {@code hook_z} SAE)
 * @param dSae             the number of features
 * @param dOut             the width it writes: {@code dIn} for an SAE, the output hook's width for a transcoder
 * @param hookName         the hook point it reads (and, for an SAE, replaces when spliced in)
 * @param outputHookName   a transcoder's output hook point ({@code blocks.3.hook_mlp_out}), else {@code null}
 * @param applyBDecToInput subtract {@code b_dec} from the input before encoding (SAELens {@code apply_b_dec_to_input})
 * @param inputNorm        how the input is normalised before encoding and the output restored after decoding
 * @param source           where it was read from, for messages and {@code toString}
 */
public record SaeConfig(Activation activation, int k, int dIn, int dSae, int dOut, String hookName, String outputHookName,
                        boolean applyBDecToInput, InputNorm inputNorm, String source) {
    public SaeConfig {
        Objects.requireNonNull(activation, "activation");
        Objects.requireNonNull(hookName, "hook name");
        Objects.requireNonNull(inputNorm, "input normalisation");
        if (dIn <= 0 || dSae <= 0 || dOut <= 0) throw new IllegalArgumentException(source + ": d_in, d_sae and d_out must be positive");
        if (activation == Activation.TOPK && (k <= 0 || k > dSae)) {
            throw new IllegalArgumentException(source + ": a TopK SAE needs 1 ≤ k ≤ d_sae (" + dSae + "), got k = " + k);
        }
        if (outputHookName != null && inputNorm != InputNorm.NONE) {
            throw new IllegalArgumentException(source + ": jlens splices transcoders without input normalisation; this one has " + inputNorm);
        }
        if (outputHookName == null && dOut != dIn) {
            throw new IllegalArgumentException(source + ": an SAE writes what it reads (d_out " + dOut + " ≠ d_in " + dIn + "); only transcoders differ");
        }
    }

    /** Feature activations from pre-activations. */
    public enum Activation {
        /** {@code relu(pre)}: the standard SAE. */
        RELU,
        /** {@code relu(pre)·[pre > threshold]}, a threshold per feature (Gemma Scope, SAELens {@code jumprelu}). */
        JUMPRELU,
        /** The {@code k} largest of {@code relu(pre)} per token, the rest 0 (TopK; BatchTopK at inference without a threshold). */
        TOPK
    }

    /** SAELens's {@code normalize_activations}. */
    public enum InputNorm {
        /** {@code none}. */
        NONE,
        /** {@code constant_norm_rescale}: each token scaled to norm √d_in, the output scaled back. */
        CONSTANT_NORM_RESCALE,
        /** {@code layer_norm}: each token centred and scaled to unit variance, the output restored. */
        LAYER_NORM
    }

    /** Whether it reads one hook point and writes another (an MLP's input encoded, its output decoded). */
    public boolean transcoder() {
        return outputHookName != null;
    }

    /** Whether it reads {@code attn.hook_z}, whose {@code [.., n_heads, d_head]} it flattens to {@code [.., d_in]}. */
    public boolean readsZ() {
        return hookName.endsWith("attn.hook_z");
    }

    /** The architecture's name as SAELens spells it. */
    public String architecture() {
        String a = switch (activation) {
            case RELU -> "standard";
            case JUMPRELU -> "jumprelu";
            case TOPK -> "topk";
        };
        return transcoder() ? a + " transcoder" : a;
    }
}
