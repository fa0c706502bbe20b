package dev.jlens.model;

import static org.nd4j.linalg.indexing.NDArrayIndex.all;
import static org.nd4j.linalg.indexing.NDArrayIndex.interval;
import static org.nd4j.linalg.indexing.NDArrayIndex.point;

import dev.jlens.cache.ActivationCache;
import dev.jlens.cache.CacheSpec;
import dev.jlens.cache.HookNames;
import dev.jlens.cache.NameFilter;
import dev.jlens.compute.NonFinite;
import dev.jlens.tokenize.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * A transformer language model whose every activation can be read, recorded and replaced by name,
 * with TransformerLens's names, shapes and shorthand.
 *
 * <pre>{@code
 * var model = HookedTransformer.fromPretrained("path/to/gpt2");
 * var run = model.runWithCache("Hello world");
 * INDArray pattern = run.cache().get("pattern", 1);      // [1, n_heads, 3, 3]
 * }</pre>
 *
 * <p>BOS: {@code toTokens(text)} prepends the tokenizer's BOS token when the model was trained with
 * one at the start of every context (GPT-2: {@code <|endoftext|>}), as TransformerLens does, and
 * never for char models, which have none. Every method that takes text says whether it prepends.
 */
public final class HookedTransformer {
    private final ModelConfig cfg;
    private final Weights weights;
    private final Tokenizer tokenizer;
    private final PackedWeights packed;
    private final Forward forward;
    private volatile Map<String, INDArray> paramViews;
    private final List<String> hookNames;
    private final Set<String> hookNameSet;
    private final WeightFiles files;

    /**
     * A model over arrays the caller keeps: a change the caller makes to them is seen by the next
     * forward pass (this is how training updates its model).
     */
    public HookedTransformer(ModelConfig cfg, Weights weights, Tokenizer tokenizer) {
        this(cfg, weights, tokenizer, false, WeightFiles.NONE);
    }

    /**
     * A model that takes its arrays over, as the loaders' models do: nobody else holds them, so
     * the forward pass may multiply by heap copies of the block matrices ({@link PackedWeights}),
     * dropped as soon as an accessor gives a matrix out.
     */
    public static HookedTransformer owning(ModelConfig cfg, Weights weights, Tokenizer tokenizer) {
        return new HookedTransformer(cfg, weights, tokenizer, true, WeightFiles.NONE);
    }

    /**
     * Like {@link #owning(ModelConfig, Weights, Tokenizer)} for arrays a loader read from {@code files}: before
     * each run (and before an accessor hands out a weight) the model checks that the files its arrays are
     * memory-mapped from have not changed on disk, and a run whose logits hold NaN names the tensors that
     * held NaN or ±Inf at load.
     */
    public static HookedTransformer owning(ModelConfig cfg, Weights weights, Tokenizer tokenizer, WeightFiles files) {
        return new HookedTransformer(cfg, weights, tokenizer, true, files);
    }

    private HookedTransformer(ModelConfig cfg, Weights weights, Tokenizer tokenizer, boolean owning, WeightFiles files) {
        weights.validate(cfg);
        if (tokenizer != null && tokenizer.vocabSize() > cfg.dVocab()) {
            throw new IllegalArgumentException("the tokenizer has " + tokenizer.vocabSize()
                    + " tokens but the model's embedding only " + cfg.dVocab() + " rows");
        }
        this.cfg = cfg;
        this.weights = weights;
        this.tokenizer = tokenizer;
        this.packed = owning ? new PackedWeights(cfg, weights, PackedWeights.defaultBudget(), files.rereads()) : null;
        if (packed != null) packed.packAll(cfg);   // now, while the loader's file is open: see PackedWeights.packAll
        this.forward = new Forward(cfg, weights, packed);
        this.hookNames = List.copyOf(Forward.hookNames(cfg));
        this.hookNameSet = new HashSet<>(hookNames);
        this.files = files;
    }

    /**
     * Loads a model from a path or a Hugging Face name. A path that exists wins: a Hugging Face GPT-2
     * folder ({@code config.json} + {@code model.safetensors} or {@code pytorch_model.bin} +
     * {@code vocab.json}/{@code merges.txt} or {@code tokenizer.json}), a Karpathy lecture checkpoint
     * folder, a weights file ({@code .safetensors}, {@code .pt}, {@code .pth}, {@code .bin}) beside its
     * config.json, or a nanoGPT {@code ckpt.pt}. Otherwise a name such as {@code "gpt2"},
     * {@code "gpt2-medium"}, {@code "gpt2-large"}, {@code "gpt2-xl"}, {@code "distilgpt2"} or
     * {@code "owner/name"} is taken from the Hugging Face cache ({@code HF_HOME}, {@code HF_HUB_CACHE}),
     * or downloaded into it unless {@code HF_HUB_OFFLINE=1}. PyTorch files are read without running
     * their pickles' code. The loading is the loaders' {@code ModelLoader}, found as a {@link Pretrained}
     * service so that this package does not depend on the loaders (which depend on it).
     */
    public static HookedTransformer fromPretrained(String pathOrName) {
        return Pretrained.loader().load(pathOrName);
    }

    public ModelConfig cfg() {
        return cfg;
    }

    /**
     * The one door for changing weights: runs {@code edit} on the arrays the forward pass reads
     * ({@link Weights}, TransformerLens names through {@link #params()} work too), then refreshes what the
     * model derived from them (its packed copies), so the next run sees the change:
     * {@code model.editWeights(w -> model.W_O(0).slice(3).assign(0))} ablates head 0.3 for good. Reading a
     * weight never needs it and never changes anything.
     */
    public void editWeights(java.util.function.Consumer<Weights> edit) {
        files.check();
        editing = true;
        try {
            edit.accept(weights);
        } finally {
            editing = false;
            if (packed != null) packed.refresh();
        }
    }

    /** Inside {@link #editWeights}: the accessors give the stored arrays themselves, to change. */
    private boolean editing;

    /**
     * What an accessor gives out: the stored array (a view), or, for a bfloat16 checkpoint's matrix outside
     * {@link #editWeights}, a float32 copy, since every analysis computes in float32 (a change to that copy
     * changes nothing; inside the door the accessors give the bfloat16 arrays themselves).
     */
    private INDArray reading(INDArray stored) {
        return stored == null || editing || stored.dataType() == DataType.FLOAT ? stored : stored.castTo(DataType.FLOAT);
    }

    /** Heap bytes of the packed copies the forward pass multiplies by now (0 when it does not pack). */
    long packedBytes() {
        return packed == null ? 0 : packed.bytes();
    }

    /** All parameters as the forward pass holds them (read them; change them through {@link #editWeights}). */
    public Weights weights() {
        files.check();
        if (packed != null) packed.allExposed();
        return weights;
    }

    /**
     * One token's text for display: the tokenizer's, or {@code "#id"} for a model without tokenizer files
     * (which runs on ids), so tables and token lists still say which token they mean.
     */
    public String tokenText(long id) {
        return tokenizer == null ? "#" + id : tokenizer.tokenString((int) id);
    }

    /** Whether text can be tokenized: a model folder without tokenizer files runs on token ids only. */
    public boolean hasTokenizer() {
        return tokenizer != null;
    }

    public Tokenizer tokenizer() {
        if (tokenizer == null) throw new IllegalStateException("this model has no tokenizer (its folder has no tokenizer.json, nor vocab.json + merges.txt): pass token ids, e.g. model.forward(Nd4j.createFromArray(new long[][] {{1, 2, 3}})), or put the tokenizer files beside config.json");
        return tokenizer;
    }

    /** Every hook point, in forward order ({@code attn.hook_result} is computed only when asked for). */
    public List<String> hookNames() {
        return hookNames;
    }

    // ---------------------------------------------------------------- tokens

    /** {@code [1, pos]} token ids, with BOS first when the model uses one ({@link ModelConfig#defaultPrependBos}). */
    public INDArray toTokens(String text) {
        return toTokens(text, cfg.defaultPrependBos());
    }

    /** {@code [1, pos]} token ids, with or without BOS. */
    public INDArray toTokens(String text, boolean prependBos) {
        long[] ids = ids(text, prependBos);
        // createFromArray makes shape [] of an empty row; [1, 0] keeps the promised [1, pos].
        return ids.length == 0 ? Nd4j.create(DataType.LONG, 1, 0) : Nd4j.createFromArray(new long[][] {ids});
    }

    /**
     * {@code [batch, pos]} ids for several prompts, right-padded to the longest with the EOS id (or
     * 0). Right padding needs no attention mask in a causal model: a real token never attends to a
     * later pad, so each prompt's real positions come out exactly as if run alone.
     */
    public INDArray toTokens(List<String> texts) {
        long[][] rows = padded(texts).rows;
        return Nd4j.createFromArray(rows);
    }

    /** Each token's text, BOS included when {@code toTokens} would add it. */
    public List<String> toStrTokens(String text) {
        return toStrTokens(text, cfg.defaultPrependBos());
    }

    public List<String> toStrTokens(String text, boolean prependBos) {
        return toStrTokens(ids(text, prependBos));
    }

    public List<String> toStrTokens(INDArray tokens) {
        long[][] rows = rows(tokens);
        return toStrTokens(rows.length == 0 ? new long[0] : rows[0]);
    }

    private List<String> toStrTokens(long[] ids) {
        List<String> out = new ArrayList<>(ids.length);
        for (long id : ids) out.add(tokenText(id));
        return out;
    }

    /** The text of token ids (TransformerLens {@code to_string}). */
    public String toText(long... ids) {
        int[] ints = new int[ids.length];
        for (int i = 0; i < ids.length; i++) ints[i] = (int) ids[i];
        return tokenizer().decode(ints);
    }

    /** The id of a string that must be exactly one token (TransformerLens {@code to_single_token}). */
    public int toSingleToken(String text) {
        int[] ids = tokenizer().encode(text);
        if (ids.length != 1) {
            throw new IllegalArgumentException("'" + text + "' is " + ids.length + " tokens, not one: "
                    + toStrTokens(text, false));
        }
        return ids[0];
    }

    private long[] ids(String text, boolean prependBos) {
        int[] body = tokenizer().encode(text);
        int offset = 0;
        long[] out;
        if (prependBos) {
            int bos = tokenizer().bosTokenId().orElseThrow(() -> new IllegalArgumentException(
                    "this model's tokenizer has no BOS token: call toTokens(text, false)"));
            out = new long[body.length + 1];
            out[0] = bos;
            offset = 1;
        } else {
            out = new long[body.length];
        }
        for (int i = 0; i < body.length; i++) out[offset + i] = body[i];
        return out;
    }

    private record Padded(long[][] rows, int[] lengths) {}

    private Padded padded(List<String> texts) {
        if (texts.isEmpty()) throw new IllegalArgumentException("no prompts given");
        long[][] unpadded = new long[texts.size()][];
        int max = 0;
        for (int i = 0; i < texts.size(); i++) {
            unpadded[i] = ids(texts.get(i), cfg.defaultPrependBos());
            max = Math.max(max, unpadded[i].length);
        }
        long pad = tokenizer().eosTokenId().orElse(0);
        long[][] rows = new long[texts.size()][max];
        int[] lengths = new int[texts.size()];
        for (int i = 0; i < rows.length; i++) {
            Arrays.fill(rows[i], pad);
            System.arraycopy(unpadded[i], 0, rows[i], 0, unpadded[i].length);
            lengths[i] = unpadded[i].length;
        }
        return new Padded(rows, lengths);
    }

    // ---------------------------------------------------------------- runs

    /** Logits {@code [1, pos, d_vocab]} for text (BOS as {@link #toTokens(String)}). */
    public INDArray forward(String text) {
        return forward(toTokens(text));
    }

    /** Logits {@code [batch, pos, d_vocab]}. */
    public INDArray forward(INDArray tokens) {
        return run(tokens, List.of(), null, true).logits();
    }

    /** Runs text (BOS as {@link #toTokens(String)}) recording every activation. */
    public Run runWithCache(String text) {
        return runWithCache(toTokens(text));
    }

    /** Runs a batch of prompts (right-padded, see {@link #toTokens(List)}) recording every activation. */
    public Run runWithCache(List<String> prompts) {
        Padded p = padded(prompts);
        return run(p.rows, p.lengths, List.of(), CacheSpec.all(), true);
    }

    public Run runWithCache(INDArray tokens) {
        return run(tokens, List.of(), CacheSpec.all(), true);
    }

    /** Runs recording what {@code spec} selects, e.g. {@code CacheSpec.all().withPatternsInBf16()}. */
    public Run runWithCache(INDArray tokens, CacheSpec spec) {
        return run(tokens, List.of(), spec, true);
    }

    /**
     * Records only the named activations (full names, short names meaning every layer, or globs; see
     * {@link NameFilter}). Without logits the run stops after the last block it needs.
     */
    public Run runWithCache(INDArray tokens, boolean withLogits, String... names) {
        return run(tokens, List.of(), CacheSpec.only(names), withLogits);
    }

    /** Logits of a run with hooks that read or replace activations; the hooks end with the run. */
    public INDArray runWithHooks(INDArray tokens, Hook... hooks) {
        return run(tokens, List.of(hooks), null, true).logits();
    }

    /**
     * The general run: hooks fire first, then the cache records what {@code cache} selects (so a
     * patched activation is recorded patched).
     *
     * @param cache what to record; {@code null} for nothing
     */
    public Run run(INDArray tokens, List<Hook> hooks, CacheSpec cache, boolean withLogits) {
        long[][] rows = rows(tokens);
        int[] lengths = new int[rows.length];
        Arrays.fill(lengths, rows.length == 0 ? 0 : rows[0].length);
        return run(rows, lengths, hooks, cache, withLogits);
    }

    private Run run(long[][] rows, int[] lengths, List<Hook> hooks, CacheSpec cache, boolean withLogits) {
        checkTokens(rows);
        Map<String, List<HookFn>> byName = new LinkedHashMap<>();
        for (Hook h : hooks) {
            if (!hookNameSet.contains(h.name())) throw HookNames.unknown(h.name(), hookNames);
            byName.computeIfAbsent(h.name(), k -> new ArrayList<>()).add(h.fn());
        }
        int stopAfter = cfg.nLayers() - 1;
        if (!withLogits) {
            stopAfter = -1;
            for (String name : hookNames) {
                if (cache == null || !cache.names().test(name)) continue;
                int layer = HookNames.layerOf(name);
                stopAfter = Math.max(stopAfter, layer < 0 && name.startsWith("ln_final") ? cfg.nLayers() - 1 : layer);
            }
            for (Hook h : hooks) stopAfter = Math.max(stopAfter, HookNames.layerOf(h.name()));
        }
        files.check();   // before any read of a mapped page: a truncated file would kill the JVM
        HookContext ctx = new HookContext(byName, cache);
        INDArray logits = forward.run(rows, ctx, withLogits ? Forward.Logits.ALL : Forward.Logits.NONE, stopAfter);
        if (logits != null && NonFinite.hasNaN(logits)) System.err.println("jlens: warning: " + whereNaNBegins(rows, byName, ctx.recorded()));
        ActivationCache recorded = new ActivationCache(ctx.recorded(), cfg.nLayers(), hookNames, ctx.ownersOfRecordedViews());
        return new Run(Nd4j.createFromArray(rows), lengths, logits, recorded);
    }

    /** Thrown by the NaN-finding hook to stop its run at the first hook point with NaN. */
    private static final class NaNFound extends RuntimeException {
        final String hook;

        NaNFound(String hook) {
            super(hook, null, false, false);
            this.hook = hook;
        }
    }

    /**
     * Says where NaN in a run's logits comes from: the first hook point, in forward order, whose
     * activation holds NaN in a run of the same tokens without the caller's hooks (which are never run a
     * second time: they may count or store things). When that run is clean, a hook put the NaN there,
     * and the first recorded activation with NaN says after which hook point.
     */
    private String whereNaNBegins(long[][] rows, Map<String, List<HookFn>> userHooks, Map<String, INDArray> recorded) {
        Map<String, List<HookFn>> checks = new LinkedHashMap<>();
        for (String name : hookNames) {
            checks.put(name, List.of((act, hook) -> {
                if (NonFinite.hasNaN(act)) throw new NaNFound(hook.name());
                return act;
            }));
        }
        String first = null;
        try {
            forward.run(rows, new HookContext(checks, null), Forward.Logits.ALL, cfg.nLayers() - 1);
        } catch (NaNFound found) {
            first = found.hook;
        }
        StringBuilder sb = new StringBuilder("the logits hold NaN");
        if (first != null) {
            sb.append("; NaN first appears at ").append(first).append(" (the first hook point, in forward order, with NaN)");
        } else if (!userHooks.isEmpty()) {
            sb.append(", but a run without your hooks has none: a hook on ").append(String.join(", ", userHooks.keySet()))
                    .append(" put it there");
            for (String name : hookNames) {
                INDArray a = recorded.get(name);
                if (a != null && NonFinite.hasNaN(a)) {
                    sb.append(" (the first cached activation with NaN is ").append(name).append(')');
                    break;
                }
            }
        } else {
            sb.append("; no hook point has NaN, so it arises in the unembedding (W_U, b_U)");
        }
        if (!files.nonFinite().isEmpty()) {
            sb.append("; at load these tensors held NaN or ±Inf: ").append(String.join(", ", files.nonFinite()));
        }
        return sb.toString();
    }

    private static long[][] rows(INDArray tokens) {
        if (tokens.isEmpty()) return tokens.rank() == 2 && tokens.size(0) == 0 ? new long[0][] : new long[][] {{}};   // runs refuse it
        if (tokens.rank() == 1) return new long[][] {tokens.toLongVector()};
        if (tokens.rank() != 2) {
            throw new IllegalArgumentException("tokens must be [pos] or [batch, pos], got shape "
                    + Arrays.toString(tokens.shape()));
        }
        return tokens.toLongMatrix();
    }

    private void checkTokens(long[][] rows) {
        if (rows.length == 0 || rows[0].length == 0) throw emptyPrompt();
        int pos = rows[0].length;
        if (pos > cfg.nCtx()) {
            throw new IllegalArgumentException("the prompt is " + pos + " tokens but the model's context is n_ctx = "
                    + cfg.nCtx() + " (positions 0.." + (cfg.nCtx() - 1) + "): shorten it, or keep the last "
                    + cfg.nCtx() + " tokens (generate() crops the context itself)");
        }
        for (int b = 0; b < rows.length; b++) {
            for (int t = 0; t < pos; t++) {
                long id = rows[b][t];
                if (id < 0 || id >= cfg.dVocab()) {
                    throw new IllegalArgumentException("token id " + id + " at batch " + b + ", position " + t
                            + " is outside the vocabulary 0.." + (cfg.dVocab() - 1));
                }
            }
        }
    }

    /** Zero tokens: one line saying what to run instead, which depends on whether the model has a BOS token. */
    private IllegalArgumentException emptyPrompt() {
        return new IllegalArgumentException("empty prompt: there are no tokens to run; " + (cfg.defaultPrependBos()
                ? "give at least one token, e.g. toTokens(text) with its BOS (toTokens(\"\") is [BOS] alone)"
                : "this model has no BOS token, so give text of at least one character"));
    }

    // ---------------------------------------------------------------- loss

    /** Mean next-token cross-entropy over the text's tokens (BOS as {@link #toTokens(String)}). */
    public double loss(String text) {
        return loss(toTokens(text));
    }

    /** Mean over batch rows and positions {@code 0..pos-2} of {@code -log p(token[i+1] | ≤ i)}. */
    public double loss(INDArray tokens) {
        INDArray lp = tokenLogProbs(forward(tokens), tokens);
        return -lp.meanNumber().doubleValue();
    }

    /**
     * {@code [batch, pos-1]}: the log-probability each position gave the token that actually came
     * next (seed 001's per-token log-probs).
     */
    public static INDArray tokenLogProbs(INDArray logits, INDArray tokens) {
        long[][] rows = rows(tokens);
        int batch = rows.length, pos = batch == 0 ? 0 : rows[0].length;
        if (pos < 2) throw new IllegalArgumentException("need at least two tokens to predict one from the other");
        INDArray logProbs = logSoftmax(logits);                     // [batch, pos, d_vocab]
        INDArray out = Nd4j.create(DataType.FLOAT, batch, pos - 1);
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < pos - 1; t++) out.putScalar(b, t, logProbs.getDouble(b, t, rows[b][t + 1]));
        }
        return out;
    }

    /** Log-softmax over the last axis, computed stably (max subtracted first). */
    public static INDArray logSoftmax(INDArray logits) {
        long[] shape = logits.shape();
        long vocab = shape[shape.length - 1], n = logits.length() / vocab;
        INDArray flat = logits.reshape(n, vocab);
        INDArray max = flat.max(1).reshape(n, 1);
        INDArray shifted = flat.subColumnVector(max);
        INDArray lse = Transforms.log(Transforms.exp(shifted, true).sum(1), false).reshape(n, 1);
        return shifted.subiColumnVector(lse).reshape(shape);
    }

    // ---------------------------------------------------------------- generation

    /** The prompt and {@code maxNewTokens} sampled tokens (temperature 1, reproducible from {@code seed}). */
    public String generate(String prompt, int maxNewTokens, long seed) {
        return generate(prompt, maxNewTokens, Sampling.seeded(seed));
    }

    /** The prompt and its continuation as text; BOS, when prepended, is not part of the text. */
    public String generate(String prompt, int maxNewTokens, Sampling sampling) {
        long[] ids = ids(prompt, cfg.defaultPrependBos());
        long[] all = generate(ids, maxNewTokens, sampling);
        int skip = cfg.defaultPrependBos() ? 1 : 0;
        return toText(Arrays.copyOfRange(all, skip, all.length));
    }

    /**
     * The prompt ids followed by up to {@code maxNewTokens} new ids. The context fed to the model is
     * cropped to its last {@code n_ctx} tokens, as the lecture's {@code generate} does.
     */
    public long[] generate(long[] promptIds, int maxNewTokens, Sampling sampling) {
        if (promptIds.length == 0) throw emptyPrompt();
        if (maxNewTokens < 0) throw new IllegalArgumentException("maxNewTokens must be ≥ 0, got " + maxNewTokens);
        checkTokens(new long[][] {promptIds.length > cfg.nCtx()
                ? Arrays.copyOfRange(promptIds, promptIds.length - cfg.nCtx(), promptIds.length) : promptIds});
        long[] seq = Arrays.copyOf(promptIds, promptIds.length + maxNewTokens);
        int len = promptIds.length;
        SplittableRandom random = new SplittableRandom(sampling.seed());
        int eos = tokenizer == null ? -1 : tokenizer.eosTokenId().orElse(-1);
        for (int step = 0; step < maxNewTokens; step++) {
            // A cancellation point: the console's Ctrl-C interrupts this thread (JShell's stop on JDK 20+).
            if (Thread.interrupted()) {
                throw new java.util.concurrent.CancellationException("generation interrupted after " + step + " tokens");
            }
            int from = Math.max(0, len - cfg.nCtx());
            long[][] context = {Arrays.copyOfRange(seq, from, len)};
            files.check();
            INDArray last = forward.run(context, HookContext.plain(), Forward.Logits.LAST, cfg.nLayers() - 1); // [1, 1, d_vocab]
            float[] logits = last.get(point(0), point(0), all()).toFloatVector();
            last.close();
            for (float x : logits) {
                if (Float.isNaN(x)) {
                    throw new IllegalStateException("generation stopped after " + step + " new tokens: "
                            + whereNaNBegins(context, Map.of(), Map.of()));
                }
            }
            int next = Sampler.pick(logits, sampling, random);
            seq[len++] = next;
            if (sampling.stopAtEos() && next == eos) break;
        }
        return Arrays.copyOf(seq, len);
    }

    // ---------------------------------------------------------------- parameters (TransformerLens layout)

    public INDArray W_E() {
        files.check();
        if (packed != null) packed.unembedExposed();
        return reading(weights.W_E());
    }

    public INDArray W_pos() {
        files.check();
        return weights.W_pos();
    }

    public INDArray W_U() {
        files.check();
        if (packed != null) packed.unembedExposed();
        return reading(weights.W_U());
    }

    /** The unembedding bias; zeros for models without one (GPT-2), as TransformerLens shows it. */
    public INDArray b_U() {
        return weights.b_U() != null ? weights.b_U() : Nd4j.zeros(DataType.FLOAT, cfg.dVocab());
    }

    private LayerWeights layer(int l) {
        files.check();
        return weights.layers().get(HookNames.checkLayer(l, cfg.nLayers()));
    }

    /**
     * Block {@code l}'s matrices are being handed out: from now on the packed copies are checked against them
     * before each run (see {@link PackedWeights#exposed}).
     */
    private int handingOut(int l) {
        if (packed != null) packed.exposed(HookNames.checkLayer(l, cfg.nLayers()));
        return l;
    }


    /**
     * Query ({@code part} 0), key (1) or value (2) weights per head, {@code [heads, d_model, d_head]}: a view of the
     * fused matrix. With grouped-query attention keys and values have {@code n_kv_heads} heads here.
     */
    private INDArray headView(int l, int part) {
        int h = cfg.nHeads(), kv = cfg.nKvHeads(), dh = cfg.dHead();
        if (kv == h) return layer(l).qkvW().reshape(cfg.dModel(), 3, h, dh).get(all(), point(part), all(), all()).permute(1, 0, 2);
        long from = part == 0 ? 0 : (long) h * dh + (part - 1L) * kv * dh;
        int heads = part == 0 ? h : kv;
        return layer(l).qkvW().get(all(), interval(from, from + (long) heads * dh)).reshape(cfg.dModel(), heads, dh).permute(1, 0, 2);
    }

    private INDArray headBias(int l, int part) {
        int h = cfg.nHeads(), kv = cfg.nKvHeads(), dh = cfg.dHead();
        if (kv == h) return layer(l).qkvB().reshape(3, h, dh).get(point(part), all(), all());
        long from = part == 0 ? 0 : (long) h * dh + (part - 1L) * kv * dh;
        int heads = part == 0 ? h : kv;
        return layer(l).qkvB().get(interval(from, from + (long) heads * dh)).reshape(heads, dh);
    }

    /**
     * Key/value heads {@code [n_kv_heads, …]} repeated for the query heads they serve ({@code [n_heads, …]}),
     * as TransformerLens's {@code W_K}/{@code W_V} of a grouped-query model (a copy; the grouped form is
     * {@link #groupedW_K}).
     */
    private INDArray perQueryHead(INDArray grouped) {
        int h = cfg.nHeads(), group = h / cfg.nKvHeads();
        if (group == 1) return grouped;
        long[] shape = grouped.shape().clone();
        shape[0] = h;
        INDArray out = Nd4j.create(grouped.dataType(), shape);
        for (int q = 0; q < h; q++) out.slice(q).assign(grouped.slice(q / group));
        return out;
    }

    /** {@code [n_kv_heads, d_model, d_head]}: the key weights as stored (TransformerLens {@code _W_K}). */
    public INDArray groupedW_K(int layer) {
        return reading(headView(handingOut(layer), 1));
    }

    /** {@code [n_kv_heads, d_model, d_head]}: the value weights as stored (TransformerLens {@code _W_V}). */
    public INDArray groupedW_V(int layer) {
        return reading(headView(handingOut(layer), 2));
    }

    /** {@code [n_heads, d_model, d_head]}. */
    public INDArray W_Q(int layer) {
        return reading(headView(handingOut(layer), 0));
    }

    /** {@code [n_heads, d_model, d_head]}; with grouped-query attention each key head repeated for its query heads. */
    public INDArray W_K(int layer) {
        return reading(perQueryHead(headView(handingOut(layer), 1)));
    }

    public INDArray W_V(int layer) {
        return reading(perQueryHead(headView(handingOut(layer), 2)));
    }

    /** {@code [n_heads, d_head]}. */
    public INDArray b_Q(int layer) {
        return headBias(layer, 0);
    }

    public INDArray b_K(int layer) {
        return perQueryHead(headBias(layer, 1));
    }

    public INDArray b_V(int layer) {
        return perQueryHead(headBias(layer, 2));
    }

    /** {@code [n_heads, d_head, d_model]}. */
    public INDArray W_O(int layer) {
        return reading(outputView(handingOut(layer)));
    }

    private INDArray outputView(int l) {
        return layer(l).oW().reshape(cfg.nHeads(), cfg.dHead(), cfg.dModel());
    }

    public INDArray b_O(int layer) {
        return layer(layer).oB();
    }

    /** {@code [d_model, d_mlp]}. */
    public INDArray W_in(int layer) {
        return reading(mlpPart(layer(handingOut(layer)).inW(), layer));
    }

    public INDArray b_in(int layer) {
        return mlpPart(layer(layer).inB(), layer);
    }

    /** {@code [d_mlp, d_model]}. */
    public INDArray W_out(int layer) {
        return reading(mlpPart(layer(handingOut(layer)).outW(), layer));
    }

    public INDArray b_out(int layer) {
        return mlpPart(layer(layer).outB(), layer);
    }

    private INDArray mlpPart(INDArray a, int layer) {
        if (cfg.attnOnly()) throw new IllegalStateException("block " + layer + " has no MLP: this is an attention-only model");
        return a;
    }

    /**
     * Every parameter under its TransformerLens state-dict name ({@code blocks.0.attn.W_Q}, …), in
     * the order TransformerLens lists them. Per-head matrices are views of the fused weights, in the dtype
     * they are stored in (a bfloat16 checkpoint's matrices stay bfloat16 here: widening them all would
     * double a large model's memory; the {@code W_Q(l)}-style accessors give float32).
     */
    public Map<String, INDArray> params() {
        files.check();
        if (packed != null) packed.allExposed();
        Map<String, INDArray> m = new LinkedHashMap<>(paramViews());
        m.put("unembed.b_U", b_U());                       // fresh zeros for models without one
        return m;
    }

    /**
     * {@link #params()} without giving the matrices out, made once (the views stay valid: the
     * arrays never change identity): {@link #param} is called per logit-lens call.
     */
    private Map<String, INDArray> paramViews() {
        if (paramViews == null) paramViews = Collections.unmodifiableMap(buildParamViews());
        return paramViews;
    }

    private Map<String, INDArray> buildParamViews() {
        Map<String, INDArray> m = new LinkedHashMap<>();
        m.put("embed.W_E", weights.W_E());
        if (weights.W_pos() != null) m.put("pos_embed.W_pos", W_pos());
        boolean norm = cfg.hasNorm(), bias = cfg.hasLayerNorm(), grouped = cfg.nKvHeads() != cfg.nHeads();
        Architecture arch = cfg.arch();
        for (int l = 0; l < cfg.nLayers(); l++) {
            String p = HookNames.blockPrefix(l);
            LayerWeights lw = weights.layers().get(l);
            if (norm) m.put(p + "ln1.w", lw.ln1W());
            if (bias) m.put(p + "ln1.b", lw.ln1B());
            if (norm && !cfg.attnOnly()) m.put(p + "ln2.w", lw.ln2W());
            if (bias && !cfg.attnOnly()) m.put(p + "ln2.b", lw.ln2B());
            if (arch.postNorms()) {
                m.put(p + "ln1_post.w", lw.ln1PostW());
                m.put(p + "ln2_post.w", lw.ln2PostW());
            }
            // As TransformerLens's state dict: grouped key/value weights under _W_K/_W_V (W_K(l) repeats them per query head).
            m.put(p + "attn.W_Q", headView(l, 0));
            m.put(p + (grouped ? "attn._W_K" : "attn.W_K"), headView(l, 1));
            m.put(p + (grouped ? "attn._W_V" : "attn.W_V"), headView(l, 2));
            m.put(p + "attn.W_O", outputView(l));
            m.put(p + "attn.b_Q", headBias(l, 0));
            m.put(p + (grouped ? "attn._b_K" : "attn.b_K"), headBias(l, 1));
            m.put(p + (grouped ? "attn._b_V" : "attn.b_V"), headBias(l, 2));
            m.put(p + "attn.b_O", b_O(l));
            if (arch.qkNorm()) {
                m.put(p + "attn.q_norm.w", lw.qNormW());
                m.put(p + "attn.k_norm.w", lw.kNormW());
            }
            if (!cfg.attnOnly()) {
                if (arch.gatedMlp()) m.put(p + "mlp.W_gate", lw.gateW());
                m.put(p + "mlp.W_in", lw.inW());
                m.put(p + "mlp.b_in", lw.inB());
                m.put(p + "mlp.W_out", lw.outW());
                m.put(p + "mlp.b_out", lw.outB());
            }
        }
        if (norm) m.put("ln_final.w", weights.lnFinalW());
        if (bias) m.put("ln_final.b", weights.lnFinalB());
        m.put("unembed.W_U", weights.W_U());
        m.put("unembed.b_U", b_U());
        return m;
    }

    /** One parameter by its TransformerLens name; an unknown name fails with the closest ones. */
    public INDArray param(String name) {
        files.check();
        if (packed != null) packed.allExposed();
        Map<String, INDArray> all = paramViews();
        INDArray a = name.equals("unembed.b_U") ? b_U() : all.get(name);
        if (a == null) {
            throw new IllegalArgumentException("no parameter named '" + name + "'; closest: "
                    + String.join(", ", HookNames.closest(name, all.keySet(), 5)));
        }
        return a;
    }

    /** Number of parameters, counting a tied unembedding once. */
    public long parameterCount() {
        long n = 0;
        for (Map.Entry<String, INDArray> e : paramViews().entrySet()) {
            if (e.getKey().equals("unembed.W_U") && weights.W_U().isView()) continue;
            if (e.getKey().equals("unembed.b_U") && weights.b_U() == null) continue;
            n += e.getValue().length();
        }
        return n;
    }

    @Override
    public String toString() {
        return "HookedTransformer " + cfg.modelName() + " (" + cfg.architecture() + "): " + cfg.nLayers() + " layers, d_model "
                + cfg.dModel() + ", " + cfg.nHeads() + " heads × " + cfg.dHead() + ", "
                + (cfg.attnOnly() ? "attention-only" : "d_mlp " + cfg.dMlp()) + ", d_vocab " + cfg.dVocab()
                + ", n_ctx " + cfg.nCtx() + ", " + String.format("%,d", parameterCount()) + " parameters";
    }
}
