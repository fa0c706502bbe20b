package dev.jlens.load.hub;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * What a hub ETag promises about a file's bytes. For files stored with Git LFS (weights) the hub's
 * {@code X-Linked-Etag} is the sha256 of the content; for small files kept in git ({@code config.json},
 * tokenizer files) the {@code ETag} is the git blob id, sha1 of {@code "blob <size>\0" + content}.
 * Other ETags (some mirrors) promise nothing checkable, and since two different files may share one,
 * such files are stored under the sha256 of what arrived instead.
 */
final class Checksums {
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
    private static final Pattern SHA1 = Pattern.compile("[0-9a-f]{40}");

    private Checksums() {}

    /** The hub's ETag header without the weak marker and quotes, as huggingface_hub normalises it. */
    static String normalizeEtag(String header) {
        if (header == null) return null;
        String e = header.strip();
        if (e.startsWith("W/")) e = e.substring(2);
        if (e.length() >= 2 && e.startsWith("\"") && e.endsWith("\"")) e = e.substring(1, e.length() - 1);
        return e;
    }

    /** How the ETag is checked, for messages: "sha256", "git blob sha1", or null when it cannot be. */
    static String kind(String etag) {
        String e = etag.toLowerCase(Locale.ROOT);
        if (SHA256.matcher(e).matches()) return "sha256";
        if (SHA1.matcher(e).matches()) return "git blob sha1";
        return null;
    }

    /**
     * A digest primed for a file of {@code size} bytes whose result, in hex, must equal the ETag; null when
     * the ETag is not a checksum (or is a git sha1 of unknown size).
     */
    static MessageDigest digestFor(String etag, long size) {
        String kind = kind(etag);
        try {
            if ("sha256".equals(kind)) return MessageDigest.getInstance("SHA-256");
            if ("git blob sha1".equals(kind) && size >= 0) {
                MessageDigest d = MessageDigest.getInstance("SHA-1");
                d.update(("blob " + size + "\0").getBytes(StandardCharsets.US_ASCII));
                return d;
            }
            return null;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK lacks " + kind, e);
        }
    }

    /** Whether an ETag is a checksum jlens can verify (and so may name a blob by). */
    static boolean isChecksum(String etag) {
        return kind(etag) != null;
    }

    /** The hex sha256 of a file's bytes: the name of a blob whose ETag is no checksum. */
    static String sha256(Path file) throws IOException {
        try {
            return hex(digest(MessageDigest.getInstance("SHA-256"), file));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK lacks SHA-256", e);
        }
    }

    /** Feeds a file's bytes to a digest and returns its result. */
    static byte[] digest(MessageDigest digest, Path file) throws IOException {
        try (FileChannel in = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.allocate(1 << 20);
            while (in.read(b) > 0) {
                digest.update(b.flip());
                b.clear();
            }
        }
        return digest.digest();
    }

    static String hex(byte[] digest) {
        return HexFormat.of().formatHex(digest);
    }
}
