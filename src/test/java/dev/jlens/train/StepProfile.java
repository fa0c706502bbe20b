package dev.jlens.train;

import dev.jlens.model.HookedTransformer;
import java.nio.file.Path;
import java.util.List;

/** Times the parts of one training step on TinyShakespeare: bench/run-style debugging aid (not a test). */
class StepProfile {
    public static void main(String[] a) {
        int steps = a.length > 0 ? Integer.parseInt(a[0]) : 10;
        double dropout = a.length > 1 ? Double.parseDouble(a[1]) : 0.1;
        TrainConfig c = TrainConfig.builder().data(Path.of("../shared/data/tinyshakespeare/input.txt")).dropout(dropout).steps(1000).build();
        TrainingBatches corpus = TrainingBatches.read(c.data());
        HookedTransformer model = LectureModel.create(c, corpus.chars(), "profile");
        List<LectureModel.Param> params = LectureModel.params(model);
        AdamW opt = new AdamW(params, c.beta1(), c.beta2(), c.weightDecay(), c.gradClip());
        Backprop bp = new Backprop(model, params, c.batch(), c.ctx(), c.dropout());
        long cpu0 = cpuNanos(), wall0 = System.nanoTime();
        for (int s = 0; s < steps; s++) {
            if (s == 2) {
                java.util.Arrays.fill(bp.profile, 0);
                cpu0 = cpuNanos();
                wall0 = System.nanoTime();
            }
            long t0 = System.nanoTime();
            TrainingBatches.Batch b = corpus.sample(false, c.batch(), c.ctx(), Rng.stream(c.seed(), Rng.BATCH, s));
            long t1 = System.nanoTime();
            double loss = bp.step(b, Rng.key(c.seed(), Rng.DROPOUT, s));
            long t2 = System.nanoTime();
            opt.step(1e-3);
            long t3 = System.nanoTime();
            System.out.printf("step %d loss %.4f: sample %.1f ms, fwd+bwd %.1f ms (%s), adam %.1f ms, %.0f tok/s%n", s, loss,
                    (t1 - t0) / 1e6, (t2 - t1) / 1e6, bp.timings(), (t3 - t2) / 1e6, c.tokensPerStep() / ((t3 - t0) / 1e9));
        }
        int n = steps - 2;
        System.out.printf("per step after warm-up: wall %.0f ms, process CPU %.0f ms%n", (System.nanoTime() - wall0) / 1e6 / n,
                (cpuNanos() - cpu0) / 1e6 / n);
        System.out.println("backward profile (all timed steps): " + bp.profileReport());
    }

    /** User + system CPU time of the whole process (all threads, native ones included). */
    static long cpuNanos() {
        try {
            String[] f = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/self/stat")).split("\\) ")[1].split(" ");
            return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 10_000_000L;
        } catch (java.io.IOException e) {
            return 0;
        }
    }
}
