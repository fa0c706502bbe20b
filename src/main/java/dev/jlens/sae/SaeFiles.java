package dev.jlens.sae;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jlens.compute.NonFinite;
import dev.jlens.load.ConfigFields;
import dev.jlens.load.CorruptModelFileException;
import dev.jlens.load.Json;
import dev.jlens.load.Npz;
import dev.jlens.load.SafeTensors;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * The SAE formats in use, told apart by their files:
 * <ul>
 *   <li>SAELens: {@code cfg.json} + {@code sae_weights.safetensors} ({@code W_enc [d_in, d_sae]}, {@code W_dec [d_sae, d_in]},
 *       {@code b_enc}, {@code b_dec}, {@code threshold} or {@code log_threshold}, {@code W_skip}); the config gives the
 *       architecture, the hook, {@code apply_b_dec_to_input} and {@code normalize_activations};</li>
 *   <li>EleutherAI sparsify: {@code cfg.json} + {@code sae.safetensors} ({@code encoder.weight [d_sae, d_in]},
 *       {@code encoder.bias}, {@code W_dec}, {@code b_dec}): TopK with {@code b_dec} subtracted from the input; the folder
 *       name ({@code layers.6}) says the hook, as the output of that block;</li>
 *   <li>Gemma Scope: {@code params.npz} (1) or {@code params.safetensors} (2) with {@code W_enc}, {@code W_dec}, {@code b_enc},
 *       {@code b_dec}, {@code threshold}: JumpReLU; the path ({@code gemma-scope-2b-pt-res/layer_20/…}) says the hook.</li>
 * </ul>
 * A file that does not fit is refused naming the file and the tensor or field, as the model loaders refuse theirs.
 */
final class SaeFiles {
    private SaeFiles() {}

    static SAE load(Path path, String hookName) {
        if (!Files.exists(path)) throw new IllegalArgumentException(path + ": no such SAE folder or file; check the path");
        Path dir = Files.isDirectory(path) ? path : path.getParent();
        if (Files.isRegularFile(path) && path.getFileName().toString().startsWith("params.")) return gemmaScope(path, hookName);
        if (Files.isRegularFile(dir.resolve("sae_weights.safetensors"))) return saeLens(dir);
        if (Files.isRegularFile(dir.resolve("sae.safetensors"))) return sparsify(dir, hookName);
        for (String f : new String[] {"params.safetensors", "params.npz"}) {
            if (Files.isRegularFile(dir.resolve(f))) return gemmaScope(dir.resolve(f), hookName);
        }
        throw new IllegalArgumentException(path + ": not an SAE folder jlens knows: expected cfg.json with sae_weights.safetensors"
                + " (SAELens) or sae.safetensors (sparsify), or params.npz/params.safetensors (Gemma Scope)");
    }

    // ------------------------------------------------------------------ SAELens

    private static SAE saeLens(Path dir) {
        Path cfgFile = dir.resolve("cfg.json"), weights = dir.resolve("sae_weights.safetensors");
        ConfigFields c = new ConfigFields(Json.read(cfgFile), cfgFile.toString());
        String arch = c.text("architecture", null);
        String actFn = c.text("activation_fn_str", c.text("activation_fn", "relu"));
        JsonNode kwargs = Json.read(cfgFile).path("activation_fn_kwargs");
        int k = c.has("k") ? c.positiveInt("k") : kwargs.path("k").isInt() ? kwargs.path("k").intValue() : 0;
        try (SafeTensors st = SafeTensors.open(weights)) {
            Map<String, INDArray> w = tensors(st, weights);
            INDArray threshold = w.containsKey("threshold") ? w.get("threshold")
                    : w.containsKey("log_threshold") ? Transforms.exp(w.get("log_threshold"), true) : null;
            String a = arch == null ? ("topk".equals(actFn) ? "topk" : "standard") : arch.toLowerCase(Locale.ROOT);
            boolean transcoder = a.contains("transcoder");
            SaeConfig.Activation act = switch (a.replace("skip_", "").replace("_transcoder", "").replace("transcoder", "standard")) {
                case "standard", "relu" -> SaeConfig.Activation.RELU;
                case "jumprelu" -> SaeConfig.Activation.JUMPRELU;
                case "topk" -> SaeConfig.Activation.TOPK;
                // BatchTopK picks k per batch in training; at inference it is TopK per token, or JumpReLU when a threshold was fitted.
                case "batchtopk" -> threshold != null ? SaeConfig.Activation.JUMPRELU : SaeConfig.Activation.TOPK;
                default -> throw new IllegalArgumentException(cfgFile + ": 'architecture' is \"" + arch + "\"; jlens reads standard, jumprelu,"
                        + " topk, batchtopk and transcoder (incl. skip_transcoder, jumprelu_transcoder) SAEs");
            };
            if (act == SaeConfig.Activation.TOPK && k == 0) throw c.bad("k", "the number of features a TopK SAE keeps (a positive integer)");
            String hook = c.nonEmptyText("hook_name");
            int dIn = c.positiveInt("d_in"), dSae = c.positiveInt("d_sae");
            String out = transcoder ? c.nonEmptyText("hook_name_out") : null;
            int dOut = transcoder ? c.positiveInt("d_out", dIn) : dIn;
            SaeConfig cfg = new SaeConfig(act, act == SaeConfig.Activation.TOPK ? k : 0, dIn, dSae, dOut, hook, out,
                    c.bool("apply_b_dec_to_input", !transcoder), inputNorm(c), dir.toString());
            return new SAE(cfg, need(w, "W_enc", weights), need(w, "b_enc", weights), need(w, "W_dec", weights), need(w, "b_dec", weights),
                    act == SaeConfig.Activation.JUMPRELU ? threshold : null, w.get("W_skip"));
        }
    }

    private static SaeConfig.InputNorm inputNorm(ConfigFields c) {
        String n = c.text("normalize_activations", "none");
        return switch (n) {
            case "none" -> SaeConfig.InputNorm.NONE;
            case "constant_norm_rescale" -> SaeConfig.InputNorm.CONSTANT_NORM_RESCALE;
            case "layer_norm" -> SaeConfig.InputNorm.LAYER_NORM;
            default -> throw c.bad("normalize_activations", "none, constant_norm_rescale or layer_norm (\"" + n + "\" needs a dataset-wide"
                    + " scaling factor the folder does not hold; fold it into the weights with SAELens first)");
        };
    }

    // ------------------------------------------------------------------ sparsify

    private static final Pattern SPARSIFY_LAYER = Pattern.compile("layers\\.(\\d+)(\\.mlp)?");

    private static SAE sparsify(Path dir, String hookName) {
        Path cfgFile = dir.resolve("cfg.json"), weights = dir.resolve("sae.safetensors");
        ConfigFields c = new ConfigFields(Json.read(cfgFile), cfgFile.toString());
        int k = c.positiveInt("k");
        boolean transcode = c.bool("transcode", false);
        try (SafeTensors st = SafeTensors.open(weights)) {
            Map<String, INDArray> w = tensors(st, weights);
            INDArray enc = need(w, "encoder.weight", weights);                               // [d_sae, d_in]
            int dSae = (int) enc.size(0), dIn = (int) enc.size(1);
            INDArray wDec = need(w, "W_dec", weights);
            String hook = hookName, out = null;
            Matcher m = SPARSIFY_LAYER.matcher(dir.getFileName().toString());
            if (hook == null && m.matches()) {
                int layer = Integer.parseInt(m.group(1));
                if (transcode) {
                    hook = "blocks." + layer + ".ln2.hook_normalized";
                    out = "blocks." + layer + ".hook_mlp_out";
                } else {
                    hook = "blocks." + layer + (m.group(2) != null ? ".hook_mlp_out" : ".hook_resid_post");
                }
            }
            if (hook == null) {
                throw new IllegalArgumentException(dir + ": a sparsify SAE's folder name (layers.N) says its hook; this one does not:"
                        + " give the hook, SAE.load(folder, \"blocks.6.hook_resid_post\")");
            }
            SaeConfig cfg = new SaeConfig(SaeConfig.Activation.TOPK, k, dIn, dSae, (int) wDec.size(1), hook, out, !transcode,
                    SaeConfig.InputNorm.NONE, dir.toString());
            return new SAE(cfg, enc.transpose().dup('c'), need(w, "encoder.bias", weights), wDec, need(w, "b_dec", weights), null, w.get("W_skip"));
        }
    }

    // ------------------------------------------------------------------ Gemma Scope

    private static final Pattern GEMMA_SCOPE = Pattern.compile(".*gemma-scope-[^/]*-(res|mlp|att)[^/]*/layer_(\\d+)/.*");

    private static SAE gemmaScope(Path file, String hookName) {
        Map<String, INDArray> w = new LinkedHashMap<>();
        if (file.getFileName().toString().endsWith(".npz")) {
            for (Map.Entry<String, INDArray> e : Npz.read(file).entrySet()) w.put(e.getKey(), checked(e.getValue(), file, e.getKey()));
        } else {
            try (SafeTensors st = SafeTensors.open(file)) {
                w.putAll(tensors(st, file));
            }
        }
        Map<String, INDArray> byName = new LinkedHashMap<>();
        for (Map.Entry<String, INDArray> e : w.entrySet()) byName.put(e.getKey().replace("w_", "W_"), e.getValue());   // GS2 spells w_enc
        String hook = hookName;
        Matcher m = GEMMA_SCOPE.matcher(file.toAbsolutePath().toString().replace('\\', '/'));
        if (hook == null && m.matches()) {
            String layer = m.group(2);
            hook = switch (m.group(1)) {
                case "res" -> "blocks." + layer + ".hook_resid_post";
                case "mlp" -> "blocks." + layer + ".hook_mlp_out";
                default -> "blocks." + layer + ".attn.hook_z";
            };
        }
        if (hook == null) {
            throw new IllegalArgumentException(file + ": Gemma Scope's path (gemma-scope-…-res/layer_N/…) says the hook; this one does not:"
                    + " give it, SAE.load(file, \"blocks.20.hook_resid_post\")");
        }
        INDArray wEnc = need(byName, "W_enc", file);
        SaeConfig cfg = new SaeConfig(SaeConfig.Activation.JUMPRELU, 0, (int) wEnc.size(0), (int) wEnc.size(1), (int) wEnc.size(0), hook, null,
                false, SaeConfig.InputNorm.NONE, file.toString());
        return new SAE(cfg, wEnc, need(byName, "b_enc", file), need(byName, "W_dec", file), need(byName, "b_dec", file),
                need(byName, "threshold", file), null);
    }

    // ------------------------------------------------------------------ shared

    /** Every tensor as float32, refused when it holds NaN or ±∞ (an SAE trained into NaN would silently zero features). */
    private static Map<String, INDArray> tensors(SafeTensors st, Path file) {
        Map<String, INDArray> out = new LinkedHashMap<>();
        for (String name : st.names()) out.put(name, checked(st.copy(name).castTo(DataType.FLOAT), file, name));
        return out;
    }

    private static INDArray checked(INDArray a, Path file, String name) {
        NonFinite bad = NonFinite.count(a);
        if (bad.total() > 0) {
            throw new CorruptModelFileException(file, name, "holds " + bad.describe(), "the SAE's training diverged or the file is damaged;"
                    + " use another checkpoint");
        }
        return a;
    }

    private static INDArray need(Map<String, INDArray> w, String name, Path file) {
        INDArray a = w.get(name);
        if (a == null) {
            throw new CorruptModelFileException(file, name, "is missing (the file holds " + String.join(", ", w.keySet()) + ")",
                    "is this the SAE's weights file?");
        }
        return a;
    }
}
