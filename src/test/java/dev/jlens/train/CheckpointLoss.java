package dev.jlens.train;

import dev.jlens.model.HookedTransformer;
import java.nio.file.Path;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The loss of a checkpoint on the first 8 windows of the validation split, as bench/train_torch.py --check-checkpoint computes it. */
class CheckpointLoss {
    public static void main(String[] a) {
        HookedTransformer m = HookedTransformer.fromPretrained(a[0]);
        TrainingBatches c = TrainingBatches.read(Path.of(a[1]));
        int[] val = c.split(true);
        int T = m.cfg().nCtx(), rows = Math.min(8, (val.length - 1) / T);
        long[][] x = new long[rows][T];
        int[][] y = new int[rows][T];
        for (int r = 0; r < rows; r++) for (int t = 0; t < T; t++) {
            x[r][t] = val[r * T + t];
            y[r][t] = val[r * T + t + 1];
        }
        INDArray logits = m.forward(Nd4j.createFromArray(x));
        System.out.printf("{\"impl\": \"jlens\", \"what\": \"checkpoint_loss\", \"rows\": %d, \"ctx\": %d, \"loss\": %.7f}%n", rows, T,
                Trainer.crossEntropySum(logits, y) / (rows * T));
    }
}
