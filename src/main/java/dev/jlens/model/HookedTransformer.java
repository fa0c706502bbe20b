package dev.jlens.model;

import dev.jlens.cache.ActivationCache;
import dev.jlens.cache.CacheSpec;
import dev.jlens.cache.HookNames;
import dev.jlens.cache.NameFilter;
import dev.jlens.compute.NonFinite;
import dev.jlens.tokenize.Tokenizer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

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
 *
 * <p>This class runs the model and its hooks ({@code forward}, {@code runWithCache}, {@code runWithHooks},
 * {@code run}) and owns its weights ({@code weights()}, {@link #editWeights}). The rest are one-line doors to
 * classes of their own: text and token ids, BOS and padding ({@link TokenIds}), sampling a continuation
 * ({@link Generation}), TransformerLens's parameter views {@code W_Q(l)} … {@code params()}
 * ({@link ParameterViews}), and log-probabilities and the loss ({@link LogProbs}).
 */
public final class HookedTransformer {
    private final ModelConfig cfg;
    private final Weights weights;
    private final PackedWeights packed;
    private final Forward forward;
    private final TokenIds tokens;
    private final ParameterViews params;
    private final Generation generation;
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
        this.packed = owning ? new PackedWeights(cfg, weights, PackedWeights.defaultBudget(), files.rereads()) : null;
        if (packed != null) packed.packAll(cfg);   // now, while the loader's file is open: see PackedWeights.packAll
        this.forward = new Forward(cfg, weights, packed);
        this.hookNames = List.copyOf(Forward.hookNames(cfg));
        this.hookNameSet = new HashSet<>(hookNames);
        this.files = files;
        this.tokens = new TokenIds(cfg, tokenizer);
        this.params = new ParameterViews(cfg, weights, packed, files);
        this.generation = new Generation(this);
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
        params.editing(true);
        try {
            edit.accept(weights);
        } finally {
            params.editing(false);
            if (packed != null) packed.refresh();
        }
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
        return tokens.tokenText(id);
    }

    /** Whether text can be tokenized: a model folder without tokenizer files runs on token ids only. */
    public boolean hasTokenizer() {
        return tokens.hasTokenizer();
    }

    public Tokenizer tokenizer() {
        return tokens.tokenizer();
    }

    /** Every hook point, in forward order ({@code attn.hook_result} is computed only when asked for). */
    public List<String> hookNames() {
        return hookNames;
    }

    // ---------------------------------------------------------------- tokens (TokenIds)

    /** {@code [1, pos]} token ids, with BOS first when the model uses one ({@link ModelConfig#defaultPrependBos}). */
    public INDArray toTokens(String text) {
        return tokens.toTokens(text);
    }

    /** {@code [1, pos]} token ids, with or without BOS. */
    public INDArray toTokens(String text, boolean prependBos) {
        return tokens.toTokens(text, prependBos);
    }

    /** {@code [batch, pos]} ids for several prompts, right-padded to the longest with the EOS id (or 0). */
    public INDArray toTokens(List<String> texts) {
        return tokens.toTokens(texts);
    }

    /** Each token's text, BOS included when {@code toTokens} would add it. */
    public List<String> toStrTokens(String text) {
        return tokens.toStrTokens(text);
    }

    public List<String> toStrTokens(String text, boolean prependBos) {
        return tokens.toStrTokens(text, prependBos);
    }

    /** One prompt's tokens; a batch is refused with what to call instead. */
    public List<String> toStrTokens(INDArray ids) {
        return tokens.toStrTokens(ids);
    }

    /** Row {@code row} of a batch, without its padding. */
    public List<String> toStrTokens(INDArray ids, int row) {
        return tokens.toStrTokens(ids, row);
    }

    /** Every row of a batch, each without its padding. */
    public List<List<String>> toStrTokensAll(INDArray ids) {
        return tokens.toStrTokensAll(ids);
    }

    /** The text of token ids (TransformerLens {@code to_string}). */
    public String toText(long... ids) {
        return tokens.toText(ids);
    }

    /** The text of token ids {@code [pos]} or {@code [1, pos]} (TransformerLens {@code to_string} of a tensor). */
    public String toText(INDArray ids) {
        return tokens.toText(ids);
    }

    /** The vocabulary, token text → id (TransformerLens {@code tokenizer.vocab}). */
    public Map<String, Integer> vocab() {
        return tokens.vocab();
    }

    /** The id of a string that must be exactly one token (TransformerLens {@code to_single_token}). */
    public int toSingleToken(String text) {
        return tokens.toSingleToken(text);
    }

    TokenIds tokenIds() {
        return tokens;
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
        TokenIds.Padded p = tokens.padded(prompts);
        return run(p.rows(), p.lengths(), List.of(), CacheSpec.all(), true, List.of());
    }

    public Run runWithCache(INDArray tokens) {
        return run(tokens, List.of(), CacheSpec.all(), true);
    }

    /** Runs recording what {@code spec} selects, e.g. {@code CacheSpec.all().withPatternsInBf16()}. */
    public Run runWithCache(INDArray tokens, CacheSpec spec) {
        return run(tokens, List.of(), spec, true);
    }

    /**
     * Records the activations whose full names pass {@code names} (TransformerLens's {@code names_filter} as a
     * function): {@code runWithCache(tokens, name -> name.endsWith("hook_z"))}.
     */
    public Run runWithCache(INDArray tokens, java.util.function.Predicate<String> names) {
        return run(tokens, List.of(), CacheSpec.where(names), true);
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
        return run(TokenIds.rows(tokens), this.tokens.lengths(tokens), hooks, cache, withLogits, List.of());
    }

    /**
     * A run with modules spliced in at hook points (sparse autoencoders: {@code dev.jlens.sae}). Each splice's own hook
     * points join the run's, named under the point it sits at, so hooks and the cache take them like any other.
     */
    public Run run(INDArray tokens, List<Hook> hooks, CacheSpec cache, boolean withLogits, List<? extends Splice> splices) {
        return run(TokenIds.rows(tokens), this.tokens.lengths(tokens), hooks, cache, withLogits, splices);
    }

    /** The hook points of a run with these splices: the model's, each splice's own right after the point it sits at. */
    public List<String> hookNames(List<? extends Splice> splices) {
        if (splices.isEmpty()) return hookNames;
        Map<String, Splice> at = splicesByPoint(splices);
        List<String> names = new ArrayList<>();
        for (String n : hookNames) {
            names.add(n);
            Splice s = at.get(n);
            if (s != null) for (String p : s.pointNames()) names.add(n + "." + p);
        }
        return List.copyOf(names);
    }

    private Map<String, Splice> splicesByPoint(List<? extends Splice> splices) {
        Map<String, Splice> at = new LinkedHashMap<>();
        for (Splice s : splices) {
            if (!hookNameSet.contains(s.hookName())) {
                throw new IllegalArgumentException("cannot splice at '" + s.hookName() + "': " + cfg.modelName() + " has no such hook point"
                        + " (it was made for another model?); " + HookNames.unknown(s.hookName(), hookNames).getMessage());
            }
            if (at.put(s.hookName(), s) != null) {
                throw new IllegalArgumentException("two modules spliced in at " + s.hookName() + ": splice one per hook point");
            }
        }
        return at;
    }

    private Run run(long[][] rows, int[] lengths, List<Hook> hooks, CacheSpec cache, boolean withLogits, List<? extends Splice> splices) {
        tokens.check(rows);
        List<String> names = hookNames(splices);
        Map<String, Splice> spliced = splices.isEmpty() ? Map.of() : splicesByPoint(splices);
        Map<String, List<HookFn>> byName = new LinkedHashMap<>();
        for (Hook h : hooks) {
            for (String target : hookPoints(h, names)) byName.computeIfAbsent(target, k -> new ArrayList<>()).add(h.fn());
        }
        int stopAfter = cfg.nLayers() - 1;
        if (!withLogits) {
            stopAfter = -1;
            for (String name : names) {
                if (cache == null || !cache.names().test(name)) continue;
                int layer = HookNames.layerOf(name);
                stopAfter = Math.max(stopAfter, layer < 0 && name.startsWith("ln_final") ? cfg.nLayers() - 1 : layer);
            }
            for (String name : byName.keySet()) stopAfter = Math.max(stopAfter, HookNames.layerOf(name));
        }
        files.check();   // before any read of a mapped page: a truncated file would kill the JVM
        HookContext ctx = new HookContext(byName, cache, spliced);
        INDArray logits = forward.run(rows, ctx, withLogits ? Forward.Logits.ALL : Forward.Logits.NONE, stopAfter);
        if (logits != null && NonFinite.hasNaN(logits)) System.err.println("jlens: warning: " + whereNaNBegins(rows, byName, ctx.recorded()));
        ActivationCache recorded = new ActivationCache(ctx.recorded(), cfg.nLayers(), names, ctx.ownersOfRecordedViews());
        return new Run(Nd4j.createFromArray(rows), lengths, logits, recorded);
    }

    /**
     * The hook points a hook fires at: its full name; TransformerLens's short name at its layer
     * ({@code hook("pattern", 1, fn)}); or, without a layer, every hook point a short name or glob matches
     * ({@code "pattern"}, {@code "blocks.*.attn.hook_pattern"}); or every hook point its predicate passes. A name
     * that matches none fails with the closest.
     */
    private List<String> hookPoints(Hook h, List<String> names) {
        List<String> targets;
        if (h.where() != null) {
            targets = names.stream().filter(h.where()).toList();
            if (targets.isEmpty()) throw new IllegalArgumentException("the hook's predicate passes none of the run's "
                    + names.size() + " hook points (list them with model.hookNames()); fix the predicate");
            return targets;
        }
        Set<String> nameSet = names == hookNames ? hookNameSet : new HashSet<>(names);
        if (h.layer() != null) targets = List.of(HookNames.resolve(h.name(), h.layer(), null, cfg.nLayers()));
        else if (nameSet.contains(h.name())) targets = List.of(h.name());
        else targets = names.stream().filter(NameFilter.of(h.name())).toList();
        if (targets.isEmpty() || !nameSet.containsAll(targets)) throw HookNames.unknown(h.name(), names);
        return targets;
    }

    /** The last position's logits {@code [1, 1, d_vocab]} of one context, without hooks (a generation step). */
    INDArray lastLogits(long[][] context) {
        return lastLogits(context, null);
    }

    /** As {@link #lastLogits(long[][])} for tokens that continue those {@code kv} holds (null: a whole context). */
    INDArray lastLogits(long[][] tokens, KvCache kv) {
        files.check();
        return forward.run(tokens, kv == null ? HookContext.plain() : HookContext.generating(kv), Forward.Logits.LAST,
                cfg.nLayers() - 1);
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
    String whereNaNBegins(long[][] rows, Map<String, List<HookFn>> userHooks, Map<String, INDArray> recorded) {
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

    // ---------------------------------------------------------------- loss

    /** Mean next-token cross-entropy over the text's tokens (BOS as {@link #toTokens(String)}). */
    public double loss(String text) {
        return loss(toTokens(text));
    }

    /**
     * Mean of {@code -log p(token[i+1] | ≤ i)} over every real prediction of every row: a batch that
     * {@link #toTokens(List)} right-padded counts each prompt's own tokens only (the token-weighted mean of
     * the prompts' losses), never its padding.
     */
    public double loss(INDArray tokens) {
        return LogProbs.meanLoss(tokenLogProbs(tokens));
    }

    /** The loss of several prompts together: the token-weighted mean of their own losses. */
    public double loss(List<String> prompts) {
        return loss(toTokens(prompts));
    }

    /** {@code [batch, pos-1]}: each position's log-probability of the next token; NaN where a padded batch has padding. */
    public INDArray tokenLogProbs(INDArray tokens) {
        return LogProbs.tokenLogProbs(forward(tokens), tokens, this.tokens.lengths(tokens));
    }

    // ---------------------------------------------------------------- generation (Generation)

    /** The prompt and {@code maxNewTokens} sampled tokens (temperature 1, reproducible from {@code seed}). */
    public String generate(String prompt, int maxNewTokens, long seed) {
        return generation.generate(prompt, maxNewTokens, Sampling.seeded(seed));
    }

    /** The prompt and its continuation as text; BOS, when prepended, is not part of the text. */
    public String generate(String prompt, int maxNewTokens, Sampling sampling) {
        return generation.generate(prompt, maxNewTokens, sampling);
    }

    /**
     * The prompt ids followed by up to {@code maxNewTokens} new ids. The context fed to the model is
     * cropped to its last {@code n_ctx} tokens, as the lecture's {@code generate} does.
     */
    public long[] generate(long[] promptIds, int maxNewTokens, Sampling sampling) {
        return generation.generate(promptIds, maxNewTokens, sampling);
    }

    /**
     * Streaming: each new id goes to {@code onToken} as soon as it is picked (print its {@code tokenText}); the
     * generation stops early when {@code onToken} answers false or the thread is interrupted, and returns the
     * prompt and what was generated so far.
     */
    public long[] generate(long[] promptIds, int maxNewTokens, Sampling sampling, java.util.function.LongPredicate onToken) {
        return generation.generate(promptIds, maxNewTokens, sampling, onToken);
    }

    // ---------------------------------------------------------------- parameters (ParameterViews)

    /** {@code [d_vocab, d_model]}. */
    public INDArray W_E() {
        return params.W_E();
    }

    /** {@code [n_ctx, d_model]}; null for models without learned positions. */
    public INDArray W_pos() {
        return params.W_pos();
    }

    /** {@code [d_model, d_vocab]}. */
    public INDArray W_U() {
        return params.W_U();
    }

    /** The unembedding bias; zeros for models without one (GPT-2), as TransformerLens shows it. */
    public INDArray b_U() {
        return params.b_U();
    }

    /** Every block's {@code W_Q} stacked, {@code [n_layers, n_heads, d_model, d_head]} (TransformerLens's {@code model.W_Q}; a copy). */
    public INDArray W_Q() {
        return params.W_Q();
    }

    /** {@code [n_layers, n_heads, d_model, d_head]} (grouped key heads repeated per query head; a copy). */
    public INDArray W_K() {
        return params.W_K();
    }

    /** {@code [n_layers, n_heads, d_model, d_head]} (a copy). */
    public INDArray W_V() {
        return params.W_V();
    }

    /** {@code [n_layers, n_heads, d_head, d_model]} (a copy). */
    public INDArray W_O() {
        return params.W_O();
    }

    /** {@code [n_layers, d_model, d_mlp]} (a copy). */
    public INDArray W_in() {
        return params.W_in();
    }

    /** {@code [n_layers, d_mlp, d_model]} (a copy). */
    public INDArray W_out() {
        return params.W_out();
    }

    /** {@code [n_heads, d_model, d_head]}. */
    public INDArray W_Q(int layer) {
        return params.W_Q(layer);
    }

    /** {@code [n_heads, d_model, d_head]}; with grouped-query attention each key head repeated for its query heads. */
    public INDArray W_K(int layer) {
        return params.W_K(layer);
    }

    public INDArray W_V(int layer) {
        return params.W_V(layer);
    }

    /** {@code [n_kv_heads, d_model, d_head]}: the key weights as stored (TransformerLens {@code _W_K}). */
    public INDArray groupedW_K(int layer) {
        return params.groupedW_K(layer);
    }

    /** {@code [n_kv_heads, d_model, d_head]}: the value weights as stored (TransformerLens {@code _W_V}). */
    public INDArray groupedW_V(int layer) {
        return params.groupedW_V(layer);
    }

    /** {@code [n_heads, d_head]}. */
    public INDArray b_Q(int layer) {
        return params.b_Q(layer);
    }

    public INDArray b_K(int layer) {
        return params.b_K(layer);
    }

    public INDArray b_V(int layer) {
        return params.b_V(layer);
    }

    /** {@code [n_heads, d_head, d_model]}. */
    public INDArray W_O(int layer) {
        return params.W_O(layer);
    }

    public INDArray b_O(int layer) {
        return params.b_O(layer);
    }

    /** {@code [d_model, d_mlp]}. */
    public INDArray W_in(int layer) {
        return params.W_in(layer);
    }

    public INDArray b_in(int layer) {
        return params.b_in(layer);
    }

    /** {@code [d_mlp, d_model]}. */
    public INDArray W_out(int layer) {
        return params.W_out(layer);
    }

    public INDArray b_out(int layer) {
        return params.b_out(layer);
    }

    /** Every parameter under its TransformerLens state-dict name, in TransformerLens's order (see {@link ParameterViews#params}). */
    public Map<String, INDArray> params() {
        return params.params();
    }

    /** One parameter by its TransformerLens name; an unknown name fails with the closest ones. */
    public INDArray param(String name) {
        return params.param(name);
    }

    /** Number of parameters, counting a tied unembedding once. */
    public long parameterCount() {
        return params.parameterCount();
    }

    @Override
    public String toString() {
        return "HookedTransformer " + cfg.modelName() + " (" + cfg.architecture() + "): " + cfg.nLayers() + " layers, d_model "
                + cfg.dModel() + ", " + cfg.nHeads() + " heads × " + cfg.dHead() + ", "
                + (cfg.attnOnly() ? "attention-only" : "d_mlp " + cfg.dMlp()) + ", d_vocab " + cfg.dVocab()
                + ", n_ctx " + cfg.nCtx() + ", " + String.format("%,d", parameterCount()) + " parameters";
    }
}
