package dev.jlens.analysis;

import dev.jlens.view.TokenText;
import dev.jlens.model.HookedTransformer;
import dev.jlens.model.Run;
import java.util.ArrayList;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A virtual attention head (Elhage et al. 2021; seed 004): an earlier head's output read by a
 * later head through the residual stream behaves like one head with attention pattern
 * {@code A₂·A₁} and OV circuit {@code OV₁·OV₂}. On a prompt, this decodes what that path writes at
 * each position — {@code A₂·A₁·E·OV₁·OV₂·W_U} with {@code E} the token embeddings — to its top
 * tokens. Attention patterns come from the real run; LayerNorm is left out, as in the seed.
 */
public final class VirtualHead {
    private VirtualHead() {}

    /** {@code OV₁·OV₂} as one factored {@code [d_model, d_model]} circuit. */
    public static FactoredMatrix ov(HookedTransformer model, int layer1, int head1, int layer2, int head2) {
        checkOrder(layer1, layer2);
        return Circuits.ov(model, layer1, head1).times(Circuits.ov(model, layer2, head2));
    }

    /** The composed pattern {@code A₂·A₁} {@code [pos, pos]} on a prompt. */
    public static INDArray pattern(HookedTransformer model, INDArray tokens, int layer1, int head1, int layer2, int head2) {
        checkOrder(layer1, layer2);
        Run run = model.runWithCache(Prompts.batchOfOne(tokens), false, "pattern");
        return composed(run, layer1, head1, layer2, head2);
    }

    private static INDArray composed(Run run, int layer1, int head1, int layer2, int head2) {
        INDArray a1 = Prompts.first(run.cache().get("pattern", layer1)).slice(head1).castTo(DataType.FLOAT);
        INDArray a2 = Prompts.first(run.cache().get("pattern", layer2)).slice(head2).castTo(DataType.FLOAT);
        return a2.mmul(a1);
    }

    /** Per position, the {@code k} tokens the virtual head's path raises most. */
    public static Circuits.OvTopTokens topTokens(HookedTransformer model, String prompt, int layer1, int head1, int layer2,
                                                 int head2, int k) {
        return topTokens(model, model.toTokens(prompt), layer1, head1, layer2, head2, k);
    }

    public static Circuits.OvTopTokens topTokens(HookedTransformer model, INDArray tokens, int layer1, int head1, int layer2,
                                                 int head2, int k) {
        checkOrder(layer1, layer2);
        INDArray toks = Prompts.batchOfOne(tokens);
        Run run = model.runWithCache(toks, false, "pattern", "hook_embed");
        INDArray pattern = composed(run, layer1, head1, layer2, head2);                 // [pos, pos]
        INDArray embed = Prompts.first(run.cache().get("hook_embed"));                 // [pos, d_model]
        FactoredMatrix ov = ov(model, layer1, head1, layer2, head2);
        INDArray logits = pattern.mmul(embed).mmul(ov.A()).mmul(ov.B().mmul(model.W_U())); // [pos, d_vocab]
        float[][] m = LinAlg.toFloat2d(logits);
        List<String> strs = Prompts.strs(model, toks);
        List<String> inputs = new ArrayList<>();
        List<List<String>> tops = new ArrayList<>();
        double[][] values = new double[m.length][];
        for (int p = 0; p < m.length; p++) {
            inputs.add(p + ":" + TokenText.visible(strs.get(p)));   // position:token, already shown as a token
            int[] top = Distributions.topK(m[p], k);
            List<String> names = new ArrayList<>();
            values[p] = new double[top.length];
            for (int j = 0; j < top.length; j++) {
                names.add(Prompts.str(model, top[j]));
                values[p][j] = m[p][top[j]];
            }
            tops.add(names);
        }
        return new Circuits.OvTopTokens("L" + layer1 + "H" + head1 + "·L" + layer2 + "H" + head2 + " virtual head", inputs, tops, values);
    }

    private static void checkOrder(int layer1, int layer2) {
        if (layer1 >= layer2) throw new IllegalArgumentException("a virtual head needs the first head in an earlier layer: " + layer1 + " ≥ " + layer2);
    }
}
