package dev.jlens.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * One writer per output folder (an experiment's results, a training run): an operating-system lock
 * on {@code FOLDER/.jlens-lock}, which holds the owner's pid, host and start time for the message
 * a second run prints when it refuses.
 *
 * <p>The operating system releases the lock when its process dies, however it dies ({@code kill -9}
 * included), so a lock left by a dead run is simply taken over; the file's old text only says whose
 * it was. The file itself is never deleted: a run that deleted it on exit could let a third run lock
 * a new file while a second still held the old one. On a clean exit it is emptied instead, so a
 * finished folder holds the same bytes however many times it was resumed.
 */
public final class FolderLock implements AutoCloseable {
    /** The lock file's name inside the folder. */
    public static final String FILE_NAME = ".jlens-lock";

    private final Path file;
    private final FileChannel channel;
    private final FileLock lock;
    private final String previousOwner;

    private FolderLock(Path file, FileChannel channel, FileLock lock, String previousOwner) {
        this.file = file;
        this.channel = channel;
        this.lock = lock;
        this.previousOwner = previousOwner;
    }

    /** A folder another live process is writing to; the message names it, the owner, and what to do. */
    public static final class HeldException extends IllegalStateException {
        public HeldException(String message) {
            super(message);
        }
    }

    /**
     * Locks {@code folder} (created if missing) for this process.
     *
     * @param what the kind of run, for the refusal message ("an experiment", "a training run")
     * @throws HeldException when another live process holds it (also another lock in this JVM)
     */
    public static FolderLock acquire(Path folder, String what) {
        Path file = folder.resolve(FILE_NAME);
        FileChannel ch = null;
        try {
            Files.createDirectories(folder);
            ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
            FileLock lock;
            try {
                lock = ch.tryLock();
            } catch (OverlappingFileLockException thisJvm) {
                lock = null;
            }
            String before = read(ch);
            if (lock == null) {
                ch.close();
                throw new HeldException(folder + " is in use by " + LockOwner.parse(before).describe() + ", which is writing " + what
                        + " there: wait for it to finish or stop it, or choose another folder (two runs into one folder"
                        + " would overwrite each other's files)");
            }
            String mine = LockOwner.current().text();
            ch.truncate(0);
            ByteBuffer b = ByteBuffer.wrap(mine.getBytes(StandardCharsets.UTF_8));
            while (b.hasRemaining()) ch.write(b, b.position());
            ch.force(false);
            return new FolderLock(file, ch, lock, before.isBlank() ? null : LockOwner.parse(before).describe());
        } catch (IOException e) {
            try {
                if (ch != null) ch.close();
            } catch (IOException ignored) {
                // already failing
            }
            throw new UncheckedIOException("cannot lock " + file + ": " + e.getMessage()
                    + "; check that the folder is writable", e);
        }
    }

    /** The run whose lock this one took over (it died without releasing it), or null when the folder was free. */
    public String previousOwner() {
        return previousOwner;
    }

    /** Empties the file and releases the lock. */
    @Override
    public void close() {
        try (channel) {
            if (lock.isValid()) {
                channel.truncate(0);
                lock.release();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot release the lock " + file + ": " + e.getMessage(), e);
        }
    }

    private static String read(FileChannel ch) throws IOException {
        long size = Math.min(ch.size(), 4096);
        ByteBuffer b = ByteBuffer.allocate((int) size);
        while (b.hasRemaining() && ch.read(b, b.position()) >= 0) {
            // read to the end (or the first 4 kB)
        }
        return new String(b.array(), 0, b.position(), StandardCharsets.UTF_8);
    }
}
