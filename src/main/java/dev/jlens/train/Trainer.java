package dev.jlens.train;

import dev.jlens.data.TinyShakespeare;
import dev.jlens.cli.Progress;
import dev.jlens.cli.FolderLock;
import dev.jlens.model.HookedTransformer;
import java.io.BufferedWriter;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Trains a char-level model of Karpathy's lecture architecture on a text file.
 *
 * <pre>{@code
 * TrainResult r = Trainer.train(TrainConfig.builder().data("input.txt").out("runs/tiny")
 *         .layers(2).dModel(64).heads(4).ctx(64).steps(500).build());
 * r.model().generate("ROMEO:", 200, 1);
 * }</pre>
 *
 * <p>Each step samples {@code batch} random windows of the training split, runs the model's own
 * forward pass with dropout hooks ({@link Backprop}), back-propagates the mean cross-entropy,
 * and takes one AdamW step at the scheduled learning rate ({@link Schedule}) after clipping the
 * gradient norm. Every {@code evalEvery} steps the loss is estimated on fixed batches of both
 * splits without dropout; every {@code checkpointEvery} steps a checkpoint is written
 * ({@link Checkpoints}). Everything random is a function of the seed and the step ({@link Rng}),
 * so runs are reproducible and a resumed run equals an uninterrupted one bit for bit.
 */
public final class Trainer {
    private final TrainConfig config;
    private final PrintStream console;
    private final boolean terminal;
    private volatile boolean stopRequested;
    private StepListener listener = (step, loss, lr, seconds) -> {};
    /** Test and tooling hook: sees the model being trained before the first step. */
    static volatile java.util.function.Consumer<HookedTransformer> modelCreated = m -> {};
    private int stopAt = -1;          // tests: stop after this step ...
    private boolean stopHard;         // ... without writing a checkpoint (a simulated kill)

    public Trainer(TrainConfig config) {
        this(config, System.out, Progress.stdoutIsTerminal());
    }

    /** @param terminal whether {@code console} is a terminal (one updating progress line) */
    public Trainer(TrainConfig config, PrintStream console, boolean terminal) {
        this.config = config;
        this.console = console;
        this.terminal = terminal;
    }

    /** Trains with progress on standard output. */
    public static TrainResult train(TrainConfig config) {
        return new Trainer(config).run();
    }

    /** Called after every optimizer step (on the training thread). */
    @FunctionalInterface
    public interface StepListener {
        /**
         * @param step    steps done so far
         * @param loss    this step's batch loss (with dropout)
         * @param lr      the learning rate the step used
         * @param seconds the step's time: batch, forward, backward and update
         */
        void stepDone(int step, double loss, double lr, double seconds);
    }

    /** Sets a function called after every step (a custom log, a live plot, a benchmark). */
    public Trainer onStep(StepListener l) {
        this.listener = l;
        return this;
    }

    /** Asks the run to stop after the current step, writing a checkpoint first (thread-safe; Ctrl-C calls it). */
    public void stop() {
        stopRequested = true;
    }

    /**
     * Sets how many threads training computes with: {@link dev.jlens.compute.Threads#set} (the forward
     * pass's kernels, ND4J's and BLAS's threads) and training's own row loops. One thread is often fastest
     * on a machine that other work keeps busy. Affects the whole JVM; the results do not depend on it.
     */
    public static void threads(int n) {
        dev.jlens.compute.Threads.set(n);
        Kernels.sequential(n == 1);
    }

    /** Test hook: stop after {@code step}; {@code hard} skips the final checkpoint, as a kill would. */
    void stopAt(int step, boolean hard) {
        this.stopAt = step;
        this.stopHard = hard;
    }

    /** The data file: the config's path, or TinyShakespeare's cache file (downloaded once) for "tinyshakespeare". */
    static Path resolveData(Path data) {
        if (data == null) throw new IllegalArgumentException("no training text given: pass --data FILE (or --data tinyshakespeare)");
        if (!Files.exists(data) && data.toString().equalsIgnoreCase("tinyshakespeare")) return TinyShakespeare.file();
        return data;
    }

    public TrainResult run() {
        TrainingBatches corpus = TrainingBatches.read(resolveData(config.data()));
        return run(corpus);
    }

    /** Trains on a corpus already in memory (its source is recorded as the data's name). */
    public TrainResult run(TrainingBatches corpus) {
        corpus.requireContext(config.ctx());
        TrainConfig c = config;
        TrainMemory.of(c, corpus.vocabSize()).check(c, TrainMemory.availableNative(), Runtime.getRuntime().maxMemory());
        // One writer per --out: a second run into the same folder is refused, naming the first.
        try (FolderLock lock = c.out() == null ? null : FolderLock.acquire(c.out(), "a training run")) {
            if (lock != null && lock.previousOwner() != null) {
                console.println("taking over " + c.out().resolve(FolderLock.FILE_NAME) + " from " + lock.previousOwner()
                        + ", which stopped without releasing it");
            }
            return runLocked(c, corpus);
        }
    }

    private TrainResult runLocked(TrainConfig c, TrainingBatches corpus) {
        Checkpoints ckpt = c.out() == null ? null : new Checkpoints(c.out());
        if (ckpt != null) ckpt.removeLeftovers();
        Checkpoints.Snapshot snap = null;
        if (c.resume()) {
            if (ckpt == null) throw new IllegalArgumentException("--resume needs --out, the folder of the run to continue");
            snap = ckpt.latest();
            if (snap == null && ckpt.hasRun()) {
                throw new IllegalArgumentException(c.out() + " holds a model but no resume state (" + c.out().resolve("resume")
                        + " is missing or empty), so training cannot continue exactly; start a new run in another --out");
            }
            if (snap != null) {
                checkResumable(snap.state(), c, corpus);
                ckpt.restoreLossCurve(snap);
            }
        } else if (ckpt != null && ckpt.hasRun()) {
            throw new IllegalArgumentException(c.out() + " already holds a training run: pass --resume to continue it,"
                    + " or choose another --out (jlens never overwrites a run)");
        }
        try (Log log = new Log(ckpt, console, terminal, c.logEvery())) {
            return train(c, corpus, ckpt, snap, log);
        }
    }

    private TrainResult train(TrainConfig c, TrainingBatches corpus, Checkpoints ckpt, Checkpoints.Snapshot snap, Log log) {
        HookedTransformer model;
        int start;
        long tokensSeen;
        double elapsedBefore, lastTrain = Double.NaN, lastVal = Double.NaN, bestVal = Double.NaN;
        if (snap != null) {
            model = snap.model();
            start = snap.state().step();
            tokensSeen = snap.state().tokensSeen();
            elapsedBefore = snap.state().elapsedSeconds();
            lastTrain = snap.state().lastTrainLoss();
            lastVal = snap.state().lastValLoss();
            bestVal = snap.state().bestValLoss();
        } else {
            String name = c.out() == null ? "jlens-train" : c.out().toAbsolutePath().getFileName().toString();
            model = LectureModel.create(c, corpus.chars(), name);
            start = 0;
            tokensSeen = 0;
            elapsedBefore = 0;
        }
        modelCreated.accept(model);
        List<LectureModel.Param> params = LectureModel.params(model);
        AdamW opt = new AdamW(params, c.beta1(), c.beta2(), c.weightDecay(), c.gradClip());
        if (snap != null) opt.restore(snap.optimizer(), snap.state().adamUpdates());
        Backprop bp = new Backprop(model, params, c.batch(), c.ctx(), c.dropout());
        Schedule schedule = Schedule.of(c);
        Evaluator eval = new Evaluator(model, corpus, c);
        long nParams = 0;
        for (LectureModel.Param p : params) nParams += p.value().length();

        log.message(String.format(Locale.ROOT, "%s %s: %d layer%s, d_model %d, %d heads of %d, ctx %d, vocab %d, %,d parameters%s",
                snap != null ? "resuming" : "training", c.kind().cliName(), c.layers(), c.layers() == 1 ? "" : "s", c.dModel(),
                c.heads(), c.dHead(), c.ctx(), corpus.vocabSize(), nParams,
                c.kind() == ModelKind.ATTN_ONLY ? (c.hasLayerNorm() ? ", with LayerNorm" : ", without LayerNorm") : ""));
        log.message(String.format(Locale.ROOT, "data %s: %,d characters (%,d train / %,d val); batch %d × %d tokens, %,d steps,"
                        + " lr %.2g → %.2g (warmup %d, cosine), dropout %.2f, weight decay %.2g, clip %.2g, seed %d",
                corpus.source(), corpus.trainLength() + corpus.valLength(), corpus.trainLength(), corpus.valLength(), c.batch(),
                c.ctx(), c.steps(), c.lr(), c.minLr(), c.warmup(), c.dropout(), c.weightDecay(), c.gradClip(), c.seed())
                + (c.repeats() > 0 ? String.format(Locale.ROOT, "; %.0f%% of training windows a passage followed by itself", 100 * c.repeats()) : ""));
        if (snap != null) log.message("resumed from " + snap.path() + " at step " + start);
        if (start >= c.steps()) log.message("the run already has " + start + " of " + c.steps() + " steps: nothing to do");

        long sessionStart = System.nanoTime();
        long trainNanos = 0;
        int sessionSteps = 0;
        int step = start;
        boolean checkpointedAtStep = snap != null;
        double lossEma = Double.NaN;
        while (step < c.steps()) {
            long t0 = System.nanoTime();
            TrainingBatches.Batch batch = corpus.sample(false, c.batch(), c.ctx(), Rng.stream(c.seed(), Rng.BATCH, step), c.repeats());
            double loss = bp.step(batch, Rng.key(c.seed(), Rng.DROPOUT, step));
            if (!Double.isFinite(loss)) {
                throw new IllegalStateException("the loss became " + loss + " at step " + (step + 1) + ": training diverged;"
                        + " lower --lr (now " + c.lr() + ") or raise --warmup" + (ckpt != null ? "; the last checkpoint in "
                        + c.out() + " is intact" : ""));
            }
            double lr = schedule.at(step);
            double gradNorm = opt.step(lr);
            long stepNanos = System.nanoTime() - t0;
            trainNanos += stepNanos;
            listener.stepDone(step + 1, loss, lr, stepNanos / 1e9);
            step++;
            sessionSteps++;
            tokensSeen += c.tokensPerStep();
            checkpointedAtStep = false;
            lossEma = Double.isNaN(lossEma) ? loss : 0.9 * lossEma + 0.1 * loss;
            double sessionSeconds = (System.nanoTime() - sessionStart) / 1e9;
            double tokPerSec = sessionSteps * c.tokensPerStep() / (trainNanos / 1e9);
            boolean evalNow = step % c.evalEvery() == 0 || step == c.steps();
            double evTrain = Double.NaN, evVal = Double.NaN;
            if (evalNow) {
                evTrain = eval.loss(false);
                evVal = eval.loss(true);
                lastTrain = evTrain;
                lastVal = evVal;
                if (!(bestVal <= evVal)) bestVal = evVal;
            }
            log.row(step, lr, loss, gradNorm, tokensSeen, elapsedBefore + sessionSeconds, tokPerSec, evTrain, evVal);
            double eta = sessionSeconds / sessionSteps * (c.steps() - step);
            log.step(step, c.steps(), lossEma, tokPerSec, elapsedBefore + sessionSeconds, eta);
            if (evalNow) {
                log.message(String.format(Locale.ROOT, "step %,d: train loss %.4f, val loss %.4f (lr %.3g, %,.0f tok/s)",
                        step, evTrain, evVal, lr, tokPerSec));
            }
            boolean stopping = stopRequested || step == stopAt;
            if (stopping && stopHard) {
                log.finish();
                return new TrainResult(model, c.out(), step, false, lastTrain, lastVal, tokPerSec, sessionSeconds);
            }
            if (ckpt != null && (step % c.checkpointEvery() == 0 || step == c.steps() || stopping)) {
                Checkpoints.State state = new Checkpoints.State(step, opt.updates(), c.seed(), corpus.chars(), corpus.checksum(),
                        corpus.trainLength() + corpus.valLength(), corpus.source(), c.hyperparameters(), tokensSeen,
                        elapsedBefore + (System.nanoTime() - sessionStart) / 1e9, lastTrain, lastVal, bestVal);
                ckpt.write(model, opt, state, c.dropout());
                checkpointedAtStep = true;
                if (!evalNow || stopping) log.message("checkpoint at step " + step + " in " + c.out());
            }
            if (stopping) {
                log.message("stopped at step " + step + " of " + c.steps()
                        + (ckpt != null ? "; continue with --resume --out " + c.out() : ""));
                break;
            }
        }
        double seconds = (System.nanoTime() - sessionStart) / 1e9;
        double tokPerSec = sessionSteps == 0 ? 0 : sessionSteps * c.tokensPerStep() / (trainNanos / 1e9);
        if (ckpt != null && !checkpointedAtStep && step > start) {
            throw new IllegalStateException("internal: the run ended without a checkpoint at step " + step);
        }
        log.finish();
        if (step >= c.steps() && sessionSteps > 0) {
            log.message(String.format(Locale.ROOT, "done: %,d steps, train loss %.4f, val loss %.4f, %,.0f tok/s, %s%s",
                    step, lastTrain, lastVal, tokPerSec, Progress.duration(seconds),
                    ckpt != null ? "; model in " + c.out() + " (HookedTransformer.fromPretrained(\"" + c.out() + "\"))" : ""));
        }
        return new TrainResult(model, c.out(), step, step >= c.steps(), lastTrain, lastVal, tokPerSec, seconds);
    }

    /** A snapshot may be resumed only with the same data and the same hyperparameters (the step count may grow). */
    static void checkResumable(Checkpoints.State saved, TrainConfig c, TrainingBatches corpus) {
        if (saved.dataChecksum() != corpus.checksum()) {
            throw new IllegalArgumentException("the run in " + c.out() + " was trained on " + saved.dataSource() + " ("
                    + saved.dataLength() + " characters, CRC-32 " + saved.dataChecksum() + "), not on this text ("
                    + corpus.source() + ", CRC-32 " + corpus.checksum() + "): resume it with the same --data");
        }
        Map<String, Object> now = c.hyperparameters();
        StringBuilder diff = new StringBuilder();
        for (Map.Entry<String, Object> e : saved.hyperparameters().entrySet()) {
            String k = e.getKey();
            if (k.equals("steps") || k.equals("eval_every") || k.equals("eval_batches") || k.equals("checkpoint_every")) continue;
            Object mine = now.get(k);
            if (!sameValue(e.getValue(), mine)) diff.append("\n  ").append(k).append(": saved ").append(e.getValue()).append(", given ").append(mine);
        }
        if (diff.length() > 0) {
            throw new IllegalArgumentException("cannot resume the run in " + c.out() + " with different settings:" + diff
                    + "\n(pass the saved values, or start a new run in another --out)");
        }
    }

    private static boolean sameValue(Object a, Object b) {
        if (a instanceof Number x && b instanceof Number y) return x.doubleValue() == y.doubleValue();
        return String.valueOf(a).equals(String.valueOf(b));
    }

    // ---------------------------------------------------------------- evaluation

    /** Loss estimates on fixed random windows of each split, without dropout. */
    static final class Evaluator {
        private final HookedTransformer model;
        private final TrainingBatches.Batch[][] batches = new TrainingBatches.Batch[2][];

        Evaluator(HookedTransformer model, TrainingBatches corpus, TrainConfig c) {
            this.model = model;
            for (int split = 0; split < 2; split++) {
                SplittableRandom r = Rng.stream(c.seed(), Rng.EVAL, split);
                batches[split] = new TrainingBatches.Batch[c.evalBatches()];
                for (int i = 0; i < c.evalBatches(); i++) batches[split][i] = corpus.sample(split == 1, c.batch(), c.ctx(), r);
            }
        }

        double loss(boolean validation) {
            double total = 0;
            long count = 0;
            for (TrainingBatches.Batch b : batches[validation ? 1 : 0]) {
                INDArray logits = model.forward(Nd4j.createFromArray(b.x()));
                total += crossEntropySum(logits, b.y());
                count += (long) b.y().length * b.y()[0].length;
                logits.close();
            }
            return total / count;
        }
    }

    /** Summed next-character cross-entropy of {@code logits [B, T, V]} against {@code y}. */
    static double crossEntropySum(INDArray logits, int[][] y) {
        int rows = y.length, t = y[0].length, v = (int) logits.size(2);
        java.nio.FloatBuffer buf = Backprop.floats(logits);
        float[] row = new float[v];
        double total = 0;
        for (int n = 0; n < rows * t; n++) {
            buf.get(n * v, row, 0, v);
            float max = Float.NEGATIVE_INFINITY;
            for (float x : row) max = Math.max(max, x);
            double sum = 0;
            for (float x : row) sum += Math.exp(x - max);
            total += Math.log(sum) + max - row[y[n / t][n % t]];
        }
        return total;
    }

    // ---------------------------------------------------------------- output

    /** Progress on the console, the same lines in train.log, and the loss curve in loss.csv. */
    private static final class Log implements AutoCloseable {
        // loss.csv holds only what the same command computes again bit for bit (it is part of every checkpoint);
        // wall-clock figures go to speed.csv, a log beside train.log.
        static final String HEADER = "step,lr,loss,grad_norm,tokens,eval_train_loss,eval_val_loss";
        static final String SPEED_HEADER = "step,elapsed_s,tokens_per_s";
        private final Progress console;
        private final Progress file;
        private final PrintStream fileStream;
        private final BufferedWriter csv;
        private final BufferedWriter speed;

        Log(Checkpoints ckpt, PrintStream out, boolean terminal, int logEvery) {
            console = new Progress(out, terminal, logEvery);
            if (ckpt == null) {
                fileStream = null;
                file = null;
                csv = null;
                speed = null;
                return;
            }
            try {
                Files.createDirectories(ckpt.dir());
                OutputStream os = new FileOutputStream(ckpt.log().toFile(), true);
                fileStream = new PrintStream(os, true, StandardCharsets.UTF_8);
                file = new Progress(fileStream, false, logEvery);
                boolean fresh = !Files.exists(ckpt.lossCsv()) || Files.size(ckpt.lossCsv()) == 0;
                csv = Files.newBufferedWriter(ckpt.lossCsv(), StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
                if (fresh) {
                    csv.write(HEADER);
                    csv.newLine();
                    csv.flush();
                }
                boolean freshSpeed = !Files.exists(ckpt.speedCsv()) || Files.size(ckpt.speedCsv()) == 0;
                speed = Files.newBufferedWriter(ckpt.speedCsv(), StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
                if (freshSpeed) {
                    speed.write(SPEED_HEADER);
                    speed.newLine();
                    speed.flush();
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write to " + ckpt.dir() + ": " + e.getMessage(), e);
            }
        }

        void message(String text) {
            console.message(text);
            if (file != null) file.message(text);
        }

        void step(int done, int total, double loss, double tokPerSec, double elapsed, double eta) {
            console.step(done, total, loss, tokPerSec, elapsed, eta);
            if (file != null) file.step(done, total, loss, tokPerSec, elapsed, eta);
        }

        void row(int step, double lr, double loss, double gradNorm, long tokens, double elapsed, double tokPerSec,
                 double evTrain, double evVal) {
            if (csv == null) return;
            try {
                csv.write(String.format(Locale.ROOT, "%d,%.6g,%.6f,%.4f,%d,%s,%s", step, lr, loss, gradNorm, tokens,
                        Double.isNaN(evTrain) ? "" : String.format(Locale.ROOT, "%.6f", evTrain),
                        Double.isNaN(evVal) ? "" : String.format(Locale.ROOT, "%.6f", evVal)));
                csv.newLine();
                csv.flush();
                speed.write(String.format(Locale.ROOT, "%d,%.2f,%.0f", step, elapsed, tokPerSec));
                speed.newLine();
                speed.flush();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot append to loss.csv: " + e.getMessage(), e);
            }
        }

        void finish() {
            console.finish();
        }

        @Override
        public void close() {
            console.finish();
            if (fileStream != null) fileStream.close();
            try {
                if (csv != null) csv.close();
                if (speed != null) speed.close();
            } catch (IOException ignored) {
                // the rows were flushed one by one
            }
        }
    }
}
