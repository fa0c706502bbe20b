package dev.jlens.train;

import java.util.SplittableRandom;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Batches of rows from an {@link ActivationSource}: the source's blocks one after another, each read in an order
 * shuffled from {@code (seed, block)}, cut into batches of {@code batchSize} rows (a batch may span two blocks). Batch
 * {@code s} is a pure function of {@code s}, so a resumed run reads exactly the rows the uninterrupted one read.
 */
final class ShuffledBatches {
    private final ActivationSource source;
    private final int batchSize;
    private final long seed;
    private long permBlock = -1;
    private int[] perm;

    ShuffledBatches(ActivationSource source, int batchSize, long seed) {
        this.source = source;
        this.batchSize = batchSize;
        this.seed = seed;
    }

    /** Batch {@code step}'s rows {@code [batchSize, width]}. */
    INDArray batch(long step) {
        int d = source.width(), per = source.blockRows();
        float[] out = new float[batchSize * d];
        long first = step * batchSize;
        for (int i = 0; i < batchSize; i++) {
            long p = first + i, b = p / per;
            int row = order(b)[(int) (p % per)];
            INDArray block = source.block(b);
            block.data().asNioFloat().get((int) block.offset() + row * d, out, i * d, d);
        }
        return Nd4j.create(out, new long[] {batchSize, d}, DataType.FLOAT);
    }

    /** Block {@code b}'s reading order: a Fisher-Yates shuffle keyed by the seed and the block. */
    private int[] order(long b) {
        if (b != permBlock) {
            int n = source.blockRows();
            if (perm == null || perm.length != n) perm = new int[n];
            for (int i = 0; i < n; i++) perm[i] = i;
            SplittableRandom r = Rng.stream(seed, Rng.SHUFFLE, b);
            for (int i = n - 1; i > 0; i--) {
                int j = r.nextInt(i + 1);
                int t = perm[i];
                perm[i] = perm[j];
                perm[j] = t;
            }
            permBlock = b;
        }
        return perm;
    }
}
