package dev.jlens.console;

import dev.jlens.view.Table;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/** The text of {@code help()} and {@code help("topic")}. */
final class HelpText {
    private HelpText() {}

    /** helper → (signature, one line). Kept in the order a newcomer meets them. */
    private static final Map<String, String[]> HELPERS = new LinkedHashMap<>();
    /** topic → text. */
    private static final Map<String, String> TOPICS = new LinkedHashMap<>();

    private static void helper(String name, String signature, String what, String example) {
        HELPERS.put(name, new String[] {signature, what, example});
    }

    static {
        helper("run", "run(prompt)", "run with cache; becomes the current run; prints tokens and top-5 next tokens",
                "var r = run(\"ROMEO:\");  r.logits()");
        helper("cache", "cache(name[, layer[, sublayer]])", "an activation of the current run, full or short name",
                "cache(\"blocks.0.attn.hook_pattern\"); cache(\"pattern\", 0); cache(\"normalized\", 0, \"ln2\")");
        helper("hooks", "hooks()", "every hook of the current run with its shape", "hooks()");
        helper("topk", "topk(prompt | logits[, k])", "table of the k most likely next tokens (rank, token, probability, logit)",
                "var top = topk(\"ROMEO:\", 5);  top.get(0).token()");
        helper("tokens", "tokens(text)", "[1, pos] token ids (BOS first if the model uses one)", "tokens(\"ROMEO:\")");
        helper("strTokens", "strTokens(text)", "each token's text, spaces as ·, newlines as ⏎", "strTokens(\"ROMEO:\\nThus\")");
        helper("generate", "generate(prompt, n[, seed])", "sample n tokens at temperature 1; same seed, same text",
                "generate(\"ROMEO:\", 200, 1337)");
        helper("logitLens", "logitLens(prompt)", "each layer's top token and probability per position (last row = the model's prediction)",
                "logitLens(\"ROMEO:\")");
        helper("attention", "attention(layer)", "every head's pattern in that block of the current run; .show() opens the grid",
                "run(\"The cat sat. The cat\");  attention(1).show()");
        helper("dla", "dla(token) | dla(answer, wrong)", "each component's push towards a token at the current run's last position",
                "run(\"ROMEO:\");  dla(\"\\n\")");
        helper("tokenLogProbs", "tokenLogProbs()", "log p of each token of the current run given the ones before", "tokenLogProbs().savePng()");
        helper("scoreDecomposition", "scoreDecomposition(layer, head)", "token/position terms of a head's attention scores in the current run",
                "scoreDecomposition(0, 1)");
        helper("loadSae", "loadSae(path)", "an SAE: SAELens or sparsify folder, Gemma Scope params.npz", "var sae = loadSae(\"artifacts/shakespeare-char/saes/blocks.2.hook_resid_pre\")");
        helper("runWithSaes", "runWithSaes(prompt, saes…)", "a run with SAEs spliced in; their hook points (….hook_sae_acts_post) join the cache",
                "runWithSaes(\"ROMEO:\", sae.withErrorTerm());  cache(\"blocks.2.hook_resid_pre.hook_sae_acts_post\")");
        helper("reconstruction", "reconstruction(sae, prompt)", "MSE, explained variance, L0, CE loss clean / spliced / zero-ablated",
                "reconstruction(sae, \"ROMEO: But soft\")");
        helper("feature", "feature(sae, f[, featureContexts(dir)])", "a feature's dashboard on the current run: activations, logits, top contexts",
                "feature(sae, 12).show()");
        helper("featureContexts", "featureContexts(folder)", "max-activating contexts of every feature (./jlens experiment feature-contexts)",
                "var fc = featureContexts(\"results/features-val\")");
        helper("savedActivations", "savedActivations(folder, hook)",
                "a block-internals results folder (--positions last) at one hook, for the three below",
                "var acts = savedActivations(\"results/s10\", \"blocks.3.hook_mlp_out\")");
        helper("similarStrings", "similarStrings(acts, prompt, k[, EUCLIDEAN])",
                "the k corpus strings whose saved activations are nearest the prompt's (cosine by default)",
                "similarStrings(acts, \"ROMEO: Wha\", 10)");
        helper("nextTokenSweep", "nextTokenSweep(acts, prompt[, metric, thresholds…])",
                "pooled next tokens of similar strings vs the model's prediction (Hellinger), per threshold",
                "nextTokenSweep(acts, \"ROMEO: Wha\", COSINE, 0.99, 0.95, 0.9)");
        helper("clusters", "clusters(acts, k[, metric, seed])", "k-means of saved activations: sizes, central strings, next tokens",
                "clusters(acts, 20)");
        helper("accumulatedResid", "accumulatedResid([layer])", "the current run's stream before each block (and final_post), labelled",
                "accumulatedResid().stack()");
        helper("decomposeResid", "decomposeResid([layer])", "what each embedding and block wrote into the stream (they add up to it)",
                "decomposeResid().logitAttrs(model, currentRun().cache(), id, -1)");
        helper("stackHeadResults", "stackHeadResults([layer])", "each head's output z·W_O (with b_O they add up to attn_out)",
                "stackHeadResults().labels()");
        helper("testPrompt", "testPrompt(prompt, answer[, k])", "rank, logit and probability of the answer and the top k there (utils.test_prompt)",
                "testPrompt(\"ROMEO:\", \"\\n\")");
        helper("corner", "corner(t[, n])", "t[:3, :3, …] like TransformerLens get_corner", "corner(model.W_E())");
        helper("show", "show(t)", "shape, dtype, min/max/mean and the corner of an array", "show(cache(\"resid_post\", 0))");
        helper("params", "params()", "every named parameter with its shape", "params().get(\"blocks.0.attn.W_Q\")");
        helper("param", "param(name)", "one parameter by TransformerLens name", "param(\"blocks.0.mlp.W_in\")");
        helper("maxAbsDiff", "maxAbsDiff(a, b)", "max |a − b| (shapes must match)", "maxAbsDiff(mine, cache(\"mlp_out\", 0))");
        helper("check", "check(condition, message)", "fail with the message when false (JShell runs without -ea)", "check(d < 1e-4, \"MLP differs\")");
        helper("hook", "hook(name, (act, h) -> …)", "a hook for runWithHooks; return null to keep, an array to replace",
                "runWithHooks(\"ROMEO:\", hook(\"blocks.0.hook_resid_post\", (a, h) -> a.mul(0)))");
        helper("runWithHooks", "runWithHooks(prompt, hooks…)", "logits of a run with hooks", "runWithHooks(\"ROMEO:\", hook(…))");
        helper("corpus", "corpus(path)", "a text file read with the model's tokenizer (first 90% train, last 10% val)",
                "var c = corpus(\"../shared/data/tinyshakespeare/input.txt\")");
        helper("windows", "windows(corpus, split, length, stride)", "samples: windows of a split (seed 002's DataBatcher)",
                "var d = windows(c, \"val\", 128, 128)");
        helper("substrings", "substrings(corpus, split, length)", "samples: every distinct run of length tokens (seed 000)",
                "var s = substrings(c, \"all\", 10);  s.samples().count()");
        helper("nextTokenCounts", "nextTokenCounts(corpus, split, n)", "prefix of n tokens → how often each token follows it",
                "var counts = nextTokenCounts(c, \"train\", 10);  counts.counts(tokenizer.encode(\"ROMEO:\\nThu\"))");
        helper("substringFrequencies", "substringFrequencies(counts, substrings…)", "seed 000's frequency summary of a few substrings",
                "substringFrequencies(counts, \"ROMEO:\\nThu\", \"JULIET:\\nO \")");
        helper("blockInternals", "blockInternals(dataset, folder, blocks…)", "run (or resume, or open) the block-internals experiment; returns the results",
                "var r = blockInternals(d, \"results/block1\", 1);  r.matrix(\"blocks.1.hook_attn_out\")");
        helper("openResults", "openResults(folder)", "a block-internals results folder: matrix(name) [rows, d], batches(name), sampleTokens(i)",
                "openResults(\"results/block1\").verify()");
        helper("load", "load(path)", "load another model and bind the helpers to it", "model = load(\"../shared/fixtures/gpt2-tiny\")");
        helper("train", "train(options)", "train a char-level model (./jlens train's options; train(\"--help\") lists them)",
                "m = train(\"--data tinyshakespeare --out runs/tiny --steps 500\")");
        helper("trainSae", "trainSae(options)", "train a sparse autoencoder on a hook's activations (./jlens train-sae's options)",
                "var sae = trainSae(\"--data tinyshakespeare --hook blocks.2.hook_resid_pre --out runs/sae2 --steps 500\")");
        helper("use", "use(model)", "bind the helpers to a model you hold", "use(otherModel)");
        helper("println", "println(x)", "print a value as the console shows it", "println(cache(\"embed\"))");
        helper("lastError", "lastError()", "the full stack trace of the last error", "lastError()");
        helper("runScript", "runScript(path)", "run a .jsh file in this session after the current input", "runScript(\"startup-scripts/seed001-tour.jsh\")");
        helper("help", "help([topic])", "this overview, or help on a helper or topic", "help(\"completion\")");

        TOPICS.put("variables", """
                Preloaded by the startup script (startup-scripts/default.jsh; --startup FILE for another, --no-startup for none):
                  model      the HookedTransformer (model.cfg(), model.W_E(), model.runWithCache(…), model.hookNames())
                  tokenizer  its tokenizer (encode, decode, tokenString)
                  cfg        its ModelConfig
                Imported: java.util.*, dev.jlens.model.*, INDArray, Nd4j, Transforms, NDArrayIndex.* (point, all, interval).
                """);
        TOPICS.put("hooks", """
                Hook names follow TransformerLens: hook_embed, hook_pos_embed, blocks.L.hook_resid_pre,
                blocks.L.ln1.hook_normalized, blocks.L.attn.hook_q/k/v/attn_scores/pattern/z, blocks.L.hook_attn_out,
                blocks.L.hook_resid_mid, blocks.L.ln2.hook_normalized, blocks.L.mlp.hook_pre/post, blocks.L.hook_mlp_out,
                blocks.L.hook_resid_post, ln_final.hook_normalized.
                Short forms as get_act_name: cache("pattern", 0), cache("resid_post", -1), cache("normalized", 0, "ln2").
                A wrong name fails with the closest names. hooks() lists them with shapes; Tab completes them inside quotes.
                """);
        TOPICS.put("analysis", """
                The analyses (dev.jlens.analysis, imported by the default startup) take the model and a run (run once, look
                many ways: LogitLens.of(model, run("ROMEO:"), false)) or a prompt, and print as tables and heatmaps; show()
                opens a figure, savePng()/saveHtml() write one. On the current run: logitLens(), attention(layer), dla(token),
                tokenLogProbs(), scoreDecomposition(layer, head), accumulatedResid(), decomposeResid(), stackHeadResults().
                  LogitLens.of(model, "ROMEO:", false)            top token per layer and position
                  AttentionPatterns.of(model, "ROMEO:", 1)         every head's pattern in block 1 (head(i) draws one)
                  HeadDetector.detect(model)                       previous-token, duplicate-token and induction scores
                  DirectLogitAttribution.of(model, prompt, " the")  each component's push towards a token
                  BlockInternals.of(model, prompt)                 next-token probabilities inside the blocks
                  ActivationPatching.residPre(model, clean, corrupted, answer, wrong)
                  Ablation.head(model, prompt, layer, head, Ablation.Mode.ZERO)
                  Composition.all(model, Composition.Kind.Q)      Q/K/V-composition scores between heads
                  Circuits.ovTopTokens(model, layer, head, 5, "a", "b")   what a head's OV circuit copies
                  AttentionScoreDecomposition.of(model, prompt, layer, head)   token/position terms of the scores
                  TokenLogProbs.of(model, tokens), NextTokenProbs.of(model, tokens, 10), VirtualHead, FactoredMatrix
                """);
        TOPICS.put("completion", """
                Tab completes Java (variables, methods, classes, members after a dot), helper names,
                hook names inside cache("…, hook("…, (full: blocks.0.attn.hook_pattern, short: pattern),
                parameter names inside param("…, topics inside help("…, and file paths inside load("…, runScript("….
                History is kept in ~/.jlens/history ($JLENS_HOME/history when set); Up/Down and Ctrl-R search it.
                """);
        TOPICS.put("printing", """
                A snippet's value is printed by jlens, not by JShell: arrays as dtype, shape, min/max/mean and their
                3-corner (small arrays whole), token lists with spaces as ·, newlines as ⏎, lists of records as tables.
                The variable ($1, x) still holds the value itself. A value a helper has printed is not printed twice.
                """);
        TOPICS.put("keys", """
                Enter runs the input once it is a complete snippet (otherwise a continuation prompt ...> appears).
                Ctrl-C stops a running evaluation (or clears the line); Ctrl-D on an empty line exits.
                Commands: /exit, /help, /vars, /methods, /imports, /reset-run.
                """);
        TOPICS.put("errors", """
                An exception prints one line (type, message, hint); the session goes on and nothing you defined is lost.
                lastError() prints the full stack trace. In scripts (./jlens FILE.jsh) the first error prints
                FILE:LINE: message and jlens exits with status 1.
                """);
        TOPICS.put("scripts", """
                ./jlens FILE.jsh      run a script (after the startup script); the first error stops it: FILE:LINE: message
                ./jlens -             read the script from stdin
                ./jlens -e 'CODE'     evaluate and print like the console, then exit (non-zero on error)
                ./jlens --model DIR   choose the model;  --startup FILE / --no-startup choose the preloaded session
                Examples: startup-scripts/seed00N-*.jsh, one per user notebook (seed001-tour.jsh first).
                """);
    }

    static String overview() {
        Table t = new Table("helper", "what it does");
        HELPERS.forEach((name, h) -> t.row(h[0], h[1]));
        return t.render() + "\nTopics: help(\"" + String.join("\"), help(\"", TOPICS.keySet())
                + "\"); help(\"cache\") etc. for one helper.\n";
    }

    static String topic(String topic) {
        String key = topic.strip().toLowerCase(Locale.ROOT);
        for (Map.Entry<String, String[]> e : HELPERS.entrySet()) {
            if (e.getKey().toLowerCase(Locale.ROOT).equals(key)) {
                String[] h = e.getValue();
                return h[0] + "\n  " + h[1] + "\n  e.g. " + h[2] + "\n";
            }
        }
        String text = TOPICS.get(key);
        if (text != null) return text;
        return "no help on '" + topic + "'; topics: " + String.join(", ", topics()) + "\n";
    }

    /** Every name help(…) knows, for completion. */
    static java.util.List<String> topics() {
        java.util.List<String> all = new java.util.ArrayList<>(TOPICS.keySet());
        all.addAll(HELPERS.keySet());
        return all;
    }

    /** Helper names, for completion. */
    static java.util.Set<String> helperNames() {
        return HELPERS.keySet();
    }
}
