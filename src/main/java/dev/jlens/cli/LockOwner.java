package dev.jlens.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;

/**
 * Who holds a folder's lock, as its lock file says: a pid, a host and a start time, written by the run that took it and
 * read by the run it refuses. The text is what {@link FolderLock} and a results folder on HDFS or S3 write.
 *
 * @param pid     null when the text names none (an empty or foreign file)
 * @param host    null when unknown
 * @param started null when unknown
 */
public record LockOwner(String pid, String host, String started) {
    /** This process, now. */
    public static LockOwner current() {
        return new LockOwner(Long.toString(ProcessHandle.current().pid()), thisHost(), Instant.now().truncatedTo(ChronoUnit.SECONDS).toString());
    }

    /** The owner a lock file's text names (fields missing from it are null). */
    public static LockOwner parse(String text) {
        return new LockOwner(field(text, "pid"), field(text, "host"), field(text, "started"));
    }

    /** The lock file's text. */
    public String text() {
        return "pid " + pid + "\nhost " + host + "\nstarted " + started + "\n";
    }

    /** "process 1234 on host h (started …)", or "another process" when the text named no pid. */
    public String describe() {
        if (pid == null) return "another process";
        return "process " + pid + (host == null ? "" : " on " + host) + (started == null ? "" : " (started " + started + ")");
    }

    /**
     * True only when the owner ran on this machine and its process is gone: a lock file with no operating-system lock
     * behind it (on HDFS or S3) that a killed run left, which a new run may take over. A run on another machine, or a
     * text that names no process, is never presumed dead.
     */
    public boolean provedDead() {
        if (pid == null || host == null || !host.equals(thisHost())) return false;
        try {
            long p = Long.parseLong(pid);
            return p != ProcessHandle.current().pid() && ProcessHandle.of(p).map(h -> !h.isAlive()).orElse(true);
        } catch (NumberFormatException e) {
            return false;
        }
    }

    private static String field(String text, String name) {
        for (String line : text.split("\n")) {
            if (line.startsWith(name + " ")) return line.substring(name.length() + 1).strip();
        }
        return null;
    }

    /** This machine's name without a network lookup (which can hang where DNS is misconfigured). */
    static String thisHost() {
        String h = System.getenv("HOSTNAME");
        if (h != null && !h.isBlank()) return h.strip();
        try {
            return Files.readString(Path.of("/proc/sys/kernel/hostname")).strip();
        } catch (IOException | RuntimeException e) {
            try {
                return java.net.InetAddress.getLocalHost().getHostName();
            } catch (IOException e2) {
                return "this machine";
            }
        }
    }
}
