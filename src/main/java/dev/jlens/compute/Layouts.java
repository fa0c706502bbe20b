package dev.jlens.compute;

import java.nio.FloatBuffer;
import org.nd4j.linalg.api.ndarray.INDArray;

/** How an array's elements lie in memory: the checks the kernels make before reading one in place. */
public final class Layouts {
    private Layouts() {}

    /** Whether a is a 2-D array whose rows lie one after another in memory. */
    public static boolean isRowMajor(INDArray a) {
        if (a.rank() != 2) return false;
        return a.stride(1) == 1 && (a.stride(0) == a.size(1) || a.size(0) == 1);
    }

    /** Elements 0..length-1 lie one after another from the array's offset (row-major, no gaps; size-1 axes ignored). */
    public static boolean isContiguousRowMajor(INDArray x) {
        long expected = 1;
        for (int d = x.rank() - 1; d >= 0; d--) {
            if (x.size(d) != 1 && x.stride(d) != expected) return false;
            expected *= x.size(d);
        }
        return true;
    }

    /** A float32 array's whole buffer (index it from {@code a.offset()}). */
    static FloatBuffer floats(INDArray a) {
        return a.data().asNioFloat();
    }
}
