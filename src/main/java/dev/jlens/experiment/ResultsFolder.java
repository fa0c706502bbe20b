package dev.jlens.experiment;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Where a run's results go, as {@link ExperimentRunner} sees it: a folder of named files it can list, read, replace
 * atomically, delete and lock. A folder on this machine ({@link #local}) or one on a Hadoop file system (HDFS, S3 through
 * its connector; {@code dev.jlens.spark} provides it for {@code --engine spark}), so that the lock, the stock-taking and
 * the manifest are one code path whichever file system holds the batches.
 */
public interface ResultsFolder {
    /** The folder as a person reads it in messages: an absolute path, or a URI. */
    String location();

    /** File {@code name} in it, as a person reads it. */
    default String location(String name) {
        return location() + "/" + name;
    }

    /** The folder as a URI that every executor of the run can write into. */
    URI uri();

    /** The folder on this machine's file system; empty on HDFS or S3 (the single-machine engine needs one). */
    Optional<Path> localPath();

    boolean exists() throws IOException;

    /** False also when it does not exist. */
    boolean isDirectory() throws IOException;

    /** Creates it, with its parents. */
    void create() throws IOException;

    /** The names of the files in it, sorted. */
    List<String> names() throws IOException;

    /** The size of file {@code name}, or empty when it is not there. */
    OptionalLong size(String name) throws IOException;

    /** Reads file {@code name}. */
    InputStream open(String name) throws IOException;

    /** Replaces file {@code name} with {@code bytes} so that a reader sees the old bytes or the new, never a mix. */
    void replace(String name, byte[] bytes) throws IOException;

    /** Deletes file {@code name} if it is there. */
    void delete(String name) throws IOException;

    /** The bytes its file system can still take. */
    long usableBytes() throws IOException;

    /**
     * Locks the folder (created if missing) for this process.
     *
     * @param what the kind of run, for the refusal message ("an experiment")
     * @throws dev.jlens.cli.FolderLock.HeldException when another run holds it
     */
    Lock lock(String what) throws IOException;

    /** One writer per folder, until {@link #close}. */
    interface Lock extends AutoCloseable {
        /** The run whose lock this one took over (it died without releasing it), or null. */
        String previousOwner();

        @Override
        void close();
    }

    /** A folder on this machine, to read (its free space is its file store's). */
    static ResultsFolder local(Path folder) {
        return local(folder, FreeSpace.ofFileStore());
    }

    /** A folder on this machine, whose free space {@code freeSpace} tells. */
    static ResultsFolder local(Path folder, FreeSpace freeSpace) {
        return new LocalResultsFolder(folder, freeSpace);
    }
}
