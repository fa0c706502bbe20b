package dev.jlens.experiment;

import dev.jlens.cli.Cli;
import dev.jlens.cli.CommandLines;
import dev.jlens.cli.Progress;
import dev.jlens.cli.UsageException;
import dev.jlens.data.Corpus;
import dev.jlens.data.Dataset;
import dev.jlens.data.Split;
import dev.jlens.data.TinyShakespeare;
import dev.jlens.load.ModelChoice;
import dev.jlens.model.HookedTransformer;
import java.io.PrintStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

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
    record Parsed(Path model, String data, String out, List<Integer> blocks, Split split, String samples, Integer length,
                  Integer stride, List<Component> components, Positions positions, Integer batchSize, Integer threads,
                  boolean force, boolean dryRun, Engine engine) {}

    /**
     * {@code --engine}, {@code --master}, {@code --conf} and {@code --ship}: where the batches are computed, with which
     * Spark settings, and whether the model, text and SAE travel with the job.
     */
    record Engine(boolean spark, String master, Map<String, String> settings, boolean ship) {
        Engine {
            settings = Map.copyOf(settings);
        }

        static Engine of(EngineOptions o) {
            boolean spark = "spark".equals(o.engine);
            if (o.master != null && !spark) throw new UsageException("--master " + o.master + " is for --engine spark");
            Map<String, String> conf = o.conf == null ? Map.of() : o.conf;
            if (!conf.isEmpty() && !spark) throw new UsageException("--conf " + conf.keySet().iterator().next() + "=… is for --engine spark");
            for (String key : conf.keySet()) {
                if (!key.startsWith("spark.")) {
                    throw new UsageException("--conf " + key + ": Spark settings start with 'spark.' (Hadoop's as spark.hadoop.KEY)");
                }
            }
            if (o.ship && !spark) {
                throw new UsageException("--ship sends the model, text and SAE to Spark's executors: add --engine spark, or leave --ship out");
            }
            return new Engine(spark, o.master, conf, o.ship);
        }
    }

    /** The engine's options, declared once for both experiments. */
    static final class EngineOptions {
        @Option(names = "--engine", paramLabel = "E", converter = EngineName.class,
                description = "local (this JVM) or spark (embedded local[*], or the cluster of --master)  [local]")
        String engine;

        @Option(names = "--master", paramLabel = "URL",
                description = "with --engine spark: the cluster, e.g. spark://host:7077  [embedded; spark-submit's --master]")
        String master;

        @Option(names = "--conf", paramLabel = "KEY=VALUE",
                description = "with --engine spark: a Spark setting, as spark-submit's --conf (Hadoop's as spark.hadoop.KEY); repeatable")
        Map<String, String> conf;

        @Option(names = "--ship", description = "with --engine spark: send the model, the text and the SAE with the job, so the"
                + " executors need no shared folder to read them")
        boolean ship;
    }

    public static void main(String[] args) {
        Path root = Path.of(System.getProperty("jlens.root", "."));
        System.exit(run(args, System.out, System.err, System.getenv("JLENS_MODEL"), root, FreeSpace.ofFileStore(), true));
    }

    /** Runs the command; returns the exit status. Whatever goes wrong is one line on {@code err} ({@link Cli}). */
    static int run(String[] args, PrintStream out, PrintStream err, String envModel, Path root, FreeSpace freeSpace,
                   boolean onCtrlC) {
        AtomicBoolean finished = new AtomicBoolean();
        AtomicReference<Thread> hook = new AtomicReference<>();
        try {
            return Cli.run("jlens experiment", err, () -> {
                if (args.length > 0 && args[0].equals("feature-contexts")) {
                    return featureContexts(Arrays.copyOfRange(args, 1, args.length), out, envModel, root, freeSpace);
                }
                Parsed p;
                try {
                    p = parseCommand(args);
                } catch (CommandLines.HelpRequested h) {
                    out.print(usage());
                    return 0;
                }
                ExperimentRecipe recipe = recipe(args, ModelChoice.resolve(p.model(), false, envModel, root), p.data(), null);
                BlockInternalsExperiment exp = (BlockInternalsExperiment) experimentOf(recipe);
                RunOptions options = new RunOptions(p.force(), out, Progress.stdoutIsTerminal(), freeSpace, engine(p.engine(), recipe));
                ResultsFolder folder = resultsFolder(p.out(), p.engine(), freeSpace);
                if (p.dryRun()) {
                    out.println(exp);
                    out.println("would write about " + BlockInternalsExperiment.bytes(exp.expectedBytes()) + " to " + folder.location()
                            + "; the disk has " + BlockInternalsExperiment.bytes(folder.usableBytes()) + " free (--dry-run: nothing written)");
                    return 0;
                }
                if (onCtrlC) {
                    hook.set(new Thread(() -> {
                        if (!finished.get()) {
                            err.println("\njlens experiment: stopped; the finished batches in " + folder.location() + " are kept — run the same"
                                    + " command again to resume");
                        }
                    }, "jlens-experiment-stop"));
                    Runtime.getRuntime().addShutdownHook(hook.get());
                }
                exp.runInto(folder, options);
                return 0;
            });
        } finally {
            finished.set(true);
            if (hook.get() != null) {
                try {
                    Runtime.getRuntime().removeShutdownHook(hook.get());
                } catch (IllegalStateException shuttingDown) {
                    // exiting after Ctrl-C: the hook is running
                }
            }
        }
    }

    /** The recipe of a command line: its files resolved here, so that an executor elsewhere finds the same ones. */
    private static ExperimentRecipe recipe(String[] args, Path model, String data, Path sae) {
        String modelName = Files.exists(model) ? absolute(model) : model.toString();
        return new ExperimentRecipe(List.of(args), modelName, absolute(textFile(data)), sae == null ? null : absolute(sae));
    }

    private static String absolute(Path p) {
        return p.toAbsolutePath().normalize().toString();
    }

    /**
     * {@code --out}: a folder on this machine (a path, or a file: URI), or a URI on a Hadoop file system (hdfs://,
     * s3a://…), reached through Hadoop's client, which comes with Spark: so only with {@code --engine spark}. Checked when
     * the command line is parsed; {@link #resultsFolder(String, Engine, FreeSpace)} opens it.
     */
    private static void checkOut(String out, Engine engine) {
        URI uri = hadoopUri(out);
        if (uri != null && !engine.spark()) {
            throw new UsageException("--out " + out + ": a folder on " + uri.getScheme() + ": is written through Hadoop's client,"
                    + " which comes with Spark; add --engine spark (embedded, or --master URL), or give a folder on this machine");
        }
    }

    private static ResultsFolder resultsFolder(String out, Engine engine, FreeSpace freeSpace) {
        URI uri = hadoopUri(out);
        if (uri != null) return ClusterEngines.hadoopFolder(uri, engine.settings());
        Path local = out.startsWith("file:") ? Path.of(URI.create(out)) : Path.of(out);
        return ResultsFolder.local(local, freeSpace);
    }

    /** {@code out} as a URI when it names a scheme other than file: (two letters at least: C:\ is a Windows drive), else null. */
    private static URI hadoopUri(String out) {
        if (!out.matches("[A-Za-z][A-Za-z0-9+.-]+:.*") || out.startsWith("file:")) return null;
        try {
            URI uri = new URI(out);
            if (uri.getPath() == null || uri.getPath().isEmpty()) {
                throw new UsageException("--out " + out + ": name a folder, e.g. hdfs://namenode:8020/results/b1");
            }
            return uri;
        } catch (URISyntaxException e) {
            throw new UsageException("--out " + out + ": not a URI (" + e.getReason() + ")");
        }
    }

    /** {@code --data}: a file, or 'tinyshakespeare' (downloaded once into the cache). */
    private static Path textFile(String data) {
        Path p = Path.of(data);
        return !Files.exists(p) && data.equalsIgnoreCase("tinyshakespeare") ? TinyShakespeare.file() : p;
    }

    private static BatchEngine engine(Engine e, ExperimentRecipe recipe) {
        return e.spark() ? ClusterEngines.spark(recipe.withShip(e.ship()), e.master(), e.settings()) : BatchEngine.local();
    }

    /** Loads the recipe's model and builds its experiment: the driver's and every Spark executor's one way to it. */
    static BatchedExperiment experimentOf(ExperimentRecipe r) {
        String[] args = r.args().toArray(String[]::new);
        if (args[0].equals("feature-contexts")) {
            FeatureContextsArgs a = featureContextsArgs(Arrays.copyOfRange(args, 1, args.length));
            if (a.threads != null) dev.jlens.compute.Threads.set(a.threads);
            return featureExperiment(a, HookedTransformer.fromPretrained(r.model()), Path.of(r.data()), Path.of(r.sae()));
        }
        Parsed p = parse(args);
        if (p.threads() != null) dev.jlens.compute.Threads.set(p.threads());
        return experiment(p, HookedTransformer.fromPretrained(r.model()), Path.of(r.data()));
    }

    /** The experiment a command line asks for, with each default filled in from the model and the samples. */
    static BlockInternalsExperiment experiment(Parsed p, HookedTransformer model) {
        return experiment(p, model, textFile(p.data()));
    }

    private static BlockInternalsExperiment experiment(Parsed p, HookedTransformer model, Path data) {
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

    /** {@code jlens experiment block-internals}'s command line, declared for picocli. */
    @Command(name = "jlens experiment block-internals", customSynopsis = HEADER, footer = FOOTER)
    static final class BlockInternalsArgs {
        @Option(names = {"--help", "-h"}, usageHelp = true, description = "this text")
        boolean help;

        @Option(names = "--model", paramLabel = "DIR", description = "the model  [$JLENS_MODEL, else artifacts/shakespeare-char]")
        Path model;

        @Option(names = "--data", paramLabel = "FILE", required = true,
                description = "UTF-8 text, encoded with the model's tokenizer; 'tinyshakespeare' downloads it once")
        String data;

        @Option(names = {"--block", "--blocks"}, paramLabel = "N[,N…]", hideParamSyntax = true, required = true, split = ",",
                converter = BlockNumber.class,
                description = "block(s) to save (0-based), e.g. --block 1 or --block 0,1,2")
        List<Integer> blocks;

        @Option(names = "--out", paramLabel = "DIR", required = true,
                description = "results folder (created; an existing one is resumed); hdfs://… or s3a://… with --engine spark")
        String out;

        @Option(names = "--split", paramLabel = "S", converter = SplitName.class,
                description = "train (first 90%%), val (last 10%%) or all  [val]")
        Split split;

        @Option(names = "--samples", paramLabel = "KIND", converter = SamplesKind.class,
                description = "windows (seed 002's DataBatcher) or substrings (every distinct run of --length tokens, seed 000)  [windows]")
        String samples;

        @Option(names = "--length", paramLabel = "N", converter = CommandLines.Positive.class,
                description = "tokens per sample  [windows: the model's n_ctx; substrings: 10]")
        Integer length;

        @Option(names = "--stride", paramLabel = "N", converter = CommandLines.Positive.class,
                description = "a window starts every N tokens  [= --length: the split tiled once]")
        Integer stride;

        @Option(names = "--components", paramLabel = "LIST", hideParamSyntax = true, split = ",", converter = ComponentName.class,
                description = "comma-separated resid_pre,z,attn_out,mlp_out,resid_post (or the seed's block_input,heads_output,"
                        + "proj_output,ffwd_output,block_output)  [all]")
        List<Component> components;

        @Option(names = "--positions", paramLabel = "P", converter = PositionsName.class,
                description = "all or last  [windows: all; substrings: last]")
        Positions positions;

        @Option(names = "--batch-size", paramLabel = "N", converter = CommandLines.Positive.class,
                description = "samples per batch file  [about 32,768 tokens]")
        Integer batchSize;

        @Option(names = "--threads", paramLabel = "N", converter = CommandLines.Positive.class, description = "compute threads  [all cores]")
        Integer threads;

        @Option(names = "--force", description = "replace what --out holds when it is another experiment's or damaged")
        boolean force;

        @Option(names = "--dry-run", description = "print the plan and the bytes it would write, then exit")
        boolean dryRun;

        @CommandLine.Mixin
        EngineOptions engine = new EngineOptions();
    }

    static final class BlockNumber implements CommandLine.ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            try {
                return Integer.parseInt(value.strip());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("needs block numbers like 1 or 0,1,2, got '" + value + "'");
            }
        }
    }

    static final class SplitName implements CommandLine.ITypeConverter<Split> {
        @Override
        public Split convert(String value) {
            return Split.parse(value);
        }
    }

    static final class ComponentName implements CommandLine.ITypeConverter<Component> {
        @Override
        public Component convert(String value) {
            return Component.parse(value);
        }
    }

    static final class PositionsName implements CommandLine.ITypeConverter<Positions> {
        @Override
        public Positions convert(String value) {
            return Positions.parse(value);
        }
    }

    static final class EngineName implements CommandLine.ITypeConverter<String> {
        @Override
        public String convert(String value) {
            if (!value.equals("local") && !value.equals("spark")) throw new IllegalArgumentException("must be local or spark, got '" + value + "'");
            return value;
        }
    }

    /** {@code --samples}: windows, or substrings (also called unique-substrings). */
    static final class SamplesKind implements CommandLine.ITypeConverter<String> {
        @Override
        public String convert(String value) {
            return switch (value) {
                case "windows" -> "windows";
                case "substrings", "unique-substrings" -> "substrings";
                default -> throw new IllegalArgumentException("must be windows or substrings, got '" + value + "'");
            };
        }
    }

    /** The run that these arguments describe (as the shell would pass them); {@code --help} is an error here. */
    static Parsed parse(String[] args) {
        try {
            return parseCommand(args);
        } catch (CommandLines.HelpRequested h) {
            throw new UsageException("--help asks for the usage, not a run");
        }
    }

    /**
     * The experiment's name, then its options.
     *
     * @throws CommandLines.HelpRequested for {@code --help} in either place
     * @throws UsageException             for a command line that names no experiment, another one, or bad options
     */
    static Parsed parseCommand(String[] args) throws CommandLines.HelpRequested {
        if (args.length == 0) throw new UsageException("name the experiment: jlens experiment block-internals …");
        if (args[0].equals("--help") || args[0].equals("-h")) throw new CommandLines.HelpRequested();
        if (!args[0].equals("block-internals")) {
            throw new UsageException("unknown experiment '" + args[0] + "': there are block-internals and feature-contexts");
        }
        BlockInternalsArgs a = new BlockInternalsArgs();
        CommandLines.parse(a, Arrays.copyOfRange(args, 1, args.length));
        if (a.blocks.stream().distinct().count() != a.blocks.size()) {
            throw new UsageException("--block lists a block twice: " + a.blocks);
        }
        if (a.stride != null && "substrings".equals(a.samples)) {
            throw new UsageException("--stride applies to --samples windows; substrings are every distinct run of --length tokens");
        }
        Engine engine = Engine.of(a.engine);
        checkOut(a.out, engine);
        return new Parsed(a.model, a.data, a.out, List.copyOf(a.blocks), a.split, a.samples, a.length, a.stride,
                a.components == null ? null : List.copyOf(a.components), a.positions, a.batchSize, a.threads, a.force, a.dryRun,
                engine);
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
              jlens experiment block-internals --data input.txt --block 0,1,2,3 --samples substrings --split all \\
                  --out results/s10

            read the results: BlockInternalsResults.open(Path.of(DIR)).matrix(Component.ATTN_OUT, 1)  ([rows, d_model])
            """;

    static String usage() {
        return CommandLines.usage(new BlockInternalsArgs());
    }

    // ---------------------------------------------------------------- feature-contexts

    /** {@code jlens experiment feature-contexts}'s command line. */
    @Command(name = "jlens experiment feature-contexts", customSynopsis = FC_HEADER, footer = FC_FOOTER)
    static final class FeatureContextsArgs {
        @Option(names = {"--help", "-h"}, usageHelp = true, description = "this text")
        boolean help;

        @Option(names = "--model", paramLabel = "DIR", description = "the model  [$JLENS_MODEL, else artifacts/shakespeare-char]")
        Path model;

        @Option(names = "--sae", paramLabel = "DIR", required = true, description = "the SAE: a SAELens, sparsify or Gemma Scope folder")
        Path sae;

        @Option(names = "--hook", paramLabel = "NAME", description = "the hook it reads, where its files do not say (Gemma Scope, sparsify)")
        String hook;

        @Option(names = "--data", paramLabel = "FILE", required = true,
                description = "UTF-8 text, encoded with the model's tokenizer; 'tinyshakespeare' downloads it once")
        String data;

        @Option(names = "--out", paramLabel = "DIR", required = true,
                description = "results folder (created; an existing one is resumed); hdfs://… or s3a://… with --engine spark")
        String out;

        @Option(names = "--split", paramLabel = "S", converter = SplitName.class, description = "train, val or all  [val]")
        Split split;

        @Option(names = "--length", paramLabel = "N", converter = CommandLines.Positive.class, description = "tokens per window  [n_ctx]")
        Integer length;

        @Option(names = "--top-k", paramLabel = "K", converter = CommandLines.Positive.class, description = "contexts kept per feature  [20]")
        Integer topK;

        @Option(names = "--batch-size", paramLabel = "N", converter = CommandLines.Positive.class,
                description = "samples per batch file  [about 32M activations]")
        Integer batchSize;

        @Option(names = "--threads", paramLabel = "N", converter = CommandLines.Positive.class, description = "compute threads  [all cores]")
        Integer threads;

        @Option(names = "--force", description = "replace what --out holds when it is another experiment's or damaged")
        boolean force;

        @CommandLine.Mixin
        EngineOptions engine = new EngineOptions();
    }

    private static int featureContexts(String[] args, PrintStream out, String envModel, Path root, FreeSpace freeSpace) {
        FeatureContextsArgs a;
        try {
            a = parseFeatureContexts(args);
        } catch (CommandLines.HelpRequested h) {
            out.print(CommandLines.usage(new FeatureContextsArgs()));
            return 0;
        }
        String[] all = new String[args.length + 1];
        all[0] = "feature-contexts";
        System.arraycopy(args, 0, all, 1, args.length);
        ExperimentRecipe recipe = recipe(all, ModelChoice.resolve(a.model, false, envModel, root), a.data, a.sae);
        FeatureContextsExperiment exp = (FeatureContextsExperiment) experimentOf(recipe);
        Engine engine = Engine.of(a.engine);
        ResultsFolder folder = resultsFolder(a.out, engine, freeSpace);
        exp.runInto(folder, new RunOptions(a.force, out, Progress.stdoutIsTerminal(), freeSpace, engine(engine, recipe)));
        if (folder.localPath().isPresent()) {
            out.println(FeatureContexts.open(folder.localPath().get()));
        } else {
            out.println("to read them, copy " + folder.location() + " to this machine (hdfs dfs -get, aws s3 cp --recursive)"
                    + " and open the copy with featureContexts(folder) in the console");
        }
        return 0;
    }

    private static FeatureContextsArgs parseFeatureContexts(String[] args) throws CommandLines.HelpRequested {
        FeatureContextsArgs a = new FeatureContextsArgs();
        CommandLines.parse(a, args);
        checkOut(a.out, Engine.of(a.engine));   // Engine.of refuses --master or --conf without --engine spark
        return a;
    }

    private static FeatureContextsArgs featureContextsArgs(String[] args) {
        try {
            return parseFeatureContexts(args);
        } catch (CommandLines.HelpRequested h) {
            throw new UsageException("--help asks for the usage, not a run");
        }
    }

    /** The SAE's experiment over the text {@code data} and the SAE folder {@code saeFolder} (both as the driver resolved them). */
    private static FeatureContextsExperiment featureExperiment(FeatureContextsArgs a, HookedTransformer model, Path data, Path saeFolder) {
        dev.jlens.sae.SAE sae = a.hook == null ? dev.jlens.sae.SAE.load(saeFolder) : dev.jlens.sae.SAE.load(saeFolder, a.hook);
        Corpus corpus = Corpus.read(data, model.tokenizer());
        int length = a.length != null ? a.length : model.cfg().nCtx();
        Dataset dataset = Dataset.windows(corpus, a.split == null ? Split.VAL : a.split, length, length);
        FeatureContextsExperiment exp = FeatureContextsExperiment.of(model, sae, dataset);
        if (a.topK != null) exp = exp.withTopK(a.topK);
        if (a.batchSize != null) exp = exp.withBatchSize(a.batchSize);
        return exp;
    }

    private static final String FC_HEADER = """
            usage: jlens experiment feature-contexts --sae DIR --data FILE|tinyshakespeare --out DIR [options]

            Runs windows of a text through the model to the SAE's hook, encodes them, and keeps for every
            feature its top contexts and a histogram of its activations, in resumable, verified batches
            with a manifest.json (the same folder layout as block-internals).
            """;

    private static final String FC_FOOTER = """

            example:
              jlens experiment feature-contexts --sae artifacts/shakespeare-char/saes/blocks.2.hook_resid_pre \\
                  --data tinyshakespeare --split val --out results/features-val

            read the results: FeatureContexts.open(Path.of(DIR)).top(feature, 8, 4); in the console featureContexts(DIR)
            """;
}
