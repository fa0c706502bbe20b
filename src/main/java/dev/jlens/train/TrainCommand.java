package dev.jlens.train;

import dev.jlens.cli.Progress;
import dev.jlens.cli.Cli;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;

/**
 * {@code jlens train}: trains a char-level model from the shell.
 *
 * <pre>
 * jlens train --data tinyshakespeare --out artifacts/shakespeare-char --steps 5000
 * jlens train --data input.txt --out runs/induction --kind attn-only --layers 2 --d-model 64 --heads 4
 * jlens train --out artifacts/shakespeare-char --data input.txt --resume
 * </pre>
 *
 * Ctrl-C stops after the current step and writes a checkpoint; {@code --resume} continues it.
 * Exit status: 0 done, 1 failed, 2 bad usage, 130 stopped before the last step.
 */
public final class TrainCommand {
    private TrainCommand() {}

    private record Option(String name, String arg, String help, BiConsumer<Target, String> set) {}

    private static final Map<String, Option> OPTIONS = new LinkedHashMap<>();

    /** A parsed command line: the run's config, and the process's thread count (null: ND4J's default). */
    record Parsed(TrainConfig config, Integer threads, boolean dropResumeState, String samplePrompt) {}

    /** What options write into while parsing. */
    private static final class Target {
        final TrainConfig.Builder builder = TrainConfig.builder();
        Integer threads;
        boolean dropResumeState;
        String samplePrompt;
    }

    private static void opt(String name, String arg, String help, BiConsumer<TrainConfig.Builder, String> set) {
        OPTIONS.put(name, new Option(name, arg, help, (t, v) -> set.accept(t.builder, v)));
    }

    static {
        opt("--data", "FILE", "UTF-8 text to learn, or 'tinyshakespeare' (downloaded once to ~/.cache/jlens)", TrainConfig.Builder::data);
        opt("--out", "DIR", "checkpoint folder (config.json, model.safetensors, loss.csv, train.log, resume/)", TrainConfig.Builder::out);
        opt("--kind", "KIND", "gpt (the lecture's GPT) or attn-only (1-2 attention-only layers)  [gpt]", TrainConfig.Builder::kind);
        opt("--layers", "N", "transformer blocks  [4]", (b, v) -> b.layers(integer("--layers", v)));
        opt("--d-model", "N", "residual width, a multiple of --heads  [192]", (b, v) -> b.dModel(integer("--d-model", v)));
        opt("--heads", "N", "attention heads per block  [6]", (b, v) -> b.heads(integer("--heads", v)));
        opt("--ctx", "N", "context length (block_size)  [128]", (b, v) -> b.ctx(integer("--ctx", v)));
        opt("--batch", "N", "sequences per step  [32]", (b, v) -> b.batch(integer("--batch", v)));
        opt("--steps", "N", "optimizer steps  [5000]", (b, v) -> b.steps(integer("--steps", v)));
        opt("--lr", "X", "peak learning rate  [1e-3]", (b, v) -> b.lr(number("--lr", v)));
        opt("--min-lr", "X", "learning rate at the end of the cosine decay  [lr/10]", (b, v) -> b.minLr(number("--min-lr", v)));
        opt("--warmup", "N", "linear warmup steps  [100, or steps/10 if fewer]", (b, v) -> b.warmup(integer("--warmup", v)));
        opt("--dropout", "P", "dropout on attention patterns, attention and MLP outputs  [0.1]", (b, v) -> b.dropout(number("--dropout", v)));
        opt("--weight-decay", "X", "AdamW weight decay on matrices and embeddings  [0.1]", (b, v) -> b.weightDecay(number("--weight-decay", v)));
        opt("--grad-clip", "X", "clip the global gradient norm (0: off)  [1.0]", (b, v) -> b.gradClip(number("--grad-clip", v)));
        opt("--eval-every", "N", "estimate train/val loss every N steps  [250]", (b, v) -> b.evalEvery(integer("--eval-every", v)));
        opt("--eval-batches", "N", "batches per loss estimate  [20]", (b, v) -> b.evalBatches(integer("--eval-batches", v)));
        opt("--checkpoint-every", "N", "checkpoint every N steps  [= --eval-every]", (b, v) -> b.checkpointEvery(integer("--checkpoint-every", v)));
        opt("--log-every", "N", "progress line every N steps when not on a terminal  [steps/100]", (b, v) -> b.logEvery(integer("--log-every", v)));
        opt("--seed", "N", "seeds initialisation, batches and dropout  [1337]", (b, v) -> b.seed(longValue("--seed", v)));
        OPTIONS.put("--threads", new Option("--threads", "N",
                "compute threads (ND4J, BLAS, Java loops); 1 is often fastest on a busy machine  [ND4J's default]", (t, v) -> {
                    t.threads = integer("--threads", v);
                    if (t.threads < 1) throw new IllegalArgumentException("--threads must be ≥ 1, got " + t.threads);
                }));
        OPTIONS.put("--drop-resume-state", new Option("--drop-resume-state", null,
                "when the last step is done, delete DIR/resume (optimizer state): the folder to ship (the run cannot be extended exactly)",
                (t, v) -> t.dropResumeState = true));
        OPTIONS.put("--sample-prompt", new Option("--sample-prompt", "TEXT",
                "the model card (DIR/README.md, written when the run completes) shows a sample generated from TEXT  [the vocabulary's first character]",
                (t, v) -> t.samplePrompt = v));
        opt("--repeats", "P", "fraction of training windows that are a passage followed by itself (teaches copying; validation stays plain)  [0]",
                (b, v) -> b.repeats(number("--repeats", v)));
        opt("--no-layer-norm", null, "attention-only model without LayerNorms", (b, v) -> b.layerNorm(false));
        opt("--resume", null, "continue the run in --out from its newest checkpoint", (b, v) -> b.resume(true));
    }

    /** The model card; a run whose card cannot be written has still succeeded, so this only warns. */
    private static void writeCard(TrainResult r, String samplePrompt, PrintStream out, PrintStream err) {
        try {
            // Without a prompt, the lecture's own choice: generation from token 0 (the newline in TinyShakespeare).
            String prompt = samplePrompt != null ? samplePrompt : r.model().tokenizer().tokenString(0);
            out.println("model card: " + ModelCard.write(r.out(), prompt));
        } catch (RuntimeException e) {
            err.println("jlens train: the model is saved, but its card (README.md) was not written: " + e.getMessage());
        }
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err, true));
    }

    /**
     * Runs the command; returns the exit status. {@code installSignalHandler}: stop cleanly on Ctrl-C.
     * Whatever goes wrong is one line on {@code err} ({@link Cli}).
     */
    static int run(String[] args, PrintStream out, PrintStream err, boolean installSignalHandler) {
        Parsed parsed;
        try {
            parsed = parseCommand(args);
        } catch (HelpRequested h) {
            out.print(usage());
            return 0;
        } catch (IllegalArgumentException e) {
            err.println("jlens train: " + e.getMessage());
            err.println("run 'jlens train --help' for the options");
            return 2;
        }
        return Cli.run("jlens train", err, () -> train(parsed, out, err, installSignalHandler));
    }

    private static int train(Parsed parsed, PrintStream out, PrintStream err, boolean installSignalHandler) {
        if (parsed.threads() != null) Trainer.threads(parsed.threads());
        Trainer trainer = new Trainer(parsed.config(), out, Progress.stdoutIsTerminal());
        CountDownLatch finished = new CountDownLatch(1);
        Thread hook = null;
        if (installSignalHandler) {
            hook = new Thread(() -> {
                trainer.stop();
                try {
                    finished.await(120, TimeUnit.SECONDS);
                } catch (InterruptedException ignored) {
                    Thread.currentThread().interrupt();
                }
            }, "jlens-train-stop");
            Runtime.getRuntime().addShutdownHook(hook);
        }
        try {
            TrainResult r = trainer.run();
            if (r.completed() && parsed.dropResumeState() && r.out() != null) {
                Checkpoints.deleteTree(r.out().resolve("resume"));
                out.println("deleted " + r.out().resolve("resume") + " (--drop-resume-state): " + r.out() + " holds the model only");
            }
            if (r.completed() && r.out() != null) writeCard(r, parsed.samplePrompt(), out, err);
            return r.completed() ? 0 : 130;
        } catch (IllegalArgumentException | IllegalStateException | UncheckedIOException e) {
            err.println("jlens train: " + e.getMessage());
            return 1;
        } catch (java.io.IOException e) {
            err.println("jlens train: the run finished, but " + e.getMessage());
            return 1;
        } finally {
            finished.countDown();
            if (hook != null) {
                try {
                    Runtime.getRuntime().removeShutdownHook(hook);
                } catch (IllegalStateException shuttingDown) {
                    // the JVM is already exiting (Ctrl-C): the hook is running and will see the latch
                }
            }
        }
    }

    private static final class HelpRequested extends RuntimeException {
        HelpRequested() {
            super(null, null, false, false);
        }
    }

    /** The run that these options describe (as the shell would pass them); {@code --help} is an error here. */
    public static TrainConfig parse(String[] args) {
        return parseCommand(args).config();
    }

    static Parsed parseCommand(String[] args) {
        picocli.CommandLine.ParseResult r;
        try {
            r = dev.jlens.cli.CommandLines.parse(spec(), args);
        } catch (dev.jlens.cli.CommandLines.HelpRequested h) {
            throw new HelpRequested();
        } catch (dev.jlens.cli.Options.UsageException e) {
            throw new IllegalArgumentException(e.getMessage());
        }
        Target target = new Target();
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (picocli.CommandLine.Model.OptionSpec o : r.matchedOptions()) {
            Option option = OPTIONS.get(o.longestName());
            seen.add(option.name());
            option.set().accept(target, option.arg() == null ? null : o.getValue());
        }
        if (!seen.contains("--data")) throw new IllegalArgumentException("--data is required (a text file, or tinyshakespeare)");
        if (!seen.contains("--out")) throw new IllegalArgumentException("--out is required (the folder for checkpoints)");
        return new Parsed(target.builder.build(), target.threads, target.dropResumeState, target.samplePrompt);
    }

    /** The option table as picocli's declaration (a fresh one per parse: picocli keeps the values it matched in it). */
    private static picocli.CommandLine.Model.CommandSpec spec() {
        return dev.jlens.cli.CommandLines.spec("jlens train", HEADER, FOOTER,
                OPTIONS.values().stream().map(o -> new String[] {o.name(), o.arg(), o.help()}).toList());
    }

    private static int integer(String name, String v) {
        try {
            return Integer.parseInt(v.replace("_", ""));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " needs a whole number, got '" + v + "'");
        }
    }

    private static long longValue(String name, String v) {
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " needs a whole number, got '" + v + "'");
        }
    }

    private static double number(String name, String v) {
        try {
            return Double.parseDouble(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " needs a number, got '" + v + "'");
        }
    }

    /** The options, as {@code jlens train --help} prints them. */
    private static final String HEADER = """
            usage: jlens train --data FILE|tinyshakespeare --out DIR [options]

            Trains a char-level model of Karpathy's lecture architecture (gpt.py) on a text: vocabulary =
            its characters, first 90% train / last 10% validation. Writes checkpoints that
            HookedTransformer.fromPretrained(DIR) and the lecture's PyTorch code both load. Ctrl-C stops
            cleanly (checkpoint first); --resume continues exactly where it stopped.
            """;

    private static final String FOOTER = """

            examples:
              jlens train --data tinyshakespeare --out artifacts/shakespeare-char
              jlens train --data input.txt --out runs/attn2 --kind attn-only --layers 2 --d-model 64 --heads 4
            """;

    public static String usage() {
        return dev.jlens.cli.CommandLines.usage(spec());
    }
}
