package dev.jlens.train;

import dev.jlens.experiment.BlockInternalsResults;
import java.nio.file.Path;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Activation rows held as one matrix {@code [rows, d]}: every block is the whole matrix, so each epoch is one block. */
public record MatrixActivations(INDArray rows, String describe) implements ActivationSource {
    public MatrixActivations {
        if (rows.rank() != 2 || rows.size(0) < 1) {
            throw new IllegalArgumentException(describe + ": activations must be a matrix [rows, d] with rows; got shape "
                    + java.util.Arrays.toString(rows.shape()));
        }
        if (rows.size(0) > Integer.MAX_VALUE) throw new IllegalArgumentException(describe + ": more than 2^31 rows; use a smaller set");
        rows = rows.dataType() == DataType.FLOAT && rows.ordering() == 'c' ? rows : rows.castTo(DataType.FLOAT).dup('c');
    }

    /** The rows a block-internals experiment saved for one hook ({@code blocks.2.hook_resid_pre}). */
    public static MatrixActivations fromResults(Path folder, String hookName) {
        BlockInternalsResults results = BlockInternalsResults.open(folder);
        if (!results.tensorNames().contains(hookName)) {
            throw new IllegalArgumentException(folder + " holds no activations of " + hookName + "; it holds " + results.tensorNames());
        }
        return new MatrixActivations(results.matrix(hookName), hookName + " saved in " + folder);
    }

    @Override
    public int width() {
        return (int) rows.size(1);
    }

    @Override
    public int blockRows() {
        return (int) rows.size(0);
    }

    @Override
    public INDArray block(long b) {
        return rows;
    }
}
