package dev.jlens.train;

import dev.jlens.cli.FolderLock;
import dev.jlens.cli.Progress;
import dev.jlens.sae.SAE;
import java.io.PrintStream;
import java.util.Locale;
import java.util.function.IntConsumer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Trains an SAE on rows of an {@link ActivationSource} as SAELens does: batches shuffled from the seed, Adam on the
 * hand-written gradients of {@link SaeModel}, the gradient along each decoder row removed before the update and the
 * rows put back to unit norm after it; {@code b_dec} starts at the mean of the first block. Every random draw is a
 * function of the seed and the step, and checkpoints hold the whole state, so a run killed and resumed ends with the
 * same bytes as one that was not.
 */
public final class SaeTrainer {
    private final SaeTrainConfig config;
    private final ActivationSource source;
    private final PrintStream out;
    private final boolean terminal;
    private volatile boolean stopRequested;
    /** Test hook: runs after each step with the number of steps done (a test throws here to simulate a kill). */
    IntConsumer afterStep = s -> {};

    public SaeTrainer(SaeTrainConfig config, ActivationSource source, PrintStream out, boolean terminal) {
        this.config = config;
        this.source = source;
        this.out = out;
        this.terminal = terminal;
    }

    /** Asks the run to stop after the current step, writing a checkpoint first (Ctrl-C). */
    public void stop() {
        stopRequested = true;
    }

    public SaeTrainResult run() {
        if (config.out() == null) return train(null);
        try (FolderLock lock = FolderLock.acquire(config.out(), "an SAE training run")) {
            return train(new SaeCheckpoints(config.out()));
        }
    }

    private SaeTrainResult train(SaeCheckpoints checkpoints) {
        long started = System.nanoTime();
        SaeCheckpoints.Saved saved = checkpoints == null ? null : checkpoints.latest();
        if (saved != null && !config.resume()) {
            throw new IllegalArgumentException(config.out() + " already holds an SAE training run (" + saved.path().getFileName()
                    + "): pass --resume to continue it, or choose another --out");
        }
        if (config.resume() && saved == null) throw new IllegalArgumentException("nothing to resume: " + config.out() + " has no checkpoints/");
        SaeModel model;
        int[] lastFired = new int[config.dSae()];
        AdamW adam;
        int start;
        if (saved == null) {
            model = SaeModel.init(config.saeConfig(source.width()), source.block(0).mean(0), config.seed());
            adam = new AdamW(model.params(), 0.9, 0.999, 0, 0);
            start = 0;
        } else {
            SaeCheckpoints.checkSameRun(saved, config.identity());
            SAE s = saved.sae();
            if (s.cfg().dIn() != source.width()) {
                throw new IllegalArgumentException(saved.path() + " reads width " + s.cfg().dIn() + "; these activations are " + source.width());
            }
            model = new SaeModel(config.saeConfig(source.width()), s.W_enc().dup('c'), s.b_enc().dup('c'), s.W_dec().dup('c'), s.b_dec().dup('c'));
            adam = new AdamW(model.params(), 0.9, 0.999, 0, 0);
            adam.restore(saved.optimizer(), saved.adamUpdates());
            int[] fired = saved.optimizer().get(SaeCheckpoints.LAST_FIRED).toIntVector();
            System.arraycopy(fired, 0, lastFired, 0, lastFired.length);
            start = saved.step();
            out.println("resuming " + config.out() + " at step " + start + " of " + config.steps());
        }
        ShuffledBatches batches = new ShuffledBatches(source, config.batchSize(), config.seed());
        Progress progress = new Progress(out, terminal, config.logEvery());
        SaeModel.Pass pass = null;
        int step = start;
        while (step < config.steps() && !stopRequested) {
            pass = model.forwardBackward(batches.batch(step), config.l1());
            model.removeParallelDecoderGradient();
            adam.step(config.lr());
            model.normaliseDecoder();
            step++;
            markFired(pass.features(), lastFired, step);
            if (checkpoints != null && (step % config.checkpointEvery() == 0 || step == config.steps() || stopRequested)) {
                checkpoints.write(step, model.sae(), config.modelName(), adam, lastFired, config.identity());
            }
            double elapsed = (System.nanoTime() - started) / 1e9;
            progress.update("step", step, config.steps(), detail(pass, lastFired, step), elapsed,
                    elapsed / (step - start) * (config.steps() - step));
            afterStep.accept(step);
        }
        progress.finish();
        SAE sae = model.sae();
        boolean completed = step == config.steps();
        if (checkpoints != null && completed) sae.save(config.out(), config.modelName());
        return new SaeTrainResult(sae, completed, step, dead(lastFired, step), pass == null ? Double.NaN : pass.mse(),
                pass == null ? Double.NaN : l0(pass.features()),
                (System.nanoTime() - started) / 1e9, config.out());
    }

    /** Records {@code step} as the last firing step of every feature active in the batch. */
    private static void markFired(INDArray features, int[] lastFired, int step) {
        float[] counts = features.neq(0).castTo(DataType.FLOAT).sum(0).toFloatVector();
        for (int i = 0; i < counts.length; i++) if (counts[i] > 0) lastFired[i] = step;
    }

    /** Features that fired in none of the steps covering the last {@code deadWindowTokens} tokens (a run younger counts from its start). */
    int dead(int[] lastFired, int step) {
        long windowSteps = Math.max(1, (config.deadWindowTokens() + config.batchSize() - 1) / config.batchSize());
        int dead = 0;
        for (int f : lastFired) if (step - f >= windowSteps) dead++;
        return dead;
    }

    private String detail(SaeModel.Pass pass, int[] lastFired, int step) {
        return String.format(Locale.ROOT, "mse %.4g | L0 %.1f | dead %d", pass.mse(), l0(pass.features()), dead(lastFired, step));
    }

    /** Active features per row of {@code features [B, d_sae]}. */
    private static double l0(INDArray features) {
        return features.neq(0).castTo(DataType.FLOAT).sumNumber().doubleValue() / features.size(0);
    }
}
