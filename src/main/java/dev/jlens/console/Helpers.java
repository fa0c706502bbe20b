package dev.jlens.console;

import static org.nd4j.linalg.indexing.NDArrayIndex.all;
import static org.nd4j.linalg.indexing.NDArrayIndex.interval;
import static org.nd4j.linalg.indexing.NDArrayIndex.point;

import dev.jlens.analysis.Distributions;
import dev.jlens.analysis.ActivationClusters;
import dev.jlens.analysis.NextTokenPooling;
import dev.jlens.analysis.SampleActivations;
import dev.jlens.analysis.SimilarStrings;
import dev.jlens.cache.ActivationCache;
import dev.jlens.compute.Metric;
import dev.jlens.console.ArgKind.Completes;
import dev.jlens.data.Corpus;
import dev.jlens.data.Dataset;
import dev.jlens.data.NextTokenCounts;
import dev.jlens.data.Split;
import dev.jlens.data.SubstringFrequencyAnalysis;
import dev.jlens.experiment.BlockInternalsExperiment;
import dev.jlens.experiment.BlockInternalsResults;
import dev.jlens.experiment.RunOptions;
import dev.jlens.experiment.SavedSamples;
import dev.jlens.model.Hook;
import dev.jlens.model.HookFn;
import dev.jlens.model.HookedTransformer;
import dev.jlens.model.Sampling;
import dev.jlens.model.ModelConfig;
import dev.jlens.model.Run;
import dev.jlens.tokenize.Tokenizer;
import dev.jlens.view.ArrayText;
import dev.jlens.view.Table;
import dev.jlens.view.TokenText;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * The console's helpers, imported statically by the startup script
 * ({@code import static dev.jlens.console.Helpers.*}) and bound to the session's model.
 *
 * <p>Every helper prints something readable and returns a value that composes in Java:
 * {@code topk("ROMEO:", 5)} prints a table and returns the rows as {@link TopToken} records. A value
 * a helper has printed is not printed again as the snippet's result.
 *
 * <p>Outside the console, bind them first: {@code Helpers.bind(Binding.of(model, System.out))}.
 */
public final class Helpers {
    private static volatile Binding binding;

    private Helpers() {}

    /** Makes {@code b} the binding every helper acts on. */
    public static void bind(Binding b) {
        binding = b;
    }

    static Binding binding() {
        Binding b = binding;
        if (b == null) throw new IllegalStateException("the helpers are not bound to a session: call Helpers.bind(Binding.of(model, System.out))");
        return b;
    }

    private static PrintStream out() {
        return binding().out();
    }

    // ------------------------------------------------------------------ the session's objects

    /** The session's model (waits while it is still loading). */
    public static HookedTransformer model() {
        return binding().model();
    }

    public static Tokenizer tokenizer() {
        return model().tokenizer();
    }

    public static ModelConfig cfg() {
        return model().cfg();
    }

    /** Loads another model and binds the helpers to it: {@code model = load("../shared/fixtures/gpt2-tiny")}. */
    public static HookedTransformer load(@Completes(ArgKind.PATH) String path) {
        if (!Files.exists(Path.of(path)) && !dev.jlens.load.hub.HuggingFaceHub.isRepoId(path)) {
            throw new IllegalArgumentException("no model at " + Path.of(path).toAbsolutePath()
                    + " (and not a Hugging Face name such as gpt2)");
        }
        HookedTransformer m = Work.cancellable("load", () -> HookedTransformer.fromPretrained(path));
        binding().use(m, path);
        out().println("loaded " + m);
        return Shown.mark(m);
    }

    /**
     * Trains a char-level model with {@code ./jlens train}'s options, e.g.
     * {@code m = train("--data tinyshakespeare --out runs/tiny --steps 500")}; {@code train("--help")} lists them.
     * Ctrl-C stops at a checkpoint ({@code --resume} continues). Returns the model; {@code use(m)} binds the helpers to it.
     */
    public static HookedTransformer train(String options) {
        String[] args = options.isBlank() ? new String[0] : options.trim().split("\\s+");
        if (Arrays.asList(args).contains("--help") || Arrays.asList(args).contains("-h")) {
            out().print(dev.jlens.train.TrainCommand.usage());
            return null;
        }
        var trainer = new dev.jlens.train.Trainer(dev.jlens.train.TrainCommand.parse(args), out(), false);
        // Stopped through the trainer, not the thread: it finishes its step and writes a checkpoint first.
        var result = Work.stoppable("train", trainer::run, () -> {
            trainer.stop();
            out().println("stopping at the end of this step…");
        }, "training stopped; continue with --resume");
        return Shown.mark(result.model());
    }

    /**
     * Trains a sparse autoencoder with {@code ./jlens train-sae}'s options, e.g.
     * {@code var sae = trainSae("--data tinyshakespeare --hook blocks.2.hook_resid_pre --out runs/sae2 --steps 500")};
     * {@code trainSae("--help")} lists them. Ctrl-C stops at a checkpoint ({@code --resume} continues). Returns the SAE.
     */
    public static dev.jlens.sae.SAE trainSae(String options) {
        String[] args = options.isBlank() ? new String[0] : options.trim().split("\\s+");
        if (Arrays.asList(args).contains("--help") || Arrays.asList(args).contains("-h")) {
            out().print(dev.jlens.train.TrainSaeCommand.usage());
            return null;
        }
        var job = dev.jlens.train.TrainSaeCommand.start(args, out());
        var result = Work.stoppable("trainSae", job::finish, () -> {
            job.trainer().stop();
            out().println("stopping at the end of this step…");
        }, "SAE training stopped; continue with --resume");
        return result.sae();
    }

    /** Binds the helpers to a model you built or loaded yourself. */
    public static HookedTransformer use(HookedTransformer m) {
        binding().use(m, m.cfg().modelName());
        return m;
    }

    // ------------------------------------------------------------------ runs and the cache

    /**
     * Runs the prompt recording every activation, makes it the current run (what {@code cache(…)}
     * and {@code hooks()} read), and prints its tokens and the top 5 next tokens.
     */
    public static Run run(String prompt) {
        HookedTransformer m = model();
        return remember(m, Work.cancellable("run", () -> m.runWithCache(prompt)));
    }

    /** {@link #run(String)} on token ids ({@code [pos]} or {@code [batch, pos]}). */
    public static Run run(INDArray tokens) {
        HookedTransformer m = model();
        return remember(m, Work.cancellable("run", () -> m.runWithCache(tokens)));
    }

    /**
     * Runs several prompts as one batch, right-padded (each row's own length is kept: loss and log-probs skip
     * the padding), makes it the current run, and prints each prompt's tokens and its top next tokens.
     */
    public static Run run(List<String> prompts) {
        HookedTransformer m = model();
        return remember(m, Work.cancellable("run", () -> m.runWithCache(prompts)));
    }

    private static Run remember(HookedTransformer m, Run run) {
        binding().currentRun(run);
        PrintStream out = out();
        int rows = run.lengths().length;
        for (int r = 0; r < rows; r++) {
            int len = run.lengths()[r];
            List<String> toks = m.toStrTokens(run.tokens().get(point(r), interval(0, len)));
            float[] next = run.logits().get(point(r), point(len - 1), all()).toFloatVector();
            if (rows == 1) {
                out.println("tokens (" + toks.size() + "): " + TokenText.list(toks));
                out.println("top 5 next tokens:");
                out.print(table(topOf(m, next, 5)));
            } else {
                List<String> top = topOf(m, next, 3).stream()
                        .map(t -> "'" + TokenText.visible(t.token()) + "' " + String.format(Locale.ROOT, "%.3f", t.probability())).toList();
                out.println("row " + r + " (" + toks.size() + " tokens): " + TokenText.list(toks) + "  → " + String.join(", ", top));
            }
        }
        return Shown.mark(run);
    }

    /** The current run's stream before each block and at the end, labelled {@code 0_pre} … {@code final_post} (TransformerLens {@code accumulated_resid}). */
    public static dev.jlens.analysis.ResidualStack accumulatedResid() {
        return accumulatedResid(model().cfg().nLayers());
    }

    public static dev.jlens.analysis.ResidualStack accumulatedResid(int layer) {
        return dev.jlens.analysis.ResidualStack.accumulated(model(), currentCache(), layer, false);
    }

    /** What each component wrote into the current run's final stream (TransformerLens {@code decompose_resid}). */
    public static dev.jlens.analysis.ResidualStack decomposeResid() {
        return decomposeResid(model().cfg().nLayers());
    }

    public static dev.jlens.analysis.ResidualStack decomposeResid(int layer) {
        return dev.jlens.analysis.ResidualStack.decomposed(model(), currentCache(), layer);
    }

    /** Each head's output in the current run (TransformerLens {@code stack_head_results}). */
    public static dev.jlens.analysis.ResidualStack stackHeadResults() {
        return stackHeadResults(model().cfg().nLayers());
    }

    public static dev.jlens.analysis.ResidualStack stackHeadResults(int layer) {
        return dev.jlens.analysis.ResidualStack.heads(model(), currentCache(), layer);
    }

    /** The answer's rank, logit and probability after the prompt, and the top 10 there (TransformerLens {@code utils.test_prompt}). */
    public static dev.jlens.analysis.TestPrompt testPrompt(String prompt, String answer) {
        return testPrompt(prompt, answer, 10);
    }

    public static dev.jlens.analysis.TestPrompt testPrompt(String prompt, String answer, int k) {
        HookedTransformer m = model();
        return Work.cancellable("testPrompt", () -> dev.jlens.analysis.TestPrompt.of(m, prompt, answer, k));
    }

    // ------------------------------------------------------------------ analyses of the current run
    // Thin wrappers: the analysis itself lives in dev.jlens.analysis and reads the run; run once, look many ways.

    /** Every head's attention pattern in block {@code layer} of the current run ({@code .show()} opens the grid). */
    public static dev.jlens.analysis.AttentionPatterns attention(int layer) {
        return dev.jlens.analysis.AttentionPatterns.of(model(), requireRun(), layer);
    }

    /** Each component's push towards {@code token} at the current run's last position (direct logit attribution). */
    public static dev.jlens.analysis.DirectLogitAttribution dla(String token) {
        return dev.jlens.analysis.DirectLogitAttribution.of(model(), requireRun(), token);
    }

    /** Each component's push towards {@code answer} rather than {@code wrong} at the current run's last position. */
    public static dev.jlens.analysis.DirectLogitAttribution dla(String answer, String wrong) {
        return dev.jlens.analysis.DirectLogitAttribution.of(model(), requireRun(), answer, wrong);
    }

    /** The log-probability of each token of the current run given the ones before. */
    public static dev.jlens.analysis.TokenLogProbs tokenLogProbs() {
        return dev.jlens.analysis.TokenLogProbs.of(model(), requireRun());
    }

    /** The logit lens of the current run. */
    public static dev.jlens.analysis.LogitLens logitLens() {
        return dev.jlens.analysis.LogitLens.of(model(), requireRun(), false);
    }

    /** The token/position terms of one head's attention scores in the current run. */
    public static dev.jlens.analysis.AttentionScoreDecomposition scoreDecomposition(int layer, int head) {
        return dev.jlens.analysis.AttentionScoreDecomposition.of(model(), requireRun(), layer, head);
    }

    private static Run requireRun() {
        Run r = binding().currentRun();
        if (r == null) throw new IllegalStateException("no current run: call run(\"your prompt\") first");
        return r;
    }

    /** The current run (the last {@code run(…)}), or {@code null}. */
    public static Run currentRun() {
        return binding().currentRun();
    }

    private static ActivationCache currentCache() {
        return requireRun().cache();
    }

    /** An activation of the current run by full name or short name: {@code cache("blocks.0.attn.hook_pattern")}, {@code cache("embed")}. */
    public static INDArray cache(@Completes(ArgKind.HOOK) String name) {
        return currentCache().get(name);
    }

    /** {@code cache("pattern", 0)} = {@code blocks.0.attn.hook_pattern}; negative layers count from the end. */
    public static INDArray cache(@Completes(ArgKind.HOOK) String name, int layer) {
        return currentCache().get(name, layer);
    }

    /** {@code cache("normalized", 0, "ln2")} = {@code blocks.0.ln2.hook_normalized}. */
    public static INDArray cache(@Completes(ArgKind.HOOK) String name, int layer, String sublayer) {
        return currentCache().get(name, layer, sublayer);
    }

    /** Every hook of the current run with its shape (without a run: the model's hook names). */
    public static List<HookShape> hooks() {
        Run r = binding().currentRun();
        List<HookShape> rows = new ArrayList<>();
        if (r == null) {
            for (String n : model().hookNames()) rows.add(new HookShape(n, null));
            out().println("no current run, so no shapes yet: run(\"your prompt\") records them. The model's hook points:");
        } else {
            r.cache().shapes().forEach((n, s) -> rows.add(new HookShape(n, s)));
        }
        Table t = new Table("hook", "shape");
        for (HookShape h : rows) t.row(h.name(), h.shape() == null ? "" : Arrays.toString(h.shape()));
        out().print(t.render());
        return Shown.mark(rows);
    }

    /**
     * A hook for {@code model.runWithHooks(tokens, hook(…), …)}: {@code hook("blocks.0.hook_resid_post", (act, h) -> act.muli(0))};
     * a short name or a glob fires at every match ({@code hook("pattern", fn)}, {@code hook("blocks.*.attn.hook_z", fn)}).
     */
    public static Hook hook(@Completes(ArgKind.HOOK) String name, HookFn fn) {
        return Hook.hook(name, fn);
    }

    /** TransformerLens's short name at one layer: {@code hook("pattern", 1, fn)}. */
    public static Hook hook(@Completes(ArgKind.HOOK) String shortName, int layer, HookFn fn) {
        return Hook.hook(shortName, layer, fn);
    }

    /** Fires at every hook point whose full name passes {@code names}: {@code hook(n -> n.endsWith("hook_z"), fn)}. */
    public static Hook hook(java.util.function.Predicate<String> names, HookFn fn) {
        return Hook.hook(names, fn);
    }

    /** Logits of the prompt run with hooks that read or replace activations. */
    public static INDArray runWithHooks(String prompt, Hook... hooks) {
        HookedTransformer m = model();
        return Work.cancellable("runWithHooks", () -> m.runWithHooks(m.toTokens(prompt), hooks));
    }

    // ------------------------------------------------------------------ tokens and predictions

    /** {@code [1, pos]} token ids of the text (BOS first when the model uses one). */
    public static INDArray tokens(String text) {
        return model().toTokens(text);
    }

    /** Each token's text; printed with spaces as ·, newlines as ⏎. */
    public static List<String> strTokens(String text) {
        List<String> toks = model().toStrTokens(text);
        out().println(TokenText.list(toks));
        return Shown.mark(toks);
    }

    /** The k most likely next tokens after the prompt's last position. */
    public static List<TopToken> topk(String prompt, int k) {
        HookedTransformer m = model();
        INDArray logits = Work.cancellable("topk", () -> m.forward(prompt));
        return printed(topOf(m, lastRow(logits), k));
    }

    /** {@code topk(prompt, 5)}. */
    public static List<TopToken> topk(String prompt) {
        return topk(prompt, 5);
    }

    /**
     * The k most likely tokens of logits: {@code [d_vocab]}, or the last position of
     * {@code [pos, d_vocab]} / {@code [batch, pos, d_vocab]} (batch 0).
     */
    public static List<TopToken> topk(INDArray logits, int k) {
        return printed(topOf(model(), lastRow(logits), k));
    }

    public static List<TopToken> topk(INDArray logits) {
        return topk(logits, 5);
    }

    private static List<TopToken> printed(List<TopToken> rows) {
        out().print(table(rows));
        return Shown.mark(rows);
    }

    private static float[] lastRow(INDArray logits) {
        return switch (logits.rank()) {
            case 1 -> logits.toFloatVector();
            case 2 -> logits.getRow(logits.size(0) - 1).toFloatVector();
            case 3 -> logits.get(point(0), point(logits.size(1) - 1), all()).toFloatVector();
            default -> throw new IllegalArgumentException("logits must be [d_vocab], [pos, d_vocab] or [batch, pos, d_vocab], got "
                    + Arrays.toString(logits.shape()));
        };
    }

    /** Top k of one row ({@link Distributions#topK}), with softmax probabilities. */
    static List<TopToken> topOf(HookedTransformer m, float[] row, int k) {
        if (k <= 0) throw new IllegalArgumentException("k must be positive, got " + k);
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (float v : row) max = Math.max(max, v);
        for (float v : row) sum += Math.exp(v - max);
        int[] best = Distributions.topK(row, k);
        List<TopToken> out = new ArrayList<>(best.length);
        for (int r = 0; r < best.length; r++) {
            int id = best[r];
            out.add(new TopToken(r + 1, id, m.tokenText(id), Math.exp(row[id] - max) / sum, row[id]));
        }
        return out;
    }

    private static String table(List<TopToken> rows) {
        Table t = new Table("rank", "token", "probability", "logit", "id");
        for (TopToken r : rows) {
            t.row(r.rank(), "'" + TokenText.visible(r.token()) + "'", String.format(Locale.ROOT, "%.4f", r.probability()),
                    String.format(Locale.ROOT, "%.3f", r.logit()), r.id());
        }
        return t.render();
    }

    /** Samples n tokens after the prompt at temperature 1 with a random seed (printed, so you can repeat it). */
    public static String generate(String prompt, int n) {
        long seed = System.nanoTime() & 0xffff;
        out().println("(seed " + seed + ")");
        return generate(prompt, n, seed);
    }

    /** Samples n tokens after the prompt at temperature 1; the same seed gives the same text. Prints and returns the text. */
    public static String generate(String prompt, int n, long seed) {
        return generate(prompt, n, Sampling.seeded(seed));
    }

    /**
     * Generates with any {@link Sampling} ({@code Sampling.seeded(1).withTemperature(0.8).withTopK(40).withTopP(0.9)},
     * {@code Sampling.greedy()}), printing each token as it comes. Ctrl-C stops it and keeps the text so far.
     */
    public static String generate(String prompt, int n, Sampling sampling) {
        HookedTransformer m = model();
        boolean bos = m.cfg().defaultPrependBos();
        long[] promptIds = m.toTokens(prompt, bos).toLongVector();
        PrintStream out = out();
        out.print(prompt);
        out.flush();
        java.util.concurrent.atomic.AtomicBoolean stopped = new java.util.concurrent.atomic.AtomicBoolean();
        long[] all = Work.untilStopped("generate", () -> m.generate(promptIds, n, sampling, id -> {
            out.print(m.tokenText(id));
            out.flush();
            return !stopped.get();
        }), () -> stopped.set(true));
        int made = all.length - promptIds.length;
        out.println(made < n && stopped.get() ? "\n(stopped after " + made + " of " + n + " tokens; the text so far is the value)" : "");
        String text = m.toText(java.util.Arrays.copyOfRange(all, bos ? 1 : 0, all.length));
        return Shown.mark(text);
    }

    /**
     * The logit lens of the prompt: each layer's top token and its probability at every position,
     * decoding the residual stream through the model's final LayerNorm and unembedding. The run
     * becomes the current run.
     */
    public static dev.jlens.analysis.LogitLens logitLens(String prompt) {
        HookedTransformer m = model();
        return lens(m, Work.cancellable("logitLens", () -> m.runWithCache(prompt)));
    }

    /** {@link #logitLens(String)} of token ids ({@code [pos]} or {@code [1, pos]}). */
    public static dev.jlens.analysis.LogitLens logitLens(INDArray tokens) {
        HookedTransformer m = model();
        return lens(m, Work.cancellable("logitLens", () -> m.runWithCache(tokens)));
    }

    /** A thin wrapper: the analysis's own logit lens, over the current run (one run, many views). */
    private static dev.jlens.analysis.LogitLens lens(HookedTransformer m, Run run) {
        binding().currentRun(run);
        dev.jlens.analysis.LogitLens lens = Work.cancellable("logitLens", () -> dev.jlens.analysis.LogitLens.of(m, run, false));
        out().println(lens);
        return Shown.mark(lens);
    }

    // ------------------------------------------------------------------ sparse autoencoders

    /** An SAE from a folder (SAELens, sparsify) or file (Gemma Scope's params.npz): {@code var sae = loadSae("artifacts/…/saes/…")}. */
    public static dev.jlens.sae.SAE loadSae(@Completes(ArgKind.PATH) String path) {
        dev.jlens.sae.SAE sae = Work.cancellable("loadSae", () -> dev.jlens.sae.SAE.load(Path.of(path)));
        out().println(sae);
        return Shown.mark(sae);
    }

    /**
     * Runs the prompt with SAEs spliced in (each replaces its hook point by its reconstruction, or keeps the run exact
     * when given {@code sae.withErrorTerm()}), recording everything, their hook points too; becomes the current run.
     */
    public static Run runWithSaes(String prompt, dev.jlens.sae.SAE... saes) {
        HookedTransformer m = model();
        List<dev.jlens.model.Splice> splices = new ArrayList<>();
        for (dev.jlens.sae.SAE s : saes) splices.addAll(s.splices());
        return remember(m, Work.cancellable("runWithSaes", () -> m.run(m.toTokens(prompt), List.of(), dev.jlens.cache.CacheSpec.all(), true, splices)));
    }

    /** Feature {@code f} of the SAE on the current run: its activation per token and the tokens it promotes. */
    public static dev.jlens.analysis.FeatureDashboard feature(dev.jlens.sae.SAE sae, int f) {
        return dev.jlens.analysis.FeatureDashboard.of(model(), sae, f, requireRun());
    }

    /** {@link #feature(dev.jlens.sae.SAE, int)} with its corpus statistics and top contexts ({@code featureContexts(folder)}). */
    public static dev.jlens.analysis.FeatureDashboard feature(dev.jlens.sae.SAE sae, int f, dev.jlens.sae.FeatureStatistics stats) {
        HookedTransformer m = model();
        return Work.cancellable("feature", () -> dev.jlens.analysis.FeatureDashboard.of(m, sae, f, requireRun()).withContexts(m, sae, stats));
    }

    /**
     * How well the SAE stands in for its hook point on a prompt: MSE, explained variance, L0, and the loss with it
     * spliced in against the clean run and the hook zero-ablated (CE loss recovered).
     */
    public static dev.jlens.sae.Reconstruction reconstruction(dev.jlens.sae.SAE sae, String prompt) {
        HookedTransformer m = model();
        dev.jlens.sae.Reconstruction r = Work.cancellable("reconstruction", () -> dev.jlens.sae.Reconstruction.of(m, sae, m.toTokens(prompt)));
        out().println(r);
        return Shown.mark(r);
    }

    /** A feature-contexts results folder ({@code ./jlens experiment feature-contexts …}). */
    public static dev.jlens.experiment.FeatureContexts featureContexts(@Completes(ArgKind.PATH) String folder) {
        return Work.cancellable("featureContexts", () -> dev.jlens.experiment.FeatureContexts.open(Path.of(folder)));
    }

    // ------------------------------------------------------------------ dataset-scale experiments

    /** A text file read with the session model's tokenizer: {@code var c = corpus("../shared/data/tinyshakespeare/input.txt")}. */
    public static Corpus corpus(@Completes(ArgKind.PATH) String path) {
        Corpus c = Work.cancellable("corpus", () -> Corpus.read(Path.of(path), model().tokenizer()));
        out().println(c);
        return Shown.mark(c);
    }

    /** Seed 002's samples: windows of {@code length} tokens every {@code stride} tokens of a split ("train", "val", "all"). */
    public static Dataset windows(Corpus corpus, String split, int length, int stride) {
        return Dataset.windows(corpus, Split.parse(split), length, stride);
    }

    /** Seed 000's samples: every distinct run of {@code length} tokens of a split, in order of first occurrence. */
    public static Dataset substrings(Corpus corpus, String split, int length) {
        return Work.cancellable("substrings", () -> Dataset.uniqueSubstrings(corpus, Split.parse(split), length));
    }

    /** Prefix → how often each token follows it, over a split (seed 000's {@code build_next_token_map}). */
    public static NextTokenCounts nextTokenCounts(Corpus corpus, String split, int prefixLength) {
        return Work.cancellable("nextTokenCounts", () -> NextTokenCounts.of(corpus, Split.parse(split), prefixLength));
    }

    /** Seed 000's frequency summary of a few substrings: prints it, returns it. */
    public static SubstringFrequencyAnalysis substringFrequencies(NextTokenCounts counts, String... substrings) {
        SubstringFrequencyAnalysis a = SubstringFrequencyAnalysis.of(List.of(substrings), counts, model().tokenizer());
        out().print(a.summary());
        return Shown.mark(a);
    }

    /**
     * Runs the block-internals experiment on the session model into {@code folder} (or resumes it, or
     * opens it when it is complete) and returns the results: {@code var r = blockInternals(windows(c,
     * "val", 128, 128), "results/block1", 1); r.matrix("blocks.1.hook_attn_out")}. Ctrl-C stops after
     * the current batch; calling it again resumes.
     */
    public static BlockInternalsResults blockInternals(Dataset data, @Completes(ArgKind.PATH) String folder, int... blocks) {
        BlockInternalsExperiment exp = BlockInternalsExperiment.of(model(), data, blocks);
        RunOptions options = RunOptions.defaults().withOutput(out(), false);
        return Shown.mark(Work.cancellable("blockInternals", () -> exp.run(Path.of(folder), options)));
    }

    /** Opens a block-internals results folder (checks its manifest; {@code .verify()} checks every batch's SHA-256). */
    public static BlockInternalsResults openResults(@Completes(ArgKind.PATH) String folder) {
        BlockInternalsResults r = BlockInternalsResults.open(Path.of(folder));
        out().println(r);
        return Shown.mark(r);
    }

    // ------------------------------------------------------------------ similar strings and clusters (seed 000)

    /** Nearness by direction, for {@code similarStrings}, {@code nextTokenSweep} and {@code clusters}. */
    public static final Metric COSINE = Metric.COSINE;
    /** Nearness by distance. */
    public static final Metric EUCLIDEAN = Metric.EUCLIDEAN;

    /**
     * A block-internals results folder (saved with {@code --positions last}) at one hook, ready for
     * {@code similarStrings}, {@code nextTokenSweep} and {@code clusters}: {@code savedActivations("results/s10", "blocks.3.hook_mlp_out")}.
     */
    public static SampleActivations savedActivations(@Completes(ArgKind.PATH) String folder, @Completes(ArgKind.HOOK) String hook) {
        HookedTransformer m = model();
        SampleActivations acts = Work.cancellable("savedActivations", () -> SavedSamples.open(Path.of(folder), hook, m));
        out().println(acts);
        return Shown.mark(acts);
    }

    /** {@link #savedActivations(String, String)} of results already open: {@code savedActivations(blockInternals(…), hook)}. */
    public static SampleActivations savedActivations(BlockInternalsResults results, @Completes(ArgKind.HOOK) String hook) {
        HookedTransformer m = model();
        SampleActivations acts = Work.cancellable("savedActivations", () -> SavedSamples.of(results, hook, m));
        out().println(acts);
        return Shown.mark(acts);
    }

    /** The k corpus strings whose activations are most like the prompt's, by cosine similarity; prints a table. */
    public static SimilarStrings similarStrings(SampleActivations acts, String prompt, int k) {
        return similarStrings(acts, prompt, k, COSINE);
    }

    /** {@link #similarStrings(SampleActivations, String, int)} by {@code COSINE} or {@code EUCLIDEAN}. */
    public static SimilarStrings similarStrings(SampleActivations acts, String prompt, int k, Metric metric) {
        HookedTransformer m = model();
        return printedAsText(Work.cancellable("similarStrings", () -> SimilarStrings.of(m, acts, prompt, k, metric)));
    }

    /**
     * Seed 000's headline analysis: the next tokens of the corpus strings at least as similar to the
     * prompt as each threshold, pooled and compared with the model's prediction (Hellinger distance);
     * thresholds where 1, 3, 10, 30, … strings are kept.
     */
    public static NextTokenPooling nextTokenSweep(SampleActivations acts, String prompt) {
        HookedTransformer m = model();
        return printedAsText(Work.cancellable("nextTokenSweep", () -> NextTokenPooling.sweep(m, acts, prompt, COSINE)));
    }

    /** The sweep at given thresholds: cosine similarities (≥) under {@code COSINE}, distances (≤) under {@code EUCLIDEAN}. */
    public static NextTokenPooling nextTokenSweep(SampleActivations acts, String prompt, Metric metric, double... thresholds) {
        HookedTransformer m = model();
        return printedAsText(Work.cancellable("nextTokenSweep", () -> thresholds.length == 0
                ? NextTokenPooling.sweep(m, acts, prompt, metric) : NextTokenPooling.sweep(m, acts, prompt, metric, thresholds)));
    }

    /** k-means (Euclidean, seed 0) of the activations, summarised per cluster as strings and the most common next token. */
    public static ActivationClusters clusters(SampleActivations acts, int k) {
        return clusters(acts, k, EUCLIDEAN, 0);
    }

    /** {@link #clusters(SampleActivations, int)}: {@code COSINE} for spherical k-means; the seed fixes the sample and k-means++. */
    public static ActivationClusters clusters(SampleActivations acts, int k, Metric metric, long seed) {
        return printedAsText(Work.cancellable("clusters", () -> ActivationClusters.of(acts, k, metric, seed)));
    }

    private static <T> T printedAsText(T result) {
        out().print(result);
        return Shown.mark(result);
    }

    // ------------------------------------------------------------------ arrays

    /** TransformerLens {@code get_corner}: {@code t[:3, :3, …]}. */
    public static INDArray corner(INDArray t) {
        return ArrayText.corner(t, 3);
    }

    /** {@code t[:n, :n, …]}. */
    public static INDArray corner(INDArray t, int n) {
        return ArrayText.corner(t, n);
    }

    /** Prints shape, dtype, min/max/mean and the corner; returns t. */
    public static INDArray show(INDArray t) {
        out().println(ArrayText.render(t));
        return Shown.mark(t);
    }

    /** max |a − b| over all elements; the shapes must match. */
    public static double maxAbsDiff(INDArray a, INDArray b) {
        if (!Arrays.equals(a.shape(), b.shape())) {
            throw new IllegalArgumentException("shapes differ: " + Arrays.toString(a.shape()) + " vs " + Arrays.toString(b.shape()));
        }
        return Transforms.abs(a.castTo(b.dataType()).sub(b), false).maxNumber().doubleValue();
    }

    /** Throws an {@link AssertionError} with the message when the condition is false (JShell runs without -ea). */
    public static void check(boolean condition, String message) {
        if (!condition) throw new AssertionError(message);
    }

    /** Every named parameter with its shape, TransformerLens names ({@code blocks.0.attn.W_Q}). */
    public static Map<String, INDArray> params() {
        Map<String, INDArray> p = model().params();
        Table t = new Table("parameter", "shape", "dtype", "elements");
        p.forEach((n, a) -> t.row(n, Arrays.toString(a.shape()), a.dataType(), String.format(Locale.ROOT, "%,d", a.length())));
        out().print(t.render());
        return Shown.mark(p);
    }

    /** One parameter by name: {@code param("blocks.0.mlp.W_in")}. */
    public static INDArray param(@Completes(ArgKind.PARAM) String name) {
        return model().param(name);
    }

    // ------------------------------------------------------------------ printing, help, errors, scripts

    /** Prints a value as the console shows it (a String as it is). */
    public static void println(Object value) {
        out().println(value instanceof String s ? s : Printer.render(value));
    }

    /** Prints a string without a newline. */
    public static void print(String s) {
        out().print(s);
    }

    /** The helpers and the help topics. */
    public static void help() {
        out().print(HelpText.overview());
    }

    /** Help on a helper or a topic: {@code help("cache")}, {@code help("completion")}. */
    public static void help(@Completes(ArgKind.TOPIC) String topic) {
        out().print(HelpText.topic(topic));
    }

    /** Prints the full stack trace of the last error and returns it ({@code null} if none yet). */
    public static Throwable lastError() {
        Throwable t = binding().lastError();
        if (t == null) out().println("no error yet");
        else t.printStackTrace(out());
        return Shown.mark(t);
    }

    /** Runs a .jsh script in this session after the current input, as if typed. */
    public static void runScript(@Completes(ArgKind.PATH) String path) {
        Path p = Path.of(path);
        if (!Files.isRegularFile(p)) throw new IllegalArgumentException("no script at " + p.toAbsolutePath());
        binding().queueScript(p);
    }
}
