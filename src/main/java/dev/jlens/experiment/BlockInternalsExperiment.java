package dev.jlens.experiment;

import static org.nd4j.linalg.indexing.NDArrayIndex.all;
import static org.nd4j.linalg.indexing.NDArrayIndex.point;

import dev.jlens.cache.ActivationCache;
import dev.jlens.cache.CacheSpec;
import dev.jlens.data.Dataset;
import dev.jlens.data.UniqueSubstrings;
import dev.jlens.model.HookedTransformer;
import dev.jlens.model.ModelConfig;
import dev.jlens.model.Run;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Seed 002's block-internals experiment: every sample of a dataset through the model, saving for each
 * chosen block its input, its heads' outputs, its attention and MLP outputs and its output (see
 * {@link Component}), at every position or the last only, in batches on disk.
 *
 * <pre>{@code
 * var corpus = Corpus.read(Path.of("input.txt"), model.tokenizer());
 * var exp = BlockInternalsExperiment.of(model, Dataset.windows(corpus, Split.VAL, 128, 128), 1);
 * BlockInternalsResults r = exp.run(Path.of("results/block1-val"));
 * INDArray attnOut = r.matrix(Component.ATTN_OUT, 1);     // [rows, d_model], memory-mapped
 * }</pre>
 *
 * <p>A run is resumable: the folder's {@link Manifest} lists the finished batches with their SHA-256;
 * running again checks them and computes only the rest, and a batch cut off by a kill is computed
 * again from scratch (each batch is a pure function of the model and its samples, so the files come
 * out byte for byte the same). It states the bytes it will write before it starts and refuses to
 * start when the disk cannot hold them. The activations come from the model's own hooked forward pass
 * recording only the hooks needed ({@link HookedTransformer#run}), stopped after the last chosen block.
 *
 * <p>Immutable: the {@code with…} methods return changed copies.
 */
public final class BlockInternalsExperiment implements BatchedExperiment {
    /** Default batch size: as many samples as make about this many tokens (64 windows of 512, 3,276 substrings of 10). */
    public static final int TOKENS_PER_BATCH = 32_768;

    private final HookedTransformer model;
    private final Dataset dataset;
    private final List<Integer> blocks;
    private final List<Component> components;
    private final Positions positions;
    private final int batchSize;

    private BlockInternalsExperiment(HookedTransformer model, Dataset dataset, List<Integer> blocks,
                                     List<Component> components, Positions positions, int batchSize) {
        this.model = Objects.requireNonNull(model, "model");
        this.dataset = Objects.requireNonNull(dataset, "dataset");
        this.blocks = List.copyOf(blocks);
        this.components = List.copyOf(components);
        this.positions = Objects.requireNonNull(positions, "positions");
        this.batchSize = batchSize;
        validate();
    }

    /**
     * Every component of {@code blocks} ({@code mlp_out} only where the model has an MLP); all
     * positions of windows, the last position of unique substrings (seed 000 compares the strings
     * there); batches of about {@value #TOKENS_PER_BATCH} tokens.
     */
    public static BlockInternalsExperiment of(HookedTransformer model, Dataset dataset, int... blocks) {
        List<Component> comps = new ArrayList<>(List.of(Component.values()));
        if (model.cfg().attnOnly()) comps.remove(Component.MLP_OUT);
        Positions pos = dataset.samples() instanceof UniqueSubstrings ? Positions.LAST : Positions.ALL;
        int batch = Math.max(1, TOKENS_PER_BATCH / dataset.samples().length());
        List<Integer> b = new ArrayList<>();
        for (int x : blocks) b.add(x);
        return new BlockInternalsExperiment(model, dataset, b, comps, pos, batch);
    }

    public BlockInternalsExperiment withBlocks(int... b) {
        List<Integer> list = new ArrayList<>();
        for (int x : b) list.add(x);
        return new BlockInternalsExperiment(model, dataset, list, components, positions, batchSize);
    }

    public BlockInternalsExperiment withComponents(Component... c) {
        return new BlockInternalsExperiment(model, dataset, blocks, List.of(c), positions, batchSize);
    }

    public BlockInternalsExperiment withPositions(Positions p) {
        return new BlockInternalsExperiment(model, dataset, blocks, components, p, batchSize);
    }

    public BlockInternalsExperiment withBatchSize(int samplesPerBatch) {
        return new BlockInternalsExperiment(model, dataset, blocks, components, positions, samplesPerBatch);
    }

    private void validate() {
        ModelConfig cfg = model.cfg();
        if (blocks.isEmpty()) throw new IllegalArgumentException("choose at least one block (0.." + (cfg.nLayers() - 1) + ")");
        for (int b : blocks) {
            if (b < 0 || b >= cfg.nLayers()) {
                throw new IllegalArgumentException("block " + b + " does not exist: this model has blocks 0.." + (cfg.nLayers() - 1));
            }
        }
        if (blocks.stream().distinct().count() != blocks.size()) throw new IllegalArgumentException("block listed twice: " + blocks);
        if (components.isEmpty()) throw new IllegalArgumentException("choose at least one component");
        if (components.stream().distinct().count() != components.size()) {
            throw new IllegalArgumentException("component listed twice: " + components);
        }
        if (cfg.attnOnly() && components.contains(Component.MLP_OUT)) {
            throw new IllegalArgumentException("this is an attention-only model: its blocks have no MLP, so no mlp_out");
        }
        if (batchSize < 1) throw new IllegalArgumentException("the batch size must be at least 1 sample, got " + batchSize);
        int len = dataset.samples().length();
        if (len > cfg.nCtx()) {
            throw new IllegalArgumentException("samples of " + len + " tokens do not fit the model's context of " + cfg.nCtx()
                    + " tokens: use samples of at most " + cfg.nCtx());
        }
        if (dataset.corpus().tokenizer().vocabSize() > cfg.dVocab()) {
            throw new IllegalArgumentException("the corpus was encoded with a tokenizer of " + dataset.corpus().tokenizer().vocabSize()
                    + " tokens, but the model has " + cfg.dVocab() + ": encode it with the model's own tokenizer");
        }
    }

    public HookedTransformer model() {
        return model;
    }

    public Dataset dataset() {
        return dataset;
    }

    public List<Integer> blocks() {
        return blocks;
    }

    public List<Component> components() {
        return components;
    }

    public Positions positions() {
        return positions;
    }

    public int batchSize() {
        return batchSize;
    }

    @Override
    public int batchCount() {
        return BatchedExperiment.super.batchCount();
    }

    // ---------------------------------------------------------------- the plan

    /** Saved tensor name → one sample's shape: {@code tokens [length]}, then each block's components. */
    Map<String, List<Long>> tensorShapes() {
        Map<String, List<Long>> m = new LinkedHashMap<>();
        long len = dataset.samples().length();
        m.put(BlockInternalsResults.TOKENS, List.of(len));
        for (int b : blocks) {
            for (Component c : components) {
                long w = c.width(model.cfg());
                m.put(c.hookName(b), positions == Positions.ALL ? List.of(len, w) : List.of(w));
            }
        }
        return m;
    }

    /** Bytes of data per sample (all tensors; tokens are int32, activations float32). */
    long bytesPerSample() {
        long n = 0;
        for (List<Long> shape : tensorShapes().values()) n += 4 * shape.stream().reduce(1L, (a, b) -> a * b);
        return n;
    }

    /** Expected size of batch {@code b}'s file: its data plus a header allowance. */
    @Override
    public long expectedBatchBytes(int b) {
        return samplesIn(b) * bytesPerSample() + 256 + 160L * tensorShapes().size();
    }

    /** What the folder will hold when the run is done: every batch file and the manifest. */
    public long expectedBytes() {
        long total = 4096 + 200L * batchCount();
        for (int b = 0; b < batchCount(); b++) total += expectedBatchBytes(b);
        return total;
    }

    /** The manifest this experiment writes, with no batch finished yet. */
    public Manifest plan() {
        ModelConfig cfg = model.cfg();
        var modelId = new Manifest.ModelIdentity(cfg.modelName(), cfg.architecture(), cfg.nLayers(), cfg.dModel(), cfg.nHeads(),
                cfg.dHead(), cfg.dVocab(), cfg.nCtx(), Fingerprints.weights(model));
        var corpus = dataset.corpus();
        var dataId = new Manifest.DatasetIdentity(corpus.source(), corpus.sha256(), corpus.size(), corpus.tokenizer().toString());
        return new Manifest(Manifest.FORMAT, modelId, dataId, dataset.split().label(), dataset.samples().describe(), blocks,
                components.stream().map(Component::shortName).toList(), positions.label(), batchSize, batchCount(), "F32",
                tensorShapes(), expectedBytes(), List.of(), null);
    }

    // ---------------------------------------------------------------- running

    /** Runs (or resumes) into {@code folder} with {@link RunOptions#defaults()}. */
    public BlockInternalsResults run(Path folder) {
        return run(folder, RunOptions.defaults());
    }

    /** Runs (or resumes) into {@code folder} on this machine ({@link #runInto}), then opens the results. */
    public BlockInternalsResults run(Path folder, RunOptions options) {
        runInto(ResultsFolder.local(folder, options.freeSpace()), options);
        return BlockInternalsResults.open(folder);
    }

    /** Batch {@code b}'s tensors, in {@link #tensorShapes} order. */
    @Override
    public Computed computeBatch(int b) {
        int from = b * batchSize, to = from + samplesIn(b);
        long[][] rows = dataset.samples().rows(from, to);
        int len = dataset.samples().length();
        List<String> hooks = new ArrayList<>();
        for (int block : blocks) for (Component c : components) hooks.add(c.hookName(block));
        Run run = model.run(Nd4j.createFromArray(rows), List.of(), CacheSpec.only(hooks.toArray(String[]::new)), false);
        Map<String, INDArray> out = new LinkedHashMap<>();
        int[][] ids = new int[rows.length][len];
        for (int i = 0; i < rows.length; i++) for (int t = 0; t < len; t++) ids[i][t] = (int) rows[i][t];
        out.put(BlockInternalsResults.TOKENS, Nd4j.createFromArray(ids));
        for (int block : blocks) {
            for (Component c : components) {
                INDArray act = run.cache().get(c.hookName(block));                 // [n, len, …]
                int w = c.width(model.cfg());
                if (act.rank() != 3) act = act.reshape('c', rows.length, len, w);   // hook_z [n, len, heads, d_head]
                out.put(c.hookName(block), positions == Positions.ALL ? act : act.get(all(), point(len - 1), all()));
            }
        }
        return new Computed(out, run.cache());
    }

    @Override
    public String toString() {
        String what = components.stream().map(Component::shortName).reduce((a, b) -> a + ", " + b).orElse("");
        return "block-internals: block" + (blocks.size() == 1 ? " " : "s ") + blocks.toString().replaceAll("[\\[\\]]", "")
                + " × " + what + " at " + positions.label() + " positions of " + dataset + ", batches of "
                + String.format("%,d", batchSize) + " (" + batchCount() + " batches)";
    }

    static String bytes(long n) {
        if (n < 1_000) return n + " B";
        if (n < 1_000_000) return String.format("%.1f kB", n / 1e3);
        if (n < 1_000_000_000) return String.format("%.1f MB", n / 1e6);
        return String.format("%.2f GB", n / 1e9);
    }
}
