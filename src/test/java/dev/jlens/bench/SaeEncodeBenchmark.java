package dev.jlens.bench;

import dev.jlens.sae.SAE;
import dev.jlens.sae.SaeConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Issue 17's SAE benchmark: encoding a run's residual stream {@code [tokens, d_in]} with a random ReLU SAE,
 * {@code relu(x·W_enc + b_enc)} ({@code apply_b_dec_to_input} off, as the peer computes it). Prints one JSON line
 * in bench/sae_encode_torch.py's format: median and best seconds, peak resident memory, and the resident growth
 * over the timed runs, each output collected after it is timed (a dense {@code [tokens, d_sae]} copy more than needed
 * shows in the peak).
 *
 * <pre>bench/run SaeEncodeBenchmark [--tokens 1024] [--d-in 768] [--d-sae 24576] [--runs 20]</pre>
 */
public final class SaeEncodeBenchmark {
    public static void main(String[] args) throws IOException {
        int tokens = 1024, dIn = 768, dSae = 24_576, runs = 20;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--tokens" -> tokens = Integer.parseInt(args[++i]);
                case "--d-in" -> dIn = Integer.parseInt(args[++i]);
                case "--d-sae" -> dSae = Integer.parseInt(args[++i]);
                case "--runs" -> runs = Integer.parseInt(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        Nd4j.getRandom().setSeed(0);
        SaeConfig cfg = new SaeConfig(SaeConfig.Activation.RELU, 0, dIn, dSae, dIn, "blocks.8.hook_resid_pre", null, false,
                SaeConfig.InputNorm.NONE, "random");
        SAE sae = new SAE(cfg, Nd4j.randn(DataType.FLOAT, dIn, dSae).muli(0.02), Nd4j.randn(DataType.FLOAT, dSae).muli(0.02),
                Nd4j.randn(DataType.FLOAT, dSae, dIn).muli(0.02), Nd4j.zeros(DataType.FLOAT, dIn), null, null);
        INDArray x = Nd4j.randn(DataType.FLOAT, 1, tokens, dIn);
        // ND4J returns an array's memory when the garbage collector finds it unreachable (close() does not for these):
        // each run's output is dropped and collected outside the timed region, as a console session's would be in time.
        for (int i = 0; i < 5; i++) {
            sae.encode(x);
            System.gc();
        }
        long rssBefore = ForwardBenchmark.rssKb("VmRSS");
        double[] s = new double[runs];
        double fired = 0;
        for (int r = 0; r < runs; r++) {
            long t0 = System.nanoTime();
            INDArray f = sae.encode(x);
            s[r] = (System.nanoTime() - t0) / 1e9;
            if (r == 0) fired = f.gt(0).castTo(DataType.FLOAT).sumNumber().doubleValue() / tokens;
            f = null;
            System.gc();
        }
        long rssAfter = ForwardBenchmark.rssKb("VmRSS");
        Arrays.sort(s);
        System.out.printf(Locale.ROOT, "{\"impl\": \"jlens\", \"tokens\": %d, \"d_in\": %d, \"d_sae\": %d, \"runs\": %d, \"median_s\": %.5f,"
                        + " \"best_s\": %.5f, \"peak_rss_mb\": %.1f, \"rss_growth_mb\": %.1f, \"dense_output_mb\": %.1f, \"mean_l0\": %.1f}%n",
                tokens, dIn, dSae, runs, s[runs / 2], s[0], ForwardBenchmark.rssKb("VmHWM") / 1024.0, (rssAfter - rssBefore) / 1024.0,
                4.0 * tokens * dSae / 1e6 * 1e6 / (1 << 20), fired);
    }
}
