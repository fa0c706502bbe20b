package dev.jlens.load;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Small files replaced all at once: the bytes go to a hidden temporary file beside the target, are
 * forced to disk, and the temporary file is renamed over the target. A crash leaves the old file or
 * the new one, never a mix. (Safetensors files have their own writer, {@link SafeTensors#write}, which
 * streams tensors the same way.)
 */
public final class AtomicFiles {
    private AtomicFiles() {}

    /** Replaces {@code file} with {@code bytes} atomically. */
    public static void write(Path file, byte[] bytes) throws IOException {
        Path tmp = file.resolveSibling("." + file.getFileName() + "."
                + Long.toUnsignedString(ThreadLocalRandom.current().nextLong(), 36) + ".tmp");
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ByteBuffer b = ByteBuffer.wrap(bytes);
                while (b.hasRemaining()) ch.write(b);
                ch.force(true);
            }
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Whether {@code name} is one of the temporary files {@link #write} and {@link SafeTensors#write} leave after a crash. */
    public static boolean isLeftoverTemporary(String name) {
        return name.startsWith(".") && name.endsWith(".tmp");
    }
}
