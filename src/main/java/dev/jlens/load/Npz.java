package dev.jlens.load;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * NumPy's {@code .npz} archives (what {@code np.savez} writes, Gemma Scope's {@code params.npz}): a zip of {@code .npy}
 * files, each a small header (a Python dict literal: dtype, order, shape) then the raw values. Read as float32 arrays.
 * Only what these files hold is accepted: little-endian float32/64, C order, at most 8 dimensions; anything else,
 * a header that does not parse or values that do not fill the entry, is refused naming the file and the array.
 */
public final class Npz {
    private Npz() {}

    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    /** NumPy writes headers of a few hundred bytes; a larger one is not one of its files. */
    private static final int MAX_HEADER = 65_536;
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

    /** Every array of the archive by name, without {@code .npy}, in the archive's order. */
    public static Map<String, INDArray> read(Path file) {
        Map<String, INDArray> out = new LinkedHashMap<>();
        try (ZipArchive zip = ZipArchive.open(file)) {
            for (ZipArchive.Entry e : zip.entries().values()) {
                if (!e.name().endsWith(".npy")) continue;
                String name = e.name().substring(0, e.name().length() - 4);
                out.put(name, array(file, name, zip.slice(e, 0, e.size())));
            }
        }
        if (out.isEmpty()) throw new CorruptModelFileException(file, "holds no .npy arrays", "is it an .npz file np.savez wrote?");
        return out;
    }

    private static INDArray array(Path file, String name, ByteBuffer data) {
        data.order(ByteOrder.LITTLE_ENDIAN);
        byte[] magic = new byte[MAGIC.length];
        if (data.remaining() < 10) throw corrupt(file, name, "is shorter than an .npy header");
        data.get(magic);
        if (!java.util.Arrays.equals(magic, MAGIC)) throw corrupt(file, name, "does not start with NumPy's magic bytes");
        int major = data.get() & 0xff;
        data.get();   // minor version: no difference for what is read here
        long headerLength = switch (major) {
            case 1 -> data.getShort() & 0xffff;
            case 2, 3 -> data.getInt() & 0xffffffffL;
            default -> throw corrupt(file, name, "is .npy format version " + major + ", which jlens does not read");
        };
        if (headerLength > MAX_HEADER || headerLength > data.remaining()) {
            throw corrupt(file, name, "declares a " + headerLength + "-byte header in " + data.remaining() + " bytes");
        }
        byte[] h = new byte[(int) headerLength];
        data.get(h);
        String header = new String(h, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        String descr = group(DESCR, header, file, name, "descr");
        if ("True".equals(group(FORTRAN, header, file, name, "fortran_order"))) {
            throw corrupt(file, name, "is stored in Fortran order", "save it with np.ascontiguousarray");
        }
        long[] shape = shape(group(SHAPE, header, file, name, "shape"), file, name);
        int itemSize = switch (descr) {
            case "<f4" -> 4;
            case "<f8" -> 8;
            default -> throw corrupt(file, name, "has dtype '" + descr + "'", "jlens reads little-endian float32 and float64");
        };
        long count = 1;
        for (long d : shape) count = Math.multiplyExact(count, d);
        if (count > Integer.MAX_VALUE || Math.multiplyExact(count, (long) itemSize) != data.remaining()) {
            throw corrupt(file, name, "has shape " + java.util.Arrays.toString(shape) + " of " + descr + " (" + count * itemSize
                    + " bytes) but " + data.remaining() + " bytes of values");
        }
        float[] values = new float[(int) count];
        switch (itemSize) {
            case 4 -> data.asFloatBuffer().get(values);
            default -> { for (int i = 0; i < values.length; i++) values[i] = (float) data.getDouble(); }
        }
        return Nd4j.create(values, shape.length == 0 ? new long[0] : shape, 'c').castTo(DataType.FLOAT);
    }

    private static long[] shape(String tuple, Path file, String name) {
        String[] parts = tuple.strip().isEmpty() ? new String[0] : tuple.split(",");
        java.util.List<Long> dims = new java.util.ArrayList<>();
        for (String p : parts) {
            if (p.isBlank()) continue;
            try {
                long d = Long.parseLong(p.strip());
                if (d < 0) throw new NumberFormatException();
                dims.add(d);
            } catch (NumberFormatException e) {
                throw corrupt(file, name, "has shape (" + tuple + "), not a tuple of sizes");
            }
        }
        if (dims.size() > 8) throw corrupt(file, name, "has " + dims.size() + " dimensions; jlens reads at most 8");
        return dims.stream().mapToLong(Long::longValue).toArray();
    }

    private static String group(Pattern p, String header, Path file, String name, String field) {
        Matcher m = p.matcher(header);
        if (!m.find()) throw corrupt(file, name, "has an .npy header without '" + field + "'");
        return m.group(1);
    }

    private static CorruptModelFileException corrupt(Path file, String name, String problem) {
        return corrupt(file, name, problem, "re-save it with np.savez");
    }

    private static CorruptModelFileException corrupt(Path file, String name, String problem, String remedy) {
        return new CorruptModelFileException(file, name, "array '" + name + "' " + problem, remedy);
    }
}
