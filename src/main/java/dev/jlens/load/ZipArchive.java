package dev.jlens.load;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * A zip file read the way a loader of untrusted files must: the central directory is parsed and
 * every entry's byte range checked against the file before any entry is read, and no read allocates
 * more than the entry declares. torch.save writes zip files (stored, 64-byte aligned entries, zip64
 * records even for small files); this reads those and, for files re-packed by other tools, deflated
 * entries.
 *
 * <p>Why not {@link java.util.zip.ZipFile}: stored entries must be readable in place (tensor data is
 * mapped, not copied through a stream), and each refusal has to name the entry and the problem.
 */
final class ZipArchive implements AutoCloseable {
    private static final int EOCD = 0x06054b50, ZIP64_EOCD = 0x06064b50, ZIP64_LOCATOR = 0x07064b50;
    private static final int CENTRAL = 0x02014b50, LOCAL = 0x04034b50;
    private static final int EOCD_SIZE = 22, CENTRAL_SIZE = 46, LOCAL_SIZE = 30;
    static final int STORED = 0, DEFLATED = 8;
    /**
     * Deflate expands at most 1032-fold (a 258-byte match in 2 bits; zlib's technical notes), plus block
     * overhead: an entry declaring more than this of its compressed bytes lies, and is refused before
     * anything is allocated for it.
     */
    static final long MAX_DEFLATE_RATIO = 1032, DEFLATE_SLACK = 1024;

    /**
     * One entry, with its data's place in the file already checked to lie inside it.
     *
     * @param dataStart    file offset of the entry's (possibly compressed) bytes
     * @param compressed   bytes in the file
     * @param size         bytes once inflated (equal to {@code compressed} for stored entries)
     */
    record Entry(String name, int method, long dataStart, long compressed, long size) {
        boolean stored() {
            return method == STORED;
        }
    }

    private final Path path;
    private final FileChannel channel;
    private final Map<String, Entry> entries;

    private ZipArchive(Path path, FileChannel channel, Map<String, Entry> entries) {
        this.path = path;
        this.channel = channel;
        this.entries = entries;
    }

    /** Opens and validates a zip file; the caller closes it. */
    static ZipArchive open(Path file) {
        RegularFiles.require(file);
        FileChannel ch;
        try {
            ch = FileChannel.open(file, StandardOpenOption.READ);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot open (" + e.getMessage() + ")", e);
        }
        try {
            return new ZipArchive(file, ch, readDirectory(file, ch));
        } catch (RuntimeException e) {
            try {
                ch.close();
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        } catch (IOException e) {
            try {
                ch.close();
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw new UncheckedIOException(file + ": cannot read (" + e.getMessage() + ")", e);
        }
    }

    Path path() {
        return path;
    }

    FileChannel channel() {
        return channel;
    }

    /** Entries by name, in directory order. */
    Map<String, Entry> entries() {
        return Collections.unmodifiableMap(entries);
    }

    /**
     * The whole entry in memory, inflated if need be. Refused when it declares more than
     * {@code maxBytes}, and, for deflated entries, as soon as inflating passes the declared size (a zip
     * bomb declares little and inflates to much).
     */
    byte[] read(Entry e, long maxBytes) {
        if (e.size() > maxBytes) {
            throw corrupt("entry '" + e.name() + "' declares " + e.size() + " bytes, more than the " + maxBytes
                    + " jlens reads for it", "this is not a file torch.save wrote; re-save it");
        }
        try {
            ByteBuffer raw = readRaw(e.dataStart(), e.compressed());
            if (e.stored()) return raw.array();
            return inflate(e, raw, (int) e.size());
        } catch (IOException ex) {
            throw new UncheckedIOException(path + ": cannot read entry '" + e.name() + "' (" + ex.getMessage() + ")", ex);
        }
    }

    /**
     * {@code length} bytes of an entry from {@code offset}: a read-only mapping of the file for stored
     * entries, an inflated copy for deflated ones (inflated only as far as the range, kept only the range).
     */
    ByteBuffer slice(Entry e, long offset, long length) {
        if (offset < 0 || length < 0 || offset + length > e.size() || length > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("bad slice [" + offset + ", +" + length + ") of " + e);
        }
        try {
            if (e.stored()) return channel.map(FileChannel.MapMode.READ_ONLY, e.dataStart() + offset, length);
            if (e.size() > Integer.MAX_VALUE) {
                throw corrupt("entry '" + e.name() + "' is compressed and larger than 2 GiB",
                        "save it uncompressed, as torch.save does");
            }
            return ByteBuffer.wrap(inflateRange(e, readRaw(e.dataStart(), e.compressed()), offset, (int) length));
        } catch (IOException ex) {
            throw new UncheckedIOException(path + ": cannot read entry '" + e.name() + "' (" + ex.getMessage() + ")", ex);
        }
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException e) {
            throw new UncheckedIOException(path + ": cannot close (" + e.getMessage() + ")", e);
        }
    }

    // ---- inflating, with the declared size as a hard limit --------------------------------------

    private byte[] inflate(Entry e, ByteBuffer compressed, int declared) {
        if (e.method() != DEFLATED) throw new IllegalStateException("not deflated: " + e);
        Inflater inflater = new Inflater(true);
        try {
            inflater.setInput(compressed);
            byte[] out = new byte[declared];
            int n = 0;
            while (n < declared && !inflater.finished()) {
                int got = inflater.inflate(out, n, declared - n);
                if (got == 0 && (inflater.needsInput() || inflater.needsDictionary())) break;
                n += got;
            }
            // One byte more than declared is enough to know the entry lies about its size.
            boolean more = !inflater.finished() && inflater.inflate(new byte[1]) > 0;
            if (more) {
                throw corrupt("entry '" + e.name() + "' inflates past the " + declared + " bytes it declares",
                        "the file is corrupt or crafted (a zip bomb); do not use it");
            }
            if (n != declared) {
                throw corrupt("entry '" + e.name() + "' inflates to " + n + " bytes but declares " + declared,
                        "the file is truncated or corrupt; re-download or re-save it");
            }
            return out;
        } catch (DataFormatException ex) {
            throw notDeflate(e, ex);
        } finally {
            inflater.end();
        }
    }

    private CorruptModelFileException notDeflate(Entry e, DataFormatException ex) {
        return corrupt("entry '" + e.name() + "' is not valid deflate data (" + ex.getMessage() + ")",
                "the file is corrupt; re-download or re-save it");
    }

    /** Bytes {@code [offset, offset + length)} of a deflated entry, the bytes before them inflated into a scratch buffer. */
    private byte[] inflateRange(Entry e, ByteBuffer compressed, long offset, int length) {
        Inflater inflater = new Inflater(true);
        try {
            inflater.setInput(compressed);
            byte[] skip = new byte[(int) Math.min(offset, 1 << 16)];
            for (long skipped = 0; skipped < offset; ) {
                int got = inflater.inflate(skip, 0, (int) Math.min(skip.length, offset - skipped));
                if (got == 0 && (inflater.finished() || inflater.needsInput() || inflater.needsDictionary())) {
                    throw shortEntry(e, skipped, offset + length);
                }
                skipped += got;
            }
            byte[] out = new byte[length];
            int n = 0;
            while (n < length) {
                int got = inflater.inflate(out, n, length - n);
                if (got == 0 && (inflater.finished() || inflater.needsInput() || inflater.needsDictionary())) {
                    throw shortEntry(e, offset + n, offset + length);
                }
                n += got;
            }
            return out;
        } catch (DataFormatException ex) {
            throw notDeflate(e, ex);
        } finally {
            inflater.end();
        }
    }

    private CorruptModelFileException shortEntry(Entry e, long got, long needed) {
        return corrupt("entry '" + e.name() + "' inflates to only " + got + " bytes but " + needed + " are needed (it declares "
                + e.size() + ")", "the file is truncated or corrupt; re-download or re-save it");
    }

    private ByteBuffer readRaw(long position, long length) throws IOException {
        if (length > Integer.MAX_VALUE - 8) throw corrupt("an entry of " + length + " bytes is too large to read into memory", "");
        ByteBuffer b = ByteBuffer.allocate((int) length);
        while (b.hasRemaining()) {
            if (channel.read(b, position + b.position()) < 0) throw corrupt("ends inside an entry", "the file is truncated");
        }
        return b.flip();
    }

    // ---- the central directory ------------------------------------------------------------------

    private static Map<String, Entry> readDirectory(Path file, FileChannel ch) throws IOException {
        long size = ch.size();
        if (size < EOCD_SIZE) throw new CorruptModelFileException(file, "is " + size + " bytes, too short to be a zip file", "re-download or re-save it");
        int tailLength = (int) Math.min(size, EOCD_SIZE + 0xFFFF);
        ByteBuffer tail = read(ch, size - tailLength, tailLength);
        int eocd = -1;
        for (int i = tailLength - EOCD_SIZE; i >= 0; i--) {
            if (tail.getInt(i) == EOCD && i + EOCD_SIZE + Short.toUnsignedInt(tail.getShort(i + 20)) == tailLength) {
                eocd = i;
                break;
            }
        }
        if (eocd < 0) throw new CorruptModelFileException(file, "has no zip end-of-directory record", "the file is truncated or not a torch.save file; re-download or re-save it");
        long eocdPosition = size - tailLength + eocd;
        long count = Short.toUnsignedInt(tail.getShort(eocd + 10));
        long dirSize = Integer.toUnsignedLong(tail.getInt(eocd + 12));
        long dirStart = Integer.toUnsignedLong(tail.getInt(eocd + 16));
        long dirEnd = eocdPosition;
        if (eocdPosition >= 20 && read(ch, eocdPosition - 20, 20).getInt(0) == ZIP64_LOCATOR) {
            long zip64At = read(ch, eocdPosition - 20, 20).getLong(8);
            if (zip64At < 0 || zip64At + 56 > eocdPosition - 20) {
                throw new CorruptModelFileException(file, "has a zip64 locator pointing outside the file", "the file is corrupt; re-download or re-save it");
            }
            ByteBuffer z = read(ch, zip64At, 56);
            if (z.getInt(0) != ZIP64_EOCD) throw new CorruptModelFileException(file, "has a broken zip64 end-of-directory record", "the file is corrupt; re-download or re-save it");
            count = z.getLong(32);
            dirSize = z.getLong(40);
            dirStart = z.getLong(48);
            dirEnd = zip64At;
        }
        if (dirStart < 0 || dirSize < 0 || dirStart > dirEnd || dirSize > dirEnd - dirStart) {
            throw new CorruptModelFileException(file, "has a zip directory at [" + dirStart + ", +" + dirSize + ") outside the file's " + size + " bytes",
                    "the file is truncated or corrupt; re-download or re-save it");
        }
        if (count < 0 || count > dirSize / CENTRAL_SIZE || dirSize > Integer.MAX_VALUE) {
            throw new CorruptModelFileException(file, "declares " + count + " zip entries in a " + dirSize + "-byte directory, which cannot hold them",
                    "the file is corrupt; re-download or re-save it");
        }
        ByteBuffer dir = read(ch, dirStart, (int) dirSize);
        Map<String, Entry> entries = new LinkedHashMap<>();
        int at = 0;
        for (long i = 0; i < count; i++) {
            Entry e = readEntry(file, ch, dir, at, size, dirStart);
            if (entries.put(e.name(), e) != null) {
                throw new CorruptModelFileException(file, "has two zip entries named '" + e.name() + "'", "the file is corrupt or crafted; do not use it");
            }
            at += CENTRAL_SIZE + Short.toUnsignedInt(dir.getShort(at + 28)) + Short.toUnsignedInt(dir.getShort(at + 30))
                    + Short.toUnsignedInt(dir.getShort(at + 32));
        }
        return entries;
    }

    private static Entry readEntry(Path file, FileChannel ch, ByteBuffer dir, int at, long fileSize, long dirStart) throws IOException {
        String remedy = "the file is corrupt; re-download or re-save it";
        if (at + CENTRAL_SIZE > dir.limit() || dir.getInt(at) != CENTRAL) {
            throw new CorruptModelFileException(file, "has a broken zip directory entry at directory offset " + at, remedy);
        }
        int flags = Short.toUnsignedInt(dir.getShort(at + 8));
        int method = Short.toUnsignedInt(dir.getShort(at + 10));
        long compressed = Integer.toUnsignedLong(dir.getInt(at + 20));
        long size = Integer.toUnsignedLong(dir.getInt(at + 24));
        int nameLength = Short.toUnsignedInt(dir.getShort(at + 28));
        int extraLength = Short.toUnsignedInt(dir.getShort(at + 30));
        long local = Integer.toUnsignedLong(dir.getInt(at + 42));
        if (at + CENTRAL_SIZE + nameLength + extraLength > dir.limit()) {
            throw new CorruptModelFileException(file, "has a zip directory entry running past the directory", remedy);
        }
        byte[] nameBytes = new byte[nameLength];
        dir.get(at + CENTRAL_SIZE, nameBytes);
        String name = new String(nameBytes, StandardCharsets.UTF_8);
        // zip64: the 32-bit fields that overflowed are all-ones and the real values sit in extra field 1, in this order.
        for (int x = at + CENTRAL_SIZE + nameLength, end = x + extraLength; x + 4 <= end; ) {
            int id = Short.toUnsignedInt(dir.getShort(x)), length = Short.toUnsignedInt(dir.getShort(x + 2));
            if (x + 4 + length > end) break;
            if (id == 1) {
                int v = x + 4;
                if (size == 0xFFFFFFFFL && v + 8 <= x + 4 + length) { size = dir.getLong(v); v += 8; }
                if (compressed == 0xFFFFFFFFL && v + 8 <= x + 4 + length) { compressed = dir.getLong(v); v += 8; }
                if (local == 0xFFFFFFFFL && v + 8 <= x + 4 + length) local = dir.getLong(v);
            }
            x += 4 + length;
        }
        String entry = "zip entry '" + name + "'";
        if ((flags & 1) != 0) throw new CorruptModelFileException(file, entry + " is encrypted", "jlens reads plain torch.save files; save it again without encryption");
        if (method != STORED && method != DEFLATED) {
            throw new CorruptModelFileException(file, entry + " uses compression method " + method + ", which jlens does not read (only stored and deflated)",
                    "re-save it with torch.save");
        }
        if (size < 0 || compressed < 0 || local < 0 || local > dirStart - LOCAL_SIZE) {
            throw new CorruptModelFileException(file, entry + " lies outside the file (header at " + local + ")", remedy);
        }
        if (method == STORED && compressed != size) {
            throw new CorruptModelFileException(file, entry + " is stored but declares " + compressed + " bytes in the file and " + size + " bytes of content", remedy);
        }
        ByteBuffer header = read(ch, local, LOCAL_SIZE);
        if (header.getInt(0) != LOCAL) throw new CorruptModelFileException(file, entry + " has no local header where the directory says", remedy);
        long dataStart = local + LOCAL_SIZE + Short.toUnsignedInt(header.getShort(26)) + Short.toUnsignedInt(header.getShort(28));
        if (compressed > fileSize - dataStart || dataStart > fileSize) {
            throw new CorruptModelFileException(file, entry + " declares " + compressed + " bytes but the file has only "
                    + Math.max(0, fileSize - dataStart) + " after its start", "the file is truncated; re-download or re-save it");
        }
        // compressed is at most the file's size here, so the product cannot overflow.
        if (method == DEFLATED && size > compressed * MAX_DEFLATE_RATIO + DEFLATE_SLACK) {
            throw new CorruptModelFileException(file, entry + " declares " + size + " bytes but holds only " + compressed
                    + " compressed bytes, which deflate cannot expand beyond " + (compressed * MAX_DEFLATE_RATIO + DEFLATE_SLACK),
                    "the file is corrupt or crafted (a zip bomb); do not use it");
        }
        return new Entry(name, method, dataStart, compressed, size);
    }

    private static ByteBuffer read(FileChannel ch, long position, int length) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        while (b.hasRemaining()) {
            if (ch.read(b, position + b.position()) < 0) throw new IOException("unexpected end of file at " + (position + b.position()));
        }
        return b.flip().order(ByteOrder.LITTLE_ENDIAN);
    }

    private CorruptModelFileException corrupt(String problem, String remedy) {
        return new CorruptModelFileException(path, problem, remedy);
    }
}
