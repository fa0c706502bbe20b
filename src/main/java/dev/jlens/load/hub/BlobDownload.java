package dev.jlens.load.hub;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Locale;
import java.util.OptionalLong;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Downloads one file's bytes into the cache's {@code blobs/} folder, bounded in size and time: never
 * more than the size the hub declared, never longer than the read timeout without a byte, never longer
 * in all than {@code readTimeout + size / minBytesPerSecond} (see {@link HubSettings}).
 *
 * <p>A file whose ETag is a checksum goes to {@code blobs/{etag}.incomplete}, resumed with an HTTP
 * Range request after an interruption, is checked against the ETag and only then renamed to
 * {@code blobs/{etag}}; bytes that fail the check are deleted, so a bad download is never reused. A
 * file whose ETag is no checksum is downloaded whole, its size checked, and stored under the sha256 of
 * its bytes, with a warning that it could not be verified.
 */
final class BlobDownload {
    private static final Pattern CONTENT_RANGE = Pattern.compile("bytes (\\d+)-\\d+/(\\d+|\\*)");

    private final HubHttp http;
    private final HubSettings settings;

    BlobDownload(HubHttp http, HubSettings settings) {
        this.http = http;
        this.settings = settings;
    }

    /**
     * Downloads (or resumes) a file whose ETag is a checksum, verifies it, and moves it to {@code blob}.
     *
     * @param label what to call the file in the progress bar and in messages ({@code gpt2/model.safetensors})
     */
    void fetchVerified(HubHttp.FileMetadata meta, Path incomplete, Path blob, String label) throws IOException, InterruptedException {
        long have = Files.exists(incomplete) ? Files.size(incomplete) : 0;
        if (have > meta.size()) {              // longer than the file can be: start over
            Files.delete(incomplete);
            have = 0;
        }
        have = download(meta, incomplete, have, label, true);
        if (have != meta.size()) {
            throw new HubException(label + ": the download stopped after " + have + " of " + meta.size() + " bytes; run the same"
                    + " command again to resume it (the part is kept in " + incomplete + ")");
        }
        verify(meta, incomplete, label);
        RepoCache.move(incomplete, blob);
    }

    /**
     * Downloads a file whose ETag is no checksum into {@code blobs}, checks its size, and stores it as
     * {@code blobs/{sha256}}: an ETag that is no checksum may be shared by different files, so it cannot
     * name a blob. Warns on the progress stream that the bytes could not be verified.
     *
     * @return the blob
     */
    Path fetchUnverified(HubHttp.FileMetadata meta, Path blobs, String label) throws IOException, InterruptedException {
        Path part = Files.createTempFile(blobs, "unverified-", ".incomplete");
        try {
            long have = download(meta, part, 0, label, false);
            if (have != meta.size()) {
                throw new HubException(label + ": the download stopped after " + have + " of " + meta.size() + " bytes;"
                        + " run the same command again");
            }
            String sha256 = Checksums.sha256(part);
            Path blob = blobs.resolve(sha256);
            RepoCache.move(part, blob);
            PrintStream out = settings.progress();
            if (out != null) {
                out.println("warning: " + label + ": the hub's ETag " + printable(meta.etag()) + " is neither a sha256 nor a git"
                        + " blob sha1, so the file could not be verified (only its size, " + meta.size() + " bytes); stored by"
                        + " its sha256 " + sha256);
                out.flush();
            }
            return blob;
        } finally {
            Files.deleteIfExists(part);
        }
    }

    /**
     * GETs the file's bytes from byte {@code have} on into {@code file} (a Range request when
     * {@code have > 0}) and returns the file's new length.
     *
     * @param resumable whether a part left by a failure is kept to be resumed (for messages)
     */
    private long download(HubHttp.FileMetadata meta, Path file, long have, String label, boolean resumable)
            throws IOException, InterruptedException {
        long total = meta.size();
        HttpResponse<InputStream> r;
        try {
            r = http.get(meta.location(), get -> {
                if (have > 0) get.header("Range", "bytes=" + have + "-");
            }, settings.readTimeout(), HttpResponse.BodyHandlers.ofInputStream(), label);
        } catch (HttpTimeoutException e) {
            throw new HubException(label + ": " + meta.location().getHost() + " did not answer within " + seconds(settings.readTimeout())
                    + " (HF_HUB_DOWNLOAD_TIMEOUT); try again later, or set HF_HUB_DOWNLOAD_TIMEOUT higher on a slow connection", e);
        }
        String host = hostOf(r.uri());
        try (InputStream body = r.body()) {
            int status = r.statusCode();
            long start;
            if (status == 416 && have == total) {
                return have;                                    // everything arrived last time; only the check was left
            } else if (status == 206 && have > 0) {
                start = rangeStart(r.headers().firstValue("Content-Range").orElse(""));
                if (start != have) throw new HubException(label + ": " + host + " resumed at byte " + start + " instead of " + have
                        + "; delete " + file + " and try again");
            } else if (status == 200) {
                start = 0;                                      // a full answer (also when Range was ignored)
            } else {
                throw new HubException(label + ": downloading from " + host + " failed with HTTP " + status + "; try again later");
            }
            OptionalLong declared = contentLength(r);
            if (declared.isPresent() && declared.getAsLong() != total - start) {
                throw new HubException(label + ": " + host + " declared " + declared.getAsLong() + " bytes (Content-Length) where"
                        + " the hub said " + (total - start) + "; refused. Try again later; if it happens again, the server"
                        + " (HF_ENDPOINT or its CDN) is broken or hostile");
            }
            return copy(body, file, start, total, label, host, resumable);
        }
    }

    /** A download on the progress stream (none when it is null), through the one progress display. */
    private static final class Transfer {
        private final dev.jlens.cli.Progress progress;
        private final String label;
        private final long total, from, start = System.nanoTime();

        Transfer(java.io.PrintStream out, String label, long total, long from) {
            // Redrawn in place when the stream is a terminal's; a line every 10% in logs.
            this.progress = out == null ? null : new dev.jlens.cli.Progress(out, System.console() != null, 10);
            this.label = label;
            this.total = total;
            this.from = from;
        }

        void update(long done) {
            if (progress != null) progress.transfer(label, done, total, from, (System.nanoTime() - start) / 1e9);
        }

        void finish(long done) {
            if (progress == null) return;
            update(done);
            progress.finish();
        }
    }

    /** Writes the body into the file from byte {@code from} on, stopping at {@code total}; returns the file's new length. */
    private long copy(InputStream body, Path file, long from, long total, String label, String host, boolean resumable)
            throws IOException {
        Transfer bar = new Transfer(settings.progress(), label, total, from);
        Duration idle = settings.readTimeout();
        Duration allowed = idle.plusNanos((long) Math.min(Long.MAX_VALUE / 4.0, (total - from) * 1e9 / settings.minBytesPerSecond()));
        Watchdog watchdog = new Watchdog(body, idle, allowed);
        String again = resumable ? "run the same command again to resume it" : "run the same command again";
        long done = from;
        boolean tooLong = false;
        try (FileChannel out = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            out.truncate(from);
            out.position(from);
            byte[] buffer = new byte[1 << 16];
            // Never more than one byte past the declared size is read: that byte proves the server sends too much.
            for (int n; (n = body.read(buffer, 0, (int) Math.min(buffer.length, total - done + 1))) > 0; ) {
                if (done + n > total) {
                    tooLong = true;
                    break;
                }
                ByteBuffer b = ByteBuffer.wrap(buffer, 0, n);
                while (b.hasRemaining()) out.write(b);
                done += n;
                watchdog.sawBytes();
                bar.update(done);
            }
        } catch (IOException e) {
            if (watchdog.tripped() == null) {
                bar.finish(done);
                throw new HubException(label + ": the download was interrupted after " + done + " of " + total + " bytes ("
                        + e.getMessage() + "); " + again, e);
            }
        } finally {
            watchdog.close();
        }
        bar.finish(done);
        if (tooLong) {
            Files.deleteIfExists(file);
            throw new HubException(label + ": " + host + " sent more than the " + total + " bytes the hub declared; refused, and"
                    + " the partial download was deleted. Try again later; if it happens again, the server (HF_ENDPOINT or its CDN)"
                    + " is broken or hostile");
        }
        if (watchdog.tripped() == Watchdog.Trip.IDLE) {
            throw new HubException(label + ": " + host + " sent nothing for " + seconds(idle) + " after " + done + " of " + total
                    + " bytes; " + again + ", or set HF_HUB_DOWNLOAD_TIMEOUT (seconds) higher on a slow connection");
        }
        if (watchdog.tripped() == Watchdog.Trip.DEADLINE) {
            throw new HubException(label + ": only " + (done - from) + " of " + (total - from) + " bytes arrived from " + host
                    + " in " + seconds(allowed) + ", slower than the minimum of " + settings.minBytesPerSecond() + " bytes/s; "
                    + again + ", or set JLENS_HUB_MIN_BYTES_PER_SECOND lower on a slow connection");
        }
        return done;
    }

    /** Hashes the complete file and compares with the ETag; deletes the file when they differ. */
    private static void verify(HubHttp.FileMetadata meta, Path file, String label) throws IOException {
        MessageDigest digest = Checksums.digestFor(meta.etag(), Files.size(file));
        String actual = Checksums.hex(Checksums.digest(digest, file));
        if (!actual.equalsIgnoreCase(meta.etag())) {
            Files.deleteIfExists(file);
            throw new HubException(label + ": the downloaded bytes have " + Checksums.kind(meta.etag()) + " " + actual
                    + " but the hub says " + meta.etag() + "; the download was corrupted and has been deleted. Run the same"
                    + " command again; if it happens again, a proxy or mirror (HF_ENDPOINT) is altering the file");
        }
    }

    /**
     * Closes a response body that receives nothing for the read timeout or runs past its deadline:
     * HttpClient has no read timeout once the headers are in, and closing the stream ends a blocked read.
     */
    private static final class Watchdog {
        enum Trip { IDLE, DEADLINE }

        private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "jlens-download-watchdog");
            t.setDaemon(true);
            return t;
        });
        private final long started = System.nanoTime();
        private volatile long lastBytes = started;
        private volatile Trip tripped;

        Watchdog(InputStream body, Duration idle, Duration allowed) {
            long period = Math.max(10, Math.min(1000, idle.toMillis() / 4));
            timer.scheduleAtFixedRate(() -> {
                long now = System.nanoTime();
                Trip trip = now - started > allowed.toNanos() ? Trip.DEADLINE : now - lastBytes > idle.toNanos() ? Trip.IDLE : null;
                if (trip == null || tripped != null) return;
                tripped = trip;
                try {
                    body.close();
                } catch (IOException ignored) {
                    // closing is all we can do; the reader sees the failure
                }
            }, period, period, TimeUnit.MILLISECONDS);
        }

        void sawBytes() {
            lastBytes = System.nanoTime();
        }

        Trip tripped() {
            return tripped;
        }

        void close() {
            timer.shutdownNow();
        }
    }

    private static OptionalLong contentLength(HttpResponse<?> r) {
        try {
            return r.headers().firstValueAsLong("Content-Length");
        } catch (NumberFormatException e) {
            return OptionalLong.of(-1);                         // malformed: never equal to a size, so refused
        }
    }

    private static String hostOf(URI u) {
        return u.getPort() == -1 ? u.getHost() : u.getHost() + ":" + u.getPort();
    }

    private static String seconds(Duration d) {
        return d.toSeconds() < 100 ? String.format(Locale.ROOT, "%.3g s", d.toNanos() / 1e9) : d.toSeconds() + " s";
    }

    /** An ETag for a terminal line: quoted when it is plain text, else described. */
    private static String printable(String etag) {
        return etag.matches("[\\x20-\\x7e]{1,100}") ? "\"" + etag + "\"" : "(" + etag.length() + " characters, not printable)";
    }

    private static long rangeStart(String contentRange) {
        Matcher m = CONTENT_RANGE.matcher(contentRange.strip());
        return m.matches() ? Long.parseLong(m.group(1)) : -1;
    }
}
