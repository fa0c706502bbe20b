package dev.jlens.experiment;

import dev.jlens.load.SafeTensors;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The merged results of a {@link FeatureContextsExperiment}: for each feature its top contexts over the whole corpus,
 * its activation histogram and its density. Merging reads one batch at a time and keeps features × k entries.
 */
public final class FeatureContexts implements dev.jlens.sae.FeatureStatistics {
    /** Histogram bins: four per decade from 10⁻³ to 10⁴, the first and last open-ended. */
    public static final int BINS = 28;
    private static final double LOG_MIN = -3, PER_DECADE = 4;

    private final Path folder;
    private final Manifest manifest;
    private final int dSae, k, length;
    private final float[] values;     // [d_sae][k], largest first
    private final long[] rows;        // global row = sample·length + position, −1 none
    private final long[] histogram;   // [d_sae][BINS]
    private final long tokens;

    private FeatureContexts(Path folder, Manifest manifest, int dSae, int k, float[] values, long[] rows, long[] histogram, long tokens) {
        this.folder = folder;
        this.manifest = manifest;
        this.dSae = dSae;
        this.k = k;
        this.length = manifest.sampleLength();
        this.values = values;
        this.rows = rows;
        this.histogram = histogram;
        this.tokens = tokens;
    }

    /** The bin of a positive activation. */
    static int bin(float x) {
        int b = (int) Math.floor((Math.log10(x) - LOG_MIN) * PER_DECADE);
        return Math.max(0, Math.min(BINS - 1, b));
    }

    /** The lower edges of the bins (the first bin also holds everything below its edge). */
    static double[] edges() {
        double[] e = new double[BINS];
        for (int b = 0; b < BINS; b++) e[b] = Math.pow(10, LOG_MIN + b / PER_DECADE);
        return e;
    }

    /** Opens a results folder and merges its finished batches. */
    public static FeatureContexts open(Path folder) {
        Manifest m = Manifest.read(folder);
        if (!Manifest.FEATURE_CONTEXTS_FORMAT.equals(m.format())) {
            throw new ResultsFolderException(folder, ResultsFolderException.Problem.NOT_A_RESULTS_FOLDER,
                    "holds " + m.format() + " results, not feature contexts", "open it with openResults(…) instead");
        }
        int dSae = ((Number) m.sae().get("d_sae")).intValue(), k = ((Number) m.sae().get("top_k")).intValue();
        int len = m.sampleLength();
        float[] values = new float[dSae * k];
        long[] rows = new long[dSae * k];
        Arrays.fill(rows, -1);
        int[] kept = new int[dSae];
        long[] hist = new long[dSae * BINS];
        long tokens = 0;
        ResultsFolder results = ResultsFolder.local(folder);
        for (Manifest.Batch b : m.batches()) {
            BlockInternalsResults.verify(results, b);
            try (SafeTensors st = SafeTensors.open(folder.resolve(b.file()))) {
                float[] v = st.get("top_values").data().asFloat();
                int[] r = st.get("top_rows").data().asInt();
                int[] h = st.get("histogram").data().asInt();
                for (int i = 0; i < h.length; i++) hist[i] += h[i];
                long first = (long) b.firstSample() * len;
                // Batches in order, entries largest first: a later batch's entry enters only when strictly larger.
                for (int j = 0; j < dSae; j++) {
                    for (int i = 0; i < k; i++) {
                        if (r[j * k + i] < 0) break;
                        insert(values, rows, kept, j, k, v[j * k + i], first + r[j * k + i]);
                    }
                }
            }
            tokens += (long) b.samples() * len;
        }
        return new FeatureContexts(folder, m, dSae, k, values, rows, hist, tokens);
    }

    /** Into feature j's top k, largest first: an entry enters only when strictly larger, so ties keep the earlier context. */
    static void insert(float[] values, long[] rows, int[] kept, int j, int k, float x, long row) {
        if (kept[j] == k && !(x > values[j * k + k - 1])) return;
        int at = kept[j] == k ? k - 1 : kept[j]++;
        while (at > 0 && x > values[j * k + at - 1]) {
            values[j * k + at] = values[j * k + at - 1];
            rows[j * k + at] = rows[j * k + at - 1];
            at--;
        }
        values[j * k + at] = x;
        rows[j * k + at] = row;
    }

    public int features() {
        return dSae;
    }

    /** Tokens the finished batches cover. */
    public long tokens() {
        return tokens;
    }

    public boolean complete() {
        return manifest.complete();
    }

    public Manifest manifest() {
        return manifest;
    }

    @Override
    public String hookName() {
        return (String) manifest.sae().get("hook_name");
    }

    @Override
    public List<TopContext> top(int f, int before, int after) {
        check(f);
        List<TopContext> out = new ArrayList<>();
        for (int i = 0; i < k && rows[f * k + i] >= 0; i++) {
            long row = rows[f * k + i];
            int sample = (int) (row / length), pos = (int) (row % length);
            int[] sampleTokens = sampleTokens(sample);
            int from = Math.max(0, pos - before), to = Math.min(length, pos + after + 1);
            out.add(new TopContext(f, values[f * k + i], sample, pos, Arrays.copyOfRange(sampleTokens, from, to), pos - from));
        }
        return out;
    }

    @Override
    public double[] binEdges() {
        return edges();
    }

    @Override
    public long[] histogram(int f) {
        check(f);
        return Arrays.copyOfRange(histogram, f * BINS, (f + 1) * BINS);
    }

    @Override
    public double density(int f) {
        long fired = 0;
        for (long c : histogram(f)) fired += c;
        return tokens == 0 ? 0 : fired / (double) tokens;
    }

    /** Features that never fired on the corpus. */
    public int deadFeatures() {
        int dead = 0;
        for (int f = 0; f < dSae; f++) if (rows[f * k] < 0) dead++;
        return dead;
    }

    @Override
    public int[] sampleTokens(int sample) {
        for (Manifest.Batch b : manifest.batches()) {
            if (sample >= b.firstSample() && sample < b.firstSample() + b.samples()) {
                try (SafeTensors st = SafeTensors.open(folder.resolve(b.file()))) {
                    INDArray t = st.get("tokens");
                    return t.getRow(sample - b.firstSample()).toIntVector();
                }
            }
        }
        throw new IllegalStateException("sample " + sample + " is in no finished batch of " + folder);
    }

    private void check(int f) {
        if (f < 0 || f >= dSae) throw new IndexOutOfBoundsException("feature " + f + " of " + dSae);
    }

    @Override
    public String toString() {
        return "FeatureContexts[" + folder + ": " + String.format("%,d", dSae) + " features of the SAE at " + hookName() + ", top " + k
                + " contexts each, " + String.format("%,d", tokens) + " tokens, " + manifest.batches().size() + "/" + manifest.batchCount()
                + " batches, " + deadFeatures() + " features never fired]";
    }
}
