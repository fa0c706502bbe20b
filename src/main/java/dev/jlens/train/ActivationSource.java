package dev.jlens.train;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Where an SAE's training rows come from: a sequence of blocks of activation rows {@code [blockRows, width]}, each
 * a pure function of its index (so a resumed run sees exactly the rows the uninterrupted run saw).
 * {@link ShuffledBatches} shuffles within each block and cuts it into batches.
 */
public interface ActivationSource {
    /** The activations' width, the SAE's {@code d_in}. */
    int width();

    /** Rows per block. */
    int blockRows();

    /** Block {@code b}'s rows {@code [blockRows, width]}, float32, c order; the same every time it is asked for. */
    INDArray block(long b);

    /** Where the rows come from, for the card and messages. */
    String describe();
}
