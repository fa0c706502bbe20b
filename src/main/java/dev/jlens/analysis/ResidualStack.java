package dev.jlens.analysis;

import static org.nd4j.linalg.indexing.NDArrayIndex.all;
import static org.nd4j.linalg.indexing.NDArrayIndex.point;

import dev.jlens.cache.ActivationCache;
import dev.jlens.cache.HookNames;
import dev.jlens.model.HookedTransformer;
import dev.jlens.view.Table;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * TransformerLens's residual-stream vocabulary on a cached run: the stream as it accumulates layer by layer
 * ({@code accumulated_resid}), split into what each component wrote ({@code decompose_resid}), into each head
 * ({@code stack_head_results}) or each neuron ({@code stack_neuron_results}); the final norm applied to such a
 * stack ({@code apply_ln_to_stack}) and each component's share of a token's logit ({@code logit_attrs}).
 *
 * @param labels    one per component, TransformerLens's ({@code 0_pre}, {@code 1_attn_out}, {@code L0H3}, {@code L1N17} …)
 * @param stack     {@code [components, batch, pos, d_model]}
 * @param layer     the stream these components add up to: {@code resid_pre} of this block, or the final
 *                  {@code resid_post} when it is {@code n_layers}
 */
public record ResidualStack(List<String> labels, INDArray stack, int layer) {
    public ResidualStack {
        labels = List.copyOf(labels);
        if (stack.size(0) != labels.size()) throw new IllegalArgumentException(labels.size() + " labels for " + stack.size(0) + " components");
    }

    /**
     * The stream at the input of each block up to {@code layer} ({@code 0_pre}, {@code 1_pre}, …; with
     * {@code inclMid} also {@code 0_mid} …), and, when {@code layer} is {@code n_layers}, the final output
     * ({@code final_post}): TransformerLens's {@code accumulated_resid}.
     */
    public static ResidualStack accumulated(HookedTransformer model, ActivationCache cache, int layer, boolean inclMid) {
        int n = checkLayer(model, layer);
        List<String> labels = new ArrayList<>();
        List<INDArray> parts = new ArrayList<>();
        for (int l = 0; l < Math.min(layer, n); l++) {
            labels.add(l + "_pre");
            parts.add(get(cache, HookNames.block(l, "hook_resid_pre")));
            if (inclMid && !model.cfg().attnOnly() && !model.cfg().arch().parallel()) {
                labels.add(l + "_mid");
                parts.add(get(cache, HookNames.block(l, "hook_resid_mid")));
            }
        }
        if (layer == n) {
            labels.add("final_post");
            parts.add(get(cache, HookNames.block(n - 1, "hook_resid_post")));
        } else {
            labels.add(layer + "_pre");
            parts.add(get(cache, HookNames.block(layer, "hook_resid_pre")));
        }
        return new ResidualStack(labels, Nd4j.stack(0, parts.toArray(INDArray[]::new)), layer);
    }

    /**
     * What each component wrote into the stream before block {@code layer} (the embeddings, then each block's
     * {@code attn_out} and {@code mlp_out}): they add up to that block's {@code resid_pre}, or to the final
     * {@code resid_post} when {@code layer} is {@code n_layers}. TransformerLens's {@code decompose_resid}.
     */
    public static ResidualStack decomposed(HookedTransformer model, ActivationCache cache, int layer) {
        checkLayer(model, layer);
        List<String> labels = new ArrayList<>(List.of("embed"));
        List<INDArray> parts = new ArrayList<>(List.of(get(cache, "hook_embed")));
        if (cache.contains("hook_pos_embed")) {
            labels.add("pos_embed");
            parts.add(get(cache, "hook_pos_embed"));
        }
        for (int l = 0; l < layer; l++) {
            labels.add(l + "_attn_out");
            parts.add(get(cache, HookNames.block(l, "hook_attn_out")));
            if (!model.cfg().attnOnly()) {
                labels.add(l + "_mlp_out");
                parts.add(get(cache, HookNames.block(l, "hook_mlp_out")));
            }
        }
        return new ResidualStack(labels, Nd4j.stack(0, parts.toArray(INDArray[]::new)), layer);
    }

    /**
     * Each head's output {@code z[…, h, :] · W_O[h]} in the blocks before {@code layer} ({@code L0H0}, …): with
     * the blocks' {@code b_O} they add up to each block's {@code attn_out} (before Gemma 2's post-norm, which
     * is not a sum). TransformerLens's {@code stack_head_results}.
     */
    public static ResidualStack heads(HookedTransformer model, ActivationCache cache, int layer) {
        checkLayer(model, layer);
        List<String> labels = new ArrayList<>();
        List<INDArray> parts = new ArrayList<>();
        int heads = model.cfg().nHeads();
        long d = model.cfg().dModel();
        for (int l = 0; l < layer; l++) {
            INDArray z = get(cache, HookNames.block(l, "attn.hook_z"));     // [batch, pos, head, d_head]
            long b = z.size(0), p = z.size(1);
            INDArray byHead = z.permute(2, 0, 1, 3).dup('c').reshape(heads, b * p, z.size(3));   // [head, batch·pos, d_head]
            INDArray out = Nd4j.matmul(byHead, model.W_O(l));                   // [head, batch·pos, d_model]: all heads in one product
            for (int h = 0; h < heads; h++) {
                labels.add("L" + l + "H" + h);
                parts.add(out.get(point(h), all(), all()).reshape(b, p, d));
            }
        }
        return new ResidualStack(labels, Nd4j.stack(0, parts.toArray(INDArray[]::new)), layer);
    }

    /**
     * Each neuron's output {@code post[…, n] · W_out[n]} in block {@code block} ({@code L1N17}, …): with
     * {@code b_out} they add up to that block's {@code mlp_out} (before Gemma 2's post-norm). One block at a
     * time: a whole model's neurons are {@code n_layers · d_mlp} copies of the stream. TransformerLens's
     * {@code stack_neuron_results} for one layer.
     */
    public static ResidualStack neurons(HookedTransformer model, ActivationCache cache, int block) {
        if (model.cfg().attnOnly()) throw new IllegalArgumentException("an attention-only model has no neurons");
        HookNames.checkLayer(block, model.cfg().nLayers());
        INDArray post = get(cache, HookNames.block(block, "mlp.hook_post"));   // [batch, pos, d_mlp]
        INDArray wOut = model.W_out(block);                                  // [d_mlp, d_model]
        long b = post.size(0), p = post.size(1), m = post.size(2), d = model.cfg().dModel();
        // stack[n, i, :] = post[i, n] · W_out[n, :] for every neuron at once: two broadcasts, one product.
        INDArray acts = post.reshape('c', b * p, m).transpose().dup('c').reshape(m, b * p, 1);   // [d_mlp, batch·pos, 1]
        INDArray stack = wOut.reshape(m, 1, d).broadcast(m, b * p, d).dup('c').muli(acts.broadcast(m, b * p, d))
                .reshape(m, b, p, d);
        List<String> labels = new ArrayList<>();
        for (int n = 0; n < m; n++) labels.add("L" + block + "N" + n);
        return new ResidualStack(labels, stack, block + 1);
    }

    /**
     * The final norm as it acts on each component of the final stream: centred (LayerNorm only) and divided by
     * the {@code ln_final.hook_scale} the run cached, so the components still add up to the normalised stream
     * (before the norm's weight and bias, which {@link #logitAttrs} applies). TransformerLens's
     * {@code apply_ln_to_stack} for the final layer.
     */
    public ResidualStack finalNormApplied(HookedTransformer model, ActivationCache cache) {
        if (!model.cfg().hasNorm()) return this;
        INDArray scale = get(cache, "ln_final.hook_scale");                   // [batch, pos, 1]
        INDArray s = stack.dup('c');
        long c = s.size(0), b = s.size(1), p = s.size(2), d = s.size(3);
        if (model.cfg().hasLayerNorm()) {
            INDArray rows = s.reshape(c * b * p, d);
            rows.subiColumnVector(rows.mean(1).reshape(c * b * p, 1));
        }
        INDArray perComponent = s.reshape(c, b * p, d);
        INDArray sc = scale.reshape(b * p, 1);
        for (int i = 0; i < c; i++) perComponent.get(point(i), all(), all()).diviColumnVector(sc);
        return new ResidualStack(labels, s, layer);
    }

    /**
     * Each component's share of the logit of {@code token} (minus that of {@code wrong}, when not negative) at
     * every position: {@code finalNormApplied} · (norm weight ⊙ {@code W_U[:, token]}), {@code [components, batch, pos]}.
     * With the final norm's bias and {@code b_U} (shared by no component) they add up to the logit (difference).
     * TransformerLens's {@code logit_attrs}.
     */
    public INDArray logitAttrs(HookedTransformer model, ActivationCache cache, int token, int wrong) {
        if (layer != model.cfg().nLayers()) {
            throw new IllegalArgumentException("logit attributions need the final stream: build the stack with layer "
                    + model.cfg().nLayers() + ", not " + layer);
        }
        INDArray normed = finalNormApplied(model, cache).stack();           // [c, batch, pos, d]
        INDArray dir = model.W_U().getColumn(token).dup();
        if (wrong >= 0) dir.subi(model.W_U().getColumn(wrong));
        if (model.cfg().hasNorm()) dir.muli(Unembed.finalNormWeight(model));
        long c = normed.size(0), b = normed.size(1), p = normed.size(2), d = normed.size(3);
        return normed.reshape(c * b * p, d).mmul(dir.reshape(d, 1)).reshape(c, b, p);
    }

    /** The components added up: {@code [batch, pos, d_model]}. */
    public INDArray sum() {
        return stack.sum(0);
    }

    private static int checkLayer(HookedTransformer model, int layer) {
        int n = model.cfg().nLayers();
        if (layer < 0 || layer > n) throw new IllegalArgumentException("layer " + layer + " is not between 0 and n_layers = " + n);
        return n;
    }

    private static INDArray get(ActivationCache cache, String name) {
        return cache.get(name).castTo(DataType.FLOAT);
    }

    @Override
    public String toString() {
        // Each component's norm at the last position of row 0: which parts of the stream are large.
        Table t = new Table("component", "|x| at the last position");
        long pos = stack.size(2);
        for (int i = 0; i < labels.size(); i++) {
            double norm = stack.get(point(i), point(0), point(pos - 1), all()).norm2Number().doubleValue();
            t.row(labels.get(i), String.format(Locale.ROOT, "%.3f", norm));
        }
        return "ResidualStack of " + labels.size() + " components " + Arrays.toString(stack.shape()) + ", layer " + layer + "\n" + t;
    }
}
