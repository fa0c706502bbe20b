package dev.jlens.load;

import dev.jlens.cache.HookNames;
import static org.nd4j.linalg.indexing.NDArrayIndex.all;
import static org.nd4j.linalg.indexing.NDArrayIndex.interval;

import dev.jlens.model.ActivationFunction;
import dev.jlens.model.HookedTransformer;
import dev.jlens.model.LayerWeights;
import dev.jlens.model.ModelConfig;
import dev.jlens.model.Normalization;
import dev.jlens.model.Weights;
import dev.jlens.tokenize.CharTokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Karpathy's lecture model ({@code ng-video-lecture/gpt.py}) under its own PyTorch {@code state_dict}
 * names, so a researcher's checkpoint loads as it is: {@code token_embedding_table},
 * {@code position_embedding_table}, {@code blocks.i.sa.heads.h.{query,key,value}}, {@code sa.proj},
 * {@code ffwd.net.0/2} (ReLU between), {@code ln1}, {@code ln2}, {@code ln_f}, an untied
 * {@code lm_head} with bias. Every size is read off the tensors. Blocks without {@code ffwd} make an
 * attention-only model, blocks without {@code ln1} a model without LayerNorm.
 */
public final class KarpathyCharLoader {
    private KarpathyCharLoader() {}

    /** The lecture's two attention scales: the code changed between the video and today's repository. */
    public enum AttentionScale {
        /** {@code head_size ** -0.5}: today's {@code gpt.py}. */
        HEAD_SIZE,
        /** {@code C ** -0.5} with C = n_embd: the video-era code (commit 381c613), used by seed 000's checkpoint. */
        N_EMBD
    }

    private static final Pattern HEAD_KEY = Pattern.compile("^blocks\\.0\\.sa\\.heads\\.(\\d+)\\.key\\.weight$");
    private static final Pattern BLOCK_KEY = Pattern.compile("^blocks\\.(\\d+)\\.");

    /**
     * @param weightsFile a safetensors or torch.save file ({@code torch.save(model.state_dict(), …)}) with the
     *                    lecture's state_dict names
     * @param chars       the vocabulary as its characters, in id order
     */
    public static HookedTransformer load(Path weightsFile, String chars, AttentionScale scale) {
        return load(weightsFile, chars, scale, 1e-5, null);
    }

    /**
     * A lecture checkpoint described by its {@code config.json}: the vocabulary ({@code chars}), the
     * LayerNorm epsilon ({@code layer_norm_eps}, default 1e-5 as {@code nn.LayerNorm}), the attention
     * scale ({@code attn_scale_value} and/or {@code attn_scale}); every size it declares
     * ({@code n_embd}, {@code n_head}, …) must be the one the tensors have.
     */
    static HookedTransformer load(Path weightsFile, ConfigFields config) {
        return load(weightsFile, config.nonEmptyText("chars"), null, config.positiveFinite("layer_norm_eps", 1e-5), config);
    }

    /** @param scale the attention scale, or null to read it from {@code config} once the sizes are known */
    private static HookedTransformer load(Path weightsFile, String chars, AttentionScale scale, double eps, ConfigFields config) {
        try (TensorSource file = TensorSource.open(weightsFile)) {
            StateDict sd = new StateDict(file, "", "Karpathy's lecture GPT");
            sd.ignore(k -> k.endsWith(".tril"));

            long[] emb = sd.shape("token_embedding_table.weight");
            int vocab = (int) emb[0], d = (int) emb[1];
            int nCtx = (int) sd.shape("position_embedding_table.weight")[0];
            int layers = 0, heads = 0;
            for (String n : sd.names()) {
                Matcher b = BLOCK_KEY.matcher(n);
                if (b.find()) layers = Math.max(layers, Integer.parseInt(b.group(1)) + 1);
                Matcher h = HEAD_KEY.matcher(n);
                if (h.matches()) heads = Math.max(heads, Integer.parseInt(h.group(1)) + 1);
            }
            if (layers == 0 || heads == 0) {
                throw new CorruptModelFileException(weightsFile, "has no blocks.N.sa.heads.H.key.weight tensors",
                        "it is not a checkpoint of Karpathy's lecture GPT; pass a model of that family");
            }
            int dHead = (int) sd.shape("blocks.0.sa.heads.0.key.weight")[0];
            boolean attnOnly = !sd.has("blocks.0.ffwd.net.0.weight");
            boolean layerNorm = sd.has("blocks.0.ln1.weight");
            int dMlp = attnOnly ? 0 : (int) sd.shape("blocks.0.ffwd.net.0.weight")[0];
            if (config != null) {
                config.matches("vocab_size", vocab, "rows in token_embedding_table");
                config.matches("n_embd", d, "columns in token_embedding_table");
                config.matches("n_layer", layers, "blocks");
                config.matches("n_head", heads, "heads per block");
                config.matches("head_size", dHead, "rows in each head's key weight");
                config.matches("block_size", nCtx, "rows in position_embedding_table");
                config.matches("ffwd_hidden", dMlp, "rows in ffwd.net.0.weight" + (attnOnly ? " (no MLP)" : ""));
                scale = attentionScale(config, dHead, d);
            }
            int nChars = chars.codePointCount(0, chars.length());
            if (nChars != vocab) {
                throw new IllegalArgumentException((config != null ? config.where() + ": 'chars' has " : "the vocabulary has ") + nChars
                        + " characters but " + weightsFile.getFileName() + "'s token_embedding_table has " + vocab + " rows");
            }
            double attnScale = Math.sqrt(scale == AttentionScale.HEAD_SIZE ? dHead : d);
            ModelConfig cfg = new ModelConfig(modelName(weightsFile), "karpathy-char", layers, d, heads, dHead, dMlp, vocab,
                    nCtx, attnOnly ? null : ActivationFunction.RELU, layerNorm ? Normalization.LN : Normalization.NONE,
                    eps, attnScale, attnOnly, false);

            INDArray wte = sd.take("token_embedding_table.weight", vocab, d);
            INDArray wpe = sd.take("position_embedding_table.weight", nCtx, d);
            List<LayerWeights> blocks = new ArrayList<>();
            for (int l = 0; l < layers; l++) {
                String p = HookNames.blockPrefix(l);
                INDArray qkvW = Nd4j.create(DataType.FLOAT, d, 3L * heads * dHead); // [d_model, 3·heads·d_head]
                INDArray qkvB = Nd4j.zeros(DataType.FLOAT, 3L * heads * dHead);
                String[] parts = {"query", "key", "value"};
                for (int part = 0; part < 3; part++) {
                    for (int h = 0; h < heads; h++) {
                        String name = p + "sa.heads." + h + "." + parts[part];
                        long col = (long) (part * heads + h) * dHead;
                        // nn.Linear stores [out, in]; the forward pass multiplies x [.., in] by [in, out].
                        qkvW.get(all(), interval(col, col + dHead)).assign(sd.take(name + ".weight", dHead, d).transpose());
                        if (sd.has(name + ".bias")) qkvB.get(interval(col, col + dHead)).assign(sd.take(name + ".bias", dHead));
                    }
                }
                INDArray oW = sd.take(p + "sa.proj.weight", d, (long) heads * dHead).transpose().dup('c');
                INDArray oB = sd.take(p + "sa.proj.bias", d);
                INDArray ln1W = layerNorm ? sd.take(p + "ln1.weight", d) : null, ln1B = layerNorm ? sd.take(p + "ln1.bias", d) : null;
                INDArray ln2W = null, ln2B = null, inW = null, inB = null, outW = null, outB = null;
                if (!attnOnly) {
                    if (layerNorm) {
                        ln2W = sd.take(p + "ln2.weight", d);
                        ln2B = sd.take(p + "ln2.bias", d);
                    }
                    inW = sd.take(p + "ffwd.net.0.weight", dMlp, d).transpose().dup('c');
                    inB = sd.take(p + "ffwd.net.0.bias", dMlp);
                    outW = sd.take(p + "ffwd.net.2.weight", d, dMlp).transpose().dup('c');
                    outB = sd.take(p + "ffwd.net.2.bias", d);
                }
                blocks.add(new LayerWeights(ln1W, ln1B, qkvW, qkvB, oW, oB, ln2W, ln2B, inW, inB, outW, outB));
            }
            INDArray lnfW = layerNorm ? sd.take("ln_f.weight", d) : null, lnfB = layerNorm ? sd.take("ln_f.bias", d) : null;
            INDArray unembed = sd.take("lm_head.weight", vocab, d).transpose().dup('c');  // [d_model, d_vocab]
            INDArray unembedBias = sd.has("lm_head.bias") ? sd.take("lm_head.bias", vocab) : null;
            sd.requireAllUsed();
            return HookedTransformer.owning(cfg, new Weights(wte, wpe, blocks, lnfW, lnfB, unembed, unembedBias), new CharTokenizer(chars), sd.weightFiles());
        }
    }

    /**
     * The scale a config gives: {@code attn_scale_value} (the multiplier, which must be head_size^-0.5 or
     * n_embd^-0.5 of these weights) and/or {@code attn_scale}, a text starting with {@code head_size} or
     * {@code n_embd} (or {@code C}, the lecture's name for it); both must agree, and with neither it is
     * today's head_size^-0.5. Any other text is refused rather than read as head_size.
     */
    static AttentionScale attentionScale(ConfigFields c, int headSize, int nEmbd) {
        AttentionScale fromText = null;
        if (c.has("attn_scale")) {
            String t = c.text("attn_scale", null);
            if (t.startsWith("head_size")) fromText = AttentionScale.HEAD_SIZE;
            else if (t.startsWith("n_embd") || t.equals("C") || t.startsWith("C ") || t.startsWith("C*")) fromText = AttentionScale.N_EMBD;
            else throw c.bad("attn_scale", "a text starting with head_size (head_size ** -0.5, today's gpt.py) or n_embd"
                    + " (n_embd ** -0.5, the video-era code), or be left out in favour of attn_scale_value");
        }
        if (!c.has("attn_scale_value")) return fromText != null ? fromText : AttentionScale.HEAD_SIZE;
        double v = c.positiveFinite("attn_scale_value", 1);
        AttentionScale fromValue;
        if (Math.abs(v - 1 / Math.sqrt(headSize)) < 1e-6) fromValue = AttentionScale.HEAD_SIZE;
        else if (Math.abs(v - 1 / Math.sqrt(nEmbd)) < 1e-6) fromValue = AttentionScale.N_EMBD;
        else throw c.bad("attn_scale_value", "head_size^-0.5 (" + 1 / Math.sqrt(headSize) + ") or n_embd^-0.5 ("
                + 1 / Math.sqrt(nEmbd) + ") for these weights (head_size " + headSize + ", n_embd " + nEmbd + ")");
        if (fromText != null && fromText != fromValue && headSize != nEmbd) {
            throw c.bad("attn_scale", "the scale attn_scale_value " + v + " gives (" + fromValue.name().toLowerCase(java.util.Locale.ROOT)
                    + "); the two fields disagree");
        }
        return fromValue;
    }

    private static String modelName(Path weightsFile) {
        Path parent = weightsFile.toAbsolutePath().getParent();
        return parent == null ? weightsFile.getFileName().toString() : parent.getFileName().toString();
    }
}
