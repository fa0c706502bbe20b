package dev.jlens.experiment;

import dev.jlens.model.HookedTransformer;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Collections;
import java.util.HexFormat;
import java.util.Map;
import java.util.WeakHashMap;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/** SHA-256 of files and of a model's weights: what manifests use to recognise them. */
final class Fingerprints {
    private static final Map<HookedTransformer, String> WEIGHTS = Collections.synchronizedMap(new WeakHashMap<>());

    private Fingerprints() {}

    /**
     * SHA-256 over every parameter in {@code params()} order: its TransformerLens name, its shape, and
     * its values as little-endian float32. The same weights loaded from another file (or format) give
     * the same fingerprint. Computed once per model object.
     */
    static String weights(HookedTransformer model) {
        return WEIGHTS.computeIfAbsent(model, m -> arrays(m.params()));
    }

    /** SHA-256 over named arrays in order: each name, shape and values as little-endian float32. */
    static String arrays(Map<String, INDArray> named) {
        MessageDigest d = sha256();
        for (Map.Entry<String, INDArray> e : named.entrySet()) {
            INDArray a = e.getValue();
            d.update(e.getKey().getBytes(StandardCharsets.UTF_8));
            ByteBuffer shape = ByteBuffer.allocate(8 * (a.rank() + 1)).order(ByteOrder.LITTLE_ENDIAN).putLong(a.rank());
            for (long s : a.shape()) shape.putLong(s);
            d.update(shape.array());
            float[] values = a.castTo(DataType.FLOAT).dup('c').data().asFloat();
            ByteBuffer bytes = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
            bytes.asFloatBuffer().put(values);
            d.update(bytes.array());
        }
        return HexFormat.of().formatHex(d.digest());
    }

    /** SHA-256 of a file's bytes, in hex. */
    static String file(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            return stream(in);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    /** SHA-256 of what {@code in} reads to its end, in hex. */
    static String stream(InputStream in) throws IOException {
        MessageDigest d = sha256();
        byte[] buf = new byte[1 << 20];
        for (int n; (n = in.read(buf)) > 0; ) d.update(buf, 0, n);
        return HexFormat.of().formatHex(d.digest());
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JDK has no SHA-256", e);
        }
    }
}
