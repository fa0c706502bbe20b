package dev.jlens.experiment;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.LinkedHashMap;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * One batch file's content and its manifest record, the same for every {@link BatchEngine}: the engines differ only in
 * where the bytes go (a local file, a Hadoop file system), so the files are byte for byte the same.
 */
public final class BatchFiles {
    private BatchFiles() {}

    /** Where a batch's tensors and metadata are written: {@code SafeTensors.write} to a file or to a stream. */
    @FunctionalInterface
    public interface Sink {
        void write(Map<String, INDArray> tensors, Map<String, String> metadata) throws IOException;
    }

    /** Computes batch {@code b} and hands it to {@code sink}; the run's cache is closed once it is written. */
    public static void compute(BatchedExperiment exp, int b, String format, Sink sink) {
        BatchedExperiment.Computed c = exp.computeBatch(b);
        try {
            sink.write(c.tensors(), metadata(exp, b, format));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + Manifest.batchFileName(b) + ": " + e.getMessage(), e);
        } finally {
            c.cache().close();
        }
    }

    /** The safetensors metadata of batch {@code b}: the manifest's format, the batch and its first sample. */
    static Map<String, String> metadata(BatchedExperiment exp, int b, String format) {
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("format", format);
        metadata.put("batch", Integer.toString(b));
        metadata.put("first_sample", Integer.toString(b * exp.batchSize()));
        return metadata;
    }

    /** The manifest's record of batch {@code b}, whose file holds {@code bytes} bytes with SHA-256 {@code sha256}. */
    public static Manifest.Batch record(BatchedExperiment exp, int b, long bytes, String sha256) {
        return new Manifest.Batch(b, Manifest.batchFileName(b), b * exp.batchSize(), exp.samplesIn(b), bytes, sha256);
    }

    /** A fresh SHA-256 digest, for an engine that hashes the bytes as it sends them. */
    public static MessageDigest sha256() {
        return Fingerprints.sha256();
    }

    /** SHA-256 in hex of what {@code in} reads (a batch file read back through another file system). */
    public static String sha256(InputStream in) throws IOException {
        return Fingerprints.stream(in);
    }

    /** The record of batch {@code b} as {@code file} holds it (read back from the disk). */
    static Manifest.Batch record(BatchedExperiment exp, int b, Path file) {
        try {
            return record(exp, b, Files.size(file), Fingerprints.file(file));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read back " + file + ": " + e.getMessage(), e);
        }
    }
}
