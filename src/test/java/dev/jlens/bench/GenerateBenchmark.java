package dev.jlens.bench;

import dev.jlens.model.HookedTransformer;
import dev.jlens.model.Sampling;
import dev.jlens.testing.RandomModels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Greedy generation with the key/value cache (issue 16 item 5): a fixed prompt of token ids, then
 * {@code --new-tokens} new tokens, timed token by token through {@code generate}'s streaming callback.
 * Prints one JSON line, the format bench/generate_torch.py prints:
 *
 * <pre>{"impl":"jlens","what":"generate","prompt_tokens":45,"new_tokens":200,"runs":5,
 *  "tokens_per_s":..,"best_tokens_per_s":..,"total_ms":..,"min_total_ms":..,"ttft_ms":..,"decode_ms_per_token":..,
 *  "decode_tokens_per_s":..,"peak_rss_mb":..,"ids_hash":..,"first20":[..],"ids":[..]}</pre>
 *
 * tokens/s is new tokens over the whole call (prefill included); ttft is the time to the first new token (the
 * prompt's forward pass and its pick); decode ms per token is the rest divided by the tokens after the first.
 * Medians over the timed runs; best = the fastest run.
 *
 * <pre>bench/run GenerateBenchmark [--model DIR | --random] [--prompt-tokens 45] [--new-tokens 200] [--runs 5] [--warmups 2]</pre>
 */
public final class GenerateBenchmark {
    public static void main(String[] args) {
        String model = null;
        int promptTokens = 45, newTokens = 200, runs = 5, warmups = 2;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--model" -> model = args[++i];
                case "--random" -> model = null;
                case "--prompt-tokens" -> promptTokens = Integer.parseInt(args[++i]);
                case "--new-tokens" -> newTokens = Integer.parseInt(args[++i]);
                case "--runs" -> runs = Integer.parseInt(args[++i]);
                case "--warmups" -> warmups = Integer.parseInt(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        long t0 = System.nanoTime();
        HookedTransformer m = model == null ? RandomModels.gpt2Like(12, 768, 12, 50257, 1024, 0)
                : HookedTransformer.fromPretrained(model);
        System.err.printf(Locale.ROOT, "GenerateBenchmark: %s loaded in %.0f ms%n", m, (System.nanoTime() - t0) / 1e6);
        long[] prompt = prompt(promptTokens, m.cfg().dVocab());
        int n = newTokens;

        // Warm-up: whole generations, so that the JIT compiles the prefill and the decode step at every
        // context length the timed runs reach (the C2 threads would otherwise share the cores with them).
        for (int i = 0; i < warmups; i++) {
            long w = System.nanoTime();
            m.generate(prompt, n, Sampling.greedy());
            System.err.printf(Locale.ROOT, "warm-up %d: %.0f ms%n", i + 1, (System.nanoTime() - w) / 1e6);
        }

        double[] total = new double[runs], ttft = new double[runs], decode = new double[runs];
        long[] ids = null;
        for (int r = 0; r < runs; r++) {
            long[] at = new long[n];
            int[] k = {0};
            long start = System.nanoTime();
            long[] out = m.generate(prompt, n, Sampling.greedy(), id -> {
                at[k[0]++] = System.nanoTime();
                return true;
            });
            long end = System.nanoTime();
            if (k[0] != n) throw new IllegalStateException("generated " + k[0] + " tokens, not " + n);
            long[] fresh = Arrays.copyOfRange(out, prompt.length, out.length);
            if (ids != null && !Arrays.equals(ids, fresh)) throw new IllegalStateException("greedy runs disagree");
            ids = fresh;
            total[r] = (end - start) / 1e6;
            ttft[r] = (at[0] - start) / 1e6;
            decode[r] = n > 1 ? (at[n - 1] - at[0]) / 1e6 / (n - 1) : 0;
            System.err.printf(Locale.ROOT, "run %d: %.0f ms, first token %.1f ms, %.2f ms per decoded token%n",
                    r + 1, total[r], ttft[r], decode[r]);
        }
        double med = median(total), best = Arrays.stream(total).min().orElse(0), dec = median(decode);
        System.out.printf(Locale.ROOT, "{\"impl\":\"jlens\",\"what\":\"generate\",\"prompt_tokens\":%d,\"new_tokens\":%d,\"runs\":%d,"
                        + "\"tokens_per_s\":%.2f,\"best_tokens_per_s\":%.2f,\"total_ms\":%.1f,\"min_total_ms\":%.1f,"
                        + "\"ttft_ms\":%.2f,\"decode_ms_per_token\":%.3f,\"decode_tokens_per_s\":%.2f,\"peak_rss_mb\":%.0f,"
                        + "\"threads\":%d,\"ids_hash\":\"%s\",\"first20\":%s,\"ids\":%s}%n",
                promptTokens, n, runs, n * 1e3 / med, n * 1e3 / best, med, best, median(ttft), dec, dec > 0 ? 1e3 / dec : 0,
                ForwardBenchmark.rssKb("VmHWM") / 1e3, Integer.getInteger("jlens.threads", Runtime.getRuntime().availableProcessors()),
                hash(ids), json(Arrays.copyOf(ids, Math.min(20, ids.length))), json(ids));
    }

    /**
     * The prompt both sides use: {@code (7 + 1009·i) mod d_vocab}, spread over the vocabulary, no tokenizer needed.
     * bench/generate_torch.py builds the same ids.
     */
    static long[] prompt(int length, int vocab) {
        long[] ids = new long[length];
        for (int i = 0; i < length; i++) ids[i] = (7 + 1009L * i) % vocab;
        return ids;
    }

    /** FNV-1a over the ids as decimal text joined by commas: the same as bench/generate_torch.py's. */
    static String hash(long[] ids) {
        String text = Arrays.stream(ids).mapToObj(Long::toString).collect(Collectors.joining(","));
        long h = 0xcbf29ce484222325L;
        for (byte b : text.getBytes(java.nio.charset.StandardCharsets.US_ASCII)) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        return String.format("%016x", h);
    }

    private static String json(long[] ids) {
        return Arrays.stream(ids).mapToObj(Long::toString).collect(Collectors.joining(",", "[", "]"));
    }

    private static double median(double[] xs) {
        double[] s = xs.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
