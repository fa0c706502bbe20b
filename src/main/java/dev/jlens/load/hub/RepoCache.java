package dev.jlens.load.hub;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * One repository's folder in the hub cache, laid out as {@code huggingface_hub} lays it out, so the
 * Python tools and jlens find each other's downloads:
 *
 * <pre>
 * {cache}/models--{owner}--{name}/
 *     refs/{revision}               the commit a branch or tag pointed at when last fetched
 *     blobs/{etag}                  file contents, named by their sha256 (LFS files) or git blob sha1;
 *                                   when the ETag is neither, by the sha256 of the bytes
 *     blobs/{etag}.incomplete       a download in progress, resumed with an HTTP Range request
 *     snapshots/{commit}/{file}     relative symlinks into blobs/
 *     .no_exist/{commit}/{file}     empty markers: the repository has no such file at that commit
 * {cache}/.locks/models--{owner}--{name}/{etag}.lock
 * </pre>
 */
record RepoCache(Path cacheDir, String repoId) {
    static final Pattern COMMIT = Pattern.compile("[0-9a-f]{40}");

    Path dir() {
        return cacheDir.resolve(folderName());
    }

    String folderName() {
        return "models--" + repoId.replace("/", "--");
    }

    /** The commit {@code revision} names: itself when it is a commit hash, else what {@code refs/} recorded. */
    Optional<String> commitOf(String revision) {
        if (COMMIT.matcher(revision).matches()) return Optional.of(revision);
        Path ref = dir().resolve("refs").resolve(revision);
        try {
            if (!Files.isRegularFile(ref)) return Optional.empty();
            String commit = Files.readString(ref, StandardCharsets.US_ASCII).strip();
            return COMMIT.matcher(commit).matches() ? Optional.of(commit) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    void writeRef(String revision, String commit) {
        if (revision.equals(commit)) return;
        Path ref = dir().resolve("refs").resolve(revision);
        try {
            Files.createDirectories(ref.getParent());
            Path tmp = Files.createTempFile(ref.getParent(), ".ref", ".tmp");
            Files.writeString(tmp, commit, StandardCharsets.US_ASCII);
            move(tmp, ref);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + ref + ": " + e.getMessage(), e);
        }
    }

    Path snapshot(String commit) {
        return dir().resolve("snapshots").resolve(commit);
    }

    Path pointer(String commit, String file) {
        return snapshot(commit).resolve(file);
    }

    Path blobs() {
        return dir().resolve("blobs");
    }

    Path blob(String etag) {
        return blobs().resolve(etag);
    }

    Path incomplete(String etag) {
        return dir().resolve("blobs").resolve(etag + ".incomplete");
    }

    Path noExist(String commit, String file) {
        return dir().resolve(".no_exist").resolve(commit).resolve(file);
    }

    Path lock(String etag) {
        return cacheDir.resolve(".locks").resolve(folderName()).resolve(etag + ".lock");
    }

    /** Makes {@code snapshots/{commit}/{file}} point at a blob: a relative symlink, or a copy where links are not allowed. */
    void link(String commit, String file, Path blob) {
        Path pointer = pointer(commit, file);
        try {
            Files.createDirectories(pointer.getParent());
            Files.deleteIfExists(pointer);
            try {
                Files.createSymbolicLink(pointer, pointer.getParent().relativize(blob));
            } catch (UnsupportedOperationException | IOException | SecurityException noLinks) {
                // Windows without developer mode, some network file systems: huggingface_hub copies too.
                Path tmp = Files.createTempFile(pointer.getParent(), ".copy", ".tmp");
                Files.copy(blob, tmp, StandardCopyOption.REPLACE_EXISTING);
                move(tmp, pointer);
            }
        } catch (FileAlreadyExistsException raced) {
            // Another process linked it at the same moment: same blob, nothing to do.
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + pointer + ": " + e.getMessage(), e);
        }
    }

    void markMissing(String commit, String file) {
        Path marker = noExist(commit, file);
        try {
            Files.createDirectories(marker.getParent());
            if (!Files.exists(marker)) Files.createFile(marker);
        } catch (IOException e) {
            // Only a cache of a negative answer: failing to write it costs one request next time.
        }
    }

    static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
