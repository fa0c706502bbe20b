package dev.jlens.load.hub;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.Consumer;

/**
 * The hub's HTTP conversation about one file: a HEAD on {@code {endpoint}/{repo}/resolve/{revision}/{file}}
 * that answers with the commit, the ETag, the size and, for LFS files, a redirect to the CDN.
 */
final class HubHttp {
    static final String USER_AGENT = "jlens/0.1 (java " + Runtime.version().feature() + ")";
    private static final Duration METADATA_TIMEOUT = Duration.ofSeconds(10);

    /**
     * What the hub says about a file.
     *
     * @param commit   the commit the revision resolved to ({@code X-Repo-Commit})
     * @param etag     {@code X-Linked-Etag} (LFS: sha256) or {@code ETag} (git blob sha1), normalised
     * @param size     bytes ({@code X-Linked-Size} or {@code Content-Length}); a hub that sends neither is refused
     * @param location where to GET the bytes: the CDN for LFS files, else the resolve URL itself
     */
    record FileMetadata(String commit, String etag, long size, URI location) {}

    private final HubSettings settings;
    private final HttpClient client;

    HubHttp(HubSettings settings) {
        this.settings = settings;
        // Redirects are followed by hand (RedirectChain): Java's HttpClient would forward every header,
        // the token included, to whatever host a redirect names.
        this.client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).followRedirects(HttpClient.Redirect.NEVER)
                .connectTimeout(METADATA_TIMEOUT).build();
    }

    URI resolveUrl(String repoId, String revision, String file) {
        return URI.create(settings.endpoint() + "/" + encodePath(repoId) + "/resolve/" + encodeSegment(revision) + "/" + encodePath(file));
    }

    /** The file's metadata, or empty when the repository has no such file at that revision. */
    Optional<FileMetadata> metadata(String repoId, String revision, String file) throws IOException, InterruptedException {
        URI url = resolveUrl(repoId, revision, file);
        RedirectChain redirects = new RedirectChain(url, repoId + "/" + file);
        for (;;) {
            HttpRequest.Builder head = HttpRequest.newBuilder(url).method("HEAD", HttpRequest.BodyPublishers.noBody())
                    .timeout(METADATA_TIMEOUT).header("User-Agent", USER_AGENT).header("Accept-Encoding", "identity");
            authorize(head, url);
            HttpResponse<Void> r = client.send(head.build(), HttpResponse.BodyHandlers.discarding());
            HttpHeaders h = r.headers();
            int status = r.statusCode();
            Optional<String> location = h.firstValue("Location");
            boolean redirect = RedirectChain.isRedirect(status, location.isPresent());
            // A relative redirect (a renamed repository) is the same question under a new name; an absolute
            // one (the CDN) says where the bytes are, as in huggingface_hub.
            if (redirect && redirects.parse(url, location.get()).getHost() == null) {
                url = redirects.next(url, location.get());
                continue;
            }
            if (status == 404 && isMissingEntry(h)) return Optional.empty();
            if (status >= 400) throw failure(repoId, revision, file, status, h);
            String commit = h.firstValue("X-Repo-Commit").orElse(null);
            String etag = Checksums.normalizeEtag(h.firstValue("X-Linked-Etag").orElse(h.firstValue("ETag").orElse(null)));
            if (commit == null || etag == null || etag.isEmpty()) {
                throw new HubException(url + " answered without X-Repo-Commit or ETag, so it is not a Hugging Face hub;"
                        + " check HF_ENDPOINT (" + settings.endpoint() + ")");
            }
            OptionalLong size = parseSize(h.firstValue("X-Linked-Size"));
            if (size.isEmpty()) size = parseSize(h.firstValue("Content-Length"));
            if (size.isEmpty()) {
                // Without a size a download has no end and no deadline: a hostile server could send forever.
                throw new HubException(url + " answered without a file size (X-Linked-Size or Content-Length), so jlens cannot"
                        + " bound the download of " + repoId + "/" + file + "; check HF_ENDPOINT (" + settings.endpoint() + ")");
            }
            URI bytesAt = redirect ? redirects.next(url, location.get()) : url;
            return Optional.of(new FileMetadata(commit, etag, size.getAsLong(), bytesAt));
        }
    }

    /**
     * GETs {@code url}, following redirects by hand so that each hop gets the token only if it is the hub
     * itself; redirect bodies are discarded.
     *
     * @param headers adds the request's own headers (Range, …) to each hop
     * @param timeout how long each hop may take to send its response headers
     */
    <T> HttpResponse<T> get(URI url, Consumer<HttpRequest.Builder> headers, Duration timeout, HttpResponse.BodyHandler<T> body,
                            String label) throws IOException, InterruptedException {
        RedirectChain redirects = new RedirectChain(url, label);
        HttpResponse.BodyHandler<T> skipRedirects = info -> RedirectChain.isRedirect(info.statusCode(),
                info.headers().firstValue("Location").isPresent()) ? HttpResponse.BodySubscribers.replacing(null) : body.apply(info);
        for (;;) {
            HttpRequest.Builder get = HttpRequest.newBuilder(url).GET().timeout(timeout).header("User-Agent", USER_AGENT)
                    .header("Accept-Encoding", "identity");
            headers.accept(get);
            authorize(get, url);
            HttpResponse<T> r = client.send(get.build(), skipRedirects);
            Optional<String> location = r.headers().firstValue("Location");
            if (!RedirectChain.isRedirect(r.statusCode(), location.isPresent())) return r;
            url = redirects.next(url, location.get());
        }
    }

    /** Sends the token only to the hub itself (same scheme, host and port), never to the CDN or another host. */
    void authorize(HttpRequest.Builder request, URI url) {
        if (settings.token() != null && mayCarryToken(url)) request.header("Authorization", "Bearer " + settings.token());
    }

    boolean mayCarryToken(URI url) {
        return Origin.of(url).equals(Origin.of(settings.endpoint()));
    }

    /** Who a URL talks to: scheme, host and port (the default one when the URL names none), as browsers compare. */
    record Origin(String scheme, String host, int port) {
        static Origin of(URI u) {
            String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
            String host = u.getHost() == null ? "" : u.getHost().toLowerCase(Locale.ROOT);
            int port = u.getPort() != -1 ? u.getPort() : scheme.equals("https") ? 443 : scheme.equals("http") ? 80 : -1;
            return new Origin(scheme, host, port);
        }
    }

    /** A 404 means the file is absent unless the hub says the repository or revision is. */
    private static boolean isMissingEntry(HttpHeaders h) {
        String code = h.firstValue("X-Error-Code").orElse("EntryNotFound");
        return code.equals("EntryNotFound");
    }

    private HubException failure(String repoId, String revision, String file, int status, HttpHeaders h) {
        String code = h.firstValue("X-Error-Code").orElse("");
        String what = repoId + "@" + revision + "/" + file;
        if (code.equals("GatedRepo")) {
            return new HubException(repoId + " is gated on " + settings.endpoint() + ": accept its terms on its page there, then set"
                    + " HF_TOKEN to an access token" + (settings.token() == null ? "" : " (the token jlens sent was not accepted)"));
        }
        if (code.equals("RepoNotFound") || status == 401) {
            return new HubException("no model repository '" + repoId + "' on " + settings.endpoint() + " (HTTP " + status + "): check the"
                    + " name (e.g. gpt2, gpt2-medium, distilgpt2, or owner/name); if it is private, set HF_TOKEN");
        }
        if (code.equals("RevisionNotFound")) {
            return new HubException(repoId + " has no revision '" + revision + "' on " + settings.endpoint() + ": use a branch, tag or commit it has");
        }
        return new HubException(settings.endpoint() + " answered HTTP " + status + " for " + what + ": try again later, or set"
                + " HF_HUB_OFFLINE=1 to use only the local cache");
    }

    /** A byte count from a header; a missing, malformed or negative one is no size. */
    private static OptionalLong parseSize(Optional<String> v) {
        try {
            long n = v.isPresent() ? Long.parseLong(v.get().strip()) : -1;
            return n >= 0 ? OptionalLong.of(n) : OptionalLong.empty();
        } catch (NumberFormatException e) {
            return OptionalLong.empty();
        }
    }

    /** A path of segments, each percent-encoded, the slashes kept. */
    private static String encodePath(String path) {
        StringBuilder sb = new StringBuilder();
        for (String segment : path.split("/", -1)) {
            if (sb.length() > 0) sb.append('/');
            sb.append(encodeSegment(segment));
        }
        return sb.toString();
    }

    /** One segment; a revision's own slashes ({@code refs/pr/1}) are encoded too, as huggingface_hub does. */
    static String encodeSegment(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }
}
