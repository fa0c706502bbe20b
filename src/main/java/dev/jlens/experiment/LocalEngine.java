package dev.jlens.experiment;

import dev.jlens.load.SafeTensors;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.function.Consumer;

/** The single-machine engine: each missing batch in turn, written atomically with {@link SafeTensors#write}. */
final class LocalEngine implements BatchEngine {
    static final LocalEngine INSTANCE = new LocalEngine();

    private LocalEngine() {}

    @Override
    public void writeBatches(BatchedExperiment exp, ResultsFolder results, List<Integer> missing, Consumer<Manifest.Batch> written) {
        Path folder = results.localPath().orElseThrow(() -> new IllegalArgumentException(results.location()
                + " is not on this machine's file system: results on HDFS or S3 need --engine spark"));
        String format = exp.plan().format();
        int done = 0;
        for (int b : missing) {
            if (Thread.interrupted()) {
                throw new CancellationException("stopped after " + done + " of " + missing.size()
                        + " batches; run again with the same settings to resume");
            }
            Path file = folder.resolve(Manifest.batchFileName(b));
            BatchFiles.compute(exp, b, format, (tensors, metadata) -> SafeTensors.write(file, tensors, metadata));
            written.accept(BatchFiles.record(exp, b, file));
            done++;
        }
    }
}
