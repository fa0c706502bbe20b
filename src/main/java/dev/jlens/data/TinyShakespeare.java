package dev.jlens.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;

/**
 * Karpathy's TinyShakespeare (~1.1 MB, 65 characters): read from a cache file, downloaded from
 * its canonical URL into that file the first time.
 */
public final class TinyShakespeare {
    /** Where char-rnn, the lecture and nanoGPT get it. */
    public static final URI URL = URI.create("https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt");

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
        Path tmp = null;
        try {
            Files.createDirectories(cacheFile.toAbsolutePath().getParent());
            tmp = Files.createTempFile(cacheFile.toAbsolutePath().getParent(), ".download-", ".tmp");
            HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(15))
                    .followRedirects(HttpClient.Redirect.NORMAL).build();
            HttpRequest req = HttpRequest.newBuilder(url).timeout(Duration.ofSeconds(60)).GET().build();
            HttpResponse<Path> resp = client.send(req, HttpResponse.BodyHandlers.ofFile(tmp));
            if (resp.statusCode() != 200) throw new IOException("HTTP " + resp.statusCode());
            Files.move(tmp, cacheFile, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            tmp = null;
            return cacheFile;
        } catch (IOException e) {
            throw offline(cacheFile, url, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw offline(cacheFile, url, new IOException("interrupted", e));
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // a stray hidden temporary file in the cache folder is harmless
                }
            }
        }
    }

    private static UncheckedIOException offline(Path cacheFile, URI url, IOException cause) {
        String why = cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getClass().getSimpleName() + ": " + cause.getMessage();
        return new UncheckedIOException("TinyShakespeare is not in " + cacheFile + " and downloading it from " + url
                + " failed (" + why + "). Are you offline? Fetch it by hand on a machine with network access"
                + " (curl -o " + cacheFile + " " + url + ") or pass --data with a local copy of input.txt", cause);
    }
}
