package dev.jlens.experiment;

import dev.jlens.cli.Cli;
import dev.jlens.load.ModelChoice;
import dev.jlens.cli.Options;
import dev.jlens.data.Corpus;
import dev.jlens.data.Dataset;
import dev.jlens.data.Split;
import dev.jlens.model.HookedTransformer;
import dev.jlens.cli.Progress;
import dev.jlens.data.TinyShakespeare;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@code jlens experiment block-internals}: seed 002's command line, resumable.
 *
 * <pre>
 * jlens experiment block-internals --data tinyshakespeare --block 1 --split val --out results/block1-val
 * jlens experiment block-internals --data input.txt --block 0,1,2,3 --samples substrings --length 10 --split all --out results/s10
 * </pre>
 *
 * Exit status: 0 done (or nothing left to do), 1 failed or refused (the message says why), 2 bad usage.
 */
public final class ExperimentCommand {
    private ExperimentCommand() {}

    /** A parsed command line; {@code null} fields take their defaults, which depend on the model and the samples. */
    record Parsed(Path model, String data, Path out, List<Integer> blocks, Split split, String samples, Integer length,
                  Integer stride, List<Component> components, Positions positions, Integer batchSize, Integer threads,
                  boolean force, boolean dryRun) {}

    private static final class HelpRequested extends RuntimeException {
        HelpRequested() {
            super(null, null, false, false);
        }
    }

    public static void main(String[] args) {
        Path root = Path.of(System.getProperty("jlens.root", "."));
        System.exit(run(args, System.out, System.err, System.getenv("JLENS_MODEL"), root, FreeSpace.ofFileStore(), true));
    }

    /** Runs the command; returns the exit status. Whatever goes wrong is one line on {@code err} ({@link Cli}). */
    static int run(String[] args, PrintStream out, PrintStream err, String envModel, Path root, FreeSpace freeSpace,
                   boolean onCtrlC) {
        Parsed p;
        Path modelPath;
        try {
            p = parse(args);
            modelPath = ModelChoice.resolve(p.model(), false, envModel, root);
        } catch (HelpRequested h) {
            out.print(usage());
            return 0;
        } catch (IllegalArgumentException | Options.UsageException e) {
            err.println("jlens experiment: " + e.getMessage());
            err.println("run 'jlens experiment block-internals --help' for the options");
            return 2;
        }
        AtomicBoolean finished = new AtomicBoolean();
        Thread hook = onCtrlC ? new Thread(() -> {
            if (!finished.get()) {
                err.println("\njlens experiment: stopped; the finished batches in " + p.out() + " are kept — run the same"
                        + " command again to resume");
            }
        }, "jlens-experiment-stop") : null;
        try {
            return Cli.run("jlens experiment", err, () -> {
                if (p.threads() != null) dev.jlens.compute.Threads.set(p.threads());
                HookedTransformer model = HookedTransformer.fromPretrained(modelPath.toString());
                BlockInternalsExperiment exp = experiment(p, model);
                RunOptions options = new RunOptions(p.force(), out, Progress.stdoutIsTerminal(), freeSpace);
                if (p.dryRun()) {
                    out.println(exp);
                    out.println("would write about " + BlockInternalsExperiment.bytes(exp.expectedBytes()) + " to " + p.out().toAbsolutePath()
                            + "; the disk has " + BlockInternalsExperiment.bytes(freeSpace.usableBytes(p.out())) + " free (--dry-run: nothing written)");
                    return 0;
                }
                if (hook != null) Runtime.getRuntime().addShutdownHook(hook);
                exp.run(p.out(), options);
                return 0;
            });
        } finally {
            finished.set(true);
            if (hook != null) {
                try {
                    Runtime.getRuntime().removeShutdownHook(hook);
                } catch (IllegalStateException | IllegalArgumentException shuttingDownOrNeverAdded) {
                    // exiting after Ctrl-C (the hook is running), or a dry run that never added it
                }
            }
        }
    }

    /** The experiment a command line asks for, with each default filled in from the model and the samples. */
    static BlockInternalsExperiment experiment(Parsed p, HookedTransformer model) {
        Path data = Path.of(p.data());
        if (!Files.exists(data) && p.data().equalsIgnoreCase("tinyshakespeare")) data = TinyShakespeare.file();
        Corpus corpus = Corpus.read(data, model.tokenizer());
        Split split = p.split() == null ? Split.VAL : p.split();
        boolean substrings = "substrings".equals(p.samples());
        int length = p.length() != null ? p.length() : substrings ? 10 : model.cfg().nCtx();
        Dataset dataset = substrings ? Dataset.uniqueSubstrings(corpus, split, length)
                : Dataset.windows(corpus, split, length, p.stride() != null ? p.stride() : length);
        int[] blocks = p.blocks().stream().mapToInt(Integer::intValue).toArray();
        BlockInternalsExperiment exp = BlockInternalsExperiment.of(model, dataset, blocks);
        if (p.components() != null) exp = exp.withComponents(p.components().toArray(Component[]::new));
        if (p.positions() != null) exp = exp.withPositions(p.positions());
        if (p.batchSize() != null) exp = exp.withBatchSize(p.batchSize());
        return exp;
    }

    static Parsed parse(String[] args) {
        if (args.length == 0) throw new IllegalArgumentException("name the experiment: jlens experiment block-internals …");
        if (args[0].equals("--help") || args[0].equals("-h")) throw new HelpRequested();
        if (!args[0].equals("block-internals")) {
            throw new IllegalArgumentException("unknown experiment '" + args[0] + "': the one there is is block-internals");
        }
        picocli.CommandLine.ParseResult r;
        try {
            r = dev.jlens.cli.CommandLines.parse(spec(), java.util.Arrays.copyOfRange(args, 1, args.length));
        } catch (dev.jlens.cli.CommandLines.HelpRequested h) {
            throw new HelpRequested();
        } catch (Options.UsageException e) {
            throw new IllegalArgumentException(e.getMessage());
        }
        String modelArg = r.matchedOptionValue("--model", null), outArg = r.matchedOptionValue("--out", null);
        Path model = modelArg == null ? null : Path.of(modelArg), out = outArg == null ? null : Path.of(outArg);
        String data = r.matchedOptionValue("--data", null);
        String blockArg = r.matchedOptionValue("--block", null);
        List<Integer> blocks = blockArg == null ? null : integers("--block", blockArg);
        String splitArg = r.matchedOptionValue("--split", null);
        Split split = splitArg == null ? null : Split.parse(splitArg);
        String samplesArg = r.matchedOptionValue("--samples", null);
        String samples = samplesArg == null ? null : samplesKind(samplesArg);
        Integer length = positiveOrNull(r, "--length"), stride = positiveOrNull(r, "--stride");
        Integer batch = positiveOrNull(r, "--batch-size"), threads = positiveOrNull(r, "--threads");
        List<Component> components = null;
        String componentsArg = r.matchedOptionValue("--components", null);
        if (componentsArg != null) {
            components = new ArrayList<>();
            for (String c : componentsArg.split(",")) components.add(Component.parse(c));
        }
        String positionsArg = r.matchedOptionValue("--positions", null);
        Positions positions = positionsArg == null ? null : Positions.parse(positionsArg);
        boolean force = r.hasMatchedOption("--force"), dryRun = r.hasMatchedOption("--dry-run");
        if (data == null) throw new IllegalArgumentException("--data is required (a UTF-8 text file, or tinyshakespeare)");
        if (out == null) throw new IllegalArgumentException("--out is required (the results folder)");
        if (blocks == null) throw new IllegalArgumentException("--block is required (e.g. --block 1, or --block 0,1,2)");
        if (stride != null && "substrings".equals(samples)) {
            throw new IllegalArgumentException("--stride applies to --samples windows; substrings are every distinct run of --length tokens");
        }
        return new Parsed(model, data, out, blocks, split, samples, length, stride, components, positions, batch, threads, force, dryRun);
    }

    private static Integer positiveOrNull(picocli.CommandLine.ParseResult r, String option) {
        String v = r.matchedOptionValue(option, null);
        return v == null ? null : positive(option, v);
    }

    /** The options, declared once for the parser and the usage text (a fresh spec per parse). */
    private static picocli.CommandLine.Model.CommandSpec spec() {
        return dev.jlens.cli.CommandLines.spec("jlens experiment block-internals", HEADER, FOOTER, List.of(
                new String[] {"--model", "DIR", "the model  [$JLENS_MODEL, else artifacts/shakespeare-char]"},
                new String[] {"--data", "FILE", "UTF-8 text, encoded with the model's tokenizer; 'tinyshakespeare' downloads it once"},
                new String[] {"--block", "N[,N…]", "block(s) to save (0-based)", "--blocks"},
                new String[] {"--out", "DIR", "results folder (created; an existing one is resumed)"},
                new String[] {"--split", "S", "train (first 90%), val (last 10%) or all  [val]"},
                new String[] {"--samples", "KIND", "windows (seed 002's DataBatcher) or substrings (every distinct run of --length tokens, seed 000)  [windows]"},
                new String[] {"--length", "N", "tokens per sample  [windows: the model's n_ctx; substrings: 10]"},
                new String[] {"--stride", "N", "a window starts every N tokens  [= --length: the split tiled once]"},
                new String[] {"--components", "LIST", "comma-separated resid_pre,z,attn_out,mlp_out,resid_post (or the seed's block_input,heads_output,proj_output,ffwd_output,block_output)  [all]"},
                new String[] {"--positions", "P", "all or last  [windows: all; substrings: last]"},
                new String[] {"--batch-size", "N", "samples per batch file  [about 32,768 tokens]"},
                new String[] {"--threads", "N", "compute threads  [all cores]"},
                new String[] {"--force", null, "replace what --out holds when it is another experiment's or damaged"},
                new String[] {"--dry-run", null, "print the plan and the bytes it would write, then exit"}));
    }

    private static String samplesKind(String v) {
        return switch (v) {
            case "windows" -> "windows";
            case "substrings", "unique-substrings" -> "substrings";
            default -> throw new IllegalArgumentException("--samples is windows or substrings, got '" + v + "'");
        };
    }

    private static List<Integer> integers(String option, String v) {
        List<Integer> out = new ArrayList<>();
        for (String s : v.split(",")) {
            try {
                out.add(Integer.parseInt(s.strip()));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(option + " needs block numbers like 1 or 0,1,2; got '" + v + "'");
            }
        }
        return out;
    }

    private static int positive(String option, String v) {
        int n;
        try {
            n = Integer.parseInt(v.replace("_", "").replace(",", ""));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + " needs a whole number, got '" + v + "'");
        }
        if (n < 1) throw new IllegalArgumentException(option + " must be at least 1, got " + n);
        return n;
    }

    private static final String HEADER = """
            usage: jlens experiment block-internals --data FILE|tinyshakespeare --block N[,N…] --out DIR [options]

            Runs every sample of a text through the model and saves, for each chosen block, its input
            (resid_pre), its heads' outputs side by side (z), its attention output (attn_out), its MLP
            output (mlp_out) and its output (resid_post), in batches of safetensors files with a
            manifest.json. The bytes it will write are printed before it starts, and it refuses to start
            when the disk cannot hold them. Stopped or killed, the same command resumes: finished
            batches are checked against the manifest and kept, the rest computed.
            """;

    private static final String FOOTER = """

            examples:
              jlens experiment block-internals --data tinyshakespeare --block 1 --split val --out results/block1-val
              jlens experiment block-internals --data input.txt --block 0,1,2,3 --samples substrings --split all --out results/s10

            read the results: BlockInternalsResults.open(Path.of(DIR)).matrix(Component.ATTN_OUT, 1)  ([rows, d_model])
            """;

    static String usage() {
        return dev.jlens.cli.CommandLines.usage(spec());
    }
}
