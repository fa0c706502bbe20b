package dev.jlens.compute;

import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * An {@code [N, d]} float32 matrix, one row per sample, held as row-major chunks: one array, or one
 * per saved batch. The chunks are read where they lie (a memory-mapped file stays on disk until its
 * rows are read) and never joined, so a matrix may be larger than the heap; row indices run on
 * across chunks in order.
 *
 * <p>A chunk is read through a {@link FloatBuffer}, so each must hold under 2³¹ elements: save larger
 * matrices in several batches.
 */
public final class FloatRows {
    private final List<INDArray> chunks;
    private final long[] starts;     // starts[c] = first row of chunk c; starts[chunks] = N
    private final int width;

    private FloatRows(List<INDArray> chunks) {
        if (chunks.isEmpty()) throw new IllegalArgumentException("no rows: give at least one [n, d] array");
        this.chunks = List.copyOf(chunks);
        this.starts = new long[chunks.size() + 1];
        long d = -1;
        for (int c = 0; c < chunks.size(); c++) {
            INDArray a = chunks.get(c);
            String which = chunks.size() == 1 ? "the matrix" : "chunk " + c;
            if (a.rank() != 2) {
                throw new IllegalArgumentException(which + " has shape " + Arrays.toString(a.shape())
                        + "; expected [rows, d] (take the last position first if it is [batch, pos, d])");
            }
            if (a.dataType() != DataType.FLOAT) {
                throw new IllegalArgumentException(which + " is " + a.dataType() + "; expected FLOAT (castTo(DataType.FLOAT))");
            }
            if (!Layouts.isRowMajor(a)) throw new IllegalArgumentException(which + " is not row-major and contiguous; pass a.dup('c')");
            if (a.length() >= Integer.MAX_VALUE) {
                throw new IllegalArgumentException(which + " holds " + a.length() + " floats, more than one buffer can address; "
                        + "split it into batches of fewer rows");
            }
            if (d >= 0 && a.size(1) != d) {
                throw new IllegalArgumentException(which + " is " + a.size(1) + " wide, but the chunks before it are " + d);
            }
            d = a.size(1);
            starts[c + 1] = starts[c] + a.size(0);
        }
        if (d == 0) throw new IllegalArgumentException("the rows are empty (d = 0)");
        if (starts[chunks.size()] > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(starts[chunks.size()] + " rows: at most " + Integer.MAX_VALUE + " are supported");
        }
        this.width = (int) d;
    }

    /** The rows of one {@code [N, d]} array (memory-mapped or not). */
    public static FloatRows of(INDArray matrix) {
        return new FloatRows(List.of(matrix));
    }

    /** The rows of several {@code [n_i, d]} arrays, one after another (per-batch files). */
    public static FloatRows of(List<INDArray> chunks) {
        return new FloatRows(chunks);
    }

    /** A small matrix from heap rows (tests, queries, centroids). */
    public static FloatRows of(float[][] rows) {
        if (rows.length == 0) throw new IllegalArgumentException("no rows");
        return of(org.nd4j.linalg.factory.Nd4j.create(rows));
    }

    /** N, the number of rows. */
    public int rows() {
        return (int) starts[chunks.size()];
    }

    /** d, the length of each row. */
    public int width() {
        return width;
    }

    /** Row {@code i} as a new heap array. */
    public float[] row(int i) {
        float[] out = new float[width];
        copy(i, 1, out, 0);
        return out;
    }

    /**
     * Copies rows {@code from .. from+count} into {@code dst} at {@code dstOff}, row after row,
     * crossing chunk boundaries as needed.
     */
    public void copy(int from, int count, float[] dst, int dstOff) {
        if (from < 0 || count < 0 || (long) from + count > rows()) {
            throw new IndexOutOfBoundsException("rows " + from + ".." + ((long) from + count) + " of " + rows());
        }
        int c = chunkOf(from);
        while (count > 0) {
            INDArray a = chunks.get(c);
            int inChunk = (int) (from - starts[c]);
            int n = (int) Math.min(count, starts[c + 1] - from);
            FloatBuffer buf = a.data().asNioFloat();
            buf.get((int) (a.offset() + (long) inChunk * width), dst, dstOff, n * width);
            from += n;
            count -= n;
            dstOff += n * width;
            c++;
        }
    }

    private int chunkOf(int row) {
        int i = Arrays.binarySearch(starts, row);
        if (i >= 0) {
            while (i + 1 < starts.length && starts[i + 1] == row) i++;   // skip empty chunks
            return i;
        }
        return -i - 2;
    }

    @Override
    public String toString() {
        return "FloatRows[" + rows() + " × " + width + (chunks.size() > 1 ? ", " + chunks.size() + " chunks]" : "]");
    }
}
