package dev.jlens.train;

import dev.jlens.data.Corpus;
import dev.jlens.data.Split;
import dev.jlens.model.HookedTransformer;
import java.util.SplittableRandom;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Activations streamed from the model: block {@code b} runs the model on {@code windows} windows of {@code ctx}
 * tokens of the corpus's train split, their starts drawn from {@code (seed, b)}, and takes the hook point's
 * activation at every position. Nothing is stored; the last block is kept because batches read it several times.
 */
public final class ModelActivations implements ActivationSource {
    private final HookedTransformer model;
    private final int[] tokens;
    private final String hookName, source;
    private final int windows, ctx, width;
    private final long seed;
    private long cachedIndex = -1;
    private INDArray cached;

    public ModelActivations(HookedTransformer model, Corpus corpus, String hookName, int windows, int ctx, long seed) {
        if (!model.hookNames().contains(hookName)) {
            throw new IllegalArgumentException("the model has no hook point " + hookName + " (e.g. blocks.2.hook_resid_pre)");
        }
        this.model = model;
        this.tokens = corpus.tokens(Split.TRAIN);
        if (ctx < 1 || ctx > model.cfg().nCtx()) throw new IllegalArgumentException("context " + ctx + " must be 1.." + model.cfg().nCtx());
        if (tokens.length < ctx) throw new IllegalArgumentException(corpus + ": the train split is shorter than one window of " + ctx);
        this.hookName = hookName;
        this.windows = windows;
        this.ctx = ctx;
        this.seed = seed;
        this.width = (int) model.run(Nd4j.zeros(DataType.LONG, 1, 1), java.util.List.of(), dev.jlens.cache.CacheSpec.only(hookName), false)
                .cache().get(hookName).size(-1);
        this.source = hookName + " of " + model.cfg().modelName() + " on windows of " + ctx + " tokens of " + corpus.source() + " (train split)";
    }

    @Override
    public int width() {
        return width;
    }

    @Override
    public int blockRows() {
        return windows * ctx;
    }

    @Override
    public synchronized INDArray block(long b) {
        if (b != cachedIndex) {
            SplittableRandom r = Rng.stream(seed, Rng.WINDOWS, b);
            long[][] rows = new long[windows][ctx];
            for (long[] row : rows) {
                int start = r.nextInt(tokens.length - ctx + 1);
                for (int j = 0; j < ctx; j++) row[j] = tokens[start + j];
            }
            INDArray acts = model.runWithCache(Nd4j.createFromArray(rows), false, hookName).cache().get(hookName);
            cached = acts.reshape('c', (long) windows * ctx, width).castTo(DataType.FLOAT).dup('c');
            cachedIndex = b;
        }
        return cached;
    }

    @Override
    public String describe() {
        return source;
    }
}
