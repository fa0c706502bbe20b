package dev.jlens.experiment;

import dev.jlens.cli.Cli;
import dev.jlens.cli.ModelChoice;
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
        Path model = null, out = null;
        String data = null, samples = null;
        List<Integer> blocks = null;
        Split split = null;
        Integer length = null, stride = null, batch = null, threads = null;
        List<Component> components = null;
        Positions positions = null;
        boolean force = false, dryRun = false;
        List<String> seen = new ArrayList<>();
        for (int i = 1; i < args.length; i++) {
            String a = args[i], value = null;
            if (a.startsWith("--") && a.contains("=")) {
                value = a.substring(a.indexOf('=') + 1);
                a = a.substring(0, a.indexOf('='));
            }
            if (a.equals("--help") || a.equals("-h")) throw new HelpRequested();
            if (!a.startsWith("-")) throw new IllegalArgumentException("unexpected argument '" + a + "' (options start with --)");
            if (seen.contains(a)) throw new IllegalArgumentException(a + " given twice");
            seen.add(a);
            switch (a) {
                case "--force" -> force = true;
                case "--dry-run" -> dryRun = true;
                default -> {
                    if (value == null) {
                        if (i + 1 >= args.length) throw new IllegalArgumentException(a + " needs a value");
                        value = args[++i];
                    }
                    switch (a) {
                        case "--model" -> model = Path.of(value);
                        case "--data" -> data = value;
                        case "--out" -> out = Path.of(value);
                        case "--block", "--blocks" -> blocks = integers(a, value);
                        case "--split" -> split = Split.parse(value);
                        case "--samples" -> samples = samplesKind(value);
                        case "--length" -> length = positive(a, value);
                        case "--stride" -> stride = positive(a, value);
                        case "--components" -> {
                            components = new ArrayList<>();
                            for (String c : value.split(",")) components.add(Component.parse(c));
                        }
                        case "--positions" -> positions = Positions.parse(value);
                        case "--batch-size" -> batch = positive(a, value);
                        case "--threads" -> threads = positive(a, value);
                        default -> throw new IllegalArgumentException("unknown option " + a);
                    }
                }
            }
        }
        if (data == null) throw new IllegalArgumentException("--data is required (a UTF-8 text file, or tinyshakespeare)");
        if (out == null) throw new IllegalArgumentException("--out is required (the results folder)");
        if (blocks == null) throw new IllegalArgumentException("--block is required (e.g. --block 1, or --block 0,1,2)");
        if (stride != null && "substrings".equals(samples)) {
            throw new IllegalArgumentException("--stride applies to --samples windows; substrings are every distinct run of --length tokens");
        }
        return new Parsed(model, data, out, blocks, split, samples, length, stride, components, positions, batch, threads, force, dryRun);
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

    static String usage() {
        return """
                usage: jlens experiment block-internals --data FILE|tinyshakespeare --block N[,N…] --out DIR [options]

                Runs every sample of a text through the model and saves, for each chosen block, its input
                (resid_pre), its heads' outputs side by side (z), its attention output (attn_out), its MLP
                output (mlp_out) and its output (resid_post), in batches of safetensors files with a
                manifest.json. The bytes it will write are printed before it starts, and it refuses to start
                when the disk cannot hold them. Stopped or killed, the same command resumes: finished
                batches are checked against the manifest and kept, the rest computed.

                options:
                  --model DIR           the model  [$JLENS_MODEL, else artifacts/shakespeare-char]
                  --data FILE           UTF-8 text, encoded with the model's tokenizer; 'tinyshakespeare' downloads it once
                  --block N[,N…]        block(s) to save (0-based)
                  --out DIR             results folder (created; an existing one is resumed)
                  --split S             train (first 90%), val (last 10%) or all  [val]
                  --samples KIND        windows (seed 002's DataBatcher) or substrings (every distinct run of
                                        --length tokens, seed 000)  [windows]
                  --length N            tokens per sample  [windows: the model's n_ctx; substrings: 10]
                  --stride N            a window starts every N tokens  [= --length: the split tiled once]
                  --components LIST     comma-separated resid_pre,z,attn_out,mlp_out,resid_post (or the seed's
                                        block_input,heads_output,proj_output,ffwd_output,block_output)  [all]
                  --positions P         all or last  [windows: all; substrings: last]
                  --batch-size N        samples per batch file  [about 32,768 tokens]
                  --threads N           compute threads  [all cores]
                  --force               replace what --out holds when it is another experiment's or damaged
                  --dry-run             print the plan and the bytes it would write, then exit

                examples:
                  jlens experiment block-internals --data tinyshakespeare --block 1 --split val --out results/block1-val
                  jlens experiment block-internals --data input.txt --block 0,1,2,3 --samples substrings --split all --out results/s10

                read the results: BlockInternalsResults.open(Path.of(DIR)).matrix(Component.ATTN_OUT, 1)  ([rows, d_model])
                """;
    }
}
