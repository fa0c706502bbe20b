package dev.jlens.load;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import org.bytedeco.javacpp.BytePointer;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Writes safetensors files atomically; see {@link SafeTensors#write}. */
final class SafeTensorsWriter {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long CHUNK_BYTES = 1 << 24;

    private SafeTensorsWriter() {}

    /** One tensor as it will be laid out: its packed c-order array and its place in the data buffer. */
    private record Planned(String name, DType dtype, INDArray packed, long begin, long end) {}

    static void write(Path file, Map<String, INDArray> tensors, Map<String, String> metadata) {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(tensors, "tensors");
        // ND4J keeps elements in native order and the format is little-endian; bytes are copied as is.
        if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
            throw new UnsupportedOperationException("writing safetensors needs a little-endian machine");
        }
        List<Planned> plan = plan(tensors);
        byte[] header = header(plan, metadata == null ? Map.of() : metadata);
        Path target = file.toAbsolutePath();
        Path dir = target.getParent();
        // Same folder, so the final move is a rename on one file system; a reader of the old file keeps
        // its (now unlinked) inode and mapping intact.
        Path tmp = dir.resolve("." + target.getFileName() + "."
                + Long.toUnsignedString(ThreadLocalRandom.current().nextLong(), 36) + ".tmp");
        try {
            // CREATE_NEW (not createTempFile) so the file gets the usual umask permissions, not 0600.
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                writeAll(ch, header, plan);
                ch.force(true);
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            syncDirectory(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot write the safetensors file (" + e
                    + "); check that the folder exists and is writable and that the disk has room", e);
        } finally {
            deleteQuietly(tmp);
        }
    }

    /** The same bytes as {@link #write(Path, Map, Map)} to a channel (a stream of another file system), not atomically. */
    static void write(WritableByteChannel ch, Map<String, INDArray> tensors, Map<String, String> metadata) throws IOException {
        Objects.requireNonNull(ch, "channel");
        Objects.requireNonNull(tensors, "tensors");
        if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
            throw new UnsupportedOperationException("writing safetensors needs a little-endian machine");
        }
        List<Planned> plan = plan(tensors);
        writeAll(ch, header(plan, metadata == null ? Map.of() : metadata), plan);
    }

    private static void writeAll(WritableByteChannel ch, byte[] header, List<Planned> plan) throws IOException {
        writeAll(ch, ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length));
        writeAll(ch, ByteBuffer.wrap(header));
        for (Planned p : plan) writeData(ch, p);
    }

    private static List<Planned> plan(Map<String, INDArray> tensors) {
        List<Planned> plan = new ArrayList<>(tensors.size());
        long offset = 0;
        for (Map.Entry<String, INDArray> e : tensors.entrySet()) {
            String name = Objects.requireNonNull(e.getKey(), "tensor name");
            INDArray a = Objects.requireNonNull(e.getValue(), () -> "tensor '" + name + "' is null");
            if (name.equals(SafeTensorsHeader.METADATA_KEY)) {
                throw new IllegalArgumentException("'" + name + "' is reserved for metadata; pick another tensor name");
            }
            DType dtype = DType.of(a.dataType()).orElseThrow(() -> new IllegalArgumentException("tensor '" + name
                    + "' has ND4J type " + a.dataType() + ", which safetensors cannot store; cast it first"));
            long bytes = Math.multiplyExact(a.length(), dtype.size);
            plan.add(new Planned(name, dtype, packed(a), offset, offset + bytes));
            offset += bytes;
        }
        return plan;
    }

    /** The array itself when its memory already is the c-order bytes to write, else a packed copy. */
    private static INDArray packed(INDArray a) {
        if (a.isEmpty()) return a;
        boolean asIs = a.ordering() == 'c' && a.offset() == 0 && a.data().length() == a.length()
                && Arrays.equals(a.stride(), cStrides(a.shape()));
        return asIs ? a : a.dup('c');
    }

    static long[] cStrides(long[] shape) {
        long[] strides = new long[shape.length];
        long s = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            strides[i] = s;
            s *= shape[i];
        }
        return strides;
    }

    private static byte[] header(List<Planned> plan, Map<String, String> metadata) {
        ObjectNode root = JSON.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode meta = root.putObject(SafeTensorsHeader.METADATA_KEY);
            metadata.forEach((k, v) -> {
                Objects.requireNonNull(k, "metadata key");
                Objects.requireNonNull(v, () -> "metadata value for '" + k + "'");
            });
            // Sorted: the same metadata gives the same bytes whatever map holds it (Map.of's order changes per JVM).
            new java.util.TreeMap<>(metadata).forEach(meta::put);
        }
        for (Planned p : plan) {
            ObjectNode t = root.putObject(p.name());
            t.put("dtype", p.dtype().name());
            ArrayNode shape = t.putArray("shape");
            for (long d : p.packed().shape()) shape.add(d);
            t.putArray("data_offsets").add(p.begin()).add(p.end());
        }
        byte[] json;
        try {
            json = JSON.writeValueAsBytes(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialize a safetensors header", e);
        }
        if (json.length > SafeTensorsHeader.MAX_HEADER_BYTES) {
            throw new IllegalArgumentException("the header would be " + json.length + " bytes, over the format's limit"
                    + " of " + SafeTensorsHeader.MAX_HEADER_BYTES + "; split the tensors over several files");
        }
        // Pad with spaces (allowed by the format) so the data starts 8-byte aligned: every element is then
        // aligned in a mapping, which the zero-copy float32 path relies on.
        int padded = (8 + json.length + 7) / 8 * 8 - 8;
        byte[] out = Arrays.copyOf(json, padded);
        Arrays.fill(out, json.length, padded, (byte) ' ');
        return out;
    }

    private static void writeData(WritableByteChannel ch, Planned p) throws IOException {
        long bytes = p.end() - p.begin();
        if (bytes == 0) return;
        if (p.packed().data().getElementSize() != p.dtype().size) {
            throw new IllegalStateException("ND4J stores " + p.packed().dataType() + " in "
                    + p.packed().data().getElementSize() + " bytes, expected " + p.dtype().size);
        }
        BytePointer memory = new BytePointer(p.packed().data().addressPointer());
        memory.capacity(bytes);
        for (long off = 0; off < bytes; off += CHUNK_BYTES) {
            long len = Math.min(CHUNK_BYTES, bytes - off);
            writeAll(ch, memory.position(off).limit(off + len).asByteBuffer());
        }
    }

    private static void writeAll(WritableByteChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) ch.write(b);
    }

    /** Makes the rename itself durable. Some platforms cannot open a folder; there it is skipped. */
    private static void syncDirectory(Path dir) {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException | UnsupportedOperationException ignored) {
            // best effort: the data itself was already forced to disk
        }
    }

    private static void deleteQuietly(Path tmp) {
        try {
            Files.deleteIfExists(tmp);
        } catch (IOException ignored) {
            // a stray hidden temp file is harmless and its name says what it is
        }
    }
}
