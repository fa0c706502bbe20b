package dev.jlens.train;

import dev.jlens.cli.Cli;
import dev.jlens.cli.CommandLines;
import dev.jlens.cli.Progress;
import dev.jlens.cli.UsageException;
import dev.jlens.data.Corpus;
import dev.jlens.data.Dataset;
import dev.jlens.data.Split;
import dev.jlens.load.ModelChoice;
import dev.jlens.model.HookedTransformer;
import dev.jlens.sae.Reconstruction;
import dev.jlens.sae.SaeConfig;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Locale;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code jlens train-sae}: trains a sparse autoencoder on a hook point's activations, streamed from the model over a
 * corpus's train split or read from a block-internals experiment's results, and writes it in SAELens's format with a
 * card of its figures on the corpus's validation split.
 *
 * <pre>
 * jlens train-sae --data tinyshakespeare --hook blocks.2.hook_resid_pre --out saes/l2
 * jlens train-sae --activations results/block1 --hook blocks.1.hook_resid_post --architecture relu --l1 5 --out saes/l1
 * </pre>
 *
 * Ctrl-C stops after the current step and writes a checkpoint; {@code --resume} continues it. Exit status: 0 done,
 * 1 failed, 2 bad usage, 130 stopped.
 */
public final class TrainSaeCommand {
    private TrainSaeCommand() {}

    @Command(name = "jlens train-sae", customSynopsis = HEADER, footer = FOOTER)
    static final class Args {
        @Option(names = {"--help", "-h"}, usageHelp = true, order = 0, description = "this text")
        boolean help;

        @Option(names = "--model", paramLabel = "DIR", order = 1, description = "the model whose activations it learns  [$JLENS_MODEL, else "
                + ModelChoice.DEFAULT_MODEL + "]")
        Path model;

        @Option(names = "--data", paramLabel = "FILE", order = 2,
                description = "a text (or 'tinyshakespeare'): activations are streamed from the model over its train split, and the card measures its val split")
        String data;

        @Option(names = "--activations", paramLabel = "DIR", order = 3,
                description = "train on the hook's rows saved by a block-internals experiment instead of streaming them")
        Path activations;

        @Option(names = "--hook", paramLabel = "NAME", required = true, order = 4, description = "the hook point, e.g. blocks.2.hook_resid_pre")
        String hook;

        @Option(names = "--out", paramLabel = "DIR", required = true, order = 5,
                description = "the SAE's folder: cfg.json, sae_weights.safetensors (SAELens's format), README.md, checkpoints/")
        Path out;

        @Option(names = "--architecture", paramLabel = "A", order = 6, description = "relu (L1 penalty) or topk  [topk]")
        String architecture = "topk";

        @Option(names = "--d-sae", paramLabel = "N", order = 7, description = "features  [768]")
        int dSae = 768;

        @Option(names = "--k", paramLabel = "N", order = 8, description = "features kept per token (topk)  [32]")
        int k = 32;

        @Option(names = "--l1", paramLabel = "X", order = 9, description = "L1 coefficient (relu)  [5]")
        double l1 = 5;

        @Option(names = "--lr", paramLabel = "X", order = 10, description = "Adam learning rate  [2e-3]")
        double lr = 2e-3;

        @Option(names = "--steps", paramLabel = "N", order = 11, description = "optimizer steps  [1200]")
        int steps = 1200;

        @Option(names = "--batch-size", paramLabel = "N", order = 12, description = "activation rows per step  [2048]")
        int batchSize = 2048;

        @Option(names = "--seed", paramLabel = "N", order = 13, description = "seeds initialisation, windows and shuffling  [0]")
        long seed;

        @Option(names = "--context", paramLabel = "N", order = 14, description = "tokens per streamed window  [the model's n_ctx]")
        Integer context;

        @Option(names = "--dead-window", paramLabel = "TOKENS", order = 15,
                description = "a feature is dead when it fired on none of the last TOKENS training tokens  [1,000,000]")
        long deadWindow = 1_000_000;

        @Option(names = "--checkpoint-every", paramLabel = "N", order = 16, description = "checkpoint every N steps  [500]")
        int checkpointEvery = 500;

        @Option(names = "--log-every", paramLabel = "N", order = 17, description = "progress line every N steps when not on a terminal  [steps/50]")
        Integer logEvery;

        @Option(names = "--eval-windows", paramLabel = "N", order = 18, description = "val-split windows the card's figures are measured on  [64]")
        int evalWindows = 64;

        @Option(names = "--threads", paramLabel = "N", converter = CommandLines.Positive.class, order = 19,
                description = "compute threads  [ND4J's default]")
        Integer threads;

        @Option(names = "--resume", order = 20, description = "continue the run in --out from its newest checkpoint")
        boolean resume;
    }

    /** A checked command line: the run's settings and where its rows come from. */
    record Parsed(Args args, SaeTrainConfig config) {}

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err, true));
    }

    static int run(String[] args, PrintStream out, PrintStream err, boolean installSignalHandler) {
        return Cli.run("jlens train-sae", err, () -> {
            Parsed p;
            try {
                p = parse(args);
            } catch (CommandLines.HelpRequested h) {
                out.print(usage());
                return 0;
            }
            if (p.args().threads != null) Trainer.threads(p.args().threads);
            Job job = Job.start(p, args, out, Progress.stdoutIsTerminal());
            try (GracefulStop ignored = new GracefulStop(job.trainer()::stop, "jlens-train-sae-stop", installSignalHandler)) {
                return job.finish().completed() ? 0 : 130;
            }
        });
    }

    /** A command line's run; {@code --help} is an error here (the console's {@code trainSae} prints the usage itself). */
    static Parsed parse(String[] args) throws CommandLines.HelpRequested {
        Args a = new Args();
        CommandLines.parse(a, args);
        if (a.data == null && a.activations == null) {
            throw new UsageException("give --data FILE (stream activations from the model) or --activations DIR (saved by an experiment)");
        }
        if (a.context != null && a.activations != null) throw new UsageException("--context is for streamed activations; --activations has its own");
        if (a.evalWindows < 1) throw new UsageException("--eval-windows must be at least 1, got " + a.evalWindows);
        try {
            SaeConfig.Activation act = switch (a.architecture.toLowerCase(Locale.ROOT)) {
                case "relu", "standard" -> SaeConfig.Activation.RELU;
                case "topk" -> SaeConfig.Activation.TOPK;
                default -> throw new IllegalArgumentException("--architecture must be relu or topk, got '" + a.architecture + "'");
            };
            int logEvery = a.logEvery != null ? a.logEvery : Math.max(1, a.steps / 50);
            return new Parsed(a, new SaeTrainConfig(act, a.dSae, a.k, a.l1, a.lr, a.steps, a.batchSize, a.seed, a.deadWindow,
                    a.checkpointEvery, logEvery, a.hook, null, a.out, a.resume));
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
    }

    /** The console's entry: the run these options describe, its model and data loaded, ready to {@link Job#finish}. */
    public static Job start(String[] args, PrintStream out) {
        try {
            return Job.start(parse(args), args, out, false);
        } catch (CommandLines.HelpRequested h) {
            throw new UsageException("--help asks for the usage, not a run");
        }
    }

    /** A run set up: its trainer (to stop it), and what the card needs afterwards. */
    public record Job(SaeTrainer trainer, SaeTrainConfig config, HookedTransformer model, Corpus corpus, int context, int evalWindows,
                      ActivationSource rows, String command, PrintStream out) {
        static Job start(Parsed p, String[] args, PrintStream out, boolean terminal) {
            Args a = p.args();
            Path modelPath = ModelChoice.resolve(a.model, false, System.getenv("JLENS_MODEL"), Path.of(System.getProperty("jlens.root", ".")));
            HookedTransformer model = HookedTransformer.fromPretrained(modelPath.toString());
            Corpus corpus = a.data == null ? null : Corpus.read(Trainer.resolveData(Path.of(a.data)), model.tokenizer());
            int ctx = a.context != null ? a.context : model.cfg().nCtx();
            SaeTrainConfig named = p.config().withModelName(model.cfg().modelName());
            ActivationSource rows = a.activations != null ? MatrixActivations.fromResults(a.activations, a.hook)
                    : new ModelActivations(model, corpus, a.hook, Math.max(1, 4096 / ctx), ctx, a.seed);
            out.println("training a " + named.activation().name().toLowerCase(Locale.ROOT) + " SAE (" + rows.width() + " → " + named.dSae()
                    + ") on " + rows.describe());
            return new Job(new SaeTrainer(named, rows, out, terminal), named, model, corpus, ctx, a.evalWindows, rows,
                    "./jlens train-sae " + String.join(" ", args), out);
        }

        /** The first {@code evalWindows} non-overlapping windows of the val split: the card's tokens. */
        private INDArray evalTokens() {
            var windows = Dataset.windows(corpus, Split.VAL, context, context).samples();
            return Nd4j.createFromArray(windows.rows(0, Math.min(evalWindows, windows.count())));
        }

        /** Trains; when the run completes, measures the SAE and writes its card. */
        public SaeTrainResult finish() {
            SaeTrainResult r = trainer.run();
            if (!r.completed()) {
                out.println("stopped at step " + r.step() + "; continue with --resume");
                return r;
            }
            // Without a corpus there is no val split: the figures are the saved rows' own (and the card says so).
            Reconstruction figures = corpus != null ? Reconstruction.of(model, r.sae(), evalTokens())
                    : Reconstruction.ofRows(r.sae(), ((MatrixActivations) rows).rows());
            out.println(String.format(Locale.ROOT, "done: %d steps in %s; %d dead features", r.step(), Progress.duration(r.seconds()),
                    r.deadFeatures()));
            out.println(figures);
            out.println("card: " + SaeCard.write(r, config, figures, corpus != null ? "val tokens" : "training rows", rows.describe(), command));
            return r;
        }
    }

    private static final String HEADER = """
            usage: jlens train-sae --hook NAME --out DIR (--data FILE | --activations DIR) [options]

            Trains a sparse autoencoder (SAELens's standard ReLU + L1, or TopK) on a hook point's activations
            with Adam, unit-norm decoder rows and b_dec started at the data's mean; deterministic from --seed.
            Writes SAELens's format (SAE.load and SAELens read it), resumable checkpoints, and README.md with
            explained variance, L0, dead features and CE loss recovered on the val split. Ctrl-C stops
            cleanly; --resume continues exactly where it stopped.
            """;

    private static final String FOOTER = """

            examples:
              jlens train-sae --data tinyshakespeare --hook blocks.2.hook_resid_pre --out saes/l2
              jlens train-sae --activations results/block1 --hook blocks.1.hook_resid_post --architecture relu --l1 5 --out saes/b1
            """;

    public static String usage() {
        return CommandLines.usage(new Args());
    }
}
