package dev.jlens.spark;

import dev.jlens.experiment.BatchFiles;
import dev.jlens.experiment.BatchedExperiment;
import dev.jlens.experiment.Manifest;
import dev.jlens.load.SafeTensors;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.channels.Channels;
import java.nio.channels.WritableByteChannel;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.util.HexFormat;

/**
 * One batch file written through Hadoop's file-system API (a local path, HDFS, S3 through its connector) as the local
 * engine writes it: under a hidden temporary name, renamed over its name ({@link HadoopResultsFolder#replace}), then read
 * back and checked against the SHA-256 of the bytes sent.
 */
final class HadoopBatchFile {
    private HadoopBatchFile() {}

    /** Computes batch {@code b} of {@code exp} into {@code folder} (a file-system URI) and returns its verified record. */
    static Manifest.Batch write(BatchedExperiment exp, String format, String folder, HadoopSettings hadoop, int b) throws IOException {
        HadoopResultsFolder dir = HadoopResultsFolder.open(URI.create(folder), hadoop);
        String name = Manifest.batchFileName(b);
        MessageDigest sent = BatchFiles.sha256();
        dir.replace(name, out -> {
            WritableByteChannel ch = Channels.newChannel(new DigestOutputStream(out, sent));   // replace closes out after its sync
            synchronized (ExecutorExperiments.COMPUTE) {
                BatchFiles.compute(exp, b, format, (tensors, metadata) -> SafeTensors.write(ch, tensors, metadata));
            }
        });
        String sha = HexFormat.of().formatHex(sent.digest());
        String onDisk;
        try (InputStream in = dir.open(name)) {
            onDisk = BatchFiles.sha256(in);
        }
        if (!onDisk.equals(sha)) {
            throw new IOException(dir.location(name) + " reads back with SHA-256 " + onDisk + ", but " + sha + " was written");
        }
        return BatchFiles.record(exp, b, dir.size(name).orElseThrow(), sha);
    }
}
