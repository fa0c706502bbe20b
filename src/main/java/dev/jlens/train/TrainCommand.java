package dev.jlens.train;

import dev.jlens.cli.Cli;
import dev.jlens.cli.CommandLines;
import dev.jlens.cli.Progress;
import dev.jlens.cli.UsageException;
import java.io.PrintStream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

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

    /**
     * {@code jlens train}'s command line, declared for picocli: each option hands its value to the run's
     * {@link TrainConfig.Builder} (whose defaults the help shows in brackets and whose checks the run's build applies).
     */
    @Command(name = "jlens train", customSynopsis = HEADER, footer = FOOTER)
    static final class Args {
        final TrainConfig.Builder builder = TrainConfig.builder();
        /** The process's thread count (null: ND4J's default). */
        Integer threads;
        boolean dropResumeState;
        String samplePrompt;

        @Option(names = {"--help", "-h"}, usageHelp = true, order = 0, description = "this text")
        boolean help;

        @Option(names = "--data", paramLabel = "FILE", required = true, order = 1,
                description = "UTF-8 text to learn, or 'tinyshakespeare' (downloaded once to ~/.cache/jlens)")
        void data(String v) { builder.data(v); }

        @Option(names = "--out", paramLabel = "DIR", required = true, order = 2,
                description = "checkpoint folder (config.json, model.safetensors, loss.csv, train.log, resume/)")
        void out(String v) { builder.out(v); }

        @Option(names = "--kind", paramLabel = "KIND", converter = KindName.class, order = 3,
                description = "gpt (the lecture's GPT) or attn-only (1-2 attention-only layers)  [gpt]")
        void kind(ModelKind v) { builder.kind(v); }

        @Option(names = "--layers", paramLabel = "N", order = 4, description = "transformer blocks  [4]")
        void layers(int v) { builder.layers(v); }

        @Option(names = "--d-model", paramLabel = "N", order = 5, description = "residual width, a multiple of --heads  [192]")
        void dModel(int v) { builder.dModel(v); }

        @Option(names = "--heads", paramLabel = "N", order = 6, description = "attention heads per block  [6]")
        void heads(int v) { builder.heads(v); }

        @Option(names = "--ctx", paramLabel = "N", order = 7, description = "context length (block_size)  [128]")
        void ctx(int v) { builder.ctx(v); }

        @Option(names = "--batch", paramLabel = "N", order = 8, description = "sequences per step  [32]")
        void batch(int v) { builder.batch(v); }

        @Option(names = "--steps", paramLabel = "N", order = 9, description = "optimizer steps  [5000]")
        void steps(int v) { builder.steps(v); }

        @Option(names = "--lr", paramLabel = "X", order = 10, description = "peak learning rate  [1e-3]")
        void lr(double v) { builder.lr(v); }

        @Option(names = "--min-lr", paramLabel = "X", order = 11, description = "learning rate at the end of the cosine decay  [lr/10]")
        void minLr(double v) { builder.minLr(v); }

        @Option(names = "--warmup", paramLabel = "N", order = 12, description = "linear warmup steps  [100, or steps/10 if fewer]")
        void warmup(int v) { builder.warmup(v); }

        @Option(names = "--dropout", paramLabel = "P", order = 13,
                description = "dropout on attention patterns, attention and MLP outputs  [0.1]")
        void dropout(double v) { builder.dropout(v); }

        @Option(names = "--weight-decay", paramLabel = "X", order = 14, description = "AdamW weight decay on matrices and embeddings  [0.1]")
        void weightDecay(double v) { builder.weightDecay(v); }

        @Option(names = "--grad-clip", paramLabel = "X", order = 15, description = "clip the global gradient norm (0: off)  [1.0]")
        void gradClip(double v) { builder.gradClip(v); }

        @Option(names = "--eval-every", paramLabel = "N", order = 16, description = "estimate train/val loss every N steps  [250]")
        void evalEvery(int v) { builder.evalEvery(v); }

        @Option(names = "--eval-batches", paramLabel = "N", order = 17, description = "batches per loss estimate  [20]")
        void evalBatches(int v) { builder.evalBatches(v); }

        @Option(names = "--checkpoint-every", paramLabel = "N", order = 18, description = "checkpoint every N steps  [= --eval-every]")
        void checkpointEvery(int v) { builder.checkpointEvery(v); }

        @Option(names = "--log-every", paramLabel = "N", order = 19,
                description = "progress line every N steps when not on a terminal  [steps/100]")
        void logEvery(int v) { builder.logEvery(v); }

        @Option(names = "--seed", paramLabel = "N", order = 20, description = "seeds initialisation, batches and dropout  [1337]")
        void seed(long v) { builder.seed(v); }

        @Option(names = "--threads", paramLabel = "N", converter = CommandLines.Positive.class, order = 21,
                description = "compute threads (ND4J, BLAS, Java loops); 1 is often fastest on a busy machine  [ND4J's default]")
        void threads(int v) { threads = v; }

        @Option(names = "--drop-resume-state", order = 22,
                description = "when the last step is done, delete DIR/resume (optimizer state): the folder to ship (the run cannot be extended exactly)")
        void dropResumeState(boolean v) { dropResumeState = v; }

        @Option(names = "--sample-prompt", paramLabel = "TEXT", order = 23,
                description = "the model card (DIR/README.md, written when the run completes) shows a sample generated from TEXT  [the vocabulary's first character]")
        void samplePrompt(String v) { samplePrompt = v; }

        @Option(names = "--repeats", paramLabel = "P", order = 24,
                description = "fraction of training windows that are a passage followed by itself (teaches copying; validation stays plain)  [0]")
        void repeats(double v) { builder.repeats(v); }

        @Option(names = "--no-layer-norm", order = 25, description = "attention-only model without LayerNorms")
        void noLayerNorm(boolean v) { builder.layerNorm(!v); }

        @Option(names = "--resume", order = 26, description = "continue the run in --out from its newest checkpoint")
        void resume(boolean v) { builder.resume(v); }
    }

    /** {@code --kind}: {@link ModelKind#parse}'s names. */
    static final class KindName implements CommandLine.ITypeConverter<ModelKind> {
        @Override
        public ModelKind convert(String value) {
            return ModelKind.parse(value);
        }
    }

    /** A parsed command line: the run's config, and the process's thread count (null: ND4J's default). */
    record Parsed(TrainConfig config, Integer threads, boolean dropResumeState, String samplePrompt) {}

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
        return Cli.run("jlens train", err, () -> {
            Parsed parsed;
            try {
                parsed = parseCommand(args);
            } catch (CommandLines.HelpRequested h) {
                out.print(usage());
                return 0;
            }
            return train(parsed, out, err, installSignalHandler);
        });
    }

    private static int train(Parsed parsed, PrintStream out, PrintStream err, boolean installSignalHandler) throws java.io.IOException {
        if (parsed.threads() != null) Trainer.threads(parsed.threads());
        Trainer trainer = new Trainer(parsed.config(), out, Progress.stdoutIsTerminal());
        try (GracefulStop ignored = new GracefulStop(trainer::stop, "jlens-train-stop", installSignalHandler)) {
            TrainResult r = trainer.run();
            if (r.completed() && parsed.dropResumeState() && r.out() != null) {
                Checkpoints.deleteTree(r.out().resolve("resume"));
                out.println("deleted " + r.out().resolve("resume") + " (--drop-resume-state): " + r.out() + " holds the model only");
            }
            if (r.completed() && r.out() != null) writeCard(r, parsed.samplePrompt(), out, err);
            return r.completed() ? 0 : 130;
        } catch (java.io.IOException e) {
            throw new java.io.IOException("the run finished, but " + e.getMessage(), e);
        }
    }

    /** The run that these options describe (as the shell would pass them); {@code --help} is an error here. */
    public static TrainConfig parse(String[] args) {
        try {
            return parseCommand(args).config();
        } catch (CommandLines.HelpRequested h) {
            throw new UsageException("--help asks for the usage, not a run");
        }
    }

    static Parsed parseCommand(String[] args) throws CommandLines.HelpRequested {
        Args a = new Args();
        CommandLines.parse(a, args);
        TrainConfig config;
        try {
            config = a.builder.build();
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());   // the options do not fit together: still the command line's
        }
        return new Parsed(config, a.threads, a.dropResumeState, a.samplePrompt);
    }

    /** Above the options in {@code jlens train --help} (a picocli format: {@code %%} is a percent sign). */
    private static final String HEADER = """
            usage: jlens train --data FILE|tinyshakespeare --out DIR [options]

            Trains a char-level model of Karpathy's lecture architecture (gpt.py) on a text: vocabulary =
            its characters, first 90%% train / last 10%% validation. Writes checkpoints that
            HookedTransformer.fromPretrained(DIR) and the lecture's PyTorch code both load. Ctrl-C stops
            cleanly (checkpoint first); --resume continues exactly where it stopped.
            """;

    private static final String FOOTER = """

            examples:
              jlens train --data tinyshakespeare --out artifacts/shakespeare-char
              jlens train --data input.txt --out runs/attn2 --kind attn-only --layers 2 --d-model 64 --heads 4
            """;

    public static String usage() {
        return CommandLines.usage(new Args());
    }
}
