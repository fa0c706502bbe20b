package dev.jlens.train;

import dev.jlens.cache.HookNames;
import static dev.jlens.train.Kernels.root;

import dev.jlens.cache.ActivationCache;
import dev.jlens.cache.CacheSpec;
import dev.jlens.model.Hook;
import dev.jlens.model.HookFn;
import dev.jlens.model.HookPoint;
import dev.jlens.model.HookedTransformer;
import dev.jlens.model.LayerWeights;
import dev.jlens.model.ModelConfig;
import dev.jlens.model.Run;
import dev.jlens.model.Weights;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.nd4j.linalg.api.buffer.DataBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * One training step's forward and backward pass for a batch of fixed shape.
 *
 * <p>The forward pass is the model's own ({@link HookedTransformer#run}): training and inference
 * share one model definition. The run records exactly the activations the backward pass reads
 * (residual streams, LayerNorm scales and outputs, q/k/v, patterns, z, MLP post-activations), and
 * dropout happens in hooks at the lecture's three places ({@code attn.hook_pattern},
 * {@code hook_attn_out}, {@code hook_mlp_out}) that record their masks. The backward pass is written
 * out by hand, in reverse forward order: ND4J matrix products into preallocated buffers (ND4J's
 * gemm is several times faster with its output given), and plain Java loops, split over two
 * chunks, for the row-wise parts (cross-entropy, LayerNorm, softmax, ReLU, dropout, bias sums,
 * embeddings, layout copies). Nothing is allocated per step but the forward pass's own arrays,
 * which are freed as soon as the step is done.
 *
 * <p>Shapes: {@code B} batch, {@code T} positions, {@code N = B·T}, {@code D} d_model, {@code H}
 * heads of {@code dh}, {@code HD = H·dh}, {@code M} d_mlp, {@code V} vocabulary.
 */
final class Backprop {
    private final HookedTransformer model;
    private final ModelConfig cfg;
    private final Weights w;
    private final int B, T, N, D, H, dh, HD, M, V, L;
    private final double dropout;
    private final boolean ln, attnOnly;
    private final Grads g;
    private final CacheSpec spec;

    // Buffers, allocated once.
    private final INDArray dlogits;   // [N, V]
    private final INDArray dres;      // [N, D] gradient of the residual stream
    private final INDArray dy;        // [N, D] gradient of a LayerNorm output / sublayer input
    private final INDArray dtmp;      // [N, D] gradient of a sublayer output before its dropout
    private final INDArray dhidden;   // [N, M]
    private final INDArray zflat;     // [N, HD] z, c-order
    private final INDArray dz;        // [N, HD]
    private final INDArray dqkv;      // [N, 3·HD]
    private final double[][] partialV, partialD, partialD2, partialM;  // per-chunk sums
    private final List<Dropout> patternDrops = new ArrayList<>(), attnDrops = new ArrayList<>(), mlpDrops = new ArrayList<>();
    private final List<Hook> hooks = new ArrayList<>();
    private final Set<DataBuffer> ownBuffers = Collections.newSetFromMap(new IdentityHashMap<>());

    /**
     * The {@link LectureModel.Param#grad}s, looked up by their parameters' TransformerLens names and held under the
     * component names of {@link Weights} and {@link LayerWeights}, so that {@code g.W_U()} is the gradient of
     * {@code w.W_U()} ({@code unembed.W_U}).
     */
    record Grads(INDArray W_E, INDArray W_pos, List<LayerGrads> layers, INDArray lnFinalW, INDArray lnFinalB, INDArray W_U, INDArray b_U) {}

    record LayerGrads(INDArray ln1W, INDArray ln1B, INDArray qkvW, INDArray oW, INDArray oB,
                      INDArray ln2W, INDArray ln2B, INDArray inW, INDArray inB, INDArray outW, INDArray outB) {}

    static Grads grads(List<LectureModel.Param> params, int layers) {
        Map<String, INDArray> byName = new HashMap<>();
        for (LectureModel.Param p : params) byName.put(p.name(), p.grad());
        List<LayerGrads> ls = new ArrayList<>();
        for (int l = 0; l < layers; l++) {
            int layer = l;
            java.util.function.Function<String, INDArray> g = what -> byName.get(HookNames.block(layer, what));
            ls.add(new LayerGrads(g.apply("ln1.w"), g.apply("ln1.b"), g.apply("attn.W_QKV"), g.apply("attn.W_O"),
                    g.apply("attn.b_O"), g.apply("ln2.w"), g.apply("ln2.b"), g.apply("mlp.W_in"),
                    g.apply("mlp.b_in"), g.apply("mlp.W_out"), g.apply("mlp.b_out")));
        }
        return new Grads(byName.get("embed.W_E"), byName.get("pos_embed.W_pos"), ls, byName.get("ln_final.w"), byName.get("ln_final.b"),
                byName.get("unembed.W_U"), byName.get("unembed.b_U"));
    }

    Backprop(HookedTransformer model, List<LectureModel.Param> params, int batch, int pos, double dropout) {
        this.model = model;
        this.cfg = model.cfg();
        this.w = model.weights();
        this.B = batch;
        this.T = pos;
        this.N = batch * pos;
        this.D = cfg.dModel();
        this.H = cfg.nHeads();
        this.dh = cfg.dHead();
        this.HD = H * dh;
        this.M = cfg.dMlp();
        this.V = cfg.dVocab();
        this.L = cfg.nLayers();
        this.dropout = dropout;
        this.ln = cfg.hasLayerNorm();
        this.attnOnly = cfg.attnOnly();
        this.g = grads(params, L);

        dlogits = buffer(N, V);
        dres = buffer(N, D);
        dy = buffer(N, D);
        dtmp = buffer(N, D);
        dhidden = attnOnly ? null : buffer(N, M);
        zflat = buffer(N, HD);
        dz = buffer(N, HD);
        dqkv = buffer(N, 3L * HD);
        partialV = new double[Kernels.CHUNKS][V];
        partialD = new double[Kernels.CHUNKS][D];
        partialD2 = new double[Kernels.CHUNKS][D];
        partialM = new double[Kernels.CHUNKS][Math.max(1, M)];
        for (LectureModel.Param p : params) ownBuffers.add(root(p.value().data()));
        for (LayerWeights lw : w.layers()) ownBuffers.add(root(lw.qkvB().data()));

        Set<String> names = new HashSet<>();
        for (int l = 0; l < L; l++) {
            String p = HookNames.blockPrefix(l);
            names.add(p + "hook_resid_pre");
            if (ln) {
                names.add(p + "ln1.hook_scale");
                names.add(p + "ln1.hook_normalized");
            }
            names.add(p + "attn.hook_q");
            names.add(p + "attn.hook_k");
            names.add(p + "attn.hook_v");
            names.add(p + "attn.hook_pattern");
            names.add(p + "attn.hook_z");
            if (!attnOnly) {
                names.add(p + "hook_resid_mid");
                names.add(p + "ln2.hook_scale");
                names.add(p + "ln2.hook_normalized");
                names.add(p + "mlp.hook_post");
            }
            if (dropout > 0) {
                Dropout pat = new Dropout(l, 0, (long) B * H * T * T, true);
                Dropout att = new Dropout(l, 1, (long) N * D, false);
                patternDrops.add(pat);
                attnDrops.add(att);
                hooks.add(new Hook(p + "attn.hook_pattern", pat));
                hooks.add(new Hook(p + "hook_attn_out", att));
                if (!attnOnly) {
                    Dropout mlp = new Dropout(l, 2, (long) N * D, false);
                    mlpDrops.add(mlp);
                    hooks.add(new Hook(p + "hook_mlp_out", mlp));
                }
            }
        }
        names.add(HookNames.block(L - 1, "hook_resid_post"));
        if (ln) {
            names.add("ln_final.hook_scale");
            names.add("ln_final.hook_normalized");
        }
        spec = new CacheSpec(names::contains, false);
    }

    private INDArray buffer(long... shape) {
        INDArray a = Nd4j.create(DataType.FLOAT, shape);
        ownBuffers.add(root(a.data()));
        return a;
    }

    // ---------------------------------------------------------------- a step

    /**
     * Runs forward and backward on one batch and leaves the gradient of the mean cross-entropy in
     * every parameter's grad array (overwriting it).
     *
     * @param dropoutKey keys this step's dropout masks (ignored without dropout)
     * @return the batch's mean cross-entropy loss
     */
    double step(TrainingBatches.Batch batch, long dropoutKey) {
        keyDropout(dropoutKey);
        long t0 = System.nanoTime();
        Run run = model.run(Nd4j.createFromArray(batch.x()), hooks, spec, true);
        long t1 = System.nanoTime();
        List<INDArray> toFree = new ArrayList<>(run.cache().asMap().values());
        toFree.add(run.logits());
        try {
            mark = System.nanoTime();
            double loss = crossEntropy(run.logits(), batch.y());
            tick(0);
            backward(run.cache(), batch.x());
            return loss;
        } finally {
            long t2 = System.nanoTime();
            free(toFree);
            lastForward = t1 - t0;
            lastBackward = t2 - t1;
            lastFree = System.nanoTime() - t2;
        }
    }

    /** The batch's mean cross-entropy with this step's dropout masks, without the backward pass. */
    double loss(TrainingBatches.Batch batch, long dropoutKey) {
        keyDropout(dropoutKey);
        Run run = model.run(Nd4j.createFromArray(batch.x()), hooks, null, true);
        try {
            return crossEntropy(run.logits(), batch.y());
        } finally {
            free(new ArrayList<>(List.of(run.logits())));
        }
    }

    private void keyDropout(long dropoutKey) {
        for (List<Dropout> ds : List.of(patternDrops, attnDrops, mlpDrops)) {
            for (Dropout d : ds) d.key = Rng.key(dropoutKey, d.layer, d.site);
        }
    }

    /**
     * Frees the run's arrays now (at thousands of steps, waiting for the garbage collector is slow):
     * the recorded activations, the logits, and what the dropout hooks saw, each by the buffer that
     * owns its memory (q, k and v are views of one projection). Parameters and this object's own
     * buffers are never freed.
     */
    private void free(List<INDArray> arrays) {
        for (List<Dropout> ds : List.of(patternDrops, attnDrops, mlpDrops)) {
            for (Dropout d : ds) {
                arrays.add(d.seen);
                d.seen = null;
            }
        }
        Set<DataBuffer> done = Collections.newSetFromMap(new IdentityHashMap<>());
        for (INDArray a : arrays) {
            if (a == null) continue;
            DataBuffer b = root(a.data());
            if (ownBuffers.contains(b) || !done.add(b)) continue;
            if (b.closeable() && !b.wasClosed()) b.close();
        }
    }

    // ---------------------------------------------------------------- profiling

    static final String[] PHASES = {"cross-entropy", "gemm", "attention bwd", "layout copies",
            "layernorm bwd", "dropout bwd + bias sums", "relu bwd", "embedding bwd"};
    /** Backward time by kind of work, in nanoseconds, summed over steps (reset it to restart). */
    final long[] profile = new long[PHASES.length];
    private long mark, lastForward, lastBackward, lastFree;

    private void tick(int phase) {
        long now = System.nanoTime();
        profile[phase] += now - mark;
        mark = now;
    }

    String profileReport() {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < PHASES.length; i++) sb.append(String.format(Locale.ROOT, "%s %.0f ms; ", PHASES[i], profile[i] / 1e6));
        return sb.toString();
    }

    /** The last step's forward, backward and freeing times. */
    String timings() {
        return String.format(Locale.ROOT, "forward %.1f ms, backward %.1f ms, free %.1f ms",
                lastForward / 1e6, lastBackward / 1e6, lastFree / 1e6);
    }

    // ---------------------------------------------------------------- loss

    /**
     * Mean cross-entropy of {@code logits [B, T, V]} against {@code y}; writes its gradient
     * {@code (softmax − onehot) / N} to {@link #dlogits} and the column sums of that gradient
     * (the unembedding bias gradient) to {@code b_U}'s grad.
     */
    private double crossEntropy(INDArray logits, int[][] y) {
        FloatBuffer in = floats(logits), out = floats(dlogits);
        double[] total = new double[Kernels.CHUNKS];
        float inv = 1f / N;
        Kernels.rows(N, (chunk, from, to) -> {
            float[] row = new float[V];
            double[] bias = partialV[chunk];
            java.util.Arrays.fill(bias, 0);
            double sumLoss = 0;
            for (int n = from; n < to; n++) {
                in.get(n * V, row, 0, V);
                float max = Float.NEGATIVE_INFINITY;
                for (int j = 0; j < V; j++) max = Math.max(max, row[j]);
                double sum = 0;
                for (int j = 0; j < V; j++) {
                    float e = (float) Math.exp(row[j] - max);
                    row[j] = e;
                    sum += e;
                }
                int target = y[n / T][n % T];
                sumLoss += Math.log(sum) - Math.log(row[target]);
                float scale = (float) (inv / sum);
                for (int j = 0; j < V; j++) row[j] *= scale;
                row[target] -= inv;
                for (int j = 0; j < V; j++) bias[j] += row[j];
                out.put(n * V, row, 0, V);
            }
            total[chunk] = sumLoss;
        });
        Kernels.reduceInto(partialV, g.b_U());
        double sum = 0;
        for (double t : total) sum += t;
        return sum / N;
    }

    // ---------------------------------------------------------------- backward

    private void backward(ActivationCache cache, long[][] tokens) {
        String last = HookNames.blockPrefix(L - 1);
        INDArray resid = flat(cache.get(last + "hook_resid_post"), D);
        INDArray x = ln ? flat(cache.get("ln_final.hook_normalized"), D) : resid;
        gemm(x, dlogits, g.W_U(), true, false);                     // dW_U = xᵀ · dlogits      [D, V]
        gemm(dlogits, w.W_U(), dy, false, true);                    // dx = dlogits · W_Uᵀ       [N, D]
        tick(1);
        if (ln) {
            layerNormBackward(resid, cache.get("ln_final.hook_scale"), w.lnFinalW(), dy, g.lnFinalW(), g.lnFinalB(), dres, false);
        } else {
            dres.assign(dy);
        }
        tick(4);
        for (int l = L - 1; l >= 0; l--) {
            String p = HookNames.blockPrefix(l);
            LayerWeights lw = w.layers().get(l);
            LayerGrads lg = g.layers().get(l);
            if (!attnOnly) mlpBackward(l, p, cache, lw, lg);
            attentionBackward(l, p, cache, lw, lg);
        }
        embeddingBackward(tokens);
        tick(7);
    }

    private void mlpBackward(int l, String p, ActivationCache cache, LayerWeights lw, LayerGrads lg) {
        INDArray dOut = dropoutBackward(dres, dropout > 0 ? mlpDrops.get(l) : null, lg.outB());   // [N, D], db_out
        tick(5);
        INDArray post = flat(cache.get(p + "mlp.hook_post"), M);             // [N, M]
        gemm(post, dOut, lg.outW(), true, false);                            // dW_out = postᵀ · dOut   [M, D]
        gemm(dOut, lw.outW(), dhidden, false, true);                         // dpost = dOut · W_outᵀ   [N, M]
        tick(1);
        reluBackward(dhidden, post, lg.inB());                               // dpre, db_in
        tick(6);
        INDArray in = flat(cache.get(p + "ln2.hook_normalized"), D);
        gemm(in, dhidden, lg.inW(), true, false);                            // dW_in = inᵀ · dpre      [D, M]
        gemm(dhidden, lw.inW(), dy, false, true);                            // din = dpre · W_inᵀ      [N, D]
        tick(1);
        layerNormBackward(flat(cache.get(p + "hook_resid_mid"), D), cache.get(p + "ln2.hook_scale"), lw.ln2W(), dy,
                lg.ln2W(), lg.ln2B(), dres, true);
        tick(4);
    }

    private void attentionBackward(int l, String p, ActivationCache cache, LayerWeights lw, LayerGrads lg) {
        INDArray dOut = dropoutBackward(dres, dropout > 0 ? attnDrops.get(l) : null, lg.oB());   // [N, D], db_O
        tick(5);
        INDArray z = cache.get(p + "attn.hook_z");                          // [B, T, H, dh]
        INDArray zRows;                                                      // [N, HD]
        if (z.offset() == 0 && isCContiguous(z)) {
            zRows = z.reshape(N, HD);
        } else {
            Kernels.copy4(z, zflat.reshape(B, T, H, dh));
            zRows = zflat;
        }
        tick(3);
        gemm(zRows, dOut, lg.oW(), true, false);                             // dW_O = zᵀ · dOut        [HD, D]
        gemm(dOut, lw.oW(), dz, false, true);                                // dz = dOut · W_Oᵀ        [N, HD]
        tick(1);
        Dropout drop = dropout > 0 ? patternDrops.get(l) : null;
        INDArray pattern = drop == null ? cache.get(p + "attn.hook_pattern") : drop.before;   // P before dropout
        AttentionBackward.run(cache.get(p + "attn.hook_q"), cache.get(p + "attn.hook_k"), cache.get(p + "attn.hook_v"), dz,
                pattern, drop == null ? null : drop.mask, drop == null ? 1f : keepScale(), (float) (1.0 / cfg.attnScale()),
                dqkv, B, T, H, dh);                                          // dq, dk, dv → dqkv       [N, 3·HD]
        tick(2);
        INDArray in = flat(ln ? cache.get(p + "ln1.hook_normalized") : cache.get(p + "hook_resid_pre"), D);
        gemm(in, dqkv, lg.qkvW(), true, false);                              // dW_QKV = inᵀ · dqkv     [D, 3·HD]
        gemm(dqkv, lw.qkvW(), dy, false, true);                              // din = dqkv · W_QKVᵀ     [N, D]
        tick(1);
        if (ln) {
            layerNormBackward(flat(cache.get(p + "hook_resid_pre"), D), cache.get(p + "ln1.hook_scale"), lw.ln1W(), dy,
                    lg.ln1W(), lg.ln1B(), dres, true);
        } else {
            dres.addi(dy);
        }
        tick(4);
    }

    /**
     * The gradient of a sublayer's output before its dropout, {@code dOut ⊙ mask / (1 − p)} (into
     * {@link #dtmp}; {@code dOut} itself without dropout), and its column sums, the sublayer's
     * output-bias gradient, into {@code biasGrad}.
     */
    private INDArray dropoutBackward(INDArray dOut, Dropout d, INDArray biasGrad) {
        FloatBuffer in = floats(dOut), out = floats(dtmp);
        float s = d == null ? 1f : keepScale();
        byte[] mask = d == null ? null : d.mask;
        float[] factor = {0f, s};
        Kernels.rows(N, (chunk, from, to) -> {
            float[] row = new float[D], block = new float[D];
            double[] bias = partialD[chunk];
            java.util.Arrays.fill(bias, 0);
            for (int n = from; n < to; n++) {
                int base = n * D;
                in.get(base, row, 0, D);
                if (mask != null) {
                    for (int j = 0; j < D; j++) row[j] *= factor[mask[base + j]];
                    out.put(base, row, 0, D);
                }
                for (int j = 0; j < D; j++) block[j] += row[j];
                if ((n - from) % 64 == 63 || n == to - 1) Kernels.flush(block, bias);
            }
        });
        Kernels.reduceInto(partialD, biasGrad);
        return mask == null ? dOut : dtmp;
    }

    /** {@code grad ⊙ (post > 0)} in place (ReLU's derivative, read off its output), and its column sums into {@code biasGrad}. */
    private void reluBackward(INDArray grad, INDArray post, INDArray biasGrad) {
        FloatBuffer gb = floats(grad), pb = floats(post);
        Kernels.rows(N, (chunk, from, to) -> {
            float[] gr = new float[M], pr = new float[M], block = new float[M];
            double[] bias = partialM[chunk];
            java.util.Arrays.fill(bias, 0);
            for (int n = from; n < to; n++) {
                int base = n * M;
                gb.get(base, gr, 0, M);
                pb.get(base, pr, 0, M);
                for (int j = 0; j < M; j++) {
                    // Branch-free "post > 0 ? grad : 0" (ReLU outputs are ≥ 0; half are 0, so a branch mispredicts).
                    int bits = Float.floatToRawIntBits(pr[j]);
                    int keep = ((-bits) & ~bits) >> 31;      // all ones iff post > 0
                    float v = Float.intBitsToFloat(Float.floatToRawIntBits(gr[j]) & keep);
                    gr[j] = v;
                    block[j] += v;
                }
                gb.put(base, gr, 0, M);
                if ((n - from) % 64 == 63 || n == to - 1) Kernels.flush(block, bias);
            }
        });
        Kernels.reduceInto(partialM, biasGrad);
    }

    /**
     * LayerNorm backward for TransformerLens's form: {@code xhat = (x − mean)/scale},
     * {@code y = xhat·w + b}. Adds (or, with {@code accumulate} false, writes) into {@code dx}
     * {@code (g − mean(g) − xhat·mean(g·xhat)) / scale} with {@code g = dy·w}; weight and bias
     * gradients are {@code Σ dy·xhat} and {@code Σ dy} over rows.
     */
    private void layerNormBackward(INDArray x, INDArray scale, INDArray weight, INDArray dyIn, INDArray gW, INDArray gB,
                                   INDArray dx, boolean accumulate) {
        FloatBuffer xb = floats(x), sb = floats(scale), wb = floats(weight), db = floats(dyIn), ob = floats(dx);
        float[] wv = new float[D];
        wb.get(0, wv, 0, D);
        Kernels.rows(N, (chunk, from, to) -> {
            float[] xr = new float[D], gr = new float[D], orow = new float[D];
            double[] sumW = partialD[chunk], sumB = partialD2[chunk];
            java.util.Arrays.fill(sumW, 0);
            java.util.Arrays.fill(sumB, 0);
            for (int n = from; n < to; n++) {
                int base = n * D;
                xb.get(base, xr, 0, D);
                db.get(base, gr, 0, D);
                float mean = 0;
                for (int j = 0; j < D; j++) mean += xr[j];
                float mu = mean / D;
                float inv = 1f / sb.get(n);
                float mg = 0, mgx = 0;
                for (int j = 0; j < D; j++) {
                    float xhat = (xr[j] - mu) * inv;
                    float dyj = gr[j];
                    sumW[j] += dyj * xhat;
                    sumB[j] += dyj;
                    float gj = dyj * wv[j];
                    xr[j] = xhat;
                    gr[j] = gj;
                    mg += gj;
                    mgx += gj * xhat;
                }
                float a = mg / D, c = mgx / D;
                if (accumulate) ob.get(base, orow, 0, D);
                for (int j = 0; j < D; j++) {
                    float v = (gr[j] - a - xr[j] * c) * inv;
                    orow[j] = accumulate ? orow[j] + v : v;
                }
                ob.put(base, orow, 0, D);
            }
        });
        Kernels.reduceInto(partialD, gW);
        Kernels.reduceInto(partialD2, gB);
    }

    /** Token and position embedding gradients: each position's residual gradient, summed per row. */
    private void embeddingBackward(long[][] tokens) {
        FloatBuffer src = floats(dres);
        float[] e = new float[V * D];
        float[] pos = new float[(int) g.W_pos().length()];
        float[] row = new float[D];
        for (int b = 0; b < B; b++) {
            for (int t = 0; t < T; t++) {
                src.get((b * T + t) * D, row, 0, D);
                int tok = (int) tokens[b][t] * D, pt = t * D;
                for (int j = 0; j < D; j++) {
                    e[tok + j] += row[j];
                    pos[pt + j] += row[j];
                }
            }
        }
        floats(g.W_E()).put(0, e, 0, e.length);
        floats(g.W_pos()).put(0, pos, 0, pos.length);
    }

    // ---------------------------------------------------------------- helpers

    /** {@code out = op(a) · op(b)}, overwriting {@code out} (c-order, contiguous). */
    private static void gemm(INDArray a, INDArray b, INDArray out, boolean transA, boolean transB) {
        Nd4j.gemm(a, b, out, transA, transB, 1.0, 0.0);
    }

    /** {@code [B, T, width]} activation as {@code [N, width]}. */
    private INDArray flat(INDArray a, int width) {
        return a.reshape(N, width);
    }

    /** The float memory of a contiguous c-order array that starts at its buffer's start. */
    static FloatBuffer floats(INDArray a) {
        if (a.offset() != 0 || a.ordering() != 'c' || !isCContiguous(a)) {
            throw new IllegalStateException("expected a contiguous c-order array, got shape "
                    + java.util.Arrays.toString(a.shape()) + " strides " + java.util.Arrays.toString(a.stride())
                    + " offset " + a.offset());
        }
        return root(a.data()).asNioFloat();
    }

    private static boolean isCContiguous(INDArray a) {
        long expect = 1;
        long[] shape = a.shape(), stride = a.stride();
        for (int i = shape.length - 1; i >= 0; i--) {
            if (shape[i] != 1 && stride[i] != expect) return false;
            expect *= shape[i];
        }
        return true;
    }

    // ---------------------------------------------------------------- dropout

    /**
     * The dropout probability in 16-bit steps: an element is dropped when its 16 random bits are
     * below this, so the drop rate is {@code threshold / 65536} (0.1 → 0.100006).
     */
    static int dropThreshold(double p) {
        return (int) Math.round(p * 65536);
    }

    /** The factor kept elements are scaled by: 1 / (keep probability), with the probability as drawn. */
    float keepScale() {
        return (float) (65536.0 / (65536 - dropThreshold(dropout)));
    }

    /**
     * Inverted dropout at one hook point, in place: each element is kept with probability
     * {@code 1 − p} (p in 16-bit steps, see {@link #dropThreshold}) and scaled by {@code 1/(1 − p)}, or zeroed. The mask is recorded for the
     * backward pass and comes from {@link Rng#bits} keyed by (seed, step, layer, site), so it is a
     * pure function of the step. For attention patterns only the causal entries (key ≤ query) are
     * drawn, the rest being zero anyway, and the pattern before dropout is kept: the softmax
     * backward needs it.
     */
    final class Dropout implements HookFn {
        final int layer, site;
        final byte[] mask;
        final boolean causal;
        final INDArray before;  // the pattern before dropout (pattern sites only)
        long key;
        INDArray seen;          // the activation passed in (freed after the step)

        Dropout(int layer, int site, long elements, boolean causal) {
            this.layer = layer;
            this.site = site;
            this.mask = new byte[Math.toIntExact(elements)];
            this.causal = causal;
            this.before = causal ? buffer(B, H, T, T) : null;
        }

        @Override
        public INDArray apply(INDArray act, HookPoint hook) {
            if (act.length() != mask.length) {
                throw new IllegalStateException(hook + " has " + act.length() + " elements; the dropout mask "
                        + mask.length + " (the batch shape changed)");
            }
            seen = act;
            FloatBuffer buf = floats(act);
            FloatBuffer keep = causal ? floats(before) : null;
            int threshold = dropThreshold(dropout);        // drop when 16 random bits < threshold
            float[] factor = {0f, (float) (65536.0 / (65536 - threshold))};
            int width = causal ? T : D;
            long k = key;
            long quadsPerRow = (width + 3) / 4;
            Kernels.rows(mask.length / width, (chunk, from, to) -> {
                float[] row = new float[width];
                for (int r = from; r < to; r++) {
                    int base = r * width;
                    int n = causal ? r % T + 1 : width;
                    buf.get(base, row, 0, n);
                    if (causal) keep.put(base, row, 0, n);
                    for (int j = 0; j < n; j += 4) {
                        long bits = Rng.bits(k, r * quadsPerRow + (j >>> 2));   // 64 bits decide four elements
                        int end = Math.min(n, j + 4);
                        for (int e = j; e < end; e++, bits >>>= 16) {
                            int kept = (((int) (bits & 0xffff)) - threshold) >>> 31 ^ 1;   // 1 iff bits ≥ threshold
                            mask[base + e] = (byte) kept;
                            row[e] *= factor[kept];
                        }
                    }
                    buf.put(base, row, 0, n);
                }
            });
            return null;
        }
    }
}
