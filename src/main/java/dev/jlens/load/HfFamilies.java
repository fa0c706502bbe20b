package dev.jlens.load;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jlens.model.Architecture;
import dev.jlens.model.HookedTransformer;
import dev.jlens.model.LayerWeights;
import dev.jlens.model.ModelConfig;
import dev.jlens.model.Normalization;
import dev.jlens.model.Weights;
import dev.jlens.tokenize.HfTokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The model families of the Hugging Face layout beyond GPT-2, chosen by {@code config.json}'s
 * {@code architectures}: each is an {@link Architecture} read from the config plus a key mapping from
 * the checkpoint's tensor names to TransformerLens's. A family not listed is refused by name.
 *
 * <p>Every projection is stored as {@code nn.Linear} ({@code [out, in]}); the forward pass multiplies
 * {@code [in, out]}, so each is read transposed. Query, key and value of all heads are put side by side
 * ({@code [d_model, (n_heads + 2·n_kv_heads)·d_head]}) in query, key, value order.
 */
final class HfFamilies {
    private HfFamilies() {}

    /** The families jlens reads, by the class name in {@code architectures}. */
    private static final Map<String, Family> FAMILIES = new LinkedHashMap<>();

    static {
        FAMILIES.put("LlamaForCausalLM", Family.LLAMA);
        FAMILIES.put("MistralForCausalLM", Family.MISTRAL);
        FAMILIES.put("Qwen2ForCausalLM", Family.QWEN2);
        FAMILIES.put("Qwen3ForCausalLM", Family.QWEN3);
        FAMILIES.put("Gemma2ForCausalLM", Family.GEMMA2);
        FAMILIES.put("GPTNeoXForCausalLM", Family.GPT_NEOX);
    }

    enum Family { LLAMA, MISTRAL, QWEN2, QWEN3, GEMMA2, GPT_NEOX }

    /** The supported class names, for messages. */
    static List<String> supported() {
        List<String> out = new ArrayList<>(List.of("GPT2LMHeadModel"));
        out.addAll(FAMILIES.keySet());
        return out;
    }

    /** The config's {@code architectures[0]}, or null when it names none. */
    static String architectureOf(JsonNode config) {
        JsonNode a = config.path("architectures");
        return a.isArray() && a.size() > 0 && a.get(0).isTextual() ? a.get(0).asText() : null;
    }

    static boolean handles(JsonNode config) {
        return FAMILIES.containsKey(architectureOf(config));
    }

    /**
     * @param weightsFile {@code model.safetensors}, or {@code model.safetensors.index.json} for a sharded checkpoint
     */
    static HookedTransformer load(Path dir, JsonNode config, Path weightsFile, String name) {
        Family family = FAMILIES.get(architectureOf(config));
        Path where = dir.resolve("config.json");
        HfTokenizer tokenizer = Files.exists(dir.resolve("tokenizer.json")) || Files.exists(dir.resolve("tokenizer.json.gz"))
                ? HfTokenizer.fromFolder(dir) : null;
        ModelConfig cfg = config(family, config, where, name, tokenizer != null && tokenizer.addsBos());
        boolean sharded = weightsFile.getFileName().toString().endsWith(".index.json");
        try (TensorSource file = sharded ? TensorSource.sharded(weightsFile) : TensorSource.open(weightsFile)) {
            StateDict sd = new StateDict(file, "", "a Hugging Face " + architectureOf(config) + " checkpoint with this config.json");
            Weights weights = family == Family.GPT_NEOX ? neoxWeights(cfg, sd) : llamaLikeWeights(family, cfg, sd, config);
            return HookedTransformer.owning(cfg, weights, tokenizer, sd.weightFiles());
        }
    }

    /** The description of a model of {@code family} from its {@code config.json}. */
    static ModelConfig config(Family family, JsonNode config, Path where, String name, boolean prependBos) {
        ConfigFields c = new ConfigFields(config, where.toString());
        int d = c.positiveInt("hidden_size");
        int layers = c.positiveInt("num_hidden_layers");
        int heads = c.positiveInt("num_attention_heads");
        int kvHeads = c.positiveInt("num_key_value_heads", heads);
        if (!c.has("head_dim")) c.divisible("hidden_size", d, "num_attention_heads", heads);
        int dHead = c.positiveInt("head_dim", d / heads);
        c.divisible("num_attention_heads", heads, "num_key_value_heads", kvHeads);
        int dMlp = c.positiveInt("intermediate_size");
        int vocab = c.positiveInt("vocab_size");
        int nCtx = c.positiveInt("max_position_embeddings");
        String arch = architectureOf(config);
        if (family == Family.GPT_NEOX) {
            double eps = c.positiveFinite("layer_norm_eps", 1e-5);
            double fraction = c.positiveFinite("rotary_pct", 1.0);
            double base = c.has("rotary_emb_base") ? c.positiveFinite("rotary_emb_base", 10_000) : c.positiveFinite("rope_theta", 10_000);
            if (config.hasNonNull("rope_scaling")) throw c.bad("rope_scaling", "be absent: jlens reads GPT-NeoX without rope scaling");
            Architecture a = new Architecture(new Architecture.Rotary(fraction, base, null), heads, false, false, false, true, true,
                    0, 0, false, false, c.bool("use_parallel_residual", true), 1, 0);
            return new ModelConfig(name, arch, layers, d, heads, dHead, dMlp, vocab, nCtx, Gpt2Loader.activation(c, "hidden_act", "gelu"),
                    Normalization.LN, eps, Math.sqrt(dHead), false, prependBos, a);
        }
        double eps = c.positiveFinite("rms_norm_eps", 1e-6);
        double base = c.positiveFinite("rope_theta", 10_000);
        Architecture.Llama3Scaling scaling = ropeScaling(config, where);
        int window = 0;
        boolean everyOther = false;
        if (family == Family.MISTRAL && config.hasNonNull("sliding_window")) window = c.positiveInt("sliding_window");
        if ((family == Family.QWEN2 || family == Family.QWEN3) && c.bool("use_sliding_window", false)) {
            throw c.bad("use_sliding_window", "be false: a window on the layers from max_window_layers on is not supported yet"
                    + " (the released Qwen models leave it false)");
        }
        double attnScale = Math.sqrt(dHead), softCap = 0, finalCap = 0, embedScale = 1;
        boolean gemma = family == Family.GEMMA2;
        if (gemma) {
            window = c.positiveInt("sliding_window");
            everyOther = true;                                 // Hugging Face: layers 0, 2, 4, … slide
            attnScale = Math.sqrt(c.positiveFinite("query_pre_attn_scalar", dHead));
            softCap = config.hasNonNull("attn_logit_softcapping") ? c.positiveFinite("attn_logit_softcapping", 0) : 0;
            finalCap = config.hasNonNull("final_logit_softcapping") ? c.positiveFinite("final_logit_softcapping", 0) : 0;
            embedScale = (float) Math.sqrt(d);                 // Hugging Face multiplies by √d_model in the activations' float32
        }
        boolean qkvBias = family == Family.QWEN2 || c.bool("attention_bias", false);
        Architecture a = new Architecture(new Architecture.Rotary(1.0, base, scaling), kvHeads, gemma, gemma, family == Family.QWEN3,
                qkvBias, c.bool("mlp_bias", false), softCap, window, everyOther, true, false, embedScale, finalCap);
        String act = gemma && c.has("hidden_activation") ? "hidden_activation" : "hidden_act";
        return new ModelConfig(name, arch, layers, d, heads, dHead, dMlp, vocab, nCtx, Gpt2Loader.activation(c, act, "silu"),
                Normalization.RMS, eps, attnScale, false, prependBos, a);
    }

    /** Llama, Mistral, Qwen 2/3 and Gemma 2 share their tensor names ({@code model.layers.{l}.self_attn.q_proj} …). */
    private static Weights llamaLikeWeights(Family family, ModelConfig cfg, StateDict sd, JsonNode config) {
        int d = cfg.dModel(), dMlp = cfg.dMlp(), vocab = cfg.dVocab(), dh = cfg.dHead();
        long q = (long) cfg.nHeads() * dh, kv = (long) cfg.nKvHeads() * dh;
        boolean gemma = family == Family.GEMMA2, qkvBias = cfg.arch().qkvBias(), bias = cfg.arch().outBias();
        sd.ignore(k -> k.endsWith("rotary_emb.inv_freq"));                      // a buffer, not a parameter
        INDArray embed = sd.takeMatrix("model.embed_tokens.weight", vocab, d);
        List<LayerWeights> blocks = new ArrayList<>();
        for (int l = 0; l < cfg.nLayers(); l++) {
            String p = "model.layers." + l + ".";
            INDArray qkvW = inOut(joinedRows(sd.takeMatrixCopy(p + "self_attn.q_proj.weight", q, d),
                    sd.takeMatrixCopy(p + "self_attn.k_proj.weight", kv, d), sd.takeMatrixCopy(p + "self_attn.v_proj.weight", kv, d))); // [d_model, (h + 2·kv)·d_head]
            INDArray qkvB = qkvBias
                    ? Nd4j.concat(0, sd.take(p + "self_attn.q_proj.bias", q), sd.take(p + "self_attn.k_proj.bias", kv),
                            sd.take(p + "self_attn.v_proj.bias", kv))
                    : zeros(q + 2 * kv);
            INDArray oW = linear(sd, p + "self_attn.o_proj.weight", d, q);
            INDArray ln2 = sd.take(p + (gemma ? "pre_feedforward_layernorm.weight" : "post_attention_layernorm.weight"), d);
            blocks.add(new LayerWeights(
                    sd.take(p + "input_layernorm.weight", d), null,
                    qkvW, qkvB,
                    oW, bias && sd.has(p + "self_attn.o_proj.bias") ? sd.take(p + "self_attn.o_proj.bias", d) : zeros(d),
                    ln2, null,
                    linear(sd, p + "mlp.up_proj.weight", dMlp, d), bias ? sd.take(p + "mlp.up_proj.bias", dMlp) : zeros(dMlp),
                    linear(sd, p + "mlp.down_proj.weight", d, dMlp), bias ? sd.take(p + "mlp.down_proj.bias", d) : zeros(d),
                    linear(sd, p + "mlp.gate_proj.weight", dMlp, d),
                    family == Family.QWEN3 ? sd.take(p + "self_attn.q_norm.weight", dh) : null,
                    family == Family.QWEN3 ? sd.take(p + "self_attn.k_norm.weight", dh) : null,
                    gemma ? sd.take(p + "post_attention_layernorm.weight", d) : null,
                    gemma ? sd.take(p + "post_feedforward_layernorm.weight", d) : null));
            if (bias) sd.ignore(k -> k.equals(p + "mlp.gate_proj.bias"));
        }
        INDArray norm = sd.take("model.norm.weight", d);
        boolean tied = config.path("tie_word_embeddings").asBoolean(gemma);
        INDArray unembed;
        if (!tied || sd.has("lm_head.weight")) {
            unembed = sd.takeMatrix("lm_head.weight", vocab, d).transpose();     // [d_vocab, d_model] → [d_model, d_vocab] view
        } else {
            unembed = embed.transpose();
        }
        sd.requireAllUsed();
        return new Weights(embed, null, blocks, norm, null, unembed, null);
    }

    /**
     * GPT-NeoX (Pythia): {@code query_key_value} holds, per head, that head's query, key and value rows
     * ({@code [n_heads, 3, d_head, d_model]}); they are regrouped to all queries, all keys, all values.
     */
    private static Weights neoxWeights(ModelConfig cfg, StateDict sd) {
        int d = cfg.dModel(), dMlp = cfg.dMlp(), vocab = cfg.dVocab(), h = cfg.nHeads(), dh = cfg.dHead();
        sd.ignore(k -> k.endsWith(".attention.bias") || k.endsWith(".attention.masked_bias") || k.endsWith("rotary_emb.inv_freq"));
        INDArray embed = sd.takeMatrix("gpt_neox.embed_in.weight", vocab, d);
        List<LayerWeights> blocks = new ArrayList<>();
        for (int l = 0; l < cfg.nLayers(); l++) {
            String p = "gpt_neox.layers." + l + ".";
            INDArray fused = sd.takeMatrixCopy(p + "attention.query_key_value.weight", 3L * h * dh, d); // [(head, 3, d_head), d_model]
            INDArray byKind = fused.reshape(h, 3, dh, d).permute(1, 0, 2, 3).dup('c').reshape(3L * h * dh, d); // [(3, head, d_head), d_model]
            fused.close();
            INDArray fusedB = sd.take(p + "attention.query_key_value.bias", 3L * h * dh);
            INDArray byKindB = fusedB.reshape(h, 3, dh).permute(1, 0, 2).dup('c').reshape(3L * h * dh);
            blocks.add(new LayerWeights(
                    sd.take(p + "input_layernorm.weight", d), sd.take(p + "input_layernorm.bias", d),
                    inOut(byKind), byKindB,
                    linear(sd, p + "attention.dense.weight", d, (long) h * dh), sd.take(p + "attention.dense.bias", d),
                    sd.take(p + "post_attention_layernorm.weight", d), sd.take(p + "post_attention_layernorm.bias", d),
                    linear(sd, p + "mlp.dense_h_to_4h.weight", dMlp, d), sd.take(p + "mlp.dense_h_to_4h.bias", dMlp),
                    linear(sd, p + "mlp.dense_4h_to_h.weight", d, dMlp), sd.take(p + "mlp.dense_4h_to_h.bias", d)));
        }
        INDArray lnW = sd.take("gpt_neox.final_layer_norm.weight", d), lnB = sd.take("gpt_neox.final_layer_norm.bias", d);
        INDArray unembed = sd.takeMatrix("embed_out.weight", vocab, d).transpose(); // [d_model, d_vocab] view
        sd.requireAllUsed();
        return new Weights(embed, null, blocks, lnW, lnB, unembed, null);
    }

    /**
     * An {@code nn.Linear} weight {@code [out, in]} as the {@code [in, out]} matrix the forward pass multiplies by,
     * in the file's dtype (bfloat16 stays bfloat16).
     */
    private static INDArray linear(StateDict sd, String name, long out, long in) {
        return inOut(sd.takeMatrixCopy(name, out, in));
    }

    /** Fresh arrays (freed here) one below the other. */
    private static INDArray joinedRows(INDArray... parts) {
        INDArray joined = Nd4j.concat(0, parts);
        for (INDArray part : parts) part.close();
        return joined;
    }

    /** {@code [out, in]} rows (a fresh array, freed here) as a row-major {@code [in, out]} matrix. */
    private static INDArray inOut(INDArray outIn) {
        INDArray inOut = outIn.transpose().dup('c');
        outIn.close();
        return inOut;
    }

    private static INDArray zeros(long n) {
        return Nd4j.zeros(DataType.FLOAT, n);
    }

    private static Architecture.Llama3Scaling ropeScaling(JsonNode config, Path where) {
        JsonNode node = config.path("rope_scaling");
        if (node.isMissingNode() || node.isNull()) return null;
        ConfigFields s = new ConfigFields(node, where + " rope_scaling");
        String type = s.text("rope_type", s.text("type", ""));
        if (!type.equals("llama3")) {
            throw s.bad("rope_type", "be \"llama3\" (Llama 3.1/3.2) or rope_scaling absent: \"" + type + "\" is not supported yet");
        }
        return new Architecture.Llama3Scaling(s.positiveFinite("factor", 8), s.positiveFinite("low_freq_factor", 1),
                s.positiveFinite("high_freq_factor", 4), s.positiveInt("original_max_position_embeddings"));
    }
}
