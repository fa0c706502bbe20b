package dev.jlens.load;

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
            if (chars.length() != vocab) {
                throw new IllegalArgumentException("the vocabulary has " + chars.length() + " characters but "
                        + weightsFile.getFileName() + "'s token_embedding_table has " + vocab + " rows");
            }
            double attnScale = Math.sqrt(scale == AttentionScale.HEAD_SIZE ? dHead : d);
            ModelConfig cfg = new ModelConfig(modelName(weightsFile), "karpathy-char", layers, d, heads, dHead, dMlp, vocab,
                    nCtx, attnOnly ? null : ActivationFunction.RELU, layerNorm ? Normalization.LN : Normalization.NONE,
                    1e-5, attnScale, attnOnly, false);

            INDArray wte = sd.take("token_embedding_table.weight", vocab, d);
            INDArray wpe = sd.take("position_embedding_table.weight", nCtx, d);
            List<LayerWeights> blocks = new ArrayList<>();
            for (int l = 0; l < layers; l++) {
                String p = "blocks." + l + ".";
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
            return HookedTransformer.owning(cfg, new Weights(wte, wpe, blocks, lnfW, lnfB, unembed, unembedBias), new CharTokenizer(chars));
        }
    }

    private static String modelName(Path weightsFile) {
        Path parent = weightsFile.toAbsolutePath().getParent();
        return parent == null ? weightsFile.getFileName().toString() : parent.getFileName().toString();
    }
}
