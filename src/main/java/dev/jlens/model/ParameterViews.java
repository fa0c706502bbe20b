package dev.jlens.model;

import static org.nd4j.linalg.indexing.NDArrayIndex.all;
import static org.nd4j.linalg.indexing.NDArrayIndex.interval;
import static org.nd4j.linalg.indexing.NDArrayIndex.point;

import dev.jlens.cache.HookNames;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A model's parameters as TransformerLens shows them: {@code W_Q[l]} {@code [n_heads, d_model, d_head]}
 * and the rest as views of the weights the forward pass reads (float32 copies of a bfloat16 checkpoint's
 * matrices), and every one under its state-dict name ({@code params()}). {@link HookedTransformer}'s
 * {@code W_Q(l)}, {@code params()} … are these. Reading changes nothing; a matrix handed out is from then
 * on checked against its packed copy before each run ({@link PackedWeights#exposed}).
 */
final class ParameterViews {
    private final ModelConfig cfg;
    private final Weights weights;
    private final PackedWeights packed;   // null when the model does not pack
    private final WeightFiles files;
    private volatile Map<String, INDArray> paramViews;

    ParameterViews(ModelConfig cfg, Weights weights, PackedWeights packed, WeightFiles files) {
        this.cfg = cfg;
        this.weights = weights;
        this.packed = packed;
        this.files = files;
    }

    /** Inside {@link HookedTransformer#editWeights}: the accessors give the stored arrays themselves, to change. */
    private boolean editing;

    void editing(boolean on) {
        editing = on;
    }

    /**
     * What an accessor gives out: the stored array (a view), or, for a bfloat16 checkpoint's matrix outside
     * {@link HookedTransformer#editWeights}, a float32 copy, since every analysis computes in float32 (a change to that copy
     * changes nothing; inside the door the accessors give the bfloat16 arrays themselves).
     */
    private INDArray reading(INDArray stored) {
        return stored == null || editing || stored.dataType() == DataType.FLOAT ? stored : stored.castTo(DataType.FLOAT);
    }


    public INDArray W_E() {
        files.check();
        if (packed != null) packed.unembedExposed();
        return reading(weights.W_E());
    }

    public INDArray W_pos() {
        files.check();
        return weights.W_pos();
    }

    public INDArray W_U() {
        files.check();
        if (packed != null) packed.unembedExposed();
        return reading(weights.W_U());
    }

    /** The unembedding bias; zeros for models without one (GPT-2), as TransformerLens shows it. */
    public INDArray b_U() {
        return weights.b_U() != null ? weights.b_U() : Nd4j.zeros(DataType.FLOAT, cfg.dVocab());
    }

    private LayerWeights layer(int l) {
        files.check();
        return weights.layers().get(HookNames.checkLayer(l, cfg.nLayers()));
    }

    /**
     * Block {@code l}'s matrices are being handed out: from now on the packed copies are checked against them
     * before each run (see {@link PackedWeights#exposed}).
     */
    private int handingOut(int l) {
        if (packed != null) packed.exposed(HookNames.checkLayer(l, cfg.nLayers()));
        return l;
    }


    /**
     * Query ({@code part} 0), key (1) or value (2) weights per head, {@code [heads, d_model, d_head]}: a view of the
     * fused matrix. With grouped-query attention keys and values have {@code n_kv_heads} heads here.
     */
    private INDArray headView(int l, int part) {
        int h = cfg.nHeads(), kv = cfg.nKvHeads(), dh = cfg.dHead();
        if (kv == h) return layer(l).qkvW().reshape(cfg.dModel(), 3, h, dh).get(all(), point(part), all(), all()).permute(1, 0, 2);
        long from = part == 0 ? 0 : (long) h * dh + (part - 1L) * kv * dh;
        int heads = part == 0 ? h : kv;
        return layer(l).qkvW().get(all(), interval(from, from + (long) heads * dh)).reshape(cfg.dModel(), heads, dh).permute(1, 0, 2);
    }

    private INDArray headBias(int l, int part) {
        int h = cfg.nHeads(), kv = cfg.nKvHeads(), dh = cfg.dHead();
        if (kv == h) return layer(l).qkvB().reshape(3, h, dh).get(point(part), all(), all());
        long from = part == 0 ? 0 : (long) h * dh + (part - 1L) * kv * dh;
        int heads = part == 0 ? h : kv;
        return layer(l).qkvB().get(interval(from, from + (long) heads * dh)).reshape(heads, dh);
    }

    /**
     * Key/value heads {@code [n_kv_heads, …]} repeated for the query heads they serve ({@code [n_heads, …]}),
     * as TransformerLens's {@code W_K}/{@code W_V} of a grouped-query model (a copy; the grouped form is
     * {@link #groupedW_K}).
     */
    private INDArray perQueryHead(INDArray grouped) {
        int h = cfg.nHeads(), group = h / cfg.nKvHeads();
        if (group == 1) return grouped;
        long[] shape = grouped.shape().clone();
        shape[0] = h;
        INDArray out = Nd4j.create(grouped.dataType(), shape);
        for (int q = 0; q < h; q++) out.slice(q).assign(grouped.slice(q / group));
        return out;
    }

    /** {@code [n_kv_heads, d_model, d_head]}: the key weights as stored (TransformerLens {@code _W_K}). */
    public INDArray groupedW_K(int layer) {
        return reading(headView(handingOut(layer), 1));
    }

    /** {@code [n_kv_heads, d_model, d_head]}: the value weights as stored (TransformerLens {@code _W_V}). */
    public INDArray groupedW_V(int layer) {
        return reading(headView(handingOut(layer), 2));
    }

    /** {@code [n_heads, d_model, d_head]}. */
    public INDArray W_Q(int layer) {
        return reading(headView(handingOut(layer), 0));
    }

    /** {@code [n_heads, d_model, d_head]}; with grouped-query attention each key head repeated for its query heads. */
    public INDArray W_K(int layer) {
        return reading(perQueryHead(headView(handingOut(layer), 1)));
    }

    public INDArray W_V(int layer) {
        return reading(perQueryHead(headView(handingOut(layer), 2)));
    }

    /** {@code [n_heads, d_head]}. */
    public INDArray b_Q(int layer) {
        return headBias(layer, 0);
    }

    public INDArray b_K(int layer) {
        return perQueryHead(headBias(layer, 1));
    }

    public INDArray b_V(int layer) {
        return perQueryHead(headBias(layer, 2));
    }

    /** {@code [n_heads, d_head, d_model]}. */
    public INDArray W_O(int layer) {
        return reading(outputView(handingOut(layer)));
    }

    private INDArray outputView(int l) {
        return layer(l).oW().reshape(cfg.nHeads(), cfg.dHead(), cfg.dModel());
    }

    public INDArray b_O(int layer) {
        return layer(layer).oB();
    }

    /** {@code [d_model, d_mlp]}. */
    public INDArray W_in(int layer) {
        return reading(mlpPart(layer(handingOut(layer)).inW(), layer));
    }

    public INDArray b_in(int layer) {
        return mlpPart(layer(layer).inB(), layer);
    }

    /** {@code [d_mlp, d_model]}. */
    public INDArray W_out(int layer) {
        return reading(mlpPart(layer(handingOut(layer)).outW(), layer));
    }

    public INDArray b_out(int layer) {
        return mlpPart(layer(layer).outB(), layer);
    }

    /** Every block's {@code W_Q} stacked, {@code [n_layers, n_heads, d_model, d_head]} (TransformerLens's {@code model.W_Q}; a copy). */
    public INDArray W_Q() {
        return stacked(this::W_Q);
    }

    /** {@code [n_layers, n_heads, d_model, d_head]} (grouped key heads repeated per query head; a copy). */
    public INDArray W_K() {
        return stacked(this::W_K);
    }

    /** {@code [n_layers, n_heads, d_model, d_head]} (a copy). */
    public INDArray W_V() {
        return stacked(this::W_V);
    }

    /** {@code [n_layers, n_heads, d_head, d_model]} (a copy). */
    public INDArray W_O() {
        return stacked(this::W_O);
    }

    /** {@code [n_layers, d_model, d_mlp]} (a copy). */
    public INDArray W_in() {
        return stacked(this::W_in);
    }

    /** {@code [n_layers, d_mlp, d_model]} (a copy). */
    public INDArray W_out() {
        return stacked(this::W_out);
    }

    private INDArray stacked(java.util.function.IntFunction<INDArray> perLayer) {
        INDArray[] layers = new INDArray[cfg.nLayers()];
        for (int l = 0; l < layers.length; l++) layers[l] = perLayer.apply(l);
        return Nd4j.stack(0, layers);
    }

    private INDArray mlpPart(INDArray a, int layer) {
        if (cfg.attnOnly()) throw new IllegalStateException("block " + layer + " has no MLP: this is an attention-only model");
        return a;
    }

    /**
     * Every parameter under its TransformerLens state-dict name ({@code blocks.0.attn.W_Q}, …), in
     * the order TransformerLens lists them. Per-head matrices are views of the fused weights, in the dtype
     * they are stored in (a bfloat16 checkpoint's matrices stay bfloat16 here: widening them all would
     * double a large model's memory; the {@code W_Q(l)}-style accessors give float32).
     */
    public Map<String, INDArray> params() {
        files.check();
        if (packed != null) packed.allExposed();
        Map<String, INDArray> m = new LinkedHashMap<>(paramViews());
        m.put("unembed.b_U", b_U());                       // fresh zeros for models without one
        return m;
    }

    /**
     * {@link #params()} without giving the matrices out, made once (the views stay valid: the
     * arrays never change identity): {@link #param} is called per logit-lens call.
     */
    private Map<String, INDArray> paramViews() {
        if (paramViews == null) paramViews = Collections.unmodifiableMap(buildParamViews());
        return paramViews;
    }

    private Map<String, INDArray> buildParamViews() {
        Map<String, INDArray> m = new LinkedHashMap<>();
        m.put("embed.W_E", weights.W_E());
        if (weights.W_pos() != null) m.put("pos_embed.W_pos", W_pos());
        boolean norm = cfg.hasNorm(), bias = cfg.hasLayerNorm(), grouped = cfg.nKvHeads() != cfg.nHeads();
        Architecture arch = cfg.arch();
        for (int l = 0; l < cfg.nLayers(); l++) {
            String p = HookNames.blockPrefix(l);
            LayerWeights lw = weights.layers().get(l);
            if (norm) m.put(p + "ln1.w", lw.ln1W());
            if (bias) m.put(p + "ln1.b", lw.ln1B());
            if (norm && !cfg.attnOnly()) m.put(p + "ln2.w", lw.ln2W());
            if (bias && !cfg.attnOnly()) m.put(p + "ln2.b", lw.ln2B());
            if (arch.postNorms()) {
                m.put(p + "ln1_post.w", lw.ln1PostW());
                m.put(p + "ln2_post.w", lw.ln2PostW());
            }
            // As TransformerLens's state dict: grouped key/value weights under _W_K/_W_V (W_K(l) repeats them per query head).
            m.put(p + "attn.W_Q", headView(l, 0));
            m.put(p + (grouped ? "attn._W_K" : "attn.W_K"), headView(l, 1));
            m.put(p + (grouped ? "attn._W_V" : "attn.W_V"), headView(l, 2));
            m.put(p + "attn.W_O", outputView(l));
            m.put(p + "attn.b_Q", headBias(l, 0));
            m.put(p + (grouped ? "attn._b_K" : "attn.b_K"), headBias(l, 1));
            m.put(p + (grouped ? "attn._b_V" : "attn.b_V"), headBias(l, 2));
            m.put(p + "attn.b_O", b_O(l));
            if (arch.qkNorm()) {
                m.put(p + "attn.q_norm.w", lw.qNormW());
                m.put(p + "attn.k_norm.w", lw.kNormW());
            }
            if (!cfg.attnOnly()) {
                if (arch.gatedMlp()) m.put(p + "mlp.W_gate", lw.gateW());
                m.put(p + "mlp.W_in", lw.inW());
                m.put(p + "mlp.b_in", lw.inB());
                m.put(p + "mlp.W_out", lw.outW());
                m.put(p + "mlp.b_out", lw.outB());
            }
        }
        if (norm) m.put("ln_final.w", weights.lnFinalW());
        if (bias) m.put("ln_final.b", weights.lnFinalB());
        m.put("unembed.W_U", weights.W_U());
        m.put("unembed.b_U", b_U());
        return m;
    }

    /** One parameter by its TransformerLens name; an unknown name fails with the closest ones. */
    public INDArray param(String name) {
        files.check();
        if (packed != null) packed.allExposed();
        Map<String, INDArray> all = paramViews();
        INDArray a = name.equals("unembed.b_U") ? b_U() : all.get(name);
        if (a == null) {
            throw new IllegalArgumentException("no parameter named '" + name + "'; closest: "
                    + String.join(", ", HookNames.closest(name, all.keySet(), 5)));
        }
        return a;
    }

    /** Number of parameters, counting a tied unembedding once. */
    public long parameterCount() {
        long n = 0;
        for (Map.Entry<String, INDArray> e : paramViews().entrySet()) {
            // A tied unembedding is the embedding's memory seen transposed: count it once.
            if (e.getKey().equals("unembed.W_U") && Arena.owner(weights.W_U()) == Arena.owner(weights.W_E())) continue;
            if (e.getKey().equals("unembed.b_U") && weights.b_U() == null) continue;
            n += e.getValue().length();
        }
        return n;
    }
}
