package dev.jlens.data;

import dev.jlens.load.hub.HubException;
import dev.jlens.load.hub.HubSettings;
import dev.jlens.load.hub.HuggingFaceHub;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Karpathy's TinyShakespeare (~1.1 MB, 65 characters): read from a cache file, downloaded from
 * its canonical URL into that file the first time.
 */
public final class TinyShakespeare {
    /** Where char-rnn, the lecture and nanoGPT get it. */
    public static final URI URL = URI.create("https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt");

    /** The file everyone uses: 1,115,394 bytes with this sha256 (char-rnn, the lecture, nanoGPT). */
    static final long SIZE = 1_115_394;
    static final String SHA256 = "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed";

    private TinyShakespeare() {}

    /**
     * The default cache file: {@code $JLENS_CACHE/tinyshakespeare/input.txt}, else
     * {@code ~/.cache/jlens/tinyshakespeare/input.txt}.
     */
    public static Path defaultCacheFile() {
        String env = System.getenv("JLENS_CACHE");
        Path root = env != null && !env.isBlank() ? Path.of(env) : Path.of(System.getProperty("user.home"), ".cache", "jlens");
        return root.resolve("tinyshakespeare").resolve("input.txt");
    }

    /** The text file in the default cache, downloading it first when it is not there. */
    public static Path file() {
        return file(defaultCacheFile(), URL);
    }

    /**
     * {@code cacheFile}, downloaded from {@code url} first when absent (to a temporary file that is
     * moved into place only when complete).
     *
     * @throws UncheckedIOException when the file is absent and cannot be downloaded; the message says
     *                              how to get it by hand
     */
    public static Path file(Path cacheFile, URI url) {
        if (Files.isRegularFile(cacheFile)) return cacheFile;
        try {
            // The hub's downloader: bounded by the known size and time, resumable, checked against the sha256.
            HuggingFaceHub.fetchFile(url, SIZE, SHA256, cacheFile, HubSettings.fromEnvironment());
            return cacheFile;
        } catch (HubException e) {
            throw offline(cacheFile, url, new IOException(e.getMessage(), e));
        }
    }

    private static UncheckedIOException offline(Path cacheFile, URI url, IOException cause) {
        String why = cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getClass().getSimpleName() + ": " + cause.getMessage();
        return new UncheckedIOException("TinyShakespeare is not in " + cacheFile + " and downloading it from " + url
                + " failed (" + why + "). Are you offline? Fetch it by hand on a machine with network access"
                + " (curl -o " + cacheFile + " " + url + ") or pass --data with a local copy of input.txt", cause);
    }
}
