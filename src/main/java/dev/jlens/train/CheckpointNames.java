package dev.jlens.train;

import static org.nd4j.linalg.indexing.NDArrayIndex.all;
import static org.nd4j.linalg.indexing.NDArrayIndex.interval;

import dev.jlens.cache.HookNames;
import dev.jlens.model.HookedTransformer;
import dev.jlens.model.LayerWeights;
import dev.jlens.model.ModelConfig;
import dev.jlens.model.Weights;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The file boundary of a training run: the one place where the names the trainer uses meet the names
 * in its files. Inside jlens every parameter, gradient and optimizer moment has its TransformerLens name
 * ({@code embed.W_E}, {@code blocks.0.attn.W_QKV}, {@code ln_final.w} …; see {@link LectureModel#params}).
 * On disk:
 * <ul>
 *   <li>{@code model.safetensors} is the lecture's PyTorch {@code state_dict} ({@link #modelStateDict}):
 *       its names and {@code nn.Linear}'s {@code [out, in]} layout, so the lecture's {@code gpt.py} and
 *       jlens's {@code KarpathyCharLoader} both load it;</li>
 *   <li>{@code optimizer.safetensors} holds AdamW's moments under the TransformerLens names with PyTorch's
 *       words ({@code NAME.exp_avg}, {@code NAME.exp_avg_sq}); one saved before those names
 *       ({@code W_E}, {@code blocks.0.W_QKV}, {@code ln_f.w} …) is read under today's ({@link #optimizerState}).</li>
 * </ul>
 */
final class CheckpointNames {
    private CheckpointNames() {}

    /**
     * The model under the lecture's {@code state_dict} names with PyTorch's {@code nn.Linear} layout
     * ({@code [out, in]}), including the causal-mask buffers {@code tril} so that the lecture code's
     * strict {@code load_state_dict} accepts it.
     */
    static Map<String, INDArray> modelStateDict(HookedTransformer model) {
        ModelConfig cfg = model.cfg();
        Weights w = model.weights();
        int heads = cfg.nHeads(), dh = cfg.dHead();
        Map<String, INDArray> sd = new LinkedHashMap<>();
        sd.put("token_embedding_table.weight", w.W_E());
        sd.put("position_embedding_table.weight", w.W_pos());
        INDArray tril = Nd4j.ones(DataType.FLOAT, cfg.nCtx(), cfg.nCtx());
        for (int i = 0; i < cfg.nCtx(); i++) tril.get(interval(i, i + 1), interval(i + 1, cfg.nCtx())).assign(0);
        String[] parts = {"query", "key", "value"};
        for (int l = 0; l < cfg.nLayers(); l++) {
            LayerWeights lw = w.layers().get(l);
            String p = HookNames.blockPrefix(l);
            for (int h = 0; h < heads; h++) {
                String head = p + "sa.heads." + h + ".";
                for (int part = 0; part < 3; part++) {
                    long col = (long) (part * heads + h) * dh;
                    sd.put(head + parts[part] + ".weight", lw.qkvW().get(all(), interval(col, col + dh)).transpose());
                }
                sd.put(head + TRIL, tril);
            }
            sd.put(p + "sa.proj.weight", lw.oW().transpose());
            sd.put(p + "sa.proj.bias", lw.oB());
            if (!cfg.attnOnly()) {
                sd.put(p + "ffwd.net.0.weight", lw.inW().transpose());
                sd.put(p + "ffwd.net.0.bias", lw.inB());
                sd.put(p + "ffwd.net.2.weight", lw.outW().transpose());
                sd.put(p + "ffwd.net.2.bias", lw.outB());
            }
            if (cfg.hasLayerNorm()) {
                sd.put(p + "ln1.weight", lw.ln1W());
                sd.put(p + "ln1.bias", lw.ln1B());
                if (!cfg.attnOnly()) {
                    sd.put(p + "ln2.weight", lw.ln2W());
                    sd.put(p + "ln2.bias", lw.ln2B());
                }
            }
        }
        if (cfg.hasLayerNorm()) {
            sd.put("ln_f.weight", w.lnFinalW());
            sd.put("ln_f.bias", w.lnFinalB());
        }
        sd.put("lm_head.weight", w.W_U().transpose());
        sd.put("lm_head.bias", w.b_U());
        return sd;
    }

    private static final String TRIL = "tril";

    /** Whether a {@link #modelStateDict} entry is a buffer (a head's causal mask), not a trained parameter. */
    static boolean isBuffer(String stateDictName) {
        return stateDictName.endsWith("." + TRIL);
    }

    private static final String[] MOMENTS = {".exp_avg_sq", ".exp_avg"};   // the longer first: it ends with the other
    private static final Pattern OLD_BLOCK_PARAM = Pattern.compile("^blocks\\.(\\d+)\\.((W|b)_(QKV|O|in|out))$");

    /**
     * An {@code optimizer.safetensors} as read, under the names the trainer uses: a state saved before the
     * TransformerLens names has each moment renamed ({@code W_E.exp_avg} → {@code embed.W_E.exp_avg},
     * {@code blocks.0.W_QKV.exp_avg_sq} → {@code blocks.0.attn.W_QKV.exp_avg_sq} …), so that such a run still
     * resumes; today's states pass through unchanged.
     */
    static Map<String, INDArray> optimizerState(Map<String, INDArray> saved) {
        Map<String, INDArray> out = new LinkedHashMap<>();
        for (Map.Entry<String, INDArray> e : saved.entrySet()) out.put(savedMomentName(e.getKey()), e.getValue());
        return out;
    }

    /** One saved moment's name as the trainer names it ({@code NAME.exp_avg} with NAME a TransformerLens name). */
    static String savedMomentName(String saved) {
        for (String moment : MOMENTS) {
            if (saved.endsWith(moment)) return parameterName(saved.substring(0, saved.length() - moment.length())) + moment;
        }
        return saved;
    }

    /**
     * A parameter's TransformerLens name for the name an optimizer state saved before them gave it (the old
     * names dropped the {@code embed.}/{@code attn.}/{@code mlp.}/{@code unembed.} parts and called the final
     * LayerNorm {@code ln_f}); a TransformerLens name is its own. The block LayerNorms' names never changed.
     */
    static String parameterName(String saved) {
        switch (saved) {
            case "W_E": return "embed.W_E";
            case "W_pos": return "pos_embed.W_pos";
            case "ln_f.w": return "ln_final.w";
            case "ln_f.b": return "ln_final.b";
            case "W_U": return "unembed.W_U";
            case "b_U": return "unembed.b_U";
            default: break;
        }
        Matcher m = OLD_BLOCK_PARAM.matcher(saved);
        if (!m.matches()) return saved;
        String which = m.group(4);
        String sublayer = which.equals("QKV") || which.equals("O") ? "attn." : "mlp.";
        return HookNames.block(Integer.parseInt(m.group(1)), sublayer + m.group(2));
    }
}
