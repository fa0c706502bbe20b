package dev.jlens.load;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;
import org.bytedeco.javacpp.FloatPointer;
import org.nd4j.linalg.api.buffer.DataBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A safetensors file, opened for reading: its header parsed and validated up front, its tensors
 * memory-mapped on demand.
 *
 * <p><b>What {@link #get} returns.</b> Always a float32, c-order {@link INDArray} with the tensor's
 * shape. An F32 tensor comes back <em>zero-copy</em>: the array's memory is the file's pages, mapped
 * read-only, so a 500 MB embedding costs no heap and no copy. Other dtypes (F16, BF16, F64 and the
 * integer and bool types) are converted into a new array. A tensor of shape {@code []} comes back as a
 * rank-0 array ({@code isScalar()}, read with {@code getFloat(0)}); a shape with a 0 gives an empty
 * array of that shape.
 *
 * <p><b>Writing to zero-copy arrays.</b> Where the file may be opened for writing, the mapping is
 * private (copy-on-write): an in-place op on a weight changes this process's copy and never the file.
 * Where it may not (a read-only folder), the mapping is read-only and an in-place ND4J op on the array
 * ({@code addi}, {@code assign}, {@code putScalar}, or on any view of it) kills the JVM with SIGSEGV
 * instead of throwing. Use {@link #copy} (or {@code get(name).dup()}) for an array you mean to modify.
 *
 * <p><b>Lifetime.</b> Each tensor gets its own mapping, held by the arrays (and views) over it and
 * unmapped by the garbage collector once none is reachable; nothing is ever unmapped explicitly, so
 * no array can outlive its memory. {@link #close} only closes the file handle: arrays already returned
 * stay valid, {@link #names}, {@link #info} and {@link #metadata} keep working, and {@code get} throws
 * {@link IllegalStateException}. Replace a model file with {@link #write} (an atomic rename), never by
 * rewriting it in place: truncating a mapped file under live arrays crashes the JVM (SIGBUS).
 *
 * <p><b>Threads.</b> Safe for concurrent use: the header is immutable after {@link #open} and every
 * {@code get} makes its own mapping. Closing while another thread is in {@code get} makes that call
 * throw {@link IllegalStateException}.
 *
 * <p><b>Errors.</b> A malformed file, or a request for a tensor it lacks, throws
 * {@link CorruptModelFileException} naming the file, the tensor, what is wrong and what to do; I/O
 * failures throw {@link UncheckedIOException}.
 *
 * @see <a href="https://github.com/huggingface/safetensors">the format</a>
 */
public final class SafeTensors implements AutoCloseable {
    private final Path path;
    private final FileChannel channel;
    private final FileChannel writable;
    private final SafeTensorsHeader header;
    private volatile boolean closed;
    private MappedFile mapped;   // the file's fingerprint, taken just before its first page is mapped

    private SafeTensors(Path path, FileChannel channel, SafeTensorsHeader header) {
        this.path = path;
        this.channel = channel;
        this.header = header;
        this.writable = openForPrivateMaps(path);
    }

    /**
     * Opens a safetensors file, reading and validating its whole header: the tensor list, dtypes,
     * shapes and byte ranges (see {@link SafeTensorsHeader} for the rules). No tensor data is read.
     *
     * @throws CorruptModelFileException if the file is not a well-formed safetensors file
     * @throws UncheckedIOException      if it cannot be opened or read
     */
    public static SafeTensors open(Path file) {
        Objects.requireNonNull(file, "file");
        FileChannel channel = openChannel(file);
        try {
            return new SafeTensors(file, channel, SafeTensorsHeader.read(file, channel));
        } catch (RuntimeException e) {
            try {
                channel.close();
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    private static FileChannel openChannel(Path file) {
        try {
            if (Files.isDirectory(file)) throw new FileSystemException(file.toString(), null, "is a folder, not a file");
            if (Files.exists(file) && !Files.isRegularFile(file)) {   // opening a FIFO blocks; a device reads forever
                throw new FileSystemException(file.toString(), null, "is " + RegularFiles.kind(file) + ", not a regular file");
            }
            return FileChannel.open(file, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new UncheckedIOException(file + ": no such file; check the path", e);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot open (" + e.getMessage() + ")", e);
        }
    }

    /** Tensor names in the order the header lists them (unmodifiable). */
    public Set<String> names() {
        return Collections.unmodifiableSet(header.tensors().keySet());
    }

    public boolean contains(String name) {
        return header.tensors().containsKey(name);
    }

    /**
     * The header entry for a tensor.
     *
     * @throws CorruptModelFileException if there is no such tensor; the message lists the closest names
     */
    public TensorInfo info(String name) {
        TensorInfo t = header.tensors().get(name);
        if (t == null) throw missing(name);
        return t;
    }

    /**
     * A tensor as float32 with its own shape, in c order: zero-copy and <b>read-only</b> for F32 (see the
     * class comment), a converted copy for other dtypes. Each call maps or converts again, so two calls
     * return equal but distinct arrays.
     *
     * @throws CorruptModelFileException if there is no such tensor or its dtype cannot be converted
     * @throws IllegalStateException     after {@link #close}
     */
    public INDArray get(String name) {
        return read(info(name), false);
    }

    /** Like {@link #get}, but always a fresh array in ND4J's own memory, safe to modify in place. */
    public INDArray copy(String name) {
        return read(info(name), true);
    }

    /**
     * Like {@link #get}, but a BF16 tensor stays bfloat16 (a {@code BFLOAT16} array over the file's pages,
     * read-only like F32's): what the loaders use for weight matrices, so that a bfloat16 checkpoint takes
     * its own size in memory, not twice it.
     */
    public INDArray getStored(String name) {
        return readStored(info(name), false);
    }

    /** {@link #getStored}, as a fresh array in ND4J's own memory. */
    public INDArray copyStored(String name) {
        return readStored(info(name), true);
    }

    /**
     * NaN and ±∞ in a tensor, counted on reads of the file in chunks rather than through a mapping: counting
     * through the mapping would leave every page of the file resident for as long as the model lives, beside
     * the packed copies the forward pass actually reads.
     */
    public dev.jlens.compute.NonFinite countNonFinite(String name) {
        TensorInfo t = info(name);
        DType dtype = DType.parse(t.dtype()).orElseThrow();
        long position = header.dataStart() + t.begin();
        if ((dtype != DType.F32 && dtype != DType.BF16) || ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
            return dev.jlens.compute.NonFinite.count(read(t, true));
        }
        DataType type = dtype == DType.F32 ? DataType.FLOAT : DataType.BFLOAT16;
        int size = dtype == DType.F32 ? 4 : 2;
        long chunk = (16L << 20) / size, n = t.numel(), nan = 0, inf = 0;
        try (MemoryWorkspace outside = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            FileChannel ch = channel();
            checkStillThere(ch, t, position);
            INDArray buffer = Nd4j.createUninitialized(type, Math.min(chunk, Math.max(1, n)));
            try {
                for (long from = 0; from < n; from += chunk) {
                    long len = Math.min(chunk, n - from);
                    java.nio.ByteBuffer into = buffer.data().asNio();
                    into.clear();
                    into.limit((int) (len * size));
                    while (into.hasRemaining()) {
                        if (ch.read(into, position + from * size + into.position()) < 0) {
                            throw new java.io.EOFException("the file ends inside tensor '" + t.name() + "'");
                        }
                    }
                    INDArray part = len == buffer.length() ? buffer : buffer.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, len));
                    dev.jlens.compute.NonFinite c = dev.jlens.compute.NonFinite.count(part);
                    nan += c.nan();
                    inf += c.infinite();
                }
            } finally {
                buffer.close();
            }
            return new dev.jlens.compute.NonFinite(nan, inf);
        } catch (ClosedChannelException e) {
            throw closedError(e);
        } catch (IOException e) {
            throw new UncheckedIOException(path + ": cannot read tensor '" + t.name() + "' (" + e.getMessage() + ")", e);
        }
    }

    private INDArray readStored(TensorInfo t, boolean writable) {
        long position = header.dataStart() + t.begin();
        boolean bf16 = DType.parse(t.dtype()).orElseThrow() == DType.BF16;
        if (!bf16 || t.numel() == 0 || ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN || position % 2 != 0
                || t.byteLength() > Integer.MAX_VALUE) {
            return read(t, writable);
        }
        try (MemoryWorkspace outside = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            FileChannel ch = channel();
            checkStillThere(ch, t, position);
            if (writable) return readInto(ch, position, t, DataType.BFLOAT16);
            synchronized (this) {
                if (mapped == null) mapped = MappedFile.of(path, header.dataStart());
            }
            return map(ch, position, t, DataType.BFLOAT16);
        } catch (ClosedChannelException e) {
            throw closedError(e);
        } catch (IOException e) {
            throw new UncheckedIOException(path + ": cannot read tensor '" + t.name() + "' (" + e.getMessage() + ")", e);
        }
    }

    /** The {@code __metadata__} strings, in file order; empty when the file has none. */
    public Map<String, String> metadata() {
        return header.metadata();
    }

    public Path path() {
        return path;
    }

    /** Bytes of tensor data (the file without its header). */
    long dataBytes() {
        return header.dataLength();
    }

    /**
     * The file as it was when {@link #get} first handed out an array over its pages, to check before a
     * run that it has not changed since ({@link MappedFile#check}); empty while nothing was mapped.
     */
    public synchronized java.util.Optional<MappedFile> mappedFile() {
        return java.util.Optional.ofNullable(mapped);
    }

    /**
     * Closes the file handle. Arrays already returned stay valid (they hold their own mappings);
     * only further {@code get}/{@code copy} calls fail. Idempotent.
     */
    @Override
    public void close() {
        closed = true;
        try {
            if (writable != null) writable.close();
            channel.close();
        } catch (IOException e) {
            throw new UncheckedIOException(path + ": cannot close (" + e.getMessage() + ")", e);
        }
    }

    @Override
    public String toString() {
        return "SafeTensors[" + path + ", " + header.tensors().size() + " tensors" + (closed ? ", closed]" : "]");
    }

    /**
     * Writes tensors to a safetensors file, in the map's iteration order, each with the dtype that
     * matches its ND4J type: FLOAT as F32, HALF as F16, BFLOAT16 as BF16, DOUBLE as F64, and the
     * integer and bool types likewise. Views and f-order arrays are written in c order.
     *
     * <p>Atomic: the bytes go to a hidden temporary file in the same folder, are forced to disk, and the
     * temporary file is then renamed over {@code file}. A crash leaves the old file or the new one,
     * never a mix, and readers that have the old file open keep reading the old contents.
     *
     * @param metadata strings stored under {@code __metadata__}; null or empty for none
     * @throws IllegalArgumentException if a name is {@code __metadata__} or an array's type has no
     *                                  safetensors dtype
     * @throws UncheckedIOException     if the file cannot be written
     */
    public static void write(Path file, Map<String, INDArray> tensors, Map<String, String> metadata) {
        SafeTensorsWriter.write(file, tensors, metadata);
    }

    /**
     * The same bytes as {@link #write(Path, Map, Map)}, streamed to {@code ch} (e.g. a Hadoop file system's stream), which
     * the caller closes; not atomic by itself: write to a temporary name and rename, as the file version does.
     */
    public static void write(java.nio.channels.WritableByteChannel ch, Map<String, INDArray> tensors, Map<String, String> metadata)
            throws IOException {
        SafeTensorsWriter.write(ch, tensors, metadata);
    }

    /**
     * One header entry.
     *
     * @param dtype the safetensors dtype name as stored, e.g. {@code F32}, {@code BF16}
     * @param begin first byte, relative to the data that follows the header
     * @param end   one past the last byte, relative likewise
     */
    public record TensorInfo(String name, String dtype, long[] shape, long begin, long end) {
        public TensorInfo {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(dtype, "dtype");
            shape = shape.clone();
        }

        /** A copy: the record stays immutable. */
        @Override
        public long[] shape() {
            return shape.clone();
        }

        public int rank() {
            return shape.length;
        }

        /** Element count; 1 for shape {@code []}. */
        public long numel() {
            long n = 1;
            for (long d : shape) n *= d; // cannot overflow: the header parser checked it
            return n;
        }

        public long byteLength() {
            return end - begin;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof TensorInfo t && name.equals(t.name) && dtype.equals(t.dtype)
                    && Arrays.equals(shape, t.shape) && begin == t.begin && end == t.end;
        }

        @Override
        public int hashCode() {
            return Objects.hash(name, dtype, Arrays.hashCode(shape), begin, end);
        }

        @Override
        public String toString() {
            return name + " " + dtype + SafeTensorsHeader.render(shape) + " @[" + begin + ", " + end + ")";
        }
    }

    // ---- reading one tensor -------------------------------------------------------------------

    private INDArray read(TensorInfo t, boolean writable) {
        DType dtype = DType.parse(t.dtype()).orElseThrow(); // the header parser admitted only known dtypes
        if (!dtype.decodable()) {
            throw new CorruptModelFileException(path, t.name(), "has dtype " + dtype + ", which jlens cannot"
                    + " convert to float32 (it converts " + DType.decodableList() + ")",
                    "convert the tensor (e.g. tensor.float() in PyTorch) and save the file again");
        }
        long position = header.dataStart() + t.begin();
        // Arrays handed out must outlive any workspace the caller happens to be in.
        try (MemoryWorkspace outside = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            FileChannel ch = channel();
            if (t.numel() == 0) return Nd4j.create(DataType.FLOAT, t.shape());
            checkStillThere(ch, t, position);
            if (zeroCopyable(dtype, position, t.byteLength())) {
                // Read straight into ND4J's memory: a mapping would leave the file's pages resident beside the copy.
                if (writable) return readInto(ch, position, t, DataType.FLOAT);
                synchronized (this) {
                    if (mapped == null) mapped = MappedFile.of(path, header.dataStart());
                }
                return map(ch, position, t, DataType.FLOAT);
            }
            return TensorDecoder.decode(ch, position, dtype, t.shape(), t.numel(), TensorDecoder.DEFAULT_WINDOW_BYTES);
        } catch (ClosedChannelException e) {
            throw closedError(e);
        } catch (IOException e) {
            throw new UncheckedIOException(path + ": cannot read tensor '" + t.name() + "' (" + e.getMessage() + ")", e);
        }
    }

    /**
     * Zero copy needs the file's bytes to already be native float32: little-endian host, 4-byte
     * aligned data (true for files from the reference writers, which pad the header), and a size one
     * Java mapping can hold. Anything else takes the copying path.
     */
    private static boolean zeroCopyable(DType dtype, long position, long bytes) {
        return dtype == DType.F32 && ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN
                && position % 4 == 0 && bytes <= Integer.MAX_VALUE;
    }

    /** The tensor's bytes read into a fresh array of {@code type} (FLOAT for F32, BFLOAT16 for BF16), without mapping them. */
    private static INDArray readInto(FileChannel ch, long position, TensorInfo t, DataType type) throws IOException {
        INDArray out = Nd4j.createUninitialized(type, t.shape());
        java.nio.ByteBuffer into = out.data().asNio();
        into.clear();
        into.limit((int) t.byteLength());
        while (into.hasRemaining()) {
            int n = ch.read(into, position + into.position());
            if (n < 0) throw new java.io.EOFException("the file ends inside tensor '" + t.name() + "'");
        }
        return out;
    }

    /** The tensor's bytes mapped as an array of {@code type} (FLOAT for F32, BFLOAT16 for BF16). */
    private INDArray map(FileChannel ch, long position, TensorInfo t, DataType type) throws IOException {
        MappedByteBuffer bytes = mapCopyOnWrite(ch, position, t.byteLength());
        // What keeps the mapping alive: array -> DataBuffer -> Pointer -> its JavaCPP deallocator,
        // which holds the Float/ShortBuffer -> which holds this mapping. Views share the DataBuffer. So the JDK
        // unmaps only after every array over it is unreachable (SafeTensorsTest checks both directions).
        bytes.order(ByteOrder.LITTLE_ENDIAN);
        org.bytedeco.javacpp.Pointer pointer = type == DataType.BFLOAT16
                ? new org.bytedeco.javacpp.ShortPointer(bytes.asShortBuffer())
                : new FloatPointer(bytes.asFloatBuffer());
        DataBuffer buffer = Nd4j.createBuffer(pointer, t.numel(), type);
        return Nd4j.create(buffer, t.shape(), SafeTensorsWriter.cStrides(t.shape()), 0, 'c');
    }

    /**
     * A private (copy-on-write) mapping where the file may be opened for writing, so that an in-place
     * op on a weight changes this process's copy of the page instead of killing the JVM; the file is
     * never written. Java maps privately only through a writable channel: for files we may not open
     * that way (read-only folders) the mapping is read-only and in-place writes crash (see the class
     * comment).
     */
    private MappedByteBuffer mapCopyOnWrite(FileChannel readOnly, long position, long length) throws IOException {
        if (writable != null) return writable.map(FileChannel.MapMode.PRIVATE, position, length);
        return readOnly.map(FileChannel.MapMode.READ_ONLY, position, length);
    }

    /** The same file (opened now, so a later atomic replace cannot swap it) for private mappings, or null. */
    private static FileChannel openForPrivateMaps(Path file) {
        try {
            return FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
        } catch (IOException | UnsupportedOperationException | SecurityException notWritable) {
            return null;
        }
    }

    /** Touching a mapped page past the end of a truncated file is SIGBUS, not an exception: check first. */
    private void checkStillThere(FileChannel ch, TensorInfo t, long position) throws IOException {
        long size = ch.size();
        if (size < position + t.byteLength()) {
            throw new CorruptModelFileException(path, t.name(), "lies past the end of the file, which has shrunk to "
                    + size + " bytes since it was opened", "something rewrote the file in place; open it again, and"
                    + " replace model files atomically (SafeTensors.write) rather than in place");
        }
    }

    private FileChannel channel() {
        if (closed) throw closedError(null);
        return channel;
    }

    private IllegalStateException closedError(Throwable cause) {
        return new IllegalStateException(path + ": this SafeTensors is closed; open the file again to read more"
                + " tensors (arrays already read stay valid)", cause);
    }

    private CorruptModelFileException missing(String name) {
        if (header.tensors().isEmpty()) {
            return new CorruptModelFileException(path, name, "is not in this file, which holds no tensors at all",
                    "check that this is the file you meant");
        }
        List<String> near = NameSuggestions.closest(name, header.tensors().keySet(), 5);
        return new CorruptModelFileException(path, name, "is not in this file, which has "
                + header.tensors().size() + " tensors; the closest names are "
                + near.stream().map(n -> "'" + n + "'").collect(Collectors.joining(", ")),
                "check the spelling and any key prefix (such as 'transformer.'); names() lists them all");
    }
}
