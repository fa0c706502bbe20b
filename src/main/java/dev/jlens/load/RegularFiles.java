package dev.jlens.load;

import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * The check before jlens opens a model file (weights, config.json, meta.pkl, tokenizer files): it must be a
 * regular file once symbolic links are followed. Opening a FIFO for reading blocks until something writes to
 * it, and a device such as {@code /dev/zero} reads forever, so either would hang the loader; a link loop or a
 * dangling link is named as such rather than reported as a missing model.
 */
final class RegularFiles {
    private RegularFiles() {}

    /**
     * Returns {@code file} when it is a regular file (after following links).
     *
     * @throws IllegalArgumentException naming the path and what it is instead
     */
    static Path require(Path file) {
        BasicFileAttributes attributes;
        try {
            attributes = Files.readAttributes(file, BasicFileAttributes.class);
        } catch (IOException e) {
            throw new IllegalArgumentException(notThere(file, e));
        }
        if (attributes.isRegularFile()) return file;
        if (attributes.isDirectory()) throw new IllegalArgumentException(file + " is a folder where jlens expects a file");
        throw new IllegalArgumentException(file + " is " + kind(file) + ", not a regular file: jlens reads model files only"
                + " from regular files (a pipe or device would make it wait or read forever); save the file to disk and pass that");
    }

    /** Whether a path exists, counting a symbolic link that leads nowhere (so that {@link #require} can say so). */
    static boolean existsOrIsLink(Path p) {
        return Files.exists(p, LinkOption.NOFOLLOW_LINKS);
    }

    /** Why a path cannot be followed to a file: missing, a dangling link, a link loop, or an I/O error. */
    static String notThere(Path file, IOException e) {
        if (Files.isSymbolicLink(file)) {
            String target;
            try {
                target = String.valueOf(Files.readSymbolicLink(file));
            } catch (IOException unreadable) {
                target = "?";
            }
            if (e instanceof NoSuchFileException) {
                return file + " is a symbolic link to " + target + ", which does not exist; fix or remove the link";
            }
            if (e instanceof FileSystemException fs && fs.getReason() != null && fs.getReason().contains("levels of symbolic links")) {
                return file + " is a symbolic link loop (it leads back to itself through " + target + "); fix or remove the link";
            }
        }
        if (e instanceof NoSuchFileException) return "no file at " + file.toAbsolutePath() + "; check the path";
        if (e instanceof FileSystemException fs && fs.getReason() != null && fs.getReason().contains("levels of symbolic links")) {
            return file + " lies behind a symbolic link loop (" + fs.getReason() + "); fix the links on its path";
        }
        return "cannot read " + file + " (" + e.getMessage() + ")";
    }

    /** What a non-regular, non-folder path is, in words; {@code unix:mode} names it where the platform has it. */
    static String kind(Path file) {
        try {
            int mode = (Integer) Files.getAttribute(file, "unix:mode");
            return switch (mode & 0170000) {
                case 0010000 -> "a FIFO (named pipe)";
                case 0020000 -> "a character device";
                case 0060000 -> "a block device";
                case 0140000 -> "a socket";
                default -> "neither a file nor a folder";
            };
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException | ClassCastException e) {
            return "a device, pipe or socket";
        }
    }
}
