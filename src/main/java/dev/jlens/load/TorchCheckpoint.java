package dev.jlens.load;

import dev.jlens.load.TorchPickle.StorageRef;
import dev.jlens.load.TorchPickle.TensorRef;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.FloatPointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * An open {@code torch.save} file (the zip format of PyTorch 1.6 and later): its pickle run through
 * {@link TorchPickle}'s rules, its tensors left in the file until asked for.
 *
 * <p>The archive holds {@code <name>/data.pkl} (the pickled object, tensors as persistent ids),
 * {@code <name>/data/<key>} (one entry per storage, raw little-endian elements),
 * {@code <name>/byteorder} (optional) and {@code <name>/version}.
 */
final class TorchCheckpoint implements AutoCloseable {
    /**
     * data.pkl holds names and numbers, not tensor data: tens of KB for GPT-2 XL, a few MB for checkpoints
     * with long histories. Capping it bounds the memory a crafted pickle can make the unpickler use.
     */
    static final long MAX_PICKLE_BYTES = 64L << 20;

    private final ZipArchive zip;
    private final String prefix;
    private final ByteOrder order;
    private final Object root;

    private TorchCheckpoint(ZipArchive zip, String prefix, ByteOrder order) {
        this.zip = zip;
        this.prefix = prefix;
        this.order = order;
        ZipArchive.Entry pickle = zip.entries().get(prefix + "data.pkl");
        Map<String, StorageRef> seen = new HashMap<>();
        TorchPickle policy = new TorchPickle((key, dtype, location, numel) -> seen.computeIfAbsent(key,
                k -> checkedStorage(k, dtype, location, numel)));
        this.root = Unpickler.load(zip.read(pickle, MAX_PICKLE_BYTES), policy, zip.path(), pickle.name());
    }

    /**
     * Opens a torch.save file and runs its pickle (no tensor data is read).
     *
     * @throws CorruptModelFileException if it is not a torch.save zip file, or its pickle asks for
     *                                   anything beyond tensors and plain containers
     */
    static TorchCheckpoint open(Path file) {
        requireZipFormat(file);
        ZipArchive zip = ZipArchive.open(file);
        try {
            String prefix = archivePrefix(zip);
            return new TorchCheckpoint(zip, prefix, byteOrder(zip, prefix));
        } catch (RuntimeException e) {
            zip.close();
            throw e;
        } catch (StackOverflowError | OutOfMemoryError | InternalError e) {
            zip.close();
            throw CorruptModelFileException.of(file, e);
        }
    }

    /** Whether a file starts like a zip file, as every torch.save file since PyTorch 1.6 does. */
    static boolean looksLikeZip(Path file) {
        byte[] head = head(file, 4);
        return head.length == 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4;
    }

    /**
     * Whether a file starts like PyTorch's legacy format: a protocol-2 pickle of its magic number
     * ({@code \x80\x02\x8a\x0a}). As a safetensors header length those bytes would mean ~177 MB, more
     * than any safetensors reader accepts, so the two cannot be confused.
     */
    static boolean looksLikeLegacy(Path file) {
        byte[] head = head(file, 4);
        return head.length == 4 && (head[0] & 0xFF) == 0x80 && head[1] == 2 && (head[2] & 0xFF) == 0x8a && head[3] == 10;
    }

    Path path() {
        return zip.path();
    }

    /** The unpickled object: dicts, lists, {@link Unpickler.Tuple}s, numbers, strings, {@link TensorRef}s. */
    Object root() {
        return root;
    }

    /**
     * A tensor's values as a new float32 array in c order, whatever its dtype, strides and offset.
     *
     * @param name for messages
     */
    INDArray read(String name, TensorRef t) {
        try {
            return decode(name, t);
        } catch (OutOfMemoryError | InternalError e) {
            throw CorruptModelFileException.of(zip.path(), e);
        }
    }

    private INDArray decode(String name, TensorRef t) {
        long[] shape = t.shape(), stride = t.stride();
        StorageRef s = t.storage();
        long numel = checkedView(name, t);
        try (MemoryWorkspace outside = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            if (numel == 0) return Nd4j.create(DataType.FLOAT, shape);
            ZipArchive.Entry entry = storageEntry(s.key());
            int size = s.dtype().size;
            boolean contiguous = isContiguous(shape, stride);
            if (contiguous && entry.stored() && order == ByteOrder.LITTLE_ENDIAN) {
                return TensorDecoder.decode(zip.channel(), entry.dataStart() + t.offset() * size, s.dtype(), shape, numel,
                        TensorDecoder.DEFAULT_WINDOW_BYTES);
            }
            long span = lastIndex(shape, stride, t.offset()) - t.offset() + 1;
            if (span * size > Integer.MAX_VALUE) {
                throw new CorruptModelFileException(zip.path(), name, "is a strided, compressed or big-endian view over more than 2 GiB",
                        "save it with tensor.contiguous() in PyTorch");
            }
            ByteBuffer bytes = zip.slice(entry, t.offset() * size, span * size).order(order);
            return gather(bytes, s.dtype(), shape, stride, numel);
        } catch (IOException e) {
            throw new UncheckedIOException(zip.path() + ": cannot read tensor '" + name + "' (" + e.getMessage() + ")", e);
        }
    }

    /** A tensor's element count, once its view is checked to lie inside its storage and to be no larger than it. */
    long elements(String name, TensorRef t) {
        return checkedView(name, t);
    }

    @Override
    public void close() {
        zip.close();
    }

    // ---- checks -----------------------------------------------------------------------------------

    /** A storage the pickle names must exist and hold the elements it declares. */
    private StorageRef checkedStorage(String key, DType dtype, String location, long numel) {
        ZipArchive.Entry entry = zip.entries().get(prefix + "data/" + key);
        if (entry == null) {
            throw new CorruptModelFileException(zip.path(), "names storage " + Unpickler.render(key, 40) + ", which the archive lacks (no "
                    + prefix + "data/" + Unpickler.render(key, 40) + ")", "the file is truncated or corrupt; re-download or re-save it");
        }
        if (numel > entry.size() / dtype.size) {
            throw new CorruptModelFileException(zip.path(), "declares storage " + Unpickler.render(key, 40) + " as " + numel + " " + dtype
                    + " elements (" + java.math.BigInteger.valueOf(numel).multiply(java.math.BigInteger.valueOf(dtype.size))
                    + " bytes) but its entry has only " + entry.size() + " bytes",
                    "the file is truncated, corrupt or crafted; re-download or re-save it");
        }
        return new StorageRef(key, dtype, location, numel);
    }

    /** Checks that a view stays inside its storage, and returns its element count. */
    private long checkedView(String name, TensorRef t) {
        long[] shape = t.shape(), stride = t.stride();
        String view = "size " + Arrays.toString(shape) + ", stride " + Arrays.toString(stride) + ", offset " + t.offset();
        String remedy = "the file is corrupt or crafted; re-save it with torch.save";
        long numel = 1;
        try {
            for (int i = 0; i < shape.length; i++) {
                if (shape[i] < 0 || stride[i] < 0) throw new CorruptModelFileException(zip.path(), name, "has a negative size or stride (" + view + ")", remedy);
                numel = Math.multiplyExact(numel, shape[i]);
            }
            if (t.offset() < 0) throw new CorruptModelFileException(zip.path(), name, "has a negative storage offset (" + view + ")", remedy);
            if (numel == 0) return 0;
            // Distinct indices never outnumber the storage: more elements than that means a stride-0 or
            // overlapping view (expand, as_strided), which a state dict does not hold and which would make
            // a few bytes of file into gigabytes of copies.
            if (numel > t.storage().numel()) {
                throw new CorruptModelFileException(zip.path(), name, "has " + numel + " elements but storage "
                        + Unpickler.render(t.storage().key(), 40) + " holds " + t.storage().numel() + " (" + view + "): a stride-0 or overlapping view, which a state dict"
                        + " does not hold", "the file is corrupt or crafted; if genuine, save the tensor with tensor.contiguous()");
            }
            long last = lastIndex(shape, stride, t.offset());
            if (last >= t.storage().numel()) {
                throw new CorruptModelFileException(zip.path(), name, "reaches element " + last + " of storage "
                        + Unpickler.render(t.storage().key(), 40) + ", which has " + t.storage().numel() + " (" + view + ")", remedy);
            }
        } catch (ArithmeticException e) {
            throw new CorruptModelFileException(zip.path(), name, "has a size or stride that overflows (" + view + ")", remedy);
        }
        return numel;
    }

    private static long lastIndex(long[] shape, long[] stride, long offset) {
        long last = offset;
        for (int i = 0; i < shape.length; i++) last = Math.addExact(last, Math.multiplyExact(shape[i] - 1, stride[i]));
        return last;
    }

    /** Row-major without gaps; the stride of a dimension of size 1 does not matter (torch leaves it arbitrary). */
    static boolean isContiguous(long[] shape, long[] stride) {
        long step = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            if (shape[i] != 1 && stride[i] != step) return false;
            step *= shape[i];
        }
        return true;
    }

    // ---- decoding ----------------------------------------------------------------------------------

    /** Copies a strided view into a c-order float array, a row of the last dimension at a time. */
    private static INDArray gather(ByteBuffer bytes, DType dtype, long[] shape, long[] stride, long numel) {
        INDArray out = Nd4j.createUninitialized(DataType.FLOAT, shape, 'c');
        FloatPointer dst = new FloatPointer(out.data().addressPointer());
        int rank = shape.length;
        if (rank == 0) {
            float[] one = new float[1];
            TensorDecoder.decodeChunk(bytes, 0, dtype, one, 1);
            dst.put(one, 0, 1);
            return out;
        }
        int rowLength = (int) shape[rank - 1];
        long rowStride = stride[rank - 1];
        float[] row = new float[rowLength];
        float[] one = new float[1];
        long[] index = new long[rank - 1];
        for (long done = 0; done < numel; done += rowLength) {
            long base = 0;
            for (int i = 0; i < rank - 1; i++) base += index[i] * stride[i];
            if (rowStride == 1) {
                TensorDecoder.decodeChunk(bytes, (int) (base * dtype.size), dtype, row, rowLength);
            } else {
                for (int j = 0; j < rowLength; j++) {
                    TensorDecoder.decodeChunk(bytes, (int) ((base + j * rowStride) * dtype.size), dtype, one, 1);
                    row[j] = one[0];
                }
            }
            dst.position(done).put(row, 0, rowLength);
            for (int i = rank - 2; i >= 0; i--) { // odometer over the leading dimensions
                if (++index[i] < shape[i]) break;
                index[i] = 0;
            }
        }
        return out;
    }

    // ---- the archive's layout ----------------------------------------------------------------------

    private ZipArchive.Entry storageEntry(String key) {
        return zip.entries().get(prefix + "data/" + key); // checked when the pickle named it
    }

    /** The one top-level folder holding data.pkl (torch names it after the file, e.g. {@code archive/}). */
    private static String archivePrefix(ZipArchive zip) {
        List<String> found = new ArrayList<>();
        for (String n : zip.entries().keySet()) {
            int slash = n.indexOf('/');
            if (slash > 0 && n.equals(n.substring(0, slash + 1) + "data.pkl")) found.add(n.substring(0, slash + 1));
        }
        if (found.size() == 1) return found.get(0);
        boolean torchScript = zip.entries().keySet().stream().anyMatch(n -> n.endsWith("/constants.pkl") || n.contains("/code/"));
        if (found.isEmpty() && torchScript) {
            throw new CorruptModelFileException(zip.path(), "is a TorchScript archive (torch.jit.save), not a state dict",
                    "in PyTorch, save model.state_dict() with torch.save, or convert to safetensors");
        }
        throw new CorruptModelFileException(zip.path(), found.isEmpty() ? "is a zip file without a data.pkl, so not a torch.save file"
                : "holds " + found.size() + " data.pkl files " + found + ", where torch.save writes one",
                "pass the file torch.save wrote (.pt, .pth, .bin)");
    }

    private static ByteOrder byteOrder(ZipArchive zip, String prefix) {
        ZipArchive.Entry e = zip.entries().get(prefix + "byteorder");
        if (e == null) return ByteOrder.LITTLE_ENDIAN; // files from before the record existed are little-endian
        String text = new String(zip.read(e, 16), StandardCharsets.US_ASCII).strip();
        return switch (text) {
            case "little" -> ByteOrder.LITTLE_ENDIAN;
            case "big" -> ByteOrder.BIG_ENDIAN;
            default -> throw new CorruptModelFileException(zip.path(), "has byte order '" + text + "', neither little nor big",
                    "the file is corrupt; re-save it");
        };
    }

    private static void requireZipFormat(Path file) {
        byte[] head = head(file, 8);
        if (head.length >= 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4) return;
        if (looksLikeLegacy(file)) {
            throw new CorruptModelFileException(file, "is in PyTorch's legacy (before 1.6) serialization format, which jlens does not read",
                    "load it in a current PyTorch and save it again with torch.save, or convert it to safetensors");
        }
        throw new CorruptModelFileException(file, "is not a torch.save file (it does not start like a zip file)",
                "pass a .pt/.pth/.bin file written by torch.save, or a .safetensors file");
    }

    private static byte[] head(Path file, int n) {
        RegularFiles.require(file);   // before opening: opening a FIFO blocks until something writes to it
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.allocate(n);
            while (b.hasRemaining() && ch.read(b) > 0) { }
            return Arrays.copyOf(b.array(), b.position());
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot read (" + e.getMessage() + ")", e);
        }
    }

    /** For {@link TorchFiles}: the tensors of a dict, in order, with the keys as strings. */
    static Map<String, TensorRef> tensorsOf(Map<?, ?> dict) {
        Map<String, TensorRef> out = new LinkedHashMap<>();
        for (var e : dict.entrySet()) {
            if (e.getKey() instanceof String k && e.getValue() instanceof TensorRef t) out.put(k, t);
        }
        return out;
    }
}
