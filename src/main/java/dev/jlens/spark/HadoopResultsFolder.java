package dev.jlens.spark;

import dev.jlens.cli.FolderLock;
import dev.jlens.cli.LockOwner;
import dev.jlens.experiment.ResultsFolder;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.ThreadLocalRandom;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileContext;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Options;
import org.apache.hadoop.fs.Path;

/**
 * A results folder on a Hadoop file system (HDFS; S3 through the s3a connector, when its jars are on the class path): the
 * driver's lock, stock-taking and manifest go through Hadoop's API, as the executors' batch files do.
 *
 * <p>The manifest is replaced by a rename with overwrite ({@link FileContext}), atomic on HDFS; on S3 an object appears
 * whole when its upload completes, so a reader sees the old manifest or the new one there too. There is no
 * operating-system lock: see {@link #lock}.
 */
final class HadoopResultsFolder implements ResultsFolder {
    private final URI uri;
    private final Path dir;
    private final FileSystem fs;

    private HadoopResultsFolder(URI uri, FileSystem fs) {
        this.uri = uri;
        this.dir = new Path(uri);
        this.fs = fs;
    }

    /** Opens {@code uri}'s file system (a namenode is contacted here; s3a needs hadoop-aws on the class path). */
    static HadoopResultsFolder open(URI uri, HadoopSettings settings) {
        URI u = uri.getPath().length() > 1 && uri.getPath().endsWith("/")
                ? uri.resolve(uri.getPath().substring(0, uri.getPath().length() - 1)) : uri;
        try {
            FileSystem fs = FileSystem.get(u, settings.configuration());
            fs.setWriteChecksum(false);   // the local file system's .crc side files would make the folder differ
            return new HadoopResultsFolder(u, fs);
        } catch (IOException | RuntimeException e) {
            String why = String.valueOf(e.getMessage()).lines().findFirst().orElse("");
            throw new IllegalArgumentException("--out " + uri + ": cannot reach its file system (" + e.getClass().getSimpleName()
                    + ": " + why + "); check the URI, that the " + uri.getScheme() + " connector's jars are on the class path"
                    + " (s3a: hadoop-aws and its SDK bundle) and its settings (--conf spark.hadoop.KEY=VALUE)", e);
        }
    }

    @Override
    public String location() {
        return uri.toString();
    }

    @Override
    public URI uri() {
        return uri;
    }

    @Override
    public Optional<java.nio.file.Path> localPath() {
        return Optional.empty();
    }

    @Override
    public boolean exists() throws IOException {
        return fs.exists(dir);
    }

    @Override
    public boolean isDirectory() throws IOException {
        try {
            return fs.getFileStatus(dir).isDirectory();
        } catch (FileNotFoundException e) {
            return false;
        }
    }

    @Override
    public void create() throws IOException {
        if (!fs.mkdirs(dir)) throw new IOException("mkdirs refused");
    }

    @Override
    public List<String> names() throws IOException {
        List<String> names = new ArrayList<>();
        for (FileStatus s : fs.listStatus(dir)) names.add(s.getPath().getName());
        names.sort(String::compareTo);
        return names;
    }

    @Override
    public OptionalLong size(String name) throws IOException {
        try {
            return OptionalLong.of(fs.getFileStatus(new Path(dir, name)).getLen());
        } catch (FileNotFoundException e) {
            return OptionalLong.empty();
        }
    }

    @Override
    public InputStream open(String name) throws IOException {
        return fs.open(new Path(dir, name));
    }

    @Override
    public void replace(String name, byte[] bytes) throws IOException {
        replace(name, out -> out.write(bytes));
    }

    /** What {@link #replace(String, Writer)} writes: a file's bytes, to a stream. */
    @FunctionalInterface
    interface Writer {
        void write(OutputStream out) throws IOException;
    }

    /**
     * Writes file {@code name} under a hidden temporary name (one the runner's stock-taking deletes as a leftover if a
     * kill strands it), forces it to the data nodes, and renames it over {@code name}.
     */
    void replace(String name, Writer writer) throws IOException {
        Path tmp = new Path(dir, "." + name + "." + Long.toUnsignedString(ThreadLocalRandom.current().nextLong(), 36) + ".tmp");
        try {
            try (FSDataOutputStream out = fs.create(tmp, false)) {
                writer.write(out);
                out.hsync();
            }
            FileContext.getFileContext(uri, fs.getConf()).rename(tmp, new Path(dir, name), Options.Rename.OVERWRITE);
        } finally {
            fs.delete(tmp, false);
        }
    }

    @Override
    public void delete(String name) throws IOException {
        fs.delete(new Path(dir, name), false);
    }

    /**
     * What the file system reports remaining, divided by its replication (HDFS stores each block that many times); an
     * object store reports no limit.
     */
    @Override
    public long usableBytes() throws IOException {
        Path existing = dir;
        while (existing.getParent() != null && !fs.exists(existing)) existing = existing.getParent();
        return fs.getStatus(existing).getRemaining() / Math.max(1, fs.getDefaultReplication(existing));
    }

    /**
     * {@code .jlens-lock} created only if absent (atomic on HDFS; on S3, where a check and a write are two requests, two
     * runs started within the same moment could both pass) and deleted on release. No operating system releases it when
     * the driver dies, so a lock whose owner ran on this machine and is gone is taken over; one from another machine is
     * refused with the owner's name and what to do.
     */
    @Override
    public Lock lock(String what) throws IOException {
        create();
        Path file = new Path(dir, FolderLock.FILE_NAME);
        String previous = null;
        for (int attempt = 0; attempt < 3; attempt++) {
            if (createIfAbsent(file, LockOwner.current().text())) return new HeldLock(file, previous);
            String text = readLockText(file);
            if (text == null) continue;   // released between the two requests
            LockOwner owner = LockOwner.parse(text);
            if (!text.isBlank() && !owner.provedDead()) {
                throw new FolderLock.HeldException(location() + " is in use by " + owner.describe() + ", which is writing " + what
                        + " there: wait for it to finish or stop it, or choose another folder; if that run is gone (killed on"
                        + " another machine), delete " + location(FolderLock.FILE_NAME) + " and run again");
            }
            previous = text.isBlank() ? null : owner.describe();   // an empty file: a released local lock copied here
            fs.delete(file, false);
        }
        throw new IOException("could not create " + location(FolderLock.FILE_NAME) + " after three tries");
    }

    /** False when the file is there (HDFS's client unwraps the namenode's refusal into FileAlreadyExistsException). */
    private boolean createIfAbsent(Path file, String text) throws IOException {
        if (fs.exists(file)) return false;
        try (FSDataOutputStream out = fs.create(file, false)) {
            out.write(text.getBytes(StandardCharsets.UTF_8));
            out.hsync();
            return true;
        } catch (org.apache.hadoop.fs.FileAlreadyExistsException e) {
            return false;
        }
    }

    /** The lock file's text (its first 4 kB), or null when it is gone. */
    private String readLockText(Path file) throws IOException {
        try (InputStream in = fs.open(file)) {
            return new String(in.readNBytes(4096), StandardCharsets.UTF_8);
        } catch (FileNotFoundException e) {
            return null;
        }
    }

    private final class HeldLock implements Lock {
        private final Path file;
        private final String previousOwner;

        HeldLock(Path file, String previousOwner) {
            this.file = file;
            this.previousOwner = previousOwner;
        }

        @Override
        public String previousOwner() {
            return previousOwner;
        }

        @Override
        public void close() {
            try {
                fs.delete(file, false);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException("cannot release the lock " + location(FolderLock.FILE_NAME) + ": "
                        + e.getMessage() + "; delete it by hand before the next run", e);
            }
        }
    }

    @Override
    public String toString() {
        return location();
    }
}
