package dev.jlens.model;

import static org.nd4j.linalg.indexing.NDArrayIndex.all;
import static org.nd4j.linalg.indexing.NDArrayIndex.point;

import java.util.Arrays;
import java.util.Map;
import java.util.SplittableRandom;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Sampling a continuation token by token: {@link HookedTransformer}'s {@code generate}. */
final class Generation {
    private final HookedTransformer model;
    private final ModelConfig cfg;

    Generation(HookedTransformer model) {
        this.model = model;
        this.cfg = model.cfg();
    }

    /** The prompt and its continuation as text; BOS, when prepended, is not part of the text. */
    String generate(String prompt, int maxNewTokens, Sampling sampling) {
        long[] ids = model.tokenIds().ids(prompt, cfg.defaultPrependBos());
        long[] all = generate(ids, maxNewTokens, sampling);
        int skip = cfg.defaultPrependBos() ? 1 : 0;
        return model.toText(Arrays.copyOfRange(all, skip, all.length));
    }

    /**
     * The prompt ids followed by up to {@code maxNewTokens} new ids. The context fed to the model is
     * cropped to its last {@code n_ctx} tokens, as the lecture's {@code generate} does.
     */
    long[] generate(long[] promptIds, int maxNewTokens, Sampling sampling) {
        return generate(promptIds, maxNewTokens, sampling, id -> true);
    }

    /**
     * As {@link #generate(long[], int, Sampling)}, handing each new id to {@code onToken} as soon as it is picked
     * (to print it); it stops when {@code onToken} answers false or the thread is interrupted, and returns what it
     * has: the prompt and the tokens generated so far, never nothing.
     */
    long[] generate(long[] promptIds, int maxNewTokens, Sampling sampling, java.util.function.LongPredicate onToken) {
        return generate(promptIds, maxNewTokens, sampling, onToken, true);
    }

    /**
     * @param withKvCache run each new token alone against the keys and values of those before it (the same
     *                    tokens as running the whole context again, far less work); false runs the whole context
     *                    every step, as the lecture's {@code generate} does. Either way, once the sequence is longer
     *                    than {@code n_ctx} the context is cropped to its last {@code n_ctx} tokens and run whole.
     */
    long[] generate(long[] promptIds, int maxNewTokens, Sampling sampling, java.util.function.LongPredicate onToken,
                    boolean withKvCache) {
        if (promptIds.length == 0) throw model.tokenIds().emptyPrompt();
        if (maxNewTokens < 0) throw new IllegalArgumentException("maxNewTokens must be ≥ 0, got " + maxNewTokens);
        model.tokenIds().check(new long[][] {promptIds.length > cfg.nCtx()
                ? Arrays.copyOfRange(promptIds, promptIds.length - cfg.nCtx(), promptIds.length) : promptIds});
        long[] seq = Arrays.copyOf(promptIds, promptIds.length + maxNewTokens);
        SplittableRandom random = new SplittableRandom(sampling.seed());
        int eos = model.hasTokenizer() ? model.tokenizer().eosTokenId().orElse(-1) : -1;
        KvCache kv = withKvCache && promptIds.length <= cfg.nCtx() ? new KvCache(cfg.nLayers(), Math.min(cfg.nCtx(), promptIds.length + maxNewTokens)) : null;
        try {
            return sample(seq, promptIds.length, maxNewTokens, sampling, onToken, random, eos, kv);
        } finally {
            if (kv != null) kv.close();
        }
    }

    private long[] sample(long[] seq, int len, int maxNewTokens, Sampling sampling, java.util.function.LongPredicate onToken,
                          SplittableRandom random, int eos, KvCache kv) {
        for (int step = 0; step < maxNewTokens; step++) {
            // A cancellation point: the console's Ctrl-C interrupts this thread (JShell's stop on JDK 20+).
            if (Thread.currentThread().isInterrupted()) break;   // the interrupt stays set: the caller sees it
            if (kv != null && len > cfg.nCtx()) {
                kv.close();      // past n_ctx the positions shift with every crop: run the cropped context whole
                kv = null;
            }
            int from = kv != null ? kv.length() : Math.max(0, len - cfg.nCtx());
            long[][] context = {Arrays.copyOfRange(seq, from, len)};
            INDArray last = model.lastLogits(context, kv);                         // [1, 1, d_vocab]
            float[] logits = last.get(point(0), point(0), all()).toFloatVector();
            last.close();
            for (float x : logits) {
                if (Float.isNaN(x)) {
                    throw new IllegalStateException("generation stopped after " + step + " new tokens: "
                            + model.whereNaNBegins(context, Map.of(), Map.of()));
                }
            }
            int next = Sampler.pick(logits, sampling, random);
            seq[len++] = next;
            if (!onToken.test(next) || (sampling.stopAtEos() && next == eos)) break;
        }
        return Arrays.copyOf(seq, len);
    }
}
