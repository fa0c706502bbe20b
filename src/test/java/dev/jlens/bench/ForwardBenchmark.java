package dev.jlens.bench;

import dev.jlens.cache.CacheSpec;
import dev.jlens.model.HookedTransformer;
import dev.jlens.model.Run;
import dev.jlens.testing.RandomModels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.function.Supplier;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Plain forward and forward with the full cache, at several prompt lengths, on any model folder jlens
 * loads ({@code bench/forward}: GPT-2 small shaped; {@code bench/forward-llama}: Llama 3.2 1B shaped, bf16)
 * or on a random GPT-2-small-shaped model in memory ({@code --random}); prints one JSON line per measurement
 * (the format bench/forward_torch.py and bench/forward_llama_torch.py print).
 *
 * <pre>bench/run ForwardBenchmark [--model DIR | --random] [--tokens 45,1024] [--runs N] [--warmups 40]</pre>
 */
public final class ForwardBenchmark {
    public static void main(String[] args) throws IOException, InterruptedException {
        String model = null;
        int[] lengths = {45, 1024};
        int runs = 0;
        int warmups = 40;
        int peakChild = 0;
        boolean peakBf16 = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--model" -> model = args[++i];
                case "--random" -> model = null;
                case "--peak-child" -> {
                    peakChild = Integer.parseInt(args[++i]);
                    peakBf16 = args[++i].equals("bf16");
                }
                case "--tokens" -> lengths = Arrays.stream(args[++i].split(",")).mapToInt(Integer::parseInt).toArray();
                case "--runs" -> runs = Integer.parseInt(args[++i]);
                case "--warmups" -> warmups = Integer.parseInt(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        HookedTransformer m = model == null ? RandomModels.gpt2Like(12, 768, 12, 50257, 1024, 0)
                : HookedTransformer.fromPretrained(model);
        if (peakChild > 0) {
            peakChild(m, peakChild, peakBf16 ? CacheSpec.all().withPatternsInBf16() : CacheSpec.all());
            return;
        }
        List<String> modelArgs = model == null ? List.of("--random") : List.of("--model", model);
        System.err.println(m);
        warmUp(m, Arrays.stream(lengths).max().orElse(45), warmups);
        boolean peaks = !Boolean.getBoolean("noPeak");
        for (int len : lengths) {
            long[] ids = new Random(len).longs(len, 0, m.cfg().dVocab()).toArray();
            INDArray tokens = Nd4j.createFromArray(new long[][] {ids});
            int n = runs > 0 ? runs : (len <= 128 ? 10 : 3);
            measure("forward", len, n, () -> {
                m.forward(tokens).close();
                return null;
            });
            for (CacheSpec spec : new CacheSpec[] {CacheSpec.all(), CacheSpec.all().withPatternsInBf16()}) {
                String what = spec.patternsInBf16() ? "forward+cache(bf16 patterns)" : "forward+cache";
                long[] holds = new long[1];
                measure(what, len, n, () -> {
                    Run r = m.runWithCache(tokens, spec);
                    holds[0] = r.cache().sizeInBytes() + r.logits().length() * 4;
                    r.cache().close();
                    r.logits().close();
                    return null;
                });
                // Peak memory of one run, in a JVM of its own (see peakChild).
                if (peaks) System.out.println(peakInFreshJvm(modelArgs, len, spec.patternsInBf16()));
            }
        }
    }

    /**
     * Until the JIT has compiled the kernels for short and long prompts (about 20 s): the C2
     * compiler threads otherwise share the two cores with the first measured runs, and a run at
     * 1,024 tokens reaches code paths (long attention rows, row blocks of a matrix product) that
     * 45 tokens never does. PyTorch's kernels are compiled ahead of time.
     */
    private static void warmUp(HookedTransformer m, int longest, int shortRuns) {
        INDArray short45 = Nd4j.createFromArray(new long[][] {new Random(3).longs(45, 0, m.cfg().dVocab()).toArray()});
        INDArray long512 = Nd4j.createFromArray(new long[][] {new Random(4).longs(512, 0, m.cfg().dVocab()).toArray()});
        for (int i = 0; i < shortRuns; i++) m.forward(short45).close();
        // Long prompts only when a long prompt is measured: their activations would otherwise set the
        // process's peak resident size that a 45-token-only run reports.
        for (int i = 0; i < (longest > 128 ? Math.max(1, shortRuns / 10) : 0); i++) {
            // No cached run here: its activations would set the process's peak before the plain forward is measured
            // (the measurements themselves run the cached passes twice untimed first).
            m.forward(long512).close();
        }
    }

    /**
     * Runs {@code --peak-child} in a new JVM with this one's flags and environment and returns its
     * JSON line: in this process, earlier runs have left freed memory that a later run reuses
     * without the resident size growing, so a peak measured here says nothing.
     */
    private static String peakInFreshJvm(List<String> modelArgs, int len, boolean bf16) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (!a.contains("FlightRecording")) cmd.add(a);
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), ForwardBenchmark.class.getName()));
        cmd.addAll(modelArgs);
        cmd.addAll(List.of("--peak-child", Integer.toString(len), bf16 ? "bf16" : "f32"));
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String out = new String(p.getInputStream().readAllBytes()).strip();
        try {
            if (p.waitFor() != 0) return "{\"impl\":\"jlens\",\"what\":\"peak memory\",\"error\":\"child exited " + p.exitValue() + "\"}";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return out;
    }

    /**
     * One {@code runWithCache} in a fresh process after a short warm-up: the growth of the
     * resident size over the run, against the bytes its cache and logits hold.
     */
    private static void peakChild(HookedTransformer m, int len, CacheSpec spec) throws IOException, InterruptedException {
        String what = spec.patternsInBf16() ? "forward+cache(bf16 patterns)" : "forward+cache";
        // Warm-up until the JIT has compiled the kernels: before that, the Vector API runs as plain
        // Java that allocates an array per vector operation, and the growing Java heap would count.
        INDArray longer = Nd4j.createFromArray(new long[][] {new Random(2).longs(128, 0, m.cfg().dVocab()).toArray()});
        for (int i = 0; i < 8; i++) m.forward(longer).close();
        INDArray warm = Nd4j.createFromArray(new long[][] {new Random(1).longs(16, 0, m.cfg().dVocab()).toArray()});
        for (int i = 0; i < 3; i++) {
            Run r = m.runWithCache(warm, spec);
            r.cache().close();
            r.logits().close();
        }
        long[] ids = new Random(len).longs(len, 0, m.cfg().dVocab()).toArray();
        INDArray tokens = Nd4j.createFromArray(new long[][] {ids});
        System.gc();
        Thread.sleep(200);
        long before = rssKb("VmRSS");
        resetPeak();
        Run r = m.runWithCache(tokens, spec);
        long peak = rssKb("VmHWM");
        long held = r.cache().sizeInBytes() + r.logits().length() * 4;
        long patterns = 0;
        for (var e : r.cache().asMap().entrySet()) {
            if (e.getKey().endsWith("hook_pattern")) patterns += e.getValue().length() * e.getValue().dataType().width();
        }
        System.out.printf(Locale.ROOT, "{\"impl\":\"jlens\",\"what\":\"%s peak memory\",\"tokens\":%d,"
                        + "\"held_mb\":%.1f,\"patterns_mb\":%.1f,\"peak_rss_increase_mb\":%.1f,\"ratio\":%.3f}%n",
                what, len, held / 1e6, patterns / 1e6, (peak - before) / 1e3, (peak - before) * 1e3 / held);
    }

    /**
     * {@code -Dcpu=true} with {@code -Djlens.threads=1} and {@code OMP_NUM_THREADS=1}: times by the
     * main thread's CPU time, the cost on one core, which holds on a machine busy with other work.
     */
    private static final boolean CPU = Boolean.getBoolean("cpu");
    private static final java.lang.management.ThreadMXBean THREADS = java.lang.management.ManagementFactory.getThreadMXBean();

    private static long now() {
        return CPU ? THREADS.getCurrentThreadCpuTime() : System.nanoTime();
    }

    private static void measure(String what, int tokens, int runs, Supplier<Void> body) {
        for (int i = 0; i < 2; i++) body.get();
        double[] ms = new double[runs];
        long faults = 0;
        for (int i = 0; i < runs; i++) {
            long f = minorFaults();
            long t = now();
            body.get();
            ms[i] = (now() - t) / 1e6;
            faults += minorFaults() - f;
        }
        Arrays.sort(ms);
        System.out.printf(Locale.ROOT, "{\"impl\":\"jlens\",\"what\":\"%s\",\"tokens\":%d,\"median_ms\":%.1f,\"min_ms\":%.1f,"
                + "\"runs\":%d,\"peak_rss_mb\":%.0f,\"page_faults_per_run\":%d}%n", what, tokens, ms[runs / 2], ms[0], runs,
                rssKb("VmHWM") / 1e3, faults / runs);
        // Where the resident memory is: anonymous (heaps, activations), file-backed (mapped weights, libraries).
        System.err.printf(Locale.ROOT, "%s %d: rss %.0f MB = anon %.0f + file %.0f + shmem %.0f; java heap committed %.0f MB, used %.0f%n",
                what, tokens, rssKb("VmRSS") / 1e3, rssKb("RssAnon") / 1e3, rssKb("RssFile") / 1e3, rssKb("RssShmem") / 1e3,
                Runtime.getRuntime().totalMemory() / 1e6, (Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory()) / 1e6);
    }

    /** Linux: writing 5 to clear_refs resets VmHWM, the process's peak resident size. */
    private static void resetPeak() throws IOException {
        Files.writeString(Path.of("/proc/self/clear_refs"), "5");
    }

    /** Linux: minor page faults of the process so far (first touches of fresh memory). */
    private static long minorFaults() {
        try {
            String stat = Files.readString(Path.of("/proc/self/stat"));
            return Long.parseLong(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[7]);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** A {@code /proc/self/status} field in kB ({@code VmHWM}, {@code VmRSS}); -1 when absent. */
    static long rssKb(String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(field + ":")) return Long.parseLong(line.replaceAll("\\D", ""));
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return -1;
    }
}
