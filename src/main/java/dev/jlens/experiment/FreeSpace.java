package dev.jlens.experiment;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * How many bytes the disk under a folder can still take. The default asks the folder's file store
 * ({@code FileStore.getUsableSpace}); tests pass a fixed figure.
 */
@FunctionalInterface
public interface FreeSpace {
    long usableBytes(Path folder) throws IOException;

    /** The file store of the folder, or of its nearest existing parent when it does not exist yet. */
    static FreeSpace ofFileStore() {
        return folder -> {
            Path p = folder.toAbsolutePath();
            while (p != null && !Files.exists(p)) p = p.getParent();
            if (p == null) throw new IOException("no existing folder above " + folder);
            return Files.getFileStore(p).getUsableSpace();
        };
    }

    /** Always {@code bytes}: for tests and dry runs. */
    static FreeSpace fixed(long bytes) {
        return folder -> bytes;
    }
}
