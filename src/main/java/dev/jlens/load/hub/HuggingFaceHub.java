package dev.jlens.load.hub;

import java.io.IOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpTimeoutException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.UnresolvedAddressException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * Files of Hugging Face model repositories, from the local hub cache or downloaded into it.
 *
 * <pre>{@code
 * var hub = HuggingFaceHub.fromEnvironment();          // HF_HOME, HF_HUB_CACHE, HF_ENDPOINT, HF_HUB_OFFLINE, HF_TOKEN
 * Path config = hub.file("gpt2", "main", "config.json").orElseThrow();
 * }</pre>
 *
 * <p>The cache is {@code huggingface_hub}'s (see {@link RepoCache}), so files the Python tools
 * downloaded are found here and the other way round. Downloads show a progress bar, resume after an
 * interruption ({@code .incomplete} files and HTTP Range), and are checked against the checksum the
 * hub reports before they enter the cache; they are bounded in size (what the hub declared) and time
 * (see {@link HubSettings}), and the token is sent only to the hub itself, never to a host a redirect
 * names. Within one instance, the first file fetched from a revision pins it to a commit, so a
 * model's files all come from the same commit.
 *
 * <p>Thread-safe; concurrent downloads of one file (threads or processes) are serialised by a lock
 * file in {@code .locks/}, as {@code huggingface_hub} does.
 */
public final class HuggingFaceHub {
    /** Owner and name as the hub allows them; no {@code ..}, no {@code --}, which the cache layout reserves. */
    private static final Pattern REPO_ID = Pattern.compile("([A-Za-z0-9][A-Za-z0-9._-]{0,95}/)?[A-Za-z0-9][A-Za-z0-9._-]{0,95}");

    private static final Map<Path, Object> IN_PROCESS = new ConcurrentHashMap<>();

    private final HubSettings settings;
    private final HubHttp http;
    private final Map<String, String> pinned = new ConcurrentHashMap<>();   // "repo@revision" → commit

    /**
     * A file from any URL whose size and sha256 are known beforehand (a data set such as TinyShakespeare),
     * fetched as hub files are: bounded by that size, by the read timeout and by the minimum rate of
     * {@code settings}, resumed after an interruption, checked against the sha256 and only then moved to
     * {@code target}. No token is sent (the URL is not the hub). The one downloader of jlens.
     *
     * @throws HubException saying what went wrong and that the same command resumes
     */
    public static void fetchFile(URI url, long size, String sha256, Path target, HubSettings settings) {
        String label = target.getFileName().toString();
        try {
            Files.createDirectories(target.toAbsolutePath().getParent());
            Path incomplete = target.resolveSibling(target.getFileName() + ".incomplete");
            new BlobDownload(new HubHttp(settings), settings)
                    .fetchVerified(new HubHttp.FileMetadata(null, sha256.toLowerCase(java.util.Locale.ROOT), size, url), incomplete, target, label);
        } catch (IOException e) {
            throw new HubException(label + " from " + url + ": " + e.getMessage() + "; run the same command again to resume");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HubException(label + " from " + url + ": interrupted; run the same command again to resume");
        }
    }

    public HuggingFaceHub(HubSettings settings) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.http = new HubHttp(settings);
    }

    /** A hub configured from this process's environment ({@link HubSettings#fromEnvironment()}). */
    public static HuggingFaceHub fromEnvironment() {
        return new HuggingFaceHub(HubSettings.fromEnvironment());
    }

    public HubSettings settings() {
        return settings;
    }

    /** Whether a string is shaped like a repository id ({@code gpt2}, {@code openai-community/gpt2}). */
    public static boolean isRepoId(String s) {
        return s != null && REPO_ID.matcher(s).matches() && !s.contains("..") && !s.contains("--") && !s.endsWith(".");
    }

    /**
     * The cached snapshot folder of a repository at a revision (a branch, tag or commit), if the cache
     * records one; which files it holds is for the caller to check. Never touches the network.
     */
    public Optional<Path> cachedSnapshot(String repoId, String revision) {
        RepoCache cache = cache(repoId, revision);
        return cache.commitOf(revision).map(cache::snapshot).filter(Files::isDirectory);
    }

    /**
     * One file of a repository at a revision, as a path in the cache's snapshot folder: taken from the
     * cache when it is there for the pinned commit, else downloaded. Offline, only the cache is used.
     *
     * @return empty when the repository has no such file
     * @throws HubException when the repository or revision does not exist, the network fails and the
     *                      file is not cached, offline mode finds it not cached, or the download fails
     *                      its checksum
     */
    public Optional<Path> file(String repoId, String revision, String filename) {
        RepoCache cache = cache(repoId, revision);
        checkFilename(filename);
        String commit = pinned.get(repoId + "@" + revision);
        if (commit == null && RepoCache.COMMIT.matcher(revision).matches()) commit = revision;
        if (commit != null) {
            Optional<Path> known = cachedAnswer(cache, commit, filename);
            if (known != null) return known;
        }
        if (settings.offline()) return offlineFile(cache, revision, filename);
        try {
            Optional<HubHttp.FileMetadata> meta = http.metadata(repoId, commit != null ? commit : revision, filename);
            if (meta.isEmpty()) {
                if (commit != null) cache.markMissing(commit, filename);
                return Optional.empty();
            }
            return Optional.of(fetch(cache, revision, filename, meta.get()));
        } catch (IOException e) {
            if (isConnectivity(e)) return unreachable(cache, revision, filename, e);
            throw new HubException("cannot fetch " + repoId + "/" + filename + " from " + settings.endpoint() + " (" + e + ")", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HubException("interrupted while fetching " + repoId + "/" + filename, e);
        }
    }

    // ---- cache ------------------------------------------------------------------------------------

    private RepoCache cache(String repoId, String revision) {
        if (!isRepoId(repoId)) {
            throw new IllegalArgumentException("'" + repoId + "' is not a Hugging Face repository id (owner/name or name, letters,"
                    + " digits, '-', '_', '.')");
        }
        if (revision.isEmpty() || revision.contains("..") || revision.startsWith("/") || revision.contains("\\")) {
            throw new IllegalArgumentException("'" + revision + "' is not a revision: use a branch, tag or commit hash");
        }
        return new RepoCache(settings.cacheDir(), repoId);
    }

    private static void checkFilename(String f) {
        if (f.isEmpty() || f.startsWith("/") || f.contains("\\") || Path.of(f).normalize().startsWith("..") || f.contains("/../")) {
            throw new IllegalArgumentException("'" + f + "' is not a file name inside a repository");
        }
    }

    /** What the cache knows about a file at a commit: present, known absent, or null for "ask the hub". */
    private static Optional<Path> cachedAnswer(RepoCache cache, String commit, String filename) {
        Path p = cache.pointer(commit, filename);
        if (Files.exists(p)) return Optional.of(p);
        if (Files.exists(cache.noExist(commit, filename))) return Optional.empty();
        return null;
    }

    private Optional<Path> offlineFile(RepoCache cache, String revision, String filename) {
        Optional<String> commit = cache.commitOf(revision);
        if (commit.isPresent()) {
            Optional<Path> known = cachedAnswer(cache, commit.get(), filename);
            if (known != null) return known;
        }
        throw new HubException(cache.repoId() + "/" + filename + " is not in the Hugging Face cache (" + cache.dir() + ") and"
                + " HF_HUB_OFFLINE is set, so jlens may not download it: unset HF_HUB_OFFLINE to download it once, or point"
                + " HF_HOME/HF_HUB_CACHE at a cache that has it");
    }

    private Optional<Path> unreachable(RepoCache cache, String revision, String filename, Exception e) {
        Optional<String> commit = cache.commitOf(revision);
        if (commit.isPresent()) {
            Optional<Path> known = cachedAnswer(cache, commit.get(), filename);
            if (known != null) return known;
        }
        throw new HubException("cannot reach " + settings.endpoint() + " (" + e.getClass().getSimpleName()
                + (e.getMessage() == null ? "" : ": " + e.getMessage()) + ") and " + cache.repoId() + "/" + filename
                + " is not in the cache (" + cache.dir() + "): check the network connection, or set HF_ENDPOINT to a"
                + " reachable mirror", e);
    }

    // ---- download ---------------------------------------------------------------------------------

    private Path fetch(RepoCache cache, String revision, String filename, HubHttp.FileMetadata meta)
            throws IOException, InterruptedException {
        String commit = meta.commit();
        if (!RepoCache.COMMIT.matcher(commit).matches()) {
            throw new HubException(settings.endpoint() + " sent a malformed commit for " + cache.repoId() + "/" + filename
                    + "; check HF_ENDPOINT");
        }
        pinned.putIfAbsent(cache.repoId() + "@" + revision, commit);
        cache.writeRef(revision, commit);
        String label = cache.repoId() + "/" + filename;
        Path blob;
        if (Checksums.isChecksum(meta.etag())) {
            blob = fetchChecksummed(cache, meta, label);
        } else {
            // Such an ETag may be shared by different files, so it names nothing; a commit's file never changes.
            Path known = cache.pointer(commit, filename);
            if (Files.exists(known)) return known;
            Files.createDirectories(cache.blobs());
            blob = new BlobDownload(http, settings).fetchUnverified(meta, cache.blobs(), label);
        }
        cache.link(commit, filename, blob);
        return cache.pointer(commit, filename);
    }

    /** The blob named by its checksum ETag, downloaded (or resumed) and verified unless the cache has it. */
    private Path fetchChecksummed(RepoCache cache, HubHttp.FileMetadata meta, String label) throws IOException, InterruptedException {
        String key = meta.etag().toLowerCase(Locale.ROOT);
        Path blob = cache.blob(key);
        if (!Files.exists(blob)) {
            Files.createDirectories(blob.getParent());
            Path lockFile = cache.lock(key);
            Files.createDirectories(lockFile.getParent());
            // A file lock keeps other processes out; it cannot be taken twice in one JVM, so threads queue first.
            synchronized (IN_PROCESS.computeIfAbsent(lockFile.toAbsolutePath().normalize(), k -> new Object())) {
                try (FileChannel lockChannel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                     FileLock lock = lockChannel.lock()) {
                    if (!Files.exists(blob)) {     // another thread or process may have finished it while we waited
                        new BlobDownload(http, settings).fetchVerified(meta, cache.incomplete(key), blob, label);
                    }
                }
            }
        }
        return blob;
    }

    @Override
    public String toString() {
        return "HuggingFaceHub[" + settings + "]";
    }

    /** Failures that mean "no network" (so a cached copy will do), as opposed to a hub that answered badly. */
    private static boolean isConnectivity(IOException e) {
        return e instanceof ConnectException || e instanceof HttpTimeoutException || e instanceof UnknownHostException
                || e instanceof NoRouteToHostException || e.getCause() instanceof UnresolvedAddressException;
    }
}
