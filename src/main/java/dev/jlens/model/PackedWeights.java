package dev.jlens.model;

import dev.jlens.compute.Gemm;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Heap copies of each block's four matrices in the order the matrix-product kernel reads them
 * ({@link Gemm.Packed}), and of the unembedding's rows when it is stored transposed (the tied
 * {@code W_E}), each made at its first use. A 45-token GPT-2-small forward pass otherwise spends a
 * third of its time copying weight blocks out of native memory before multiplying.
 *
 * <p>A copy is only right while nobody changes the array it came from. The model's loaders hand
 * their arrays over to the model alone; from then on any accessor that gives a matrix out
 * ({@code W_Q(l)}, {@code W_in(l)}, {@code params()}, {@code weights()}, …) marks it
 * <em>given out</em>: its copy is dropped for good and the forward pass reads the array itself,
 * so a change made through it, now or later, is always seen. Models built from caller-held
 * arrays (the public constructor, training) never pack.
 */
final class PackedWeights {
    /** The matrices of one block, in {@link LayerWeights} order. */
    enum Matrix { QKV, O, IN, OUT }

    private final List<LayerWeights> layers;
    private final Gemm.Packed[] packed;
    private final boolean[] givenOut;
    /** {@code W_U} as the rows of the array it is the transpose of, or null when it is not stored so. */
    private final INDArray unembedRows;
    private Gemm.PackedRows unembed;
    private boolean unembedGivenOut;
    private boolean off;

    /**
     * @param budgetBytes the most heap the copies may take together; beyond it nothing is packed
     */
    PackedWeights(ModelConfig cfg, Weights weights, long budgetBytes) {
        this.layers = weights.layers();
        this.packed = new Gemm.Packed[layers.size() * Matrix.values().length];
        this.givenOut = new boolean[packed.length];
        this.unembedRows = Forward.storedTransposed(weights.W_U()) ? weights.W_U().transpose() : null;
        long bytes = 0;
        for (LayerWeights lw : layers) {
            for (Matrix m : Matrix.values()) {
                if (!readPacked(cfg, m)) continue;
                INDArray w = array(lw, m);
                if (w != null) bytes += 4 * Gemm.packedSize(w.size(0), w.size(1));
            }
        }
        if (unembedRows != null) bytes += 4 * Gemm.packedRowsSize(unembedRows.size(0), unembedRows.size(1));
        this.off = bytes > budgetBytes;
    }

    /**
     * Whether the forward pass asks for this matrix packed: the step-by-step attention of other than
     * GPT-2 blocks and the gated MLP read q/k/v and the MLP's input weights from their arrays, so
     * those copies are never made and must not count against the budget.
     */
    private static boolean readPacked(ModelConfig cfg, Matrix m) {
        if (m == Matrix.QKV) return cfg.arch().isGpt2Block(cfg.nHeads());
        if (m == Matrix.IN) return !cfg.arch().gatedMlp();
        return true;
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

    /** The packed copy of a matrix, made now if needed; null when it was given out or packing is off. */
    synchronized Gemm.Packed get(int layer, Matrix m) {
        int i = index(layer, m);
        if (off || givenOut[i]) return null;
        if (packed[i] == null) {
            INDArray w = array(layers.get(layer), m);
            if (w == null || !Gemm.isRowMajor(w)) return null;
            try {
                packed[i] = Gemm.pack(w);
            } catch (OutOfMemoryError e) {
                // The heap is smaller than the budget promised (other objects grew): compute from the arrays.
                turnOff();
                return null;
            }
        }
        return packed[i];
    }

    /** The unembedding's rows on the heap, made now if needed; null as for {@link #get}. */
    synchronized Gemm.PackedRows unembed() {
        if (off || unembedGivenOut || unembedRows == null) return null;
        if (unembed == null) {
            try {
                unembed = Gemm.packRows(unembedRows);
            } catch (OutOfMemoryError e) {
                turnOff();
                return null;
            }
        }
        return unembed;
    }

    /** Someone outside the model may hold (and change) the embedding / unembedding from now on. */
    synchronized void unembedGivenOut() {
        unembedGivenOut = true;
        unembed = null;
    }

    /** Someone outside the model may hold (and change) this matrix from now on. */
    synchronized void givenOut(int layer, Matrix m) {
        int i = index(layer, m);
        givenOut[i] = true;
        packed[i] = null;
    }

    synchronized void allGivenOut() {
        java.util.Arrays.fill(givenOut, true);
        java.util.Arrays.fill(packed, null);
        unembedGivenOut();
    }

    /** Heap bytes the copies take now. */
    synchronized long bytes() {
        long total = unembed == null ? 0 : unembed.bytes();
        for (Gemm.Packed p : packed) if (p != null) total += p.bytes();
        return total;
    }

    private void turnOff() {
        off = true;
        java.util.Arrays.fill(packed, null);
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
        };
    }
}
