package dev.jlens.compute;

import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A weight array's elements read in place as float32, whatever it is stored in: float32, or
 * bfloat16 (a checkpoint's own dtype, kept so that a 1B-parameter model takes 2.5 GB, not 5),
 * widened while it is copied into a kernel's heap block. bfloat16 is the upper half of a float32,
 * so widening is exact: the products are those of the float32 model whose weights are the bf16 values.
 */
public sealed interface StoredFloats permits StoredFloats.F32, StoredFloats.BF16 {
    /** Copies elements {@code index .. index+len} (counted from the buffer's start) into {@code dst}. */
    void get(long index, float[] dst, int dstOff, int len);

    /** The dtypes a weight may be stored in. */
    static boolean readable(INDArray a) {
        return a.dataType() == DataType.FLOAT || a.dataType() == DataType.BFLOAT16;
    }

    static StoredFloats of(INDArray a) {
        return switch (a.dataType()) {
            case FLOAT -> new F32(a.data().asNioFloat());
            case BFLOAT16 -> new BF16(a.data().asNio().order(ByteOrder.LITTLE_ENDIAN).asShortBuffer());
            default -> throw new IllegalArgumentException("weights must be FLOAT or BFLOAT16, got " + a.dataType());
        };
    }

    record F32(FloatBuffer buf) implements StoredFloats {
        @Override
        public void get(long index, float[] dst, int dstOff, int len) {
            buf.get((int) index, dst, dstOff, len);
        }
    }

    record BF16(ShortBuffer buf) implements StoredFloats {
        @Override
        public void get(long index, float[] dst, int dstOff, int len) {
            short[] bits = Scratch.of(0).widening(len);
            buf.get((int) index, bits, 0, len);
            widen(bits, 0, dst, dstOff, len);
        }
    }

    /** {@code dst[i] = float(src[i])} for bfloat16 bits: the 16 bits become a float32's upper half. */
    static void widen(short[] src, int srcOff, float[] dst, int dstOff, int n) {
        VectorSpecies<Integer> ints = Widening.INTS;
        VectorSpecies<Short> shorts = Widening.SHORTS;
        int i = 0;
        for (int step = ints.length(); i + step <= n; i += step) {
            ShortVector s = ShortVector.fromArray(shorts, src, srcOff + i);
            IntVector v = (IntVector) s.convertShape(VectorOperators.S2I, ints, 0);
            v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoArray(dst, dstOff + i);
        }
        for (; i < n; i++) dst[dstOff + i] = Float.intBitsToFloat(src[srcOff + i] << 16);
    }

    /** Species for {@link #widen}: as many shorts as a float vector has lanes, in half the bits. */
    final class Widening {
        static final VectorSpecies<Integer> INTS = IntVector.SPECIES_PREFERRED;
        static final VectorSpecies<Short> SHORTS = VectorSpecies.of(short.class, VectorShape.forBitSize(INTS.vectorBitSize() / 2));

        private Widening() {}
    }
}
