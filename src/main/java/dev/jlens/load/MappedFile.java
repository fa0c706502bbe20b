package dev.jlens.load;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.Objects;

/**
 * A weights file that a model's arrays are memory-mapped from, as it was when it was loaded, and the
 * check that it still is. A mapped array <em>is</em> the file's pages: rewriting the file in place
 * silently changes the model, and shrinking it turns the next read of a page past its new end into a
 * SIGBUS that kills the JVM. {@link #check} finds both before a run reads anything.
 *
 * <p>What it compares, in a few microseconds: the size of the file the mapping is of (through a
 * handle opened at load, so it is that file even after the path was replaced), the path's
 * modification time while the path still names that file, and the bytes of the header and of the
 * first and last 4 KiB of the data, read again through that handle. An atomic replacement (a new file
 * renamed over the path) leaves the mapped file untouched, so it passes: the model keeps the weights
 * it loaded.
 *
 * <p>The open handle is closed when the model (and so this object) is garbage-collected.
 */
public final class MappedFile implements dev.jlens.model.WeightFiles.Watched {
    private static final int SAMPLE = 4096;

    private final Path path;
    private final FileChannel channel;
    private final long size;
    private final Object fileKey;
    private final FileTime modified;
    private final long dataStart;
    private final ByteBuffer fingerprint;
    private final ByteBuffer scratch;   // reused by check: a direct buffer reads without a copy

    private MappedFile(Path path, FileChannel channel, long size, Object fileKey, FileTime modified, long dataStart, ByteBuffer fingerprint) {
        this.path = path;
        this.channel = channel;
        this.size = size;
        this.fileKey = fileKey;
        this.modified = modified;
        this.dataStart = dataStart;
        this.fingerprint = fingerprint;
        this.scratch = ByteBuffer.allocateDirect(fingerprint.capacity());
    }

    /**
     * Takes the file's fingerprint now.
     *
     * @param dataStart where the tensor data begins (the header is everything before)
     */
    static MappedFile of(Path path, long dataStart) {
        try {
            FileChannel channel = FileChannel.open(path, StandardOpenOption.READ);
            try {
                BasicFileAttributes a = Files.readAttributes(path, BasicFileAttributes.class);
                long size = channel.size();
                ByteBuffer fingerprint = ByteBuffer.allocateDirect(fingerprintLength(size, dataStart));
                readFingerprint(channel, size, dataStart, fingerprint);
                return new MappedFile(path, channel, size, a.fileKey(), a.lastModifiedTime(), dataStart, fingerprint);
            } catch (IOException | RuntimeException e) {
                channel.close();
                throw e;
            }
        } catch (IOException e) {
            throw new UncheckedIOException(path + ": cannot open to watch it (" + e.getMessage() + ")", e);
        }
    }

    public Path path() {
        return path;
    }

    /**
     * Refuses, before anything reads a mapped page, a file that changed since it was loaded.
     *
     * @throws ModelFileChangedException naming the file, what changed and what to do
     */
    public synchronized void check() {
        try {
            long now = channel.size();
            if (now != size) {
                throw changed("its size went from " + size + " to " + now + " bytes"
                        + (now < size ? ", so the weights past the new end are gone" : ""));
            }
            BasicFileAttributes a = attributesOrNull();
            // Only while the path still names the mapped file: after an atomic replace it names another one.
            boolean samePath = a != null && (fileKey == null || fileKey.equals(a.fileKey()));
            if (samePath && !a.lastModifiedTime().equals(modified)) {
                throw changed("it was modified at " + a.lastModifiedTime() + ", after it was loaded (modified " + modified + ")");
            }
            readFingerprint(channel, size, dataStart, scratch);
            if (scratch.mismatch(fingerprint) >= 0) {
                throw changed("its header or data bytes differ from those loaded");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(path + ": cannot check whether it changed since it was loaded (" + e.getMessage() + ")", e);
        }
    }

    private BasicFileAttributes attributesOrNull() throws IOException {
        try {
            return Files.readAttributes(path, BasicFileAttributes.class);
        } catch (NoSuchFileException deleted) {
            return null;   // the handle keeps the mapped file alive; its size and bytes were checked
        }
    }

    private ModelFileChangedException changed(String what) {
        return new ModelFileChangedException(path, what);
    }

    /** The header and the first and last {@value #SAMPLE} bytes of the data (all of it when it is small). */
    private static int fingerprintLength(long size, long dataStart) {
        long data = size - dataStart;
        return Math.toIntExact(dataStart + Math.min(data, 2L * SAMPLE));
    }

    /** Reads the fingerprint's bytes into {@code into} (cleared first, left with position 0 and limit at its end). */
    private static void readFingerprint(FileChannel channel, long size, long dataStart, ByteBuffer into) throws IOException {
        int length = into.capacity();
        int front = (int) Math.min(length, dataStart + SAMPLE), tail = length - front;
        into.clear().limit(front);
        readAt(channel, into, 0);
        into.limit(length);
        readAt(channel, into, size - tail - front);
        into.flip();
    }

    /** Fills {@code into} to its limit from file offset {@code shift + position}; a short file leaves the rest as it was. */
    private static void readAt(FileChannel channel, ByteBuffer into, long shift) throws IOException {
        while (into.hasRemaining()) {
            if (channel.read(into, shift + into.position()) < 0) break;
        }
    }

    @Override
    public String toString() {
        return "MappedFile[" + path + ", " + size + " bytes]";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof MappedFile m && m.path.equals(path) && m.size == size && Objects.equals(m.fileKey, fileKey);
    }

    @Override
    public int hashCode() {
        return Objects.hash(path, size, fileKey);
    }
}
