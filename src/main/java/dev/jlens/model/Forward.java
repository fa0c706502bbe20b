package dev.jlens.model;

import dev.jlens.cache.HookNames;
import static org.nd4j.linalg.indexing.NDArrayIndex.all;
import static org.nd4j.linalg.indexing.NDArrayIndex.interval;
import static org.nd4j.linalg.indexing.NDArrayIndex.point;

import dev.jlens.compute.Attention;
import dev.jlens.compute.Gemm;
import dev.jlens.compute.Kernels;
import dev.jlens.compute.Layouts;
import dev.jlens.compute.Rotary;
import dev.jlens.compute.Rows;
import java.util.ArrayList;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.custom.SoftMax;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * The forward pass, in the order the model computes it: embed → blocks (LayerNorm → attention →
 * residual → LayerNorm → MLP → residual) → final LayerNorm → unembed.
 *
 * <p>Every activation a researcher can see passes through {@link HookContext#at} under its
 * TransformerLens name, with TransformerLens's shape; caching, patching and the console's
 * completion all come from that one mechanism. Activations are {@code [batch, pos, …]} arrays;
 * matrix products run on {@code [batch·pos, …]} views of them.
 */
final class Forward {
    /** Which logits the caller needs: all positions, only the last (generation), or none (stop early). */
    enum Logits { ALL, LAST, NONE }

    static final String HOOK_EMBED = "hook_embed";
    static final String HOOK_POS_EMBED = "hook_pos_embed";
    static final String LN_FINAL_SCALE = "ln_final.hook_scale";
    static final String LN_FINAL_NORMALIZED = "ln_final.hook_normalized";

    /** One block's hook names, built once so the forward pass does not concatenate strings. */
    record BlockHooks(String residPre, String ln1Scale, String ln1Normalized,
                      String q, String k, String v, String qNormScale, String qNormNormalized, String kNormScale,
                      String kNormNormalized, String rotQ, String rotK, String attnScores, String pattern, String z,
                      String result, String ln1PostScale, String ln1PostNormalized,
                      String attnOut, String residMid, String ln2Scale, String ln2Normalized,
                      String mlpPre, String mlpPreLinear, String mlpPost, String ln2PostScale, String ln2PostNormalized,
                      String mlpOut, String residPost) {
        static BlockHooks of(int l) {
            String p = HookNames.blockPrefix(l);
            return new BlockHooks(p + "hook_resid_pre", p + "ln1.hook_scale", p + "ln1.hook_normalized",
                    p + "attn.hook_q", p + "attn.hook_k", p + "attn.hook_v",
                    p + "attn.q_norm.hook_scale", p + "attn.q_norm.hook_normalized",
                    p + "attn.k_norm.hook_scale", p + "attn.k_norm.hook_normalized",
                    p + "attn.hook_rot_q", p + "attn.hook_rot_k", p + "attn.hook_attn_scores",
                    p + "attn.hook_pattern", p + "attn.hook_z", p + "attn.hook_result",
                    p + "ln1_post.hook_scale", p + "ln1_post.hook_normalized",
                    p + "hook_attn_out", p + "hook_resid_mid", p + "ln2.hook_scale", p + "ln2.hook_normalized",
                    p + "mlp.hook_pre", p + "mlp.hook_pre_linear", p + "mlp.hook_post",
                    p + "ln2_post.hook_scale", p + "ln2_post.hook_normalized",
                    p + "hook_mlp_out", p + "hook_resid_post");
        }
    }

    private final ModelConfig cfg;
    private final Weights w;
    private final PackedWeights packed;
    private final List<BlockHooks> names = new ArrayList<>();
    private final Architecture arch;
    private final Rotary rotary;     // null without rotary positions
    private final Kernels kernels = Kernels.chosen();

    /** @param packed heap copies of the block matrices, or null to read every matrix from its array */
    Forward(ModelConfig cfg, Weights weights, PackedWeights packed) {
        this.cfg = cfg;
        this.w = weights;
        this.packed = packed;
        this.arch = cfg.arch();
        for (int l = 0; l < cfg.nLayers(); l++) names.add(BlockHooks.of(l));
        if (arch.positions() instanceof Architecture.Rotary r) {
            Rotary plain = Rotary.of(cfg.dHead(), r.fraction(), r.base());
            Architecture.Llama3Scaling s = r.llama3();
            this.rotary = s == null ? plain : plain.llama3Scaled(s.factor(), s.lowFreqFactor(), s.highFreqFactor(), s.originalContext());
        } else {
            this.rotary = null;
        }
    }

    /** Every hook point of this architecture, in the order a forward pass reaches them. */
    static List<String> hookNames(ModelConfig cfg) {
        Architecture arch = cfg.arch();
        List<String> out = new ArrayList<>(List.of(HOOK_EMBED));
        if (arch.positions() instanceof Architecture.Learned) out.add(HOOK_POS_EMBED);
        boolean norm = cfg.hasNorm();
        for (int l = 0; l < cfg.nLayers(); l++) {
            BlockHooks h = BlockHooks.of(l);
            out.add(h.residPre());
            if (norm) out.addAll(List.of(h.ln1Scale(), h.ln1Normalized()));
            out.addAll(List.of(h.q(), h.k(), h.v()));
            if (arch.qkNorm()) out.addAll(List.of(h.qNormScale(), h.qNormNormalized(), h.kNormScale(), h.kNormNormalized()));
            if (arch.rotary()) out.addAll(List.of(h.rotQ(), h.rotK()));
            out.addAll(List.of(h.attnScores(), h.pattern(), h.z(), h.result()));
            if (arch.postNorms()) out.addAll(List.of(h.ln1PostScale(), h.ln1PostNormalized()));
            out.add(h.attnOut());
            if (!cfg.attnOnly()) {
                if (!arch.parallel()) out.add(h.residMid());
                if (norm) out.addAll(List.of(h.ln2Scale(), h.ln2Normalized()));
                out.add(h.mlpPre());
                if (arch.gatedMlp()) out.add(h.mlpPreLinear());
                out.add(h.mlpPost());
                if (arch.postNorms()) out.addAll(List.of(h.ln2PostScale(), h.ln2PostNormalized()));
                out.add(h.mlpOut());
            }
            out.add(h.residPost());
        }
        if (norm) out.addAll(List.of(LN_FINAL_SCALE, LN_FINAL_NORMALIZED));
        return out;
    }

    /**
     * Runs the model on token ids. Every array a step makes belongs to the {@link Arena.Scope} of its
     * block (or of the embedding, or of the unembedding): the scope frees what nobody outside the pass
     * has seen when the block ends, so the steps below say what they compute, not when to free it.
     *
     * @param tokens        {@code [batch, pos]} ids, already checked against the vocabulary and n_ctx
     * @param stopAfter     last block to run when {@code logits} is NONE
     * @return logits {@code [batch, pos, d_vocab]} ({@code [batch, 1, d_vocab]} for LAST), or null for NONE
     */
    INDArray run(long[][] tokens, HookContext ctx, Logits logits, int stopAfter) {
        int lastBlock = logits == Logits.NONE ? stopAfter : cfg.nLayers() - 1;
        try (Arena arena = new Arena(ctx)) {
            INDArray resid;
            try (Arena.Scope s = arena.scope()) {
                resid = s.keep(embed(tokens, ctx, s));                             // [batch, pos, d_model]
            }
            for (int l = 0; l <= lastBlock; l++) {
                try (Arena.Scope s = arena.scope()) {
                    s.track(resid);                                                // the stream entering the block is the block's
                    resid = s.keep(block(l, resid, ctx, s));                       // [batch, pos, d_model]
                }
            }
            if (ctx.kv() != null) ctx.kv().advance(tokens[0].length);
            try (Arena.Scope s = arena.scope()) {
                s.track(resid);
                return logits == Logits.NONE ? null : unembed(resid, logits == Logits.LAST, ctx, s);
            }
        }
    }

    /** {@code hook_embed} (and {@code hook_pos_embed}): the residual stream before the first block. */
    private INDArray embed(long[][] tokens, HookContext ctx, Arena.Scope s) {
        int batch = tokens.length, pos = tokens[0].length;
        int[] flat = new int[batch * pos];
        for (int b = 0; b < batch; b++) for (int t = 0; t < pos; t++) flat[b * pos + t] = (int) tokens[b][t];
        // One native gather: getRows makes a view per row, which at batch·pos = 32K rows took longer than the blocks.
        INDArray rows = s.track(Nd4j.pullRows(w.W_E(), 1, flat));                 // [batch·pos, d_model]
        if (rows.dataType() != DataType.FLOAT) rows = s.track(rows.castTo(DataType.FLOAT)); // a bfloat16 checkpoint's rows, widened
        if (arch.embeddingScale() != 1) rows.muli((float) arch.embeddingScale());   // Gemma: × √d_model, in float32
        INDArray embed = ctx.at(HOOK_EMBED, -1, shaped(rows, batch, pos, cfg.dModel()));
        if (!(arch.positions() instanceof Architecture.Learned)) return embed;     // rotary positions act inside attention
        INDArray posEmbed = ctx.at(HOOK_POS_EMBED, -1, positions(batch, ctx.start(), pos, s));
        return add(embed, posEmbed, s);                                            // [batch, pos, d_model]
    }

    private INDArray positions(int batch, int start, int pos, Arena.Scope s) {
        INDArray rows = w.W_pos().get(interval(start, start + pos), all());   // [pos, d_model]
        long n = (long) pos * cfg.dModel();
        INDArray flat = rows.reshape('c', 1, n);                       // [1, pos·d_model], a view of W_pos
        // A copy even for one row: hook_pos_embed as a view of W_pos would let an in-place hook
        // (act.muli(0)) change the model for good. One native broadcast for a batch: a view and an
        // assign per batch row cost ~1 ms each at a batch of 1,024.
        INDArray fresh = s.track(batch == 1 ? flat.dup('c') : flat.broadcast(batch, n));   // [batch, pos·d_model]
        return shaped(fresh, batch, pos, cfg.dModel());                // [batch, pos, d_model]
    }

    /**
     * One block, nanoGPT's two residual lines: {@code x = x + attn(ln1(x))}, {@code x = x + mlp(ln2(x))}
     * (GPT-NeoX: {@code x = x + attn(ln1(x)) + mlp(ln2(x))}), each value through its hook point.
     */
    private INDArray block(int l, INDArray residIn, HookContext ctx, Arena.Scope s) {
        BlockHooks h = names.get(l);
        LayerWeights lw = w.layers().get(l);
        INDArray residPre = ctx.at(h.residPre(), l, residIn);
        INDArray attnOut = attention(l, norm(residPre, lw.ln1W(), lw.ln1B(), h.ln1Scale(), h.ln1Normalized(), l, ctx, s), ctx, s);
        if (cfg.attnOnly()) return ctx.at(h.residPost(), l, add(residPre, attnOut, s));
        if (arch.parallel()) {
            INDArray mlpOut = mlp(l, norm(residPre, lw.ln2W(), lw.ln2B(), h.ln2Scale(), h.ln2Normalized(), l, ctx, s), ctx, s);
            return ctx.at(h.residPost(), l, add(add(residPre, attnOut, s), mlpOut, s));
        }
        INDArray residMid = ctx.at(h.residMid(), l, add(residPre, attnOut, s));
        INDArray mlpOut = mlp(l, norm(residMid, lw.ln2W(), lw.ln2B(), h.ln2Scale(), h.ln2Normalized(), l, ctx, s), ctx, s);
        return ctx.at(h.residPost(), l, add(residMid, mlpOut, s));
    }

    /** The final norm (if any) and the unembedding; the logits are the caller's, not the arena's. */
    private INDArray unembed(INDArray resid, boolean lastOnly, HookContext ctx, Arena.Scope s) {
        long batch = resid.size(0), pos = resid.size(1);
        INDArray x = lastOnly ? s.track(resid.get(all(), interval(pos - 1, pos), all()).dup('c')) : resid; // [batch, 1 or pos, d_model]
        if (cfg.hasNorm()) x = norm(x, w.lnFinalW(), w.lnFinalB(), LN_FINAL_SCALE, LN_FINAL_NORMALIZED, -1, ctx, s);
        long rows = x.size(0) * x.size(1);
        INDArray W_U = w.W_U();
        // The tied unembedding W_Eᵀ is multiplied by W_E's rows (packed when the model keeps a copy), not a transposed view.
        Gemm.PackedRows packedRows = packed == null || !storedTransposed(W_U) ? null : packed.unembed();
        INDArray logits = Nd4j.createUninitialized(DataType.FLOAT, rows, cfg.dVocab());
        kernels.linear(x.reshape(rows, cfg.dModel()), W_U, packedRows, w.b_U(), logits);   // [batch·pos, d_vocab]
        if (arch.finalSoftCap() > 0) softCap(logits, arch.finalSoftCap());              // Gemma 2: cap·tanh(logits/cap)
        return shaped(logits, batch, x.size(1), cfg.dVocab());                          // [batch, pos, d_vocab]
    }

    /** The model's norm: TransformerLens's LayerNorm, RMSNorm, or none (the input itself). */
    private INDArray norm(INDArray x, INDArray weight, INDArray bias, String scaleName, String normName, int layer,
                          HookContext ctx, Arena.Scope s) {
        return switch (cfg.normalization()) {
            case RMS -> rmsNorm(x, weight, scaleName, normName, layer, ctx, s);
            case LN -> layerNorm(x, weight, bias, scaleName, normName, layer, ctx, s);
            case NONE -> x;
        };
    }

    /**
     * RMSNorm over the last axis: {@code hook_scale = √(mean(x²) + eps)} ({@code [..., 1]}), then
     * {@code hook_normalized = x / scale · w} (or {@code · (1 + w)}, Gemma): as with LayerNorm, the
     * norm's output with its weight, exactly what the next layer reads.
     */
    private INDArray rmsNorm(INDArray x, INDArray weight, String scaleName, String normName, int layer, HookContext ctx,
                             Arena.Scope s) {
        long[] shape = x.shape();
        long[] scaleShape = shape.clone();
        scaleShape[shape.length - 1] = 1;
        INDArray in = Layouts.isContiguousRowMajor(x) ? x : s.track(x.dup('c'));
        INDArray scale = s.alloc(scaleShape);
        INDArray out = s.alloc(shape);
        kernels.rmsNorm(in, weight, arch.normPlusOne(), cfg.eps(), scale, out);
        INDArray usedScale = ctx.at(scaleName, layer, scale);
        if (usedScale != scale || ctx.hooked(scaleName)) {
            // A hook may change the scale before it is used: x / scale · w again, with the scale it returns.
            long d = shape[shape.length - 1], n = in.length() / d;
            INDArray factor = arch.normPlusOne() ? s.track(weight.add(1f)) : weight;
            out = shaped(s.track(in.reshape(n, d).dup('c')).diviColumnVector(usedScale.reshape(n, 1)).muliRowVector(factor), shape);
        }
        return ctx.at(normName, layer, out);
    }

    /**
     * TransformerLens's LayerNorm: centre, divide by {@code hook_scale = √(mean(x²) + eps)}
     * ({@code [batch, pos, 1]}), then apply weight and bias. {@code hook_normalized} is therefore
     * the LayerNorm's output, the exact input of the next layer (not the weight-free normalised
     * vector TransformerLens shows only after folding weights, which jlens never does silently).
     */
    private INDArray layerNorm(INDArray x, INDArray weight, INDArray bias, String scaleName, String normName,
                               int layer, HookContext ctx, Arena.Scope s) {
        long batch = x.size(0), pos = x.size(1), d = x.size(2), n = batch * pos;
        if (!ctx.hooked(scaleName)) {
            INDArray scale = s.alloc(batch, pos, 1);
            INDArray out = s.alloc(batch, pos, d);
            kernels.layerNorm(x, weight, bias, cfg.eps(), scale, out);          // one pass per row
            ctx.at(scaleName, layer, scale);                                     // [batch, pos, 1]
            return ctx.at(normName, layer, out);                                 // [batch, pos, d_model]
        }
        // A hook on the scale may change it before it is used: the same LayerNorm in separate steps.
        INDArray x2 = x.reshape(n, d);                                           // [batch·pos, d_model]
        INDArray centered = s.track(x2.subColumnVector(s.track(x2.mean(1)).reshape(n, 1)));
        INDArray squares = s.track(centered.mul(centered));
        INDArray scale = ctx.at(scaleName, layer,
                shaped(s.track(Transforms.sqrt(s.track(squares.mean(1)).addi(cfg.eps()), false)), batch, pos, 1));
        centered.diviColumnVector(scale.reshape(n, 1)).muliRowVector(weight).addiRowVector(bias);
        return ctx.at(normName, layer, shaped(centered, batch, pos, d));         // [batch, pos, d_model]
    }

    /**
     * Attention, in the paper's order: project → q, k, v → (per-head q/k norm, Qwen 3) → (rotary) →
     * scores → (soft cap) → mask (causal, sliding window) → softmax → pattern · v → output projection
     * (→ post-norm, Gemma 2). Grouped key/value heads serve {@code n_heads / n_kv_heads} query heads
     * each; {@code hook_k}/{@code hook_v} have the key/value heads. Scores, softmax and pattern · v run
     * in the fused kernel unless a hook may change the scores or the pattern before they are used.
     */
    private INDArray attention(int l, INDArray x, HookContext ctx, Arena.Scope s) {
        BlockHooks h = names.get(l);
        LayerWeights lw = w.layers().get(l);
        int batch = (int) x.size(0), pos = (int) x.size(1), n = batch * pos;
        int heads = cfg.nHeads(), kvHeads = cfg.nKvHeads(), dHead = cfg.dHead();
        INDArray qkv = linear(x.reshape(n, cfg.dModel()), lw.qkvW(), packed(l, PackedWeights.Matrix.QKV), lw.qkvB(), s);
        INDArray byHead = qkv.reshape(batch, pos, heads + 2 * kvHeads, dHead);   // [batch, pos, head | kv_head | kv_head, d_head]
        INDArray qView = byHead.get(all(), all(), interval(0, heads), all());    // [batch, pos, head, d_head]
        INDArray kView = byHead.get(all(), all(), interval(heads, heads + kvHeads), all());        // [batch, pos, kv_head, d_head]
        INDArray vView = byHead.get(all(), all(), interval(heads + kvHeads, heads + 2 * kvHeads), all());
        INDArray q = ctx.at(h.q(), l, qView), k = ctx.at(h.k(), l, kView), v = ctx.at(h.v(), l, vView);
        if (arch.qkNorm()) {
            q = rmsNorm(q, lw.qNormW(), h.qNormScale(), h.qNormNormalized(), l, ctx, s);
            k = rmsNorm(k, lw.kNormW(), h.kNormScale(), h.kNormNormalized(), l, ctx, s);
        }
        if (rotary != null) {
            q = s.track(q.dup('c'));
            k = s.track(k.dup('c'));
            rotary.apply(q, ctx.start());                                        // a generation step is at its absolute position
            rotary.apply(k, ctx.start());
            q = ctx.at(h.rotQ(), l, q);                                          // [batch, pos, head, d_head]
            k = ctx.at(h.rotK(), l, k);                                          // [batch, pos, kv_head, d_head]
        }
        INDArray z;
        if (ctx.kv() != null) {
            ctx.kv().append(l, k, v);                                          // the new tokens' keys and values after the cached ones
            z = cachedAttention(l, q, ctx.kv(), ctx.start(), s);
        } else if (!ctx.hooked(h.attnScores()) && !ctx.hooked(h.pattern())) {
            // Hooks that changed q, k or v in place changed qkv itself; new arrays are put side by side again.
            INDArray joined = q == qView && k == kView && v == vView ? qkv : sameAsQkv(q, k, v, batch, pos, s);
            z = s.alloc(batch, pos, heads, dHead);
            INDArray scores = ctx.wants(h.attnScores()) ? s.alloc(batch, heads, pos, pos) : null;
            INDArray pattern = ctx.wants(h.pattern())
                    ? s.alloc(ctx.recordsInBf16(h.pattern()) ? DataType.BFLOAT16 : DataType.FLOAT, batch, heads, pos, pos) : null;
            kernels.attention(joined, attentionShape(l, batch, pos), scores, pattern, z);
            if (scores != null) ctx.at(h.attnScores(), l, scores);              // [batch, head, query, key]
            if (pattern != null) ctx.at(h.pattern(), l, pattern);               // [batch, head, query, key]
        } else {
            z = stepByStepScoresAndPattern(l, q, k, v, ctx, s);
        }
        z = ctx.at(h.z(), l, z);                                                 // [batch, pos, head, d_head]
        INDArray attnOut = shaped(outputProjection(l, z, batch, pos, ctx, s), batch, pos, cfg.dModel());
        if (arch.postNorms()) attnOut = rmsNorm(attnOut, lw.ln1PostW(), h.ln1PostScale(), h.ln1PostNormalized(), l, ctx, s);
        return ctx.at(h.attnOut(), l, attnOut);                                  // [batch, pos, d_model]
    }

    /**
     * The reference attention on whole arrays, for hooks on the scores or the pattern, which may change
     * either before it is used: scores → soft cap → mask → hook → softmax → hook → pattern · v.
     *
     * @return z {@code [batch, pos, head, d_head]}
     */
    private INDArray stepByStepScoresAndPattern(int l, INDArray q, INDArray k, INDArray v, HookContext ctx, Arena.Scope s) {
        BlockHooks h = names.get(l);
        int heads = cfg.nHeads(), group = heads / cfg.nKvHeads();
        INDArray qh = s.track(q.permute(0, 2, 1, 3).dup('c'));                   // [batch, head, pos, d_head]
        INDArray kt = s.track(perQueryHead(k, heads, group, s).permute(0, 1, 3, 2).dup('c')); // [batch, head, d_head, key]
        INDArray scores = s.track(Nd4j.matmul(qh, kt)).divi(cfg.attnScale());   // [batch, head, query, key]
        if (arch.attnSoftCap() > 0) softCap(scores, arch.attnSoftCap());         // Gemma 2, before the mask
        mask(scores, arch.windowOf(l));
        scores = ctx.at(h.attnScores(), l, scores);                             // [batch, head, query, key]
        INDArray pattern = s.alloc(scores.shape());
        Nd4j.exec(new SoftMax(scores, pattern, 3));
        pattern = ctx.at(h.pattern(), l, pattern);                              // [batch, head, query, key]
        INDArray zh = s.track(Nd4j.matmul(pattern, perQueryHead(v, heads, group, s))); // [batch, head, pos, d_head]
        return s.track(zh.permute(0, 2, 1, 3).dup('c'));                         // [batch, pos, head, d_head]
    }

    /**
     * A generation step's attention: the new tokens' queries ({@code [1, m, head, d_head]}, from absolute position
     * {@code start}) over the keys and values of every token so far (block {@code l}'s rows of {@code kv}), with
     * the causal mask, sliding window and soft cap as in a whole run ({@link Attention#cached}).
     *
     * @return z {@code [1, m, head, d_head]}
     */
    private INDArray cachedAttention(int l, INDArray q, KvCache kv, int start, Arena.Scope s) {
        int m = (int) q.size(1);
        INDArray qc = s.track(q.dup('c'));
        float[] qf = qc.reshape(q.length()).toFloatVector();                     // [m, head·d_head]
        float[] z = new float[qf.length];
        Attention.cached(qf, attentionShape(l, 1, m), start, kv.keys(l), kv.values(l), z);
        INDArray out = s.alloc(1, m, cfg.nHeads(), cfg.dHead());
        out.data().asNioFloat().put((int) out.offset(), z, 0, z.length);
        return out;                                                             // [1, m, head, d_head]
    }

    /** {@code z · W_O + b_O} ({@code [batch·pos, d_model]}), through {@code hook_result} when it is asked for. */
    private INDArray outputProjection(int l, INDArray z, int batch, int pos, HookContext ctx, Arena.Scope s) {
        BlockHooks h = names.get(l);
        LayerWeights lw = w.layers().get(l);
        int heads = cfg.nHeads(), dHead = cfg.dHead(), n = batch * pos;
        if (!ctx.wants(h.result())) return linear(z.reshape(n, heads * dHead), lw.oW(), packed(l, PackedWeights.Matrix.O), lw.oB(), s);
        INDArray zByHead = shaped(s.track(z.permute(2, 0, 1, 3).dup('c')), heads, n, dHead);   // [head, batch·pos, d_head]
        INDArray oW = lw.oW().dataType() == DataType.FLOAT ? lw.oW() : s.track(lw.oW().castTo(DataType.FLOAT));
        INDArray perHead = s.track(Nd4j.matmul(zByHead, oW.reshape(heads, dHead, cfg.dModel()))); // [head, batch·pos, d_model]
        INDArray result = ctx.at(h.result(), l,
                perHead.reshape(heads, batch, pos, cfg.dModel()).permute(1, 2, 0, 3)); // [batch, pos, head, d_model]
        return shaped(s.track(result.sum(2)), n, cfg.dModel()).addiRowVector(lw.oB());  // [batch·pos, d_model]
    }

    /** Key or value heads {@code [batch, pos, kv_head, d_head]} as {@code [batch, head, pos, d_head]}, each serving {@code group} query heads. */
    private static INDArray perQueryHead(INDArray kv, int heads, int group, Arena.Scope s) {
        INDArray byHead = kv.permute(0, 2, 1, 3);                              // [batch, kv_head, pos, d_head]
        if (group == 1) return s.track(byHead.dup('c'));
        INDArray out = s.alloc(kv.size(0), heads, kv.size(1), kv.size(3));
        for (int hq = 0; hq < heads; hq++) out.get(all(), point(hq), all(), all()).assign(byHead.get(all(), point(hq / group), all(), all()));
        return out;
    }

    /** −∞ where a query may not look: later keys, and keys {@code window} or more positions back. */
    private static void mask(INDArray scores, int window) {
        long batch = scores.size(0), heads = scores.size(1), pos = scores.size(2);
        java.nio.FloatBuffer buf = scores.data().asNioFloat();
        long base = scores.offset();
        for (long bh = 0; bh < batch * heads; bh++) {
            for (long qi = 0; qi < pos; qi++) {
                long row = base + (bh * pos + qi) * pos;
                for (long ki = 0; ki < pos; ki++) {
                    if (ki > qi || (window > 0 && qi - ki >= window)) buf.put((int) (row + ki), Float.NEGATIVE_INFINITY);
                }
            }
        }
    }

    /** {@code x ← cap · tanh(x / cap)} in place (Gemma 2's soft caps on scores and logits). */
    private static void softCap(INDArray x, double cap) {
        x.divi(cap);
        Transforms.tanh(x, false);
        x.muli(cap);
    }

    /** What block {@code l}'s attention computes besides its inputs: heads, key/value heads, scale, soft cap, window. */
    private Attention.Shape attentionShape(int l, int batch, int pos) {
        return new Attention.Shape(batch, pos, cfg.nHeads(), cfg.nKvHeads(), cfg.dHead(), cfg.attnScale(), arch.attnSoftCap(),
                arch.windowOf(l));
    }

    /** q, k and v (some replaced by hooks or rotated) side by side again as one {@code [batch·pos, (heads + 2·kv)·d_head]} array. */
    private INDArray sameAsQkv(INDArray q, INDArray k, INDArray v, int batch, int pos, Arena.Scope s) {
        long qw = (long) cfg.nHeads() * cfg.dHead(), kw = (long) cfg.nKvHeads() * cfg.dHead();
        INDArray out = s.alloc(batch, pos, qw + 2 * kw);
        out.get(all(), all(), interval(0, qw)).assign(q.reshape(batch, pos, qw));
        out.get(all(), all(), interval(qw, qw + kw)).assign(k.reshape(batch, pos, kw));
        out.get(all(), all(), interval(qw + kw, qw + 2 * kw)).assign(v.reshape(batch, pos, kw));
        return shaped(out, (long) batch * pos, qw + 2 * kw);               // [batch·pos, (heads + 2·kv)·d_head]
    }

    /**
     * {@code W_out · act(x·W_in + b_in) + b_out}, or gated: {@code W_out · (act(x·W_gate) ⊙ (x·W_in))}
     * with {@code hook_pre} the gate's input and {@code hook_pre_linear} the linear branch (TransformerLens's names).
     */
    private INDArray mlp(int l, INDArray x, HookContext ctx, Arena.Scope s) {
        BlockHooks h = names.get(l);
        LayerWeights lw = w.layers().get(l);
        int batch = (int) x.size(0), pos = (int) x.size(1), n = batch * pos;
        INDArray x2 = x.reshape(n, cfg.dModel());                              // [batch·pos, d_model]
        INDArray post;
        if (arch.gatedMlp()) {
            INDArray pre = ctx.at(h.mlpPre(), l, shaped(linear(x2, lw.gateW(), packed(l, PackedWeights.Matrix.GATE), null, s), batch, pos, cfg.dMlp()));
            INDArray preLinear = ctx.at(h.mlpPreLinear(), l,
                    shaped(linear(x2, lw.inW(), packed(l, PackedWeights.Matrix.IN), lw.inB(), s), batch, pos, cfg.dMlp()));
            post = ctx.at(h.mlpPost(), l, s.track(cfg.actFn().apply(pre)).muli(preLinear)); // [batch, pos, d_mlp]
        } else {
            INDArray pre = ctx.at(h.mlpPre(), l,
                    shaped(linear(x2, lw.inW(), packed(l, PackedWeights.Matrix.IN), lw.inB(), s), batch, pos, cfg.dMlp())); // [batch, pos, d_mlp]
            post = ctx.at(h.mlpPost(), l, s.track(cfg.actFn().apply(pre)));     // [batch, pos, d_mlp]
        }
        INDArray out = shaped(linear(post.reshape(n, cfg.dMlp()), lw.outW(), packed(l, PackedWeights.Matrix.OUT), lw.outB(), s),
                batch, pos, cfg.dModel());                                     // [batch, pos, d_model]
        if (arch.postNorms()) out = rmsNorm(out, lw.ln2PostW(), h.ln2PostScale(), h.ln2PostNormalized(), l, ctx, s);
        return ctx.at(h.mlpOut(), l, out);                                     // [batch, pos, d_model]
    }

    /** Whether {@code W_U [d_model, d_vocab]} is the transpose of a row-major {@code [d_vocab, d_model]} array (tied W_E, lm_head). */
    static boolean storedTransposed(INDArray W_U) {
        return W_U.rank() == 2 && W_U.stride(0) == 1 && W_U.stride(1) == W_U.size(0);
    }

    /** {@code a + b} into a fresh array of their shape. */
    private static INDArray add(INDArray a, INDArray b, Arena.Scope s) {
        INDArray out = s.alloc(a.shape());
        Rows.add(a, b, out);
        return out;
    }

    /**
     * A fresh contiguous array seen in another shape. Unlike {@code reshape}, the result is not a
     * view but a second owner of the same memory (the arena knows them as one).
     */
    static INDArray shaped(INDArray fresh, long... shape) {
        return Nd4j.create(fresh.data(), shape);
    }

    private Gemm.Packed packed(int layer, PackedWeights.Matrix m) {
        return packed == null ? null : packed.get(layer, m);
    }

    /** {@code x · weight + bias} into a fresh {@code [rows, out]} array, from the packed copy when there is one. */
    private INDArray linear(INDArray x, INDArray weight, Gemm.Packed packedWeight, INDArray bias, Arena.Scope s) {
        INDArray out = s.alloc(x.size(0), weight.size(1));
        kernels.linear(x, weight, packedWeight, bias, out);
        return out;
    }
}
