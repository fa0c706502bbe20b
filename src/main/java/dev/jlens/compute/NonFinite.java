package dev.jlens.compute;

import java.util.concurrent.atomic.AtomicLong;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.reduce.longer.MatchCondition;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.conditions.Conditions;

/**
 * How many NaN and ±∞ values a float32 array holds, counted in one vectorised pass over its memory
 * (spread over the cores for large arrays). Weights are checked once at load; activations only when
 * the logits already hold NaN, to find where it came from.
 *
 * @param nan      NaN values
 * @param infinite +∞ and −∞ values
 */
public record NonFinite(long nan, long infinite) {
    private static final VectorSpecies<Float> S = OffHeap.S;
    private static final int L = S.length();
    private static final int GRAIN = 1 << 18;

    public long total() {
        return nan + infinite;
    }

    /** Counts over every element of {@code a} (any layout; a view that is not one contiguous run is copied first). */
    public static NonFinite count(INDArray a) {
        if (a.dataType() == DataType.BFLOAT16 && Layouts.isContiguousRowMajor(a)) return countBf16(a);
        if (a.dataType() != DataType.FLOAT) a = a.castTo(DataType.FLOAT);
        if (a.length() == 0) return new NonFinite(0, 0);
        if (!Layouts.isContiguousRowMajor(a)) a = a.dup('c');
        if ((a.data().length() - a.offset()) * 4 > Integer.MAX_VALUE) {
            // Beyond what one vector-addressable buffer covers: ND4J's own counting ops.
            return new NonFinite(Nd4j.getExecutioner().exec(new MatchCondition(a, Conditions.isNan())).getLong(0),
                    Nd4j.getExecutioner().exec(new MatchCondition(a, Conditions.isInfinite())).getLong(0));
        }
        Object memory = OffHeap.memory(a);
        int n = (int) a.length();
        AtomicLong nan = new AtomicLong(), inf = new AtomicLong();
        Parallel.forEach((n + GRAIN - 1) / GRAIN, (t, worker) -> {
            int from = t * GRAIN, to = Math.min(n, from + GRAIN), j = from;
            long bad = 0;
            // Fast path: most arrays are all finite, so only count non-finite lanes, then split them if any.
            for (; j + L <= to; j += L) bad += OffHeap.load(memory, 4L * j).test(VectorOperators.IS_FINITE).not().trueCount();
            VectorMask<Float> rest = S.indexInRange(j, to);   // the last few elements; lanes outside load as 0
            int tail = j;
            if (tail < to) bad += OffHeap.load(memory, 4L * tail, rest).test(VectorOperators.IS_FINITE).not().and(rest).trueCount();
            if (bad == 0) return;
            long nans = 0;
            for (j = from; j + L <= to; j += L) nans += OffHeap.load(memory, 4L * j).test(VectorOperators.IS_NAN).trueCount();
            if (tail < to) nans += OffHeap.load(memory, 4L * tail, rest).test(VectorOperators.IS_NAN).and(rest).trueCount();
            nan.addAndGet(nans);
            inf.addAndGet(bad - nans);
        });
        return new NonFinite(nan.get(), inf.get());
    }

    /**
     * A bfloat16 array counted on its bits, without a float32 copy (a 1B-parameter model's embedding
     * would take another gigabyte): exponent all ones is ±∞ (mantissa 0) or NaN.
     */
    private static NonFinite countBf16(INDArray a) {
        java.nio.ShortBuffer bits = a.data().asNio().order(java.nio.ByteOrder.LITTLE_ENDIAN).asShortBuffer();
        long start = a.offset(), n = a.length();
        AtomicLong nan = new AtomicLong(), inf = new AtomicLong();
        Parallel.forEach((int) ((n + GRAIN - 1) / GRAIN), (t, worker) -> {
            int from = (int) (start + (long) t * GRAIN), len = (int) Math.min(GRAIN, n - (long) t * GRAIN);
            short[] chunk = new short[len];
            bits.get(from, chunk, 0, len);
            long nans = 0, infs = 0;
            for (short b : chunk) {
                if ((b & 0x7F80) == 0x7F80) {
                    if ((b & 0x007F) != 0) nans++; else infs++;
                }
            }
            nan.addAndGet(nans);
            inf.addAndGet(infs);
        });
        return new NonFinite(nan.get(), inf.get());
    }

    /** Whether {@code a} holds a NaN (a full count; arrays checked this way are not huge). */
    public static boolean hasNaN(INDArray a) {
        return count(a).nan() > 0;
    }

    /** {@code "3 NaN and 1 ±Inf"}, leaving out a zero count. */
    public String describe() {
        if (nan > 0 && infinite > 0) return String.format("%,d NaN and %,d ±Inf", nan, infinite);
        return nan > 0 ? String.format("%,d NaN", nan) : String.format("%,d ±Inf", infinite);
    }
}
