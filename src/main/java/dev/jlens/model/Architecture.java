package dev.jlens.model;

/**
 * What a transformer is beyond its sizes (which {@link ModelConfig} holds): the choices by which GPT-2,
 * Llama, Qwen, Mistral, Gemma and GPT-NeoX differ. One {@link Forward} reads it; a family is a value of
 * this record plus its loader's key mapping, never a forward pass of its own.
 *
 * @param positions       learned absolute embeddings (GPT-2), rotary inside attention (Llama …), or none
 * @param nKvHeads        key/value heads; fewer than the query heads is grouped-query attention, where
 *                        query head {@code h} reads key/value head {@code h / (n_heads / n_kv_heads)}
 * @param normPlusOne     RMSNorm multiplies by {@code 1 + w} (Gemma) instead of {@code w}
 * @param postNorms       a norm also after attention and after the MLP, before each residual add (Gemma 2)
 * @param qkNorm          RMSNorm of each query and key head before rotary (Qwen 3)
 * @param qkvBias         the query/key/value projections have biases (GPT-2, Qwen 2, GPT-NeoX)
 * @param outBias         the attention output and MLP projections have biases (GPT-2, GPT-NeoX)
 * @param attnSoftCap     attention scores become {@code cap·tanh(scores/cap)} before the mask; 0 for none
 * @param slidingWindow   a query sees only the last {@code slidingWindow} keys (itself included); 0 for all
 * @param slidingEveryOther the window applies to even layers only (Gemma 2), else to every layer
 * @param gatedMlp        {@code act(x·W_gate) ⊙ (x·W_in)} before {@code W_out} (SwiGLU, GeGLU)
 * @param parallel        attention and MLP both read the block's input and add to it together (GPT-NeoX)
 * @param embeddingScale  the token embedding is multiplied by this ({@code √d_model} for Gemma), else 1
 * @param finalSoftCap    logits become {@code cap·tanh(logits/cap)}; 0 for none
 */
public record Architecture(
        Positions positions,
        int nKvHeads,
        boolean normPlusOne,
        boolean postNorms,
        boolean qkNorm,
        boolean qkvBias,
        boolean outBias,
        double attnSoftCap,
        int slidingWindow,
        boolean slidingEveryOther,
        boolean gatedMlp,
        boolean parallel,
        double embeddingScale,
        double finalSoftCap) {

    /** Where a token's position enters the model. */
    public sealed interface Positions permits Learned, Rotary, NoPositions {}

    /** A learned embedding {@code W_pos [n_ctx, d_model]} added to the token embedding (GPT-2). */
    public record Learned() implements Positions {}

    /** No position information beyond the causal mask. */
    public record NoPositions() implements Positions {}

    /**
     * Rotary embeddings of queries and keys in Hugging Face's rotate-half layout.
     *
     * @param fraction how much of each head rotates ({@code rotary_pct}; 1 for Llama)
     * @param base     {@code rope_theta}
     * @param llama3   Llama 3.1's frequency scaling, or null
     */
    public record Rotary(double fraction, double base, Llama3Scaling llama3) implements Positions {
        public Rotary {
            if (!(fraction > 0 && fraction <= 1)) throw new IllegalArgumentException("rotary fraction must be in (0, 1], got " + fraction);
            if (!(base > 1) || Double.isInfinite(base)) throw new IllegalArgumentException("rope_theta must be a finite number > 1, got " + base);
        }
    }

    /** {@code rope_scaling} of type {@code llama3}. */
    public record Llama3Scaling(double factor, double lowFreqFactor, double highFreqFactor, int originalContext) {
        public Llama3Scaling {
            if (!(factor >= 1) || !(lowFreqFactor > 0) || !(highFreqFactor > lowFreqFactor) || originalContext <= 0) {
                throw new IllegalArgumentException("rope_scaling (llama3) needs factor ≥ 1, 0 < low_freq_factor < high_freq_factor"
                        + " and original_max_position_embeddings > 0; got " + factor + ", " + lowFreqFactor + ", "
                        + highFreqFactor + ", " + originalContext);
            }
        }
    }

    public Architecture {
        if (positions == null) throw new IllegalArgumentException("positions must be given");
        if (nKvHeads <= 0) throw new IllegalArgumentException("n_key_value_heads must be positive, got " + nKvHeads);
        if (!(attnSoftCap >= 0) || !(finalSoftCap >= 0)) throw new IllegalArgumentException("soft caps must be ≥ 0 (0 for none)");
        if (slidingWindow < 0) throw new IllegalArgumentException("sliding window must be ≥ 0 (0 for none), got " + slidingWindow);
        if (!(embeddingScale > 0) || Double.isInfinite(embeddingScale)) {
            throw new IllegalArgumentException("embedding scale must be a positive number, got " + embeddingScale);
        }
    }

    /** GPT-2's kind (and the lecture models'): learned positions, full multi-head attention, plain MLP, biases. */
    public static Architecture gpt2(int nHeads) {
        return new Architecture(new Learned(), nHeads, false, false, false, true, true, 0, 0, false, false, false, 1, 0);
    }

    /** The window a query in {@code layer} sees, or 0 for all earlier keys. */
    public int windowOf(int layer) {
        if (slidingWindow == 0) return 0;
        return !slidingEveryOther || layer % 2 == 0 ? slidingWindow : 0;
    }

    public boolean rotary() {
        return positions instanceof Rotary;
    }

    /** Whether every block is GPT-2's, the form the fused attention kernel computes. */
    public boolean isGpt2Block(int nHeads) {
        return !rotary() && nKvHeads == nHeads && !postNorms && !qkNorm && attnSoftCap == 0 && slidingWindow == 0
                && !gatedMlp && !parallel;
    }
}
