package dev.jlens.model;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Log-probabilities from logits: over the vocabulary, of the tokens that actually came next, and the mean
 * loss they make ({@link HookedTransformer}'s {@code tokenLogProbs} and {@code loss} are these).
 */
public final class LogProbs {
    private LogProbs() {}

    /**
     * {@code [batch, pos-1]}: the log-probability each position gave the token that actually came
     * next (seed 001's per-token log-probs).
     */
    public static INDArray tokenLogProbs(INDArray logits, INDArray tokens) {
        long[][] rows = TokenIds.rows(tokens);
        int[] all = new int[rows.length];
        java.util.Arrays.fill(all, rows.length == 0 ? 0 : rows[0].length);
        return tokenLogProbs(logits, tokens, all);
    }

    /**
     * As {@link #tokenLogProbs(INDArray, INDArray)} for a right-padded batch whose rows have these real lengths:
     * the predictions of padding (and of a row's last real token) are NaN, never a number that looks real.
     */
    public static INDArray tokenLogProbs(INDArray logits, INDArray tokens, int[] lengths) {
        long[][] rows = TokenIds.rows(tokens);
        int batch = rows.length, pos = batch == 0 ? 0 : rows[0].length;
        if (pos < 2) throw new IllegalArgumentException("need at least two tokens to predict one from the other");
        INDArray logProbs = logSoftmax(logits);                     // [batch, pos, d_vocab]
        INDArray out = Nd4j.create(DataType.FLOAT, batch, pos - 1);
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < pos - 1; t++) {
                out.putScalar(b, t, t + 1 < lengths[b] ? logProbs.getDouble(b, t, rows[b][t + 1]) : Double.NaN);
            }
        }
        return out;
    }

    /**
     * The mean next-token cross-entropy, {@code -mean(log p)}, of {@link #tokenLogProbs} over every real
     * prediction: NaN entries (padding) are skipped, so a padded batch gives the token-weighted mean of its
     * prompts' own losses.
     */
    public static double meanLoss(INDArray tokenLogProbs) {
        double sum = 0;
        long n = 0;
        for (float v : tokenLogProbs.dup('c').data().asFloat()) {
            if (Float.isNaN(v)) continue;   // padding
            sum += v;
            n++;
        }
        if (n == 0) throw new IllegalArgumentException("no prompt has two tokens: there is nothing to predict");
        return -sum / n;
    }

    /** Log-softmax over the last axis, computed stably (max subtracted first). */
    public static INDArray logSoftmax(INDArray logits) {
        long[] shape = logits.shape();
        long vocab = shape[shape.length - 1], n = logits.length() / vocab;
        INDArray flat = logits.reshape(n, vocab);
        INDArray max = flat.max(1).reshape(n, 1);
        INDArray shifted = flat.subColumnVector(max);
        INDArray lse = Transforms.log(Transforms.exp(shifted, true).sum(1), false).reshape(n, 1);
        return shifted.subiColumnVector(lse).reshape(shape);
    }
}
