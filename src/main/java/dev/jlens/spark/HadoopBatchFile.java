package dev.jlens.spark;

import dev.jlens.experiment.BatchFiles;
import dev.jlens.experiment.BatchedExperiment;
import dev.jlens.experiment.Manifest;
import dev.jlens.load.SafeTensors;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.Channels;
import java.nio.channels.WritableByteChannel;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * One batch file written through Hadoop's file-system API (a local path, HDFS, S3 through its connector) as the local
 * engine writes it: under a hidden temporary name (one the driver's stock-taking deletes as a leftover), then renamed,
 * then read back and checked against the SHA-256 of the bytes sent.
 */
final class HadoopBatchFile {
    private HadoopBatchFile() {}

    /** Computes batch {@code b} of {@code exp} into {@code folder} (a file-system URI) and returns its verified record. */
    static Manifest.Batch write(BatchedExperiment exp, String format, String folder, int b) throws IOException {
        Path dir = new Path(folder);
        FileSystem fs = dir.getFileSystem(new Configuration());
        fs.setWriteChecksum(false);   // the local file system's .crc side files would make the folder differ from a local run's
        String name = Manifest.batchFileName(b);
        Path file = new Path(dir, name);
        Path tmp = new Path(dir, "." + name + "." + Long.toUnsignedString(ThreadLocalRandom.current().nextLong(), 36) + ".tmp");
        MessageDigest sent = BatchFiles.sha256();
        try {
            try (FSDataOutputStream out = fs.create(tmp, false);
                 WritableByteChannel ch = Channels.newChannel(new DigestOutputStream(out, sent))) {
                synchronized (ExecutorExperiments.COMPUTE) {
                    BatchFiles.compute(exp, b, format, (tensors, metadata) -> SafeTensors.write(ch, tensors, metadata));
                }
                out.hsync();
            }
            if (fs.exists(file)) fs.delete(file, false);   // an earlier attempt's whole file: the same bytes, written again
            if (!fs.rename(tmp, file)) throw new IOException("cannot rename " + tmp + " to " + file);
        } finally {
            fs.delete(tmp, false);
        }
        String sha = HexFormat.of().formatHex(sent.digest());
        String onDisk = readBack(fs, file);
        if (!onDisk.equals(sha)) {
            throw new IOException(file + " reads back with SHA-256 " + onDisk + ", but " + sha + " was written");
        }
        return BatchFiles.record(exp, b, fs.getFileStatus(file).getLen(), sha);
    }

    private static String readBack(FileSystem fs, Path file) throws IOException {
        try (InputStream in = fs.open(file)) {
            return BatchFiles.sha256(in);
        }
    }
}
