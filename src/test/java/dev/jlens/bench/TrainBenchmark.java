package dev.jlens.bench;

import dev.jlens.train.TrainingBatches;
import dev.jlens.train.TrainConfig;
import dev.jlens.train.TrainResult;
import dev.jlens.train.Trainer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Training throughput on a text (TinyShakespeare by default) with the shakespeare-char
 * configuration, through the public training API (no checkpoints): prints one JSON line per
 * result, in the format bench/train_torch.py prints.
 *
 * <pre>bench/run TrainBenchmark [--data FILE] [--layers 4 --d-model 192 --heads 6 --ctx 128 --batch 32]
 *        [--dropout 0.1] [--steps 20] [--warmup-steps 3] [--threads N]</pre>
 */
public final class TrainBenchmark {
    public static void main(String[] args) {
        String data = "../shared/data/tinyshakespeare/input.txt";
        int layers = 4, dModel = 192, heads = 6, ctx = 128, batch = 32, steps = 20, warm = 3;
        double dropout = 0.1;
        for (int i = 0; i < args.length; i++) {
            String v = i + 1 < args.length ? args[i + 1] : null;
            switch (args[i]) {
                case "--data" -> data = v;
                case "--layers" -> layers = Integer.parseInt(v);
                case "--d-model" -> dModel = Integer.parseInt(v);
                case "--heads" -> heads = Integer.parseInt(v);
                case "--ctx" -> ctx = Integer.parseInt(v);
                case "--batch" -> batch = Integer.parseInt(v);
                case "--steps" -> steps = Integer.parseInt(v);
                case "--warmup-steps" -> warm = Integer.parseInt(v);
                case "--dropout" -> dropout = Double.parseDouble(v);
                case "--threads" -> Trainer.threads(Integer.parseInt(v));
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
            i++;
        }
        TrainConfig cfg = TrainConfig.builder().data(Path.of(data)).layers(layers).dModel(dModel).heads(heads).ctx(ctx)
                .batch(batch).dropout(dropout).steps(warm + steps).evalEvery(1_000_000).evalBatches(1).build();
        List<double[]> timed = new ArrayList<>();
        int warmSteps = warm;
        Trainer t = new Trainer(cfg, new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8), false)
                .onStep((step, loss, lr, seconds) -> {
                    if (step > warmSteps) timed.add(new double[] {loss, seconds});
                    System.err.printf(Locale.ROOT, "step %d loss %.4f %.0f ms%n", step, loss, seconds * 1e3);
                });
        long cpu0 = cpuNanos(), wall0 = System.nanoTime();
        TrainResult r = t.run(TrainingBatches.read(Path.of(data)));
        double wall = 0;
        for (double[] s : timed) wall += s[1];
        System.out.printf(Locale.ROOT, "{\"impl\":\"jlens\",\"what\":\"train\",\"layers\":%d,\"d_model\":%d,\"heads\":%d,\"ctx\":%d,"
                        + "\"batch\":%d,\"dropout\":%s,\"steps\":%d,\"step_ms\":%.1f,\"tokens_per_s\":%.1f,\"loss_first\":%.4f,"
                        + "\"loss_last\":%.4f,\"process_cpu_s\":%.1f,\"wall_s\":%.1f}%n",
                layers, dModel, heads, ctx, batch, dropout, timed.size(), 1e3 * wall / timed.size(),
                (double) batch * ctx * timed.size() / wall, timed.get(0)[0], timed.get(timed.size() - 1)[0],
                (cpuNanos() - cpu0) / 1e9, (System.nanoTime() - wall0) / 1e9);
        if (!r.completed()) throw new IllegalStateException("the benchmark run did not complete");
    }

    /** User + system CPU time of this process, all threads. */
    static long cpuNanos() {
        try {
            String[] f = java.nio.file.Files.readString(Path.of("/proc/self/stat")).split("\\) ")[1].split(" ");
            return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 10_000_000L;
        } catch (java.io.IOException e) {
            return 0;
        }
    }
}
