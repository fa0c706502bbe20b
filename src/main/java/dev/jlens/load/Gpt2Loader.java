package dev.jlens.load;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jlens.model.ActivationFunction;
import dev.jlens.model.HookedTransformer;
import dev.jlens.model.LayerWeights;
import dev.jlens.model.ModelConfig;
import dev.jlens.model.Normalization;
import dev.jlens.model.Weights;
import dev.jlens.tokenize.Gpt2Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * GPT-2 family checkpoints in the Hugging Face layout: {@code config.json}, the weights in
 * {@code model.safetensors} or {@code pytorch_model.bin} (keys with or without {@code transformer.};
 * Conv1D weights stored {@code [in, out]}, which is already the layout the forward pass multiplies
 * with), and the tokenizer as {@code vocab.json} + {@code merges.txt} or {@code tokenizer.json}.
 *
 * <p>The block-by-block reading is shared with {@link NanoGptLoader}, whose checkpoints are the same
 * architecture with {@code nn.Linear} weights ({@code [out, in]}) and optional biases.
 */
final class Gpt2Loader {
    /** Weight files a Hugging Face folder may hold, in the order they are preferred. */
    static final List<String> WEIGHT_FILES = List.of("model.safetensors", "pytorch_model.bin");

    private Gpt2Loader() {}

    /** How a checkpoint stores its projection matrices. */
    enum Layout {
        /** Hugging Face's Conv1D: {@code [in, out]}. */
        CONV1D,
        /** {@code nn.Linear}: {@code [out, in]} (nanoGPT). */
        LINEAR
    }

    /**
     * A Hugging Face GPT-2 folder's config and tokenizer with the given weights file (safetensors or torch.save).
     *
     * @param name what to call the model ({@code cfg.modelName()}): the folder's or the hub repository's name
     */
    static HookedTransformer load(Path dir, JsonNode config, Path weightsFile, String name) {
        ConfigFields c = new ConfigFields(config, dir.resolve("config.json").toString());
        int d = c.positiveInt("n_embd");
        int layers = c.positiveInt("n_layer");
        int heads = c.positiveInt("n_head");
        int nCtx = c.has("n_positions") ? c.positiveInt("n_positions") : c.positiveInt("n_ctx");
        int vocab = c.positiveInt("vocab_size");
        int dMlp = c.positiveInt("n_inner", 4 * d);
        double eps = c.positiveFinite("layer_norm_epsilon", 1e-5);
        c.divisible("n_embd", d, "n_head", heads);
        if (c.bool("scale_attn_by_inverse_layer_idx", false)) {
            throw new IllegalArgumentException(dir + "/config.json sets scale_attn_by_inverse_layer_idx, which jlens does not support yet");
        }
        int dHead = d / heads;
        double attnScale = c.bool("scale_attn_weights", true) ? Math.sqrt(dHead) : 1.0;
        ActivationFunction act = activation(c, "activation_function", "gelu_new");
        ModelConfig cfg = new ModelConfig(name, "gpt2", layers, d, heads, dHead, dMlp, vocab, nCtx,
                act, Normalization.LN, eps, attnScale, false, true);
        try (TensorSource file = TensorSource.open(weightsFile)) {
            StateDict sd = new StateDict(file, "transformer.", "a Hugging Face GPT-2 checkpoint with this config.json");
            Weights weights = weights(cfg, sd, Layout.CONV1D, false);
            return HookedTransformer.owning(cfg, weights, gpt2Tokenizer(dir), sd.weightFiles());
        }
    }

    /**
     * Reads GPT-2-architecture weights ({@code wte}, {@code wpe}, {@code h.i.*}, {@code ln_f}, an
     * optional untied {@code lm_head.weight} outside the prefix) and checks that nothing else is left.
     *
     * @param biasesOptional whether missing biases mean zeros (nanoGPT's {@code bias=False}) rather than a broken file
     */
    static Weights weights(ModelConfig cfg, StateDict sd, Layout layout, boolean biasesOptional) {
        int d = cfg.dModel(), dMlp = cfg.dMlp(), vocab = cfg.dVocab();
        sd.ignore(k -> k.endsWith(".attn.bias") || k.endsWith(".attn.masked_bias"));   // causal-mask buffers
        Reader r = new Reader(sd, layout, biasesOptional);
        INDArray wte = sd.take("wte.weight", vocab, d);
        INDArray wpe = sd.take("wpe.weight", cfg.nCtx(), d);
        List<LayerWeights> blocks = new ArrayList<>();
        for (int l = 0; l < cfg.nLayers(); l++) {
            String p = "h." + l + ".";
            blocks.add(new LayerWeights(
                    sd.take(p + "ln_1.weight", d), r.bias(p + "ln_1.bias", d),
                    r.matrix(p + "attn.c_attn.weight", d, 3L * d), r.bias(p + "attn.c_attn.bias", 3L * d),
                    r.matrix(p + "attn.c_proj.weight", d, d), r.bias(p + "attn.c_proj.bias", d),
                    sd.take(p + "ln_2.weight", d), r.bias(p + "ln_2.bias", d),
                    r.matrix(p + "mlp.c_fc.weight", d, dMlp), r.bias(p + "mlp.c_fc.bias", dMlp),
                    r.matrix(p + "mlp.c_proj.weight", dMlp, d), r.bias(p + "mlp.c_proj.bias", d)));
        }
        INDArray lnfW = sd.take("ln_f.weight", d), lnfB = r.bias("ln_f.bias", d);
        // lm_head is stored outside the transformer. prefix, and only when the exporter kept it (tied or not).
        Optional<String> head = List.of("lm_head.weight", "transformer.lm_head.weight").stream().filter(sd::hasKey).findFirst();
        INDArray unembed = head.isPresent()
                ? sd.takeKey(head.get(), vocab, d).transpose()       // [d_vocab, d_model] → [d_model, d_vocab] view
                : wte.transpose();
        sd.ignore(k -> k.equals("lm_head.weight") || k.equals("transformer.lm_head.weight"));
        sd.requireAllUsed();
        return new Weights(wte, wpe, blocks, lnfW, lnfB, unembed, null);
    }

    /** An activation-function field, refused with its name and value when jlens does not know the function. */
    static ActivationFunction activation(ConfigFields c, String field, String fallback) {
        String name = c.text(field, fallback);
        try {
            return ActivationFunction.fromName(name);
        } catch (IllegalArgumentException e) {
            throw c.bad(field, "one of " + ActivationFunction.supportedNames());
        }
    }

    /** Reads matrices in the forward pass's {@code [in, out]} layout and biases, per the checkpoint's conventions. */
    private record Reader(StateDict sd, Layout layout, boolean biasesOptional) {
        INDArray matrix(String name, long in, long out) {
            if (layout == Layout.CONV1D) return sd.take(name, in, out);
            return sd.take(name, out, in).transpose().dup('c');     // nn.Linear [out, in] → [in, out]
        }

        INDArray bias(String name, long n) {
            if (biasesOptional && !sd.has(name)) return Nd4j.zeros(DataType.FLOAT, n);
            return sd.take(name, n);
        }
    }

    /** The GPT-2 tokenizer beside the weights: {@code vocab.json} + {@code merges.txt}, else {@code tokenizer.json}. */
    static Gpt2Tokenizer gpt2Tokenizer(Path dir) {
        return findGpt2Tokenizer(dir).orElseThrow(() -> new IllegalArgumentException(dir + " has no GPT-2 tokenizer: expected"
                + " vocab.json and merges.txt (or tokenizer.json) beside config.json (copy them from the model's Hugging Face repository)"));
    }

    static Optional<Gpt2Tokenizer> findGpt2Tokenizer(Path dir) {
        Path vocab = dir.resolve("vocab.json"), merges = dir.resolve("merges.txt"), json = dir.resolve("tokenizer.json");
        if (Files.exists(vocab) && Files.exists(merges)) {
            return Optional.of(Gpt2Tokenizer.fromFiles(RegularFiles.require(vocab), RegularFiles.require(merges)));
        }
        if (Files.exists(json)) return Optional.of(Gpt2Tokenizer.fromTokenizerJson(RegularFiles.require(json)));
        return Optional.empty();
    }
}
