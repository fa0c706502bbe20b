package dev.jlens.sae;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jlens.load.AtomicFiles;
import dev.jlens.load.SafeTensors;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Writes an SAE as SAELens saves one: {@code cfg.json} (the fields SAELens's loaders read, at the top level as
 * SAELens ≤ 5 wrote them and under {@code metadata} as SAELens 6 does) and {@code sae_weights.safetensors}
 * ({@code W_enc [d_in, d_sae]}, {@code b_enc}, {@code W_dec [d_sae, d_in]}, {@code b_dec}, float32). Each file is
 * replaced atomically, and the same weights and config give the same bytes (fixed field and tensor order, no
 * timestamps), so a re-run that changes nothing changes no file.
 */
final class SaeWriter {
    static final String CONFIG = "cfg.json", WEIGHTS = "sae_weights.safetensors";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private SaeWriter() {}

    static void save(SAE sae, Path folder, String modelName) {
        SaeConfig c = sae.cfg();
        if (c.transcoder() || sae.W_skip() != null || c.activation() == SaeConfig.Activation.JUMPRELU) {
            // jlens trains and so writes plain ReLU and TopK SAEs; the other kinds come from their own tools.
            throw new UnsupportedOperationException("SAE.save writes ReLU and TopK SAEs; this one is " + c.architecture());
        }
        try {
            Files.createDirectories(folder);
            SafeTensors.write(folder.resolve(WEIGHTS), weights(sae), Map.of("format", "pt"));
            AtomicFiles.write(folder.resolve(CONFIG), JSON.writeValueAsBytes(config(c, modelName)));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot save the SAE to " + folder + ": " + e.getMessage(), e);
        }
    }

    private static Map<String, INDArray> weights(SAE sae) {
        Map<String, INDArray> w = new LinkedHashMap<>();
        w.put("W_enc", sae.W_enc());
        w.put("b_enc", sae.b_enc());
        w.put("W_dec", sae.W_dec());
        w.put("b_dec", sae.b_dec());
        return w;
    }

    /** SAELens's config fields, in a fixed order. */
    static ObjectNode config(SaeConfig c, String modelName) {
        ObjectNode o = JSON.createObjectNode();
        boolean topK = c.activation() == SaeConfig.Activation.TOPK;
        o.put("architecture", c.architecture());
        o.put("d_in", c.dIn());
        o.put("d_sae", c.dSae());
        if (topK) o.put("k", c.k());
        o.put("activation_fn_str", topK ? "topk" : "relu");
        if (topK) o.putObject("activation_fn_kwargs").put("k", c.k());
        o.put("apply_b_dec_to_input", c.applyBDecToInput());
        o.put("normalize_activations", switch (c.inputNorm()) {
            case NONE -> "none";
            case CONSTANT_NORM_RESCALE -> "constant_norm_rescale";
            case LAYER_NORM -> "layer_norm";
        });
        o.put("dtype", "float32");
        o.put("device", "cpu");
        o.put("model_name", modelName);
        o.put("hook_name", c.hookName());
        o.put("hook_layer", layer(c.hookName()));
        o.putNull("hook_head_index");
        o.put("reshape_activations", c.readsZ() ? "hook_z" : "none");
        ObjectNode meta = o.putObject("metadata");
        meta.put("model_name", modelName);
        meta.put("hook_name", c.hookName());
        meta.put("hook_head_index", (Integer) null);
        meta.put("sae_lens_training_version", (String) null);
        meta.put("written_by", "jlens");
        return o;
    }

    private static final Pattern BLOCK = Pattern.compile("blocks\\.(\\d+)\\.");

    /** The block a TransformerLens hook name sits in ({@code blocks.3.hook_resid_pre} → 3), or 0 for embeddings. */
    private static int layer(String hookName) {
        Matcher m = BLOCK.matcher(hookName);
        return m.lookingAt() ? Integer.parseInt(m.group(1)) : 0;
    }
}
