package dev.jlens.load;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A local stand-in for huggingface.co with the hub's URL layout and headers:
 * {@code /{repo}/resolve/{revision}/{file}} answers small files itself ({@code ETag} = git blob sha1)
 * and redirects LFS files ({@code *.safetensors}, {@code *.bin}) with a 302 to a CDN-like
 * {@code /cdn/{sha256}} ({@code X-Linked-Etag} = sha256, {@code X-Linked-Size}); every answer carries
 * {@code X-Repo-Commit}. Renamed repositories answer with a relative 307, like {@code gpt2} →
 * {@code openai-community/gpt2}. The CDN, on its own port as on its own host in real life, honours
 * {@code Range}; it speaks HTTP over a plain socket so that it can drop a connection mid-body, which
 * {@link HttpServer} cannot.
 *
 * <p>Faults on demand: the next CDN download can be cut off after some bytes (the connection is
 * closed mid-body), and files can be served with one byte flipped. Hostile ones too: GETs of small
 * files redirected elsewhere ({@link #redirectGetsTo}, {@link #hopsBeforeServing}), ETags that are no
 * checksum ({@link #opaqueEtag}), no size ({@link #omitSize}), and a CDN that floods, drips or stalls
 * ({@link #cdnFault}). Every request that carried an {@code Authorization} header is in {@link #authorized}.
 * Every fault is bounded in bytes and time and ends when the hub is closed.
 */
final class FakeHub implements AutoCloseable {
    static final String COMMIT = "0123456789abcdef0123456789abcdef01234567";

    private final HttpServer server;
    private final Map<String, Map<String, byte[]>> repos = new ConcurrentHashMap<>();
    private final Map<String, String> renamed = new ConcurrentHashMap<>();
    private final Map<String, byte[]> cdn = new ConcurrentHashMap<>();
    /** Every request, as "METHOD path" plus " range=…" when it had one. */
    final List<String> log = new CopyOnWriteArrayList<>();
    /** Cut the next CDN body off after this many bytes; -1 for no cut. */
    volatile long cutNextDownloadAfter = -1;
    /** Serve these file names with their middle byte flipped (headers still describe the true file). */
    final java.util.Set<String> corrupt = ConcurrentHashMap.newKeySet();
    /** Every request that carried an Authorization header, as "METHOD path" (the CDN's too). */
    final List<String> authorized = new CopyOnWriteArrayList<>();
    /**
     * Answer GETs of small files with a 302 to this prefix followed by the request's path: an absolute
     * URL ("http://127.0.0.1:port", another host), "/hop/0" (a relative chain, see {@link #hopsBeforeServing}),
     * or "" (the same URL again: a loop); null for no redirect.
     */
    volatile String redirectGetsTo;
    /** {@code /hop/N/path} redirects to {@code /hop/N+1/path} while N is below this, then serves {@code path}. */
    volatile int hopsBeforeServing;
    /** Send this as every file's ETag (and X-Linked-Etag), as a mirror whose ETags are no checksum would; null for the hub's. */
    volatile String opaqueEtag;
    /** Send neither X-Linked-Size nor Content-Length with metadata. */
    volatile boolean omitSize;

    enum CdnFault {
        NONE,
        /** Declares and sends 64 MiB, whatever the file's size. */
        FLOOD_DECLARED,
        /** Sends 64 MiB without a Content-Length, until the connection closes. */
        FLOOD_UNDECLARED,
        /** Declares the true size, sends one byte every 100 ms, and hangs up after 40 bytes. */
        DRIP,
        /** Declares the true size, sends 100 bytes, then nothing for up to 10 s. */
        STALL
    }

    volatile CdnFault cdnFault = CdnFault.NONE;
    private volatile boolean closed;

    private final ServerSocket cdnSocket;

    FakeHub() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", this::handle);
        server.start();
        cdnSocket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread cdn = new Thread(this::acceptCdn, "fake-cdn");
        cdn.setDaemon(true);
        cdn.start();
    }

    private URI cdnEndpoint() {
        return URI.create("http://127.0.0.1:" + cdnSocket.getLocalPort());
    }

    URI endpoint() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    /** Serves every file of a folder as the repository {@code repoId}. */
    FakeHub serve(String repoId, Path folder, String... files) {
        Map<String, byte[]> content = new ConcurrentHashMap<>();
        try {
            for (String f : files) content.put(f, Files.readAllBytes(folder.resolve(f)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        repos.put(repoId, content);
        for (var e : content.entrySet()) if (isLfs(e.getKey())) cdn.put(sha256(e.getValue()), e.getValue());
        return this;
    }

    FakeHub rename(String oldId, String newId) {
        renamed.put(oldId, newId);
        return this;
    }

    long requests(String containing) {
        return log.stream().filter(l -> l.contains(containing)).count();
    }

    @Override
    public void close() {
        closed = true;
        server.stop(0);
        try {
            cdnSocket.close();
        } catch (IOException ignored) {
            // already closed
        }
    }

    static boolean isLfs(String file) {
        return file.endsWith(".safetensors") || file.endsWith(".bin");
    }

    static String sha256(byte[] b) {
        return hex("SHA-256", b, null);
    }

    static String gitBlobSha1(byte[] b) {
        return hex("SHA-1", b, ("blob " + b.length + "\0").getBytes(StandardCharsets.US_ASCII));
    }

    private static String hex(String algorithm, byte[] b, byte[] prefix) {
        try {
            MessageDigest d = MessageDigest.getInstance(algorithm);
            if (prefix != null) d.update(prefix);
            return HexFormat.of().formatHex(d.digest(b));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    // ---- answering ----------------------------------------------------------------------------------

    private static final Pattern RESOLVE = Pattern.compile("^/(.+)/resolve/([^/]+)/(.+)$");
    private static final Pattern HOP = Pattern.compile("^/hop/(\\d+)(/.+)$");

    private void handle(HttpExchange x) throws IOException {
        String path = x.getRequestURI().getRawPath();
        String range = x.getRequestHeaders().getFirst("Range");
        log.add(x.getRequestMethod() + " " + path + (range == null ? "" : " range=" + range));
        if (x.getRequestHeaders().containsKey("Authorization")) authorized.add(x.getRequestMethod() + " " + path);
        try {
            Matcher hop = HOP.matcher(path);
            if (hop.matches()) {
                int n = Integer.parseInt(hop.group(1));
                if (n < hopsBeforeServing) {
                    x.getResponseHeaders().set("Location", "/hop/" + (n + 1) + hop.group(2));
                    empty(x, 302);
                    return;
                }
                path = hop.group(2);
            } else if (redirectGetsTo != null && x.getRequestMethod().equals("GET") && !isLfs(path)) {
                x.getResponseHeaders().set("Location", redirectGetsTo + path);
                empty(x, 302);
                return;
            }
            Matcher m = RESOLVE.matcher(path);
            if (!m.matches()) {
                empty(x, 404);
                return;
            }
            String repo = decode(m.group(1)), revision = decode(m.group(2)), file = decode(m.group(3));
            if (renamed.containsKey(repo)) {
                x.getResponseHeaders().set("Location", "/" + renamed.get(repo) + "/resolve/" + m.group(2) + "/" + m.group(3));
                empty(x, 307);
                return;
            }
            Map<String, byte[]> files = repos.get(repo);
            if (files == null) {
                x.getResponseHeaders().set("X-Error-Code", "RepoNotFound");
                empty(x, 401);
                return;
            }
            if (!revision.equals("main") && !revision.equals(COMMIT)) {
                x.getResponseHeaders().set("X-Error-Code", "RevisionNotFound");
                empty(x, 404);
                return;
            }
            x.getResponseHeaders().set("X-Repo-Commit", COMMIT);
            byte[] content = files.get(file);
            if (content == null) {
                x.getResponseHeaders().set("X-Error-Code", "EntryNotFound");
                empty(x, 404);
                return;
            }
            if (isLfs(file)) {
                String sha = sha256(content);
                x.getResponseHeaders().set("X-Linked-Etag", "\"" + (opaqueEtag != null ? opaqueEtag : sha) + "\"");
                if (!omitSize) x.getResponseHeaders().set("X-Linked-Size", String.valueOf(content.length));
                x.getResponseHeaders().set("ETag", "\"" + gitBlobSha1(("version https://git-lfs.github.com/spec/v1\noid sha256:" + sha
                        + "\nsize " + content.length + "\n").getBytes(StandardCharsets.US_ASCII)) + "\"");
                x.getResponseHeaders().set("Location", cdnEndpoint() + "/cdn/" + sha + "?file=" + file);
                empty(x, 302);
                return;
            }
            x.getResponseHeaders().set("ETag", "W/\"" + (opaqueEtag != null ? opaqueEtag : gitBlobSha1(content)) + "\"");
            x.getResponseHeaders().set("Accept-Ranges", "bytes");
            body(x, 200, corrupt.contains(file) ? flipped(content) : content, 0);
        } finally {
            x.close();
        }
    }

    // ---- the CDN, over a plain socket ------------------------------------------------------------

    private void acceptCdn() {
        while (!cdnSocket.isClosed()) {
            try {
                Socket client = cdnSocket.accept();
                Thread t = new Thread(() -> serveCdn(client), "fake-cdn-request");
                t.setDaemon(true);
                t.start();
            } catch (IOException closed) {
                return;
            }
        }
    }

    /** One request per connection: GET /cdn/{sha256}?file=name, with or without Range. */
    private void serveCdn(Socket client) {
        try (client; var in = new BufferedReader(new InputStreamReader(client.getInputStream(), StandardCharsets.ISO_8859_1));
             OutputStream out = client.getOutputStream()) {
            String requestLine = in.readLine();
            if (requestLine == null) return;
            String range = null;
            for (String h; (h = in.readLine()) != null && !h.isEmpty(); ) {
                if (h.toLowerCase(java.util.Locale.ROOT).startsWith("range:")) range = h.substring(6).strip();
                if (h.toLowerCase(java.util.Locale.ROOT).startsWith("authorization:")) authorized.add("GET " + requestLine.split(" ")[1]);
            }
            String target = requestLine.split(" ")[1];
            log.add(requestLine.split(" ")[0] + " " + target + (range == null ? "" : " range=" + range));
            URI uri = URI.create(target);
            String sha = uri.getPath().substring("/cdn/".length());
            byte[] content = cdn.get(sha);
            if (content == null) {
                out.write("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                return;
            }
            String file = uri.getQuery() == null ? "" : uri.getQuery().replace("file=", "");
            if (corrupt.contains(file)) content = flipped(content);
            if (cdnFault != CdnFault.NONE) {
                misbehave(cdnFault, content, out);
                return;
            }
            long from = 0;
            String status = "200 OK", extra = "";
            if (range != null) {
                Matcher m = Pattern.compile("bytes=(\\d+)-").matcher(range);
                from = m.matches() ? Long.parseLong(m.group(1)) : 0;
                if (from >= content.length) {
                    out.write(("HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */" + content.length
                            + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                    return;
                }
                status = "206 Partial Content";
                extra = "Content-Range: bytes " + from + "-" + (content.length - 1) + "/" + content.length + "\r\n";
            }
            long length = content.length - from;
            out.write(("HTTP/1.1 " + status + "\r\nContent-Length: " + length + "\r\nAccept-Ranges: bytes\r\n" + extra
                    + "Connection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            long cut = cutNextDownloadAfter;
            if (cut >= 0) cutNextDownloadAfter = -1;
            int n = (int) (cut >= 0 ? Math.min(cut, length) : length);
            out.write(content, (int) from, n);
            out.flush();
            // With a cut, the socket closes here, n bytes into a body that promised more.
        } catch (IOException e) {
            // the client went away; nothing to answer
        }
    }

    /** A hostile CDN answer; each ends by itself (bounded bytes and time) or when the hub closes. */
    private void misbehave(CdnFault fault, byte[] content, OutputStream out) throws IOException {
        switch (fault) {
            case FLOOD_DECLARED, FLOOD_UNDECLARED -> {
                int chunks = 1024;
                byte[] chunk = new byte[1 << 16];
                out.write(("HTTP/1.1 200 OK\r\n" + (fault == CdnFault.FLOOD_DECLARED ? "Content-Length: " + (long) chunks * chunk.length + "\r\n" : "")
                        + "Connection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                for (int i = 0; i < chunks && !closed; i++) out.write(chunk);   // throws once the client hangs up
            }
            case DRIP -> {
                out.write(("HTTP/1.1 200 OK\r\nContent-Length: " + content.length + "\r\nConnection: close\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                for (int i = 0; i < Math.min(40, content.length) && !closed; i++) {
                    out.write(content[i]);
                    out.flush();
                    pause(100);
                }
            }
            case STALL -> {
                out.write(("HTTP/1.1 200 OK\r\nContent-Length: " + content.length + "\r\nConnection: close\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                out.write(content, 0, Math.min(100, content.length));
                out.flush();
                for (int i = 0; i < 200 && !closed; i++) pause(50);
            }
            case NONE -> throw new IllegalArgumentException("no fault");
        }
    }

    private static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void body(HttpExchange x, int status, byte[] content, long from) throws IOException {
        long length = content.length - from;
        if (x.getRequestMethod().equals("HEAD")) {
            if (!omitSize) x.getResponseHeaders().set("Content-Length", String.valueOf(length));
            x.sendResponseHeaders(status, -1);
            return;
        }
        x.sendResponseHeaders(status, length);
        try (OutputStream out = x.getResponseBody()) {
            out.write(content, (int) from, (int) length);
        }
    }

    private static void empty(HttpExchange x, int status) throws IOException {
        x.sendResponseHeaders(status, -1);
    }

    private static byte[] flipped(byte[] content) {
        byte[] b = content.clone();
        b[b.length / 2] ^= 0x5A;
        return b;
    }

    private static String decode(String s) {
        return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
    }
}
