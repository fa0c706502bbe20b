package dev.jlens.compute;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Per-thread heap blocks for the kernels, grown on demand and kept between calls: the Vector API
 * loads fastest from heap arrays, and a kernel that allocated its blocks on every call would spend a
 * 45-token forward pass in the allocator and the garbage collector.
 */
final class Scratch {
    private static final ThreadLocal<Scratch> MINE = ThreadLocal.withInitial(Scratch::new);
    private float[] staging = new float[0];
    private float[] packed = new float[0];
    private float[] bias = new float[0];

    /** The calling thread's blocks ({@code worker} names the piece of work, for readers; the thread decides). */
    static Scratch of(int worker) {
        return MINE.get();
    }

    float[] staging(int n) {
        if (staging.length < n) staging = new float[n];
        return staging;
    }

    float[] packed(int n) {
        if (packed.length < n) packed = new float[n];
        return packed;
    }

    float[] bias(int n) {
        if (bias.length < n) bias = new float[n];
        return bias;
    }

    /** Slots for a kernel's whole inputs and outputs on the calling thread; 0..7 are for the per-piece work. */
    static final int IN_A = 8, IN_B = 9, OUT = 10, AUX = 11;
    private final float[][] slots = new float[12][0];
    private short[] shorts = new short[0];

    /** Numbered general-purpose blocks for other kernels. */
    float[] floats(int slot, int n) {
        if (slots[slot].length < n) slots[slot] = new float[n];
        return slots[slot];
    }

    short[] shorts(int n) {
        if (shorts.length < n) shorts = new short[n];
        return shorts;
    }

    private short[] widening = new short[0];

    /** The bfloat16 bits {@link StoredFloats} widens, apart from {@link #shorts} (a kernel may hold both). */
    short[] widening(int n) {
        if (widening.length < n) widening = new short[n];
        return widening;
    }

    /** The array's elements in row-major order, in a new heap array. */
    static float[] toHeap(INDArray x) {
        return toHeap(x, new float[(int) x.length()]);
    }

    /**
     * The array's elements in row-major order, in the calling thread's block {@code slot}
     * (one of {@link #IN_A} …), which may be longer than the array.
     */
    static float[] toHeap(INDArray x, int slot) {
        return toHeap(x, of(0).floats(slot, (int) x.length()));
    }

    private static float[] toHeap(INDArray x, float[] out) {
        long len = x.length();
        if (Layouts.isContiguousRowMajor(x)) {
            Layouts.floats(x).get((int) x.offset(), out, 0, (int) len);
        } else {
            Layouts.floats(x.dup('c')).get(0, out, 0, (int) len);
        }
        return out;
    }
}
