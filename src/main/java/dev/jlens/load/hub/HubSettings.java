package dev.jlens.load.hub;

import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * Where the hub is and where its files are kept, read from the same environment variables as
 * Python's {@code huggingface_hub}, so both share one cache.
 *
 * @param cacheDir the hub cache ({@code …/hub}), holding {@code models--<owner>--<name>} folders
 * @param endpoint the hub's base URL; files are at {@code {endpoint}/{repo}/resolve/{revision}/{file}}
 * @param offline  never touch the network: use only what the cache holds
 * @param token    a Hugging Face access token for gated or private repositories, or null
 * @param progress where download progress bars and warnings go, or null for none
 * @param readTimeout a download that receives nothing for this long is given up (and can be resumed)
 * @param minBytesPerSecond a download must average at least this rate: one of {@code n} bytes is given up
 *                          after {@code readTimeout + n / minBytesPerSecond}, so a server that sends a byte
 *                          now and then cannot hold it forever
 */
public record HubSettings(Path cacheDir, URI endpoint, boolean offline, String token, PrintStream progress,
                          Duration readTimeout, long minBytesPerSecond) {
    public static final String DEFAULT_ENDPOINT = "https://huggingface.co";
    /** huggingface_hub's default for {@code HF_HUB_DOWNLOAD_TIMEOUT}. */
    public static final Duration DEFAULT_READ_TIMEOUT = Duration.ofSeconds(10);
    /** 32 KiB/s: a 500 MB model may take up to 4.5 hours, a dripping server is given up within seconds. */
    public static final long DEFAULT_MIN_BYTES_PER_SECOND = 32 * 1024;

    public HubSettings {
        Objects.requireNonNull(cacheDir, "cacheDir");
        Objects.requireNonNull(endpoint, "endpoint");
        Objects.requireNonNull(readTimeout, "readTimeout");
        String e = endpoint.toString();
        if (e.endsWith("/")) endpoint = URI.create(e.substring(0, e.length() - 1));
        if (readTimeout.isNegative() || readTimeout.isZero()) {
            throw new IllegalArgumentException("the download read timeout must be positive, not " + readTimeout);
        }
        if (minBytesPerSecond <= 0) {
            throw new IllegalArgumentException("the minimum download rate must be positive, not " + minBytesPerSecond + " bytes/s");
        }
    }

    /** Settings with the default read timeout and minimum download rate. */
    public HubSettings(Path cacheDir, URI endpoint, boolean offline, String token, PrintStream progress) {
        this(cacheDir, endpoint, offline, token, progress, DEFAULT_READ_TIMEOUT, DEFAULT_MIN_BYTES_PER_SECOND);
    }

    /** The settings from this process's environment (see {@link #fromEnvironment(Map)}); progress to stderr. */
    public static HubSettings fromEnvironment() {
        return fromEnvironment(System.getenv());
    }

    /**
     * The settings an environment gives:
     * <ul>
     *   <li>cache: {@code HF_HUB_CACHE}, else {@code $HF_HOME/hub}; {@code HF_HOME} defaults to
     *       {@code $XDG_CACHE_HOME/huggingface}, else {@code ~/.cache/huggingface};</li>
     *   <li>endpoint: {@code HF_ENDPOINT}, else {@value #DEFAULT_ENDPOINT};</li>
     *   <li>offline: {@code HF_HUB_OFFLINE} set to 1, true, yes or on;</li>
     *   <li>token: {@code HF_TOKEN}, else the file {@code HF_TOKEN_PATH} or {@code $HF_HOME/token};</li>
     *   <li>progress bars on stderr unless {@code HF_HUB_DISABLE_PROGRESS_BARS} is set to a true value;</li>
     *   <li>read timeout: {@code HF_HUB_DOWNLOAD_TIMEOUT} seconds (as huggingface_hub), else 10;</li>
     *   <li>minimum download rate: {@code JLENS_HUB_MIN_BYTES_PER_SECOND}, else 32768.</li>
     * </ul>
     *
     * @throws IllegalArgumentException when one of the download settings is not a positive number
     */
    public static HubSettings fromEnvironment(Map<String, String> env) {
        Path home = env.containsKey("HF_HOME") ? Path.of(env.get("HF_HOME"))
                : env.containsKey("XDG_CACHE_HOME") ? Path.of(env.get("XDG_CACHE_HOME"), "huggingface")
                : Path.of(System.getProperty("user.home"), ".cache", "huggingface");
        Path cache = env.containsKey("HF_HUB_CACHE") ? Path.of(env.get("HF_HUB_CACHE"))
                : env.containsKey("HUGGINGFACE_HUB_CACHE") ? Path.of(env.get("HUGGINGFACE_HUB_CACHE"))
                : home.resolve("hub");
        URI endpoint = URI.create(env.getOrDefault("HF_ENDPOINT", DEFAULT_ENDPOINT));
        String token = env.get("HF_TOKEN");
        if (token == null || token.isBlank()) {
            Path tokenFile = env.containsKey("HF_TOKEN_PATH") ? Path.of(env.get("HF_TOKEN_PATH")) : home.resolve("token");
            token = readToken(tokenFile);
        }
        PrintStream progress = isTrue(env.get("HF_HUB_DISABLE_PROGRESS_BARS")) ? null : System.err;
        Duration readTimeout = env.containsKey("HF_HUB_DOWNLOAD_TIMEOUT")
                ? Duration.ofMillis(Math.round(positive(env, "HF_HUB_DOWNLOAD_TIMEOUT", "10") * 1000)) : DEFAULT_READ_TIMEOUT;
        long minRate = env.containsKey("JLENS_HUB_MIN_BYTES_PER_SECOND")
                ? (long) Math.ceil(positive(env, "JLENS_HUB_MIN_BYTES_PER_SECOND", "32768")) : DEFAULT_MIN_BYTES_PER_SECOND;
        return new HubSettings(cache, endpoint, isTrue(env.get("HF_HUB_OFFLINE")), token, progress, readTimeout, minRate);
    }

    private static double positive(Map<String, String> env, String name, String example) {
        String v = env.get(name).strip();
        try {
            double d = Double.parseDouble(v);
            if (d > 0 && d < 1e15) return d;
        } catch (NumberFormatException e) {
            // refused below
        }
        throw new IllegalArgumentException(name + "='" + v + "' is not a positive number: unset it or set it to e.g. " + example);
    }

    /** These settings with another cache folder. */
    public HubSettings withCacheDir(Path dir) {
        return new HubSettings(dir, endpoint, offline, token, progress, readTimeout, minBytesPerSecond);
    }

    /** These settings with another endpoint. */
    public HubSettings withEndpoint(URI uri) {
        return new HubSettings(cacheDir, uri, offline, token, progress, readTimeout, minBytesPerSecond);
    }

    /** These settings online or offline. */
    public HubSettings withOffline(boolean off) {
        return new HubSettings(cacheDir, endpoint, off, token, progress, readTimeout, minBytesPerSecond);
    }

    /** These settings with progress bars going to {@code out} (null for none). */
    public HubSettings withProgress(PrintStream out) {
        return new HubSettings(cacheDir, endpoint, offline, token, out, readTimeout, minBytesPerSecond);
    }

    /** These settings with another read timeout and minimum download rate (tests use small ones). */
    public HubSettings withDownloadLimits(Duration timeout, long bytesPerSecond) {
        return new HubSettings(cacheDir, endpoint, offline, token, progress, timeout, bytesPerSecond);
    }

    @Override
    public String toString() {   // never print the token
        return "HubSettings[cache=" + cacheDir + ", endpoint=" + endpoint + ", offline=" + offline
                + ", token=" + (token == null ? "none" : "set") + ", readTimeout=" + readTimeout
                + ", minBytesPerSecond=" + minBytesPerSecond + "]";
    }

    static boolean isTrue(String value) {
        return value != null && switch (value.strip().toLowerCase(Locale.ROOT)) {
            case "1", "true", "yes", "on" -> true;
            default -> false;
        };
    }

    private static String readToken(Path file) {
        try {
            if (!Files.isRegularFile(file)) return null;
            String t = Files.readString(file).strip();
            return t.isEmpty() ? null : t;
        } catch (IOException | SecurityException e) {
            return null;   // an unreadable token file is the same as none: public repositories still work
        }
    }
}
