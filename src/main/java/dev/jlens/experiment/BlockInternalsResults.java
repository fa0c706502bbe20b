package dev.jlens.experiment;

import static org.nd4j.linalg.indexing.NDArrayIndex.all;
import static org.nd4j.linalg.indexing.NDArrayIndex.interval;

import dev.jlens.load.SafeTensors;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A block-internals results folder, read back: each saved activation as one {@code [rows, d]} matrix
 * (row = sample, or sample × position when all positions were saved), memory-mapped from the batch
 * files.
 *
 * <p><b>Zero copy, and where it stops.</b> {@link #batches} returns one array per batch file whose
 * memory is the file's pages (nothing is read until used). {@link #matrix} returns the whole
 * {@code [rows, d]} matrix: the same mapped array when the results are one batch, otherwise one copy
 * in memory ({@code rows × d × 4} bytes), because an ND4J array needs one contiguous buffer and each
 * batch file is a mapping of its own. Code that streams (nearest neighbours, k-means passes) can
 * work batch by batch with {@link #batches} and {@link #firstRow} and never copy.
 */
public final class BlockInternalsResults {
    /** The tensor in every batch file that holds the samples' token ids, {@code [samples, length]} (I32). */
    public static final String TOKENS = "tokens";

    private final Path folder;
    private final Manifest manifest;
    private int[] tokens;   // all finished samples' ids, loaded on first use

    private BlockInternalsResults(Path folder, Manifest manifest) {
        this.folder = folder;
        this.manifest = manifest;
    }

    /**
     * Opens a results folder: reads its manifest and checks that every batch it lists is there with
     * the listed size (the SHA-256 check is {@link #verify()}, which reads every byte).
     *
     * @throws ResultsFolderException when there is no manifest or a listed batch is missing or resized
     */
    public static BlockInternalsResults open(Path folder) {
        Manifest m = Manifest.read(folder);
        ResultsFolder f = ResultsFolder.local(folder);
        for (Manifest.Batch b : m.batches()) checkPresent(f, b);
        return new BlockInternalsResults(folder, m);
    }

    /** Checks every finished batch against its SHA-256; returns this. */
    public BlockInternalsResults verify() {
        verify(folder, manifest);
        return this;
    }

    static void verify(Path folder, Manifest m) {
        ResultsFolder f = ResultsFolder.local(folder);
        for (Manifest.Batch b : m.batches()) verify(f, b);
    }

    /** Checks one listed batch: present, of the listed size, with the listed SHA-256. */
    static void verify(ResultsFolder folder, Manifest.Batch b) {
        checkPresent(folder, b);
        String actual;
        try (InputStream in = folder.open(b.file())) {
            actual = Fingerprints.stream(in);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + folder.location(b.file()) + ": " + e.getMessage(), e);
        }
        if (!actual.equals(b.sha256())) {
            throw new ResultsFolderException(folder.location(b.file()), ResultsFolderException.Problem.CORRUPT_BATCH,
                    "batch " + b.index() + " is damaged: its SHA-256 is " + Manifest.shortHash(actual) + " but the manifest recorded "
                            + Manifest.shortHash(b.sha256()), REDO);
        }
    }

    private static final String REDO = "delete this file and run the experiment again (it recomputes missing batches),"
            + " or pass --force to start over";

    /** Checks one listed batch's file: present, of the listed size. */
    static void checkPresent(ResultsFolder folder, Manifest.Batch b) {
        String file = folder.location(b.file());
        OptionalLong size;
        try {
            size = folder.size(b.file());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
        if (size.isEmpty()) {
            throw new ResultsFolderException(file, ResultsFolderException.Problem.CORRUPT_BATCH,
                    "batch " + b.index() + " is listed in the manifest but missing", "run the experiment again to recompute it");
        }
        if (size.getAsLong() != b.bytes()) {
            throw new ResultsFolderException(file, ResultsFolderException.Problem.CORRUPT_BATCH,
                    "batch " + b.index() + " has " + size.getAsLong() + " bytes but the manifest recorded " + b.bytes(), REDO);
        }
    }

    public Path folder() {
        return folder;
    }

    public Manifest manifest() {
        return manifest;
    }

    /** Every batch is there. */
    public boolean complete() {
        return manifest.complete();
    }

    /** Samples in the finished batches. */
    public int sampleCount() {
        return manifest.batches().stream().mapToInt(Manifest.Batch::samples).sum();
    }

    /** Tokens per sample. */
    public int sampleLength() {
        return manifest.sampleLength();
    }

    /** Rows per sample in each matrix: the sample length for all positions, 1 for the last only. */
    public int rowsPerSample() {
        return Positions.parse(manifest.positions()) == Positions.ALL ? sampleLength() : 1;
    }

    /** Rows of each matrix: {@code sampleCount() × rowsPerSample()}. */
    public long rowCount() {
        return (long) sampleCount() * rowsPerSample();
    }

    /** The saved activation names ({@code blocks.1.hook_attn_out}, …), without {@code tokens}. */
    public List<String> tensorNames() {
        return manifest.tensors().keySet().stream().filter(n -> !n.equals(TOKENS)).toList();
    }

    /** {@code [rows, d]}: {@code component} at {@code block} over all samples (see the class comment on copies). */
    public INDArray matrix(Component component, int block) {
        return matrix(component.hookName(block));
    }

    /** {@code [rows, d]} by hook name: {@code matrix("blocks.1.hook_mlp_out")}. */
    public INDArray matrix(String name) {
        requireComplete();
        List<INDArray> parts = batches(name);
        if (parts.size() == 1) return parts.get(0);
        long d = parts.get(0).size(1);
        INDArray out = Nd4j.createUninitialized(DataType.FLOAT, rowCount(), d);
        long row = 0;
        for (INDArray p : parts) {
            out.get(interval(row, row + p.size(0)), all()).assign(p);
            row += p.size(0);
        }
        return out;
    }

    /** One memory-mapped {@code [batch rows, d]} array per finished batch, in order. */
    public List<INDArray> batches(Component component, int block) {
        return batches(component.hookName(block));
    }

    public List<INDArray> batches(String name) {
        List<Long> shape = manifest.tensors().get(name);
        if (shape == null || name.equals(TOKENS)) {
            throw new IllegalArgumentException("these results hold no '" + name + "'; they hold " + String.join(", ", tensorNames()));
        }
        long d = shape.get(shape.size() - 1);
        List<INDArray> out = new ArrayList<>();
        for (Manifest.Batch b : manifest.batches()) {
            try (SafeTensors st = SafeTensors.open(folder.resolve(b.file()))) {
                out.add(st.get(name).reshape('c', (long) b.samples() * rowsPerSample(), d));
            }
        }
        return out;
    }

    /** The first matrix row of each finished batch, plus the total at the end: batch {@code i} is rows {@code [f[i], f[i+1])}. */
    public long[] firstRow() {
        List<Manifest.Batch> bs = manifest.batches();
        long[] f = new long[bs.size() + 1];
        for (int i = 0; i < bs.size(); i++) f[i + 1] = f[i] + (long) bs.get(i).samples() * rowsPerSample();
        return f;
    }

    /** Which sample matrix row {@code row} belongs to. */
    public int sampleOfRow(long row) {
        return (int) (row / rowsPerSample());
    }

    /** Which position of its sample matrix row {@code row} is (the last position when only the last was saved). */
    public int positionOfRow(long row) {
        return rowsPerSample() == 1 ? sampleLength() - 1 : (int) (row % rowsPerSample());
    }

    /** Sample {@code i}'s token ids, as saved. */
    public int[] sampleTokens(int i) {
        int len = sampleLength();
        if (i < 0 || i >= sampleCount()) throw new IndexOutOfBoundsException("sample " + i + " of " + sampleCount());
        int[] all = allTokens();
        return java.util.Arrays.copyOfRange(all, i * len, i * len + len);
    }

    /** The token ids of the rows up to and including {@code row}'s position: the text the model had read there. */
    public int[] rowTokens(long row) {
        int[] s = sampleTokens(sampleOfRow(row));
        return java.util.Arrays.copyOf(s, positionOfRow(row) + 1);
    }

    private synchronized int[] allTokens() {
        if (tokens == null) {
            requireContiguous();
            int len = sampleLength();
            int[] ids = new int[sampleCount() * len];
            int at = 0;
            for (Manifest.Batch b : manifest.batches()) {
                try (SafeTensors st = SafeTensors.open(folder.resolve(b.file()))) {
                    float[] f = st.get(TOKENS).data().asFloat();   // ids < 2^24 are exact in float32
                    for (float v : f) ids[at++] = (int) v;
                }
            }
            tokens = ids;
        }
        return tokens;
    }

    private void requireComplete() {
        if (!complete()) {
            throw new IllegalStateException(folder + " holds " + manifest.batches().size() + " of " + manifest.batchCount()
                    + " batches: run the experiment again to finish it, or read the finished ones with batches(…)");
        }
    }

    /** Finished batches are numbered 0..k-1 without gaps, so row numbers are sample numbers. */
    private void requireContiguous() {
        List<Manifest.Batch> bs = manifest.batches();
        for (int i = 0; i < bs.size(); i++) {
            if (bs.get(i).index() != i) {
                throw new IllegalStateException(folder + ": batch " + i + " is missing while later ones are there; run the"
                        + " experiment again to fill the gap");
            }
        }
    }

    @Override
    public String toString() {
        Manifest m = manifest;
        return "BlockInternalsResults[" + folder + ": " + m.model().name() + ", " + m.split() + " split of " + m.dataset().source()
                + ", " + m.samples() + ", blocks " + m.blocks() + ", " + m.components() + " at " + m.positions() + " positions, "
                + m.batches().size() + "/" + m.batchCount() + " batches, " + String.format("%,d", rowCount()) + " rows]";
    }
}
