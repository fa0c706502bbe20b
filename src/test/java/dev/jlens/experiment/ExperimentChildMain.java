package dev.jlens.experiment;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Child programs for {@link ReproducibleResultsTest}, started in fresh JVMs:
 * <ul>
 *   <li>{@code slow ARGS…}: {@code jlens experiment ARGS…} with a pause after each batch file, so that a
 *       test can kill it (kill -9) part-way;</li>
 *   <li>{@code warm N ARGS…}: batch 0 computed first in the process, then again after N more batches,
 *       printing the SHA-256 of its tensors' bits both times.</li>
 * </ul>
 */
public final class ExperimentChildMain {
    private ExperimentChildMain() {}

    public static void main(String[] args) throws Exception {
        String[] rest = java.util.Arrays.copyOfRange(args, 1, args.length);
        if (args[0].equals("slow")) {
            ExperimentRunner.afterFileForTests = b -> {
                try {
                    Thread.sleep(30);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            };
            ExperimentCommand.main(rest);
        } else {
            int n = Integer.parseInt(rest[0]);
            String[] command = java.util.Arrays.copyOfRange(rest, 1, rest.length);
            var p = ExperimentCommand.parse(command);
            var exp = ExperimentCommand.experiment(p, dev.jlens.model.HookedTransformer.fromPretrained(p.model().toString()));
            System.out.println("cold " + digest(exp, 0));
            for (int i = 0; i < n; i++) digest(exp, i % exp.batchCount());
            System.out.println("warm " + digest(exp, 0));
            System.exit(0);
        }
    }

    static String digest(BlockInternalsExperiment exp, int batch) throws Exception {
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        BlockInternalsExperiment.Computed c = exp.computeBatch(batch);
        for (Map.Entry<String, INDArray> e : c.tensors().entrySet()) {
            sha.update(e.getKey().getBytes(java.nio.charset.StandardCharsets.UTF_8));
            INDArray a = e.getValue().dup('c');
            ByteBuffer buf = ByteBuffer.allocate(4 * (int) a.length());
            if (a.dataType() == org.nd4j.linalg.api.buffer.DataType.FLOAT) {
                for (float f : a.data().asFloat()) buf.putInt(Float.floatToRawIntBits(f));
            } else {
                for (int x : a.data().asInt()) buf.putInt(x);
            }
            sha.update(buf.array());
        }
        c.cache().close();
        return HexFormat.of().formatHex(sha.digest());
    }
}
