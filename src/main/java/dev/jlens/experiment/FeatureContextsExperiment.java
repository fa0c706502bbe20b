package dev.jlens.experiment;

import dev.jlens.cache.CacheSpec;
import dev.jlens.data.Dataset;
import dev.jlens.model.HookedTransformer;
import dev.jlens.model.ModelConfig;
import dev.jlens.model.Run;
import dev.jlens.sae.SAE;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The corpus contexts that make each feature of an SAE fire most (seed 000's dataset experiment, aimed at features):
 * the samples are run through the model to the SAE's hook point, encoded, and each batch keeps, for every feature at
 * once, its {@code k} largest activations (value and token position) and a histogram of its positive activations.
 * Memory is bounded by one batch's activations plus features × k; the results folder is resumable and verified like
 * block internals', and {@link FeatureContexts} merges its batches.
 *
 * <p>Each {@code batch-NNNNN.safetensors} holds {@code tokens [samples, length]} (I32), {@code top_values [d_sae, k]}
 * (F32, largest first, 0 where a feature fired fewer than k times), {@code top_rows [d_sae, k]} (I32: sample·length +
 * position within the batch, −1 for none) and {@code histogram [d_sae, bins]} (I32 counts of activations > 0 in the
 * bins of {@link FeatureContexts#edges()}).
 */
public final class FeatureContextsExperiment implements BatchedExperiment {
    /** Activations held at once in a batch, [tokens, d_sae] floats: about 128 MB. */
    static final long FLOATS_PER_BATCH = 32L << 20;

    private final HookedTransformer model;
    private final SAE sae;
    private final Dataset dataset;
    private final int k;
    private final int batchSize;

    private FeatureContextsExperiment(HookedTransformer model, SAE sae, Dataset dataset, int k, int batchSize) {
        this.model = Objects.requireNonNull(model, "model");
        this.sae = Objects.requireNonNull(sae, "sae");
        this.dataset = Objects.requireNonNull(dataset, "dataset");
        this.k = k;
        this.batchSize = batchSize;
        if (k < 1) throw new IllegalArgumentException("keep at least 1 context per feature, got " + k);
        if (batchSize < 1) throw new IllegalArgumentException("the batch size must be at least 1 sample, got " + batchSize);
        if (!model.hookNames().contains(sae.hookName())) {
            throw new IllegalArgumentException("the SAE reads " + sae.hookName() + ", which " + model.cfg().modelName() + " does not have:"
                    + " it was made for another model");
        }
        if (dataset.samples().length() > model.cfg().nCtx()) {
            throw new IllegalArgumentException("samples of " + dataset.samples().length() + " tokens do not fit the model's context of "
                    + model.cfg().nCtx());
        }
    }

    /** The top 20 contexts per feature, batches of about {@value #FLOATS_PER_BATCH} activations. */
    public static FeatureContextsExperiment of(HookedTransformer model, SAE sae, Dataset dataset) {
        long perSample = (long) dataset.samples().length() * sae.cfg().dSae();
        return new FeatureContextsExperiment(model, sae, dataset, 20, (int) Math.max(1, FLOATS_PER_BATCH / perSample));
    }

    public FeatureContextsExperiment withTopK(int contexts) {
        return new FeatureContextsExperiment(model, sae, dataset, contexts, batchSize);
    }

    public FeatureContextsExperiment withBatchSize(int samplesPerBatch) {
        return new FeatureContextsExperiment(model, sae, dataset, k, samplesPerBatch);
    }

    @Override
    public Dataset dataset() {
        return dataset;
    }

    @Override
    public int batchSize() {
        return batchSize;
    }

    @Override
    public long expectedBatchBytes(int b) {
        long dSae = sae.cfg().dSae();
        return 4L * samplesIn(b) * dataset.samples().length() + dSae * (8L * k + 4L * FeatureContexts.BINS) + 1024;
    }

    @Override
    public Manifest plan() {
        ModelConfig cfg = model.cfg();
        var modelId = new Manifest.ModelIdentity(cfg.modelName(), cfg.architecture(), cfg.nLayers(), cfg.dModel(), cfg.nHeads(),
                cfg.dHead(), cfg.dVocab(), cfg.nCtx(), Fingerprints.weights(model));
        var corpus = dataset.corpus();
        var dataId = new Manifest.DatasetIdentity(corpus.source(), corpus.sha256(), corpus.size(), corpus.tokenizer().toString());
        Map<String, INDArray> weights = new LinkedHashMap<>();
        weights.put("W_enc", sae.W_enc());
        weights.put("b_enc", sae.b_enc());
        weights.put("W_dec", sae.W_dec());
        weights.put("b_dec", sae.b_dec());
        if (sae.threshold() != null) weights.put("threshold", sae.threshold());
        Map<String, Object> saeId = new LinkedHashMap<>();
        saeId.put("hook_name", sae.hookName());
        saeId.put("architecture", sae.cfg().architecture());
        saeId.put("d_sae", sae.cfg().dSae());
        saeId.put("weights_sha256", Fingerprints.arrays(weights));
        saeId.put("top_k", k);
        saeId.put("bins", FeatureContexts.BINS);
        long total = 4096;
        for (int b = 0; b < batchCount(); b++) total += expectedBatchBytes(b);
        int len = dataset.samples().length(), dSae = sae.cfg().dSae();
        Map<String, List<Long>> tensors = new LinkedHashMap<>();
        tensors.put("tokens", List.of((long) len));
        tensors.put("top_values", List.of((long) dSae, (long) k));
        tensors.put("top_rows", List.of((long) dSae, (long) k));
        tensors.put("histogram", List.of((long) dSae, (long) FeatureContexts.BINS));
        return new Manifest(Manifest.FEATURE_CONTEXTS_FORMAT, modelId, dataId, dataset.split().label(), dataset.samples().describe(),
                List.of(Math.max(0, dev.jlens.cache.HookNames.layerOf(sae.hookName()))), List.of(sae.hookName()), "all", batchSize,
                batchCount(), "F32", tensors, total, List.of(), saeId);
    }

    /** Runs (or resumes) into {@code folder}, then opens the merged results. */
    public FeatureContexts run(Path folder, RunOptions options) {
        runInto(ResultsFolder.local(folder, options.freeSpace()), options);
        return FeatureContexts.open(folder);
    }

    @Override
    public Computed computeBatch(int b) {
        int from = b * batchSize, n = samplesIn(b), len = dataset.samples().length(), dSae = sae.cfg().dSae();
        long[][] rows = dataset.samples().rows(from, from + n);
        Run run = model.run(Nd4j.createFromArray(rows), List.of(), CacheSpec.only(sae.hookName()), false);
        INDArray acts = sae.encode(run.cache().get(sae.hookName())).reshape('c', (long) n * len, dSae);
        float[] topValues = new float[dSae * k];
        long[] topRows = new long[dSae * k];
        java.util.Arrays.fill(topRows, -1);
        int[] counts = new int[dSae];
        int[] histogram = new int[dSae * FeatureContexts.BINS];
        FloatBuffer v = acts.data().asNioFloat();
        int offset = (int) acts.offset();
        for (int r = 0; r < n * len; r++) {
            int base = offset + r * dSae;
            for (int j = 0; j < dSae; j++) {
                float x = v.get(base + j);
                if (!(x > 0)) continue;
                histogram[j * FeatureContexts.BINS + FeatureContexts.bin(x)]++;
                FeatureContexts.insert(topValues, topRows, counts, j, k, x, r);
            }
        }
        int[][] ids = new int[n][len];
        for (int i = 0; i < n; i++) for (int t = 0; t < len; t++) ids[i][t] = (int) rows[i][t];
        Map<String, INDArray> out = new LinkedHashMap<>();
        out.put("tokens", Nd4j.createFromArray(ids));
        out.put("top_values", Nd4j.create(topValues, new long[] {dSae, k}, 'c'));
        out.put("top_rows", Nd4j.createFromArray(java.util.Arrays.stream(topRows).mapToInt(Math::toIntExact).toArray()).reshape('c', dSae, k).castTo(DataType.INT));
        out.put("histogram", Nd4j.createFromArray(histogram).reshape('c', dSae, FeatureContexts.BINS).castTo(DataType.INT));
        return new Computed(out, run.cache());
    }

    @Override
    public String toString() {
        return "feature-contexts: the top " + k + " contexts of each of the " + String.format("%,d", sae.cfg().dSae()) + " features of the SAE at "
                + sae.hookName() + " over " + dataset + ", batches of " + String.format("%,d", batchSize) + " (" + batchCount() + " batches)";
    }
}
