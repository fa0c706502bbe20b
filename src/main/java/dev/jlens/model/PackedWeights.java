package dev.jlens.model;

import dev.jlens.cache.HookNames;
import dev.jlens.compute.Gemm;
import dev.jlens.compute.Layouts;
import java.util.Arrays;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Heap copies of each block's four matrices in the order the matrix-product kernel reads them
 * ({@link Gemm.Packed}), and of the unembedding's rows when it is stored transposed (the tied
 * {@code W_E}), each made at its first use. A 45-token GPT-2-small forward pass otherwise spends a
 * third of its time copying weight blocks out of native memory before multiplying.
 *
 * <p>A copy is only right while nobody changes the array it came from. Reading a weight
 * ({@code W_Q(l)}, {@code params()}, a logit lens, Tab completion, an experiment's fingerprint) changes
 * nothing; changing one goes through {@link HookedTransformer#editWeights}, which calls
 * {@link #refresh}. A change made around that door is still never silent: each copy keeps a
 * fingerprint of {@value #SAMPLES} entries spread over its array, checked whenever the forward pass
 * asks for the copy (~10 µs for GPT-2 small's 48 matrices); a copy whose source changed is made again
 * and a warning names the door. (A change of a few entries that the samples miss would go unseen: use
 * the door.) Models built from caller-held arrays (the public constructor, training) never pack.
 */
final class PackedWeights {
    /** The matrices of one block, in {@link LayerWeights} order. */
    enum Matrix {
        QKV("attn.W_Q/W_K/W_V"), O("attn.W_O"), IN("mlp.W_in"), OUT("mlp.W_out"), GATE("mlp.W_gate");

        final String tlName;

        Matrix(String tlName) {
            this.tlName = tlName;
        }
    }

    /** Entries of each source array remembered to notice a change made around {@link HookedTransformer#editWeights}. */
    static final int SAMPLES = 256;

    private final List<LayerWeights> layers;
    private final Gemm.Packed[] packed;
    private final float[][] fingerprints;
    /**
     * Which source arrays have been handed out since they were packed: only those can have been changed
     * around the door, so only those are fingerprinted before a run. Checking the others would read their
     * memory-mapped pages (and, through the kernel's fault-around, whole matrices) into memory for nothing.
     */
    private final boolean[] exposed;
    private boolean unembedExposed;
    /** {@code W_U} as the rows of the array it is the transpose of, or null when it is not stored so. */
    private final INDArray unembedRows;
    private Gemm.PackedRows unembed;
    private float[] unembedFingerprint;
    private boolean off, warned;
    /** Where the first copies are read from (the file, not its mapping), during the load only. */
    private WeightFiles.Rereads rereads;

    /**
     * @param budgetBytes the most heap the copies may take together; beyond it nothing is packed
     */
    PackedWeights(ModelConfig cfg, Weights weights, long budgetBytes, WeightFiles.Rereads rereads) {
        this.rereads = rereads;
        this.layers = weights.layers();
        this.packed = new Gemm.Packed[layers.size() * Matrix.values().length];
        this.fingerprints = new float[packed.length][];
        this.exposed = new boolean[packed.length];
        this.unembedRows = Forward.storedTransposed(weights.W_U()) && packable(weights.W_U()) ? weights.W_U().transpose() : null;
        long bytes = 0;
        for (LayerWeights lw : layers) {
            for (Matrix m : Matrix.values()) {
                if (!readPacked(cfg, m)) continue;
                INDArray w = array(lw, m);
                if (w != null && packable(w)) bytes += 4 * Gemm.packedSize(w.size(0), w.size(1));
            }
        }
        if (unembedRows != null) bytes += 4 * Gemm.packedRowsSize(unembedRows.size(0), unembedRows.size(1));
        this.off = bytes > budgetBytes;
    }

    /** Whether the model has this matrix (only gated MLPs have {@code W_gate}; attention-only models no MLP). */
    private static boolean readPacked(ModelConfig cfg, Matrix m) {
        if (m == Matrix.GATE) return cfg.arch().gatedMlp() && !cfg.attnOnly();
        return !(cfg.attnOnly() && (m == Matrix.IN || m == Matrix.OUT));
    }

    /**
     * Float32 matrices only: a bfloat16 checkpoint's matrices are kept in bfloat16, read in place
     * and widened block by block ({@code StoredFloats}), because a float32 copy would double their memory.
     */
    private static boolean packable(INDArray w) {
        return w.dataType() == org.nd4j.linalg.api.buffer.DataType.FLOAT && (Layouts.isRowMajor(w) || Layouts.isRowMajor(w.transpose()));
    }

    /**
     * Half of what the Java heap may still grow to: the copies must not crowd out the session's own
     * objects. {@code -Djlens.packWeights=false} turns packing off, for a machine short of memory
     * (the copies double the resident size of the block matrices).
     */
    static long defaultBudget() {
        if (!Boolean.parseBoolean(System.getProperty("jlens.packWeights", "true"))) return -1;
        Runtime rt = Runtime.getRuntime();
        return (rt.maxMemory() - (rt.totalMemory() - rt.freeMemory())) / 2;
    }

    /**
     * Makes every copy now, from reads of the file where the loader offers them ({@link WeightFiles.Rereads}),
     * and forgets the file: a memory-mapped matrix's pages are then never read by the forward pass, so the
     * model holds each matrix once (the packed copy), not twice.
     */
    synchronized void packAll(ModelConfig cfg) {
        try {
            for (int l = 0; l < layers.size(); l++) {
                for (Matrix m : Matrix.values()) if (readPacked(cfg, m)) get(l, m);
            }
            unembed();
        } finally {
            rereads = WeightFiles.Rereads.NONE;
        }
    }

    /** The packed copy of a matrix, made now if needed (or again if its array changed); null when packing is off. */
    synchronized Gemm.Packed get(int layer, Matrix m) {
        int i = index(layer, m);
        if (off) return null;
        INDArray w = array(layers.get(layer), m);
        if (w == null || !packable(w)) return null;
        if (packed[i] != null && exposed[i] && !Arrays.equals(fingerprints[i], fingerprint(w))) {
            changedOutsideTheDoor(HookNames.block(layer, m.tlName));
            packed[i] = null;
        }
        if (packed[i] == null) {
            INDArray source = unmappedOr(w);
            try {
                packed[i] = Gemm.pack(source);
                fingerprints[i] = fingerprint(source);
            } catch (OutOfMemoryError e) {
                // The heap is smaller than the budget promised (other objects grew): compute from the arrays.
                turnOff();
                return null;
            } finally {
                if (source != w) source.close();
            }
        }
        return packed[i];
    }

    /** Block {@code layer}'s matrices were handed out (an accessor of the model gave a view of them). */
    synchronized void exposed(int layer) {
        for (Matrix m : Matrix.values()) exposed[index(layer, m)] = true;
    }

    /** The embedding or unembedding was handed out. */
    synchronized void unembedExposed() {
        unembedExposed = true;
    }

    /** Every array was handed out ({@code weights()}, {@code params()}). */
    synchronized void allExposed() {
        Arrays.fill(exposed, true);
        unembedExposed = true;
    }

    /** {@code w}'s values read from the file without its mapping while the load offers that, else {@code w}. */
    private INDArray unmappedOr(INDArray w) {
        INDArray fresh = rereads.unmapped(w);
        return fresh != null ? fresh : w;
    }

    /** Drops every copy: the weights were changed through {@link HookedTransformer#editWeights}. */
    synchronized void refresh() {
        Arrays.fill(packed, null);
        Arrays.fill(fingerprints, null);
        unembed = null;
        unembedFingerprint = null;
    }

    private void changedOutsideTheDoor(String what) {
        if (warned) return;
        warned = true;
        System.err.println("jlens: warning: the weights (" + what + ") were changed outside model.editWeights(…); the change is"
                + " used from now on, but make changes through editWeights so that every copy the model keeps is refreshed");
    }

    /**
     * {@value #SAMPLES} entries spread over the whole array (both axes), read from its memory in index order.
     * A matrix's own values: equal fingerprints mean (almost surely) an unchanged matrix.
     */
    static float[] fingerprint(INDArray a) {
        long rows = a.size(0), cols = a.size(1), n = rows * cols;
        int k = (int) Math.min(SAMPLES, n);
        float[] out = new float[k];
        var data = a.data();
        long base = a.offset(), s0 = a.stride(0), s1 = a.stride(1);
        for (int s = 0; s < k; s++) {
            long at = (s * n) / k + (s * 7919L) % Math.max(1, n / k);   // one per stretch, at a varying place within it
            long r = Math.min(rows - 1, at / cols), c = at % cols;
            out[s] = data.getFloat(base + r * s0 + c * s1);   // the buffer directly: getFloat(r, c) costs ~1 µs a call
        }
        return out;
    }

    /** The unembedding's rows on the heap, made now if needed (or again if changed); null as for {@link #get}. */
    synchronized Gemm.PackedRows unembed() {
        if (off || unembedRows == null) return null;
        if (unembed != null && unembedExposed && !Arrays.equals(unembedFingerprint, fingerprint(unembedRows))) {
            changedOutsideTheDoor("embed.W_E / unembed.W_U");
            unembed = null;
        }
        if (unembed == null) {
            INDArray source = unmappedOr(unembedRows);
            try {
                unembed = Gemm.packRows(source);
                unembedFingerprint = fingerprint(source);
            } catch (OutOfMemoryError e) {
                turnOff();
                return null;
            } finally {
                if (source != unembedRows) source.close();
            }
        }
        return unembed;
    }

    /** Heap bytes the copies take now. */
    synchronized long bytes() {
        long total = unembed == null ? 0 : unembed.bytes();
        for (Gemm.Packed p : packed) if (p != null) total += p.bytes();
        return total;
    }

    private void turnOff() {
        off = true;
        Arrays.fill(packed, null);
        unembed = null;
    }

    private int index(int layer, Matrix m) {
        return layer * Matrix.values().length + m.ordinal();
    }

    private static INDArray array(LayerWeights lw, Matrix m) {
        return switch (m) {
            case QKV -> lw.qkvW();
            case O -> lw.oW();
            case IN -> lw.inW();
            case OUT -> lw.outW();
            case GATE -> lw.gateW();
        };
    }
}
