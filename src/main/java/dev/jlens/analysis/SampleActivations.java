package dev.jlens.analysis;

import static org.nd4j.linalg.indexing.NDArrayIndex.all;
import static org.nd4j.linalg.indexing.NDArrayIndex.point;

import dev.jlens.cache.HookNames;
import dev.jlens.compute.FloatRows;
import dev.jlens.data.Dataset;
import dev.jlens.data.NextTokenCounts;
import dev.jlens.model.HookedTransformer;
import dev.jlens.model.Run;
import java.util.Objects;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A dataset's samples as one block sees them: row {@code i} of {@code rows} is the activation at
 * {@code hook} of sample {@code i}'s last token, and {@code nextTokens} says which tokens follow that
 * sample in the text. Seed 000's similar-strings analyses ({@link SimilarStrings},
 * {@link NextTokenPooling}, {@link ActivationClusters}) read these three together.
 *
 * <p>The rows are usually a saved experiment read back memory-mapped; anything that gives an
 * {@code [N, d]} float matrix in sample order will do.
 */
public final class SampleActivations {
    private final String hook;
    private final FloatRows rows;
    private final Dataset dataset;
    private final NextTokenCounts nextTokens;
    private final int[] prefixOf;    // sample → its number in nextTokens, or −1 when nothing follows it

    /**
     * @param hook       the hook point the rows were recorded at, e.g. {@code blocks.2.hook_mlp_out}
     *                   (the concatenated heads are {@code blocks.2.attn.hook_z}, flattened)
     * @param rows       {@code [N, d]}, row i = sample i at its last position
     * @param dataset    the N samples, in row order
     * @param nextTokens next-token counts for prefixes as long as the samples, over the same text
     */
    public SampleActivations(String hook, FloatRows rows, Dataset dataset, NextTokenCounts nextTokens) {
        this.hook = Objects.requireNonNull(hook, "hook");
        this.rows = Objects.requireNonNull(rows, "rows");
        this.dataset = Objects.requireNonNull(dataset, "dataset");
        this.nextTokens = Objects.requireNonNull(nextTokens, "nextTokens");
        int n = dataset.samples().count();
        if (rows.rows() != n) {
            throw new IllegalArgumentException("the matrix has " + rows.rows() + " rows but the dataset " + n
                    + " samples: pass the activations saved from this dataset (" + dataset + ")");
        }
        int length = dataset.samples().length();
        if (nextTokens.prefixLength() != length) {
            throw new IllegalArgumentException("the next-token counts are for prefixes of " + nextTokens.prefixLength()
                    + " tokens but the samples are " + length + " long: build them with NextTokenCounts.of(corpus, split, "
                    + length + ")");
        }
        this.prefixOf = new int[n];
        for (int i = 0; i < n; i++) prefixOf[i] = nextTokens.indexOf(dataset.samples().tokens(i));
    }

    /** The samples' activations with next-token counts over the dataset's own split (prefixes as long as the samples). */
    public static SampleActivations of(String hook, FloatRows rows, Dataset dataset) {
        return new SampleActivations(hook, rows, dataset,
                NextTokenCounts.of(dataset.corpus(), dataset.split(), dataset.samples().length()));
    }

    public String hook() {
        return hook;
    }

    public FloatRows rows() {
        return rows;
    }

    public Dataset dataset() {
        return dataset;
    }

    public NextTokenCounts nextTokens() {
        return nextTokens;
    }

    /** N, the number of samples. */
    public int count() {
        return prefixOf.length;
    }

    /** Sample {@code i} as text. */
    public String text(int i) {
        return dataset.text(i);
    }

    /** Adds how often each token followed sample {@code i} in the text into {@code sums} ({@code [d_vocab]}). */
    public void addNextTokens(int i, long[] sums) {
        int p = prefixOf[i];
        if (p >= 0) nextTokens.addTo(p, sums);
    }

    /** A token's text, by the corpus's tokenizer (the one the samples and counts were made with). */
    public String tokenString(int id) {
        return dataset.corpus().tokenizer().tokenString(id);
    }

    /** The vocabulary size of the next-token counts. */
    public int vocabSize() {
        return nextTokens.vocabSize();
    }

    /**
     * The prompt's activation at this hook and its last token, comparable with the rows: the prompt
     * is encoded as the samples were, without a BOS token.
     */
    public float[] query(HookedTransformer model, String prompt) {
        return lastPosition(run(model, prompt, false));
    }

    /** Runs the prompt (without BOS, as the samples ran) recording this hook, with logits when asked. */
    Run run(HookedTransformer model, String prompt, boolean withLogits) {
        if (!model.hookNames().contains(hook)) throw HookNames.unknown(hook, model.hookNames());
        if (prompt.isEmpty()) throw new IllegalArgumentException("the prompt is empty: give at least one token of text");
        return model.runWithCache(model.toTokens(prompt, false), withLogits, hook);
    }

    /** The recorded activation at the run's last position, flattened ({@code hook_z}'s heads joined), as floats. */
    float[] lastPosition(Run run) {
        INDArray act = run.cache().get(hook);                    // [1, pos, d] or [1, pos, heads, d_head]
        long last = act.size(1) - 1;
        INDArray v = act.rank() == 3 ? act.get(point(0), point(last), all()) : act.get(point(0), point(last), all(), all());
        float[] q = v.dup('c').castTo(DataType.FLOAT).reshape(v.length()).toFloatVector();
        if (q.length != rows.width()) {
            throw new IllegalArgumentException(hook + " of this model is " + q.length + " wide but the saved rows are "
                    + rows.width() + ": these activations come from another model or hook");
        }
        return q;
    }

    @Override
    public String toString() {
        return String.format("SampleActivations[%s at the last token of %,d samples × %d, %s]",
                hook, count(), rows.width(), dataset);
    }
}
