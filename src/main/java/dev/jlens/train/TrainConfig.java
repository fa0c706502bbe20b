package dev.jlens.train;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Everything a training run depends on. Two runs with equal configs (and equal data) produce
 * bit-identical weights; a resumed run continues exactly where the saved one stopped.
 *
 * <pre>{@code
 * TrainConfig cfg = TrainConfig.builder().data(Path.of("input.txt")).out(Path.of("runs/shakespeare"))
 *         .layers(4).dModel(192).heads(6).ctx(128).batch(32).steps(5000).build();
 * TrainResult r = Trainer.train(cfg);
 * }</pre>
 *
 * @param data            the text file (UTF-8) to learn; its distinct characters become the vocabulary
 * @param out             checkpoint folder ({@code null}: keep everything in memory, write nothing)
 * @param kind            {@code gpt} or {@code attn-only}
 * @param layers          blocks (1–2 for attention-only models)
 * @param dModel          residual width; a multiple of {@code heads}
 * @param heads           attention heads per block (head size = dModel / heads)
 * @param ctx             context length (the lecture's block_size)
 * @param batch           sequences per step
 * @param steps           optimizer steps in the whole run
 * @param lr              peak learning rate (after warmup)
 * @param minLr           learning rate at the end of the cosine decay
 * @param warmup          linear warmup steps
 * @param dropout         dropout probability at the lecture's three places
 * @param weightDecay     AdamW decoupled weight decay, on matrices and embeddings only
 * @param beta1           AdamW β1
 * @param beta2           AdamW β2
 * @param gradClip        clip the global gradient norm to this (0: no clipping)
 * @param evalEvery       estimate train and validation loss every this many steps (and at the end)
 * @param evalBatches     batches per loss estimate (the same fixed batches every time)
 * @param checkpointEvery write a checkpoint every this many steps (and at the end)
 * @param logEvery        progress line every this many steps when not on a terminal
 * @param seed            seeds initialisation, batch sampling and dropout
 * @param layerNorm       whether an attention-only model has LayerNorms (a GPT always has)
 * @param repeats         the fraction of training windows made of a passage followed by itself (0: plain text):
 *                        copying from context then pays at every position, which small attention-only models
 *                        otherwise rarely find worth learning on char-level text (validation windows stay plain)
 * @param resume          continue from the newest checkpoint in {@code out}
 */
public record TrainConfig(
        Path data, Path out, ModelKind kind,
        int layers, int dModel, int heads, int ctx, int batch, int steps,
        double lr, double minLr, int warmup, double dropout, double weightDecay, double beta1, double beta2,
        double gradClip, int evalEvery, int evalBatches, int checkpointEvery, int logEvery, long seed,
        boolean layerNorm, double repeats, boolean resume) {

    public TrainConfig {
        List<String> problems = problems(kind, layers, dModel, heads, ctx, batch, steps, lr, minLr, warmup, dropout,
                weightDecay, beta1, beta2, gradClip, evalEvery, evalBatches, checkpointEvery, logEvery);
        if (!(repeats >= 0 && repeats <= 1)) problems.add("repeats must be a fraction in [0, 1], got " + repeats);
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("the training configuration does not fit: " + String.join("; ", problems));
        }
    }

    private static List<String> problems(ModelKind kind, int layers, int dModel, int heads, int ctx, int batch, int steps,
                                         double lr, double minLr, int warmup, double dropout, double weightDecay,
                                         double beta1, double beta2, double gradClip, int evalEvery, int evalBatches,
                                         int checkpointEvery, int logEvery) {
        List<String> p = new ArrayList<>();
        if (kind == null) p.add("kind is missing (gpt or attn-only)");
        if (layers < 1) p.add("layers must be ≥ 1, got " + layers);
        if (kind == ModelKind.ATTN_ONLY && layers > 2) {
            p.add("an attention-only model has 1 or 2 layers, got " + layers + " (use --kind gpt for deeper models)");
        }
        if (dModel < 1) p.add("d_model must be ≥ 1, got " + dModel);
        if (heads < 1) p.add("heads must be ≥ 1, got " + heads);
        if (dModel >= 1 && heads >= 1 && dModel % heads != 0) {
            p.add("d_model " + dModel + " is not divisible by heads " + heads + " (head size = d_model / heads); try heads "
                    + divisorsNear(dModel, heads));
        }
        if (ctx < 1) p.add("ctx must be ≥ 1, got " + ctx);
        if (batch < 1) p.add("batch must be ≥ 1, got " + batch);
        if (steps < 1) p.add("steps must be ≥ 1, got " + steps);
        if (!(lr > 0) || Double.isInfinite(lr)) p.add("lr must be a positive number, got " + lr);
        if (!(minLr >= 0) || minLr > lr) p.add("min lr must be in [0, lr], got " + minLr);
        if (warmup < 0) p.add("warmup must be ≥ 0, got " + warmup);
        if (!(dropout >= 0 && dropout < 1)) p.add("dropout must be in [0, 1), got " + dropout);
        if (!(weightDecay >= 0)) p.add("weight decay must be ≥ 0, got " + weightDecay);
        if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) p.add("AdamW betas must be in [0, 1), got " + beta1 + ", " + beta2);
        if (!(gradClip >= 0)) p.add("gradient clip must be ≥ 0 (0: off), got " + gradClip);
        if (evalEvery < 1) p.add("eval-every must be ≥ 1, got " + evalEvery);
        if (evalBatches < 1) p.add("eval batches must be ≥ 1, got " + evalBatches);
        if (checkpointEvery < 1) p.add("checkpoint-every must be ≥ 1, got " + checkpointEvery);
        if (logEvery < 1) p.add("log-every must be ≥ 1, got " + logEvery);
        return p;
    }

    private static String divisorsNear(int dModel, int heads) {
        List<Integer> ds = new ArrayList<>();
        for (int h = 1; h <= dModel && ds.size() < 64; h++) if (dModel % h == 0) ds.add(h);
        ds.sort((a, b) -> Integer.compare(Math.abs(a - heads), Math.abs(b - heads)));
        return ds.subList(0, Math.min(3, ds.size())).toString().replaceAll("[\\[\\]]", "").replace(", ", " or ");
    }

    public int dHead() {
        return dModel / heads;
    }

    /** The MLP's hidden width: 4·d_model as in the lecture, 0 for attention-only models. */
    public int dMlp() {
        return kind == ModelKind.GPT ? 4 * dModel : 0;
    }

    /** Whether the model has LayerNorms: always for a GPT, by choice for attention-only models. */
    public boolean hasLayerNorm() {
        return kind == ModelKind.GPT || layerNorm;
    }

    public long tokensPerStep() {
        return (long) batch * ctx;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding this config's values, to change a few. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.data = data;
        b.out = out;
        b.kind = kind;
        b.layers = layers;
        b.dModel = dModel;
        b.heads = heads;
        b.ctx = ctx;
        b.batch = batch;
        b.steps = steps;
        b.lr = lr;
        b.minLr = minLr;
        b.warmup = warmup;
        b.dropout = dropout;
        b.weightDecay = weightDecay;
        b.beta1 = beta1;
        b.beta2 = beta2;
        b.gradClip = gradClip;
        b.evalEvery = evalEvery;
        b.evalBatches = evalBatches;
        b.checkpointEvery = checkpointEvery;
        b.logEvery = logEvery;
        b.seed = seed;
        b.layerNorm = layerNorm;
        b.resume = resume;
        b.repeats = repeats;
        return b;
    }

    /** The hyperparameters that define the run, as saved in checkpoints (paths and resume excluded). */
    public Map<String, Object> hyperparameters() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("kind", kind.cliName());
        m.put("layers", layers);
        m.put("d_model", dModel);
        m.put("heads", heads);
        m.put("ctx", ctx);
        m.put("batch", batch);
        m.put("steps", steps);
        m.put("lr", lr);
        m.put("min_lr", minLr);
        m.put("warmup", warmup);
        m.put("dropout", dropout);
        m.put("weight_decay", weightDecay);
        m.put("beta1", beta1);
        m.put("beta2", beta2);
        m.put("grad_clip", gradClip);
        m.put("eval_every", evalEvery);
        m.put("eval_batches", evalBatches);
        m.put("checkpoint_every", checkpointEvery);
        m.put("seed", seed);
        m.put("layer_norm", hasLayerNorm());
        m.put("repeats", repeats);
        return m;
    }

    /** Defaults: the shakespeare-char model of the lecture at laptop size (4 layers, 192 wide, ctx 128). */
    public static final class Builder {
        private Path data;
        private Path out;
        private ModelKind kind = ModelKind.GPT;
        private int layers = 4, dModel = 192, heads = 6, ctx = 128, batch = 32, steps = 5000;
        private double lr = 1e-3, minLr = Double.NaN;
        private int warmup = -1;
        private double dropout = 0.1, weightDecay = 0.1, beta1 = 0.9, beta2 = 0.99, gradClip = 1.0;
        private int evalEvery = 250, evalBatches = 20, checkpointEvery = 0, logEvery = 0;
        private long seed = 1337;
        private boolean layerNorm = true, resume;
        private double repeats;

        public Builder data(Path v) { data = v; return this; }
        public Builder data(String v) { return data(Path.of(v)); }
        public Builder out(Path v) { out = v; return this; }
        public Builder out(String v) { return out(v == null ? null : Path.of(v)); }
        public Builder kind(ModelKind v) { kind = v; return this; }
        public Builder kind(String v) { return kind(ModelKind.parse(v)); }
        public Builder layers(int v) { layers = v; return this; }
        public Builder dModel(int v) { dModel = v; return this; }
        public Builder heads(int v) { heads = v; return this; }
        public Builder ctx(int v) { ctx = v; return this; }
        public Builder batch(int v) { batch = v; return this; }
        public Builder steps(int v) { steps = v; return this; }
        public Builder lr(double v) { lr = v; return this; }
        /** Default: lr / 10. */
        public Builder minLr(double v) { minLr = v; return this; }
        /** Default: 100 steps, or a tenth of a shorter run. */
        public Builder warmup(int v) { warmup = v; return this; }
        public Builder dropout(double v) { dropout = v; return this; }
        public Builder weightDecay(double v) { weightDecay = v; return this; }
        public Builder betas(double b1, double b2) { beta1 = b1; beta2 = b2; return this; }
        public Builder gradClip(double v) { gradClip = v; return this; }
        public Builder evalEvery(int v) { evalEvery = v; return this; }
        public Builder evalBatches(int v) { evalBatches = v; return this; }
        /** Default: every eval. */
        public Builder checkpointEvery(int v) { checkpointEvery = v; return this; }
        /** Default: about 100 lines per run, at least every 10 steps. */
        public Builder logEvery(int v) { logEvery = v; return this; }
        public Builder seed(long v) { seed = v; return this; }
        public Builder layerNorm(boolean v) { layerNorm = v; return this; }
        public Builder resume(boolean v) { resume = v; return this; }
        public Builder repeats(double v) { repeats = v; return this; }

        public TrainConfig build() {
            double min = Double.isNaN(minLr) ? lr / 10 : minLr;
            int ckpt = checkpointEvery > 0 ? checkpointEvery : evalEvery;
            int log = logEvery > 0 ? logEvery : Math.max(10, steps / 100);
            int warm = warmup >= 0 ? warmup : Math.min(100, Math.max(0, steps / 10));
            return new TrainConfig(data, out, kind, layers, dModel, heads, ctx, batch, steps, lr, min, warm, dropout,
                    weightDecay, beta1, beta2, gradClip, evalEvery, evalBatches, ckpt, log, seed, layerNorm, repeats, resume);
        }
    }
}
