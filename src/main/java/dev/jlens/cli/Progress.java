package dev.jlens.cli;

import java.io.PrintStream;
import java.util.Locale;

/**
 * The one progress display of every long run (training steps, experiment batches, downloads): on a
 * terminal one line that updates in place (what is done of how many, a bar, the run's own figures,
 * elapsed, ETA), elsewhere (logs, pipes, CI) a plain line every {@code logEvery} units. Messages are
 * always whole lines.
 */
public final class Progress {
    private static final long REDRAW_NANOS = 200_000_000L;
    private final PrintStream out;
    private final boolean terminal;
    private final int logEvery;
    private long lastDraw;
    private int lastLength;
    private int lastLogged = -1;

    /**
     * @param terminal redraw one line in place (see {@link #stdoutIsTerminal}); otherwise print whole lines
     * @param logEvery without a terminal, print a line every this many units (and at the end)
     */
    public Progress(PrintStream out, boolean terminal, int logEvery) {
        this.out = out;
        this.terminal = terminal;
        this.logEvery = logEvery;
    }

    /** Whether standard output is an interactive terminal (and not a dumb one). */
    public static boolean stdoutIsTerminal() {
        return System.console() != null && !"dumb".equals(System.getenv("TERM"));
    }

    /** One training step done. */
    public void step(int done, int total, double loss, double tokensPerSecond, double elapsed, double eta) {
        show(done, total, line(done, total, loss, tokensPerSecond, elapsed, eta));
    }

    /**
     * {@code done} of {@code total} units: {@code batch 3/10 [#######.................]  30% | DETAIL | 4s elapsed, ETA 9s}.
     *
     * @param unit   what is counted ("batch")
     * @param detail the run's own figures ("12,345 tok/s"), or empty
     * @param eta    seconds left; NaN or infinite shows "?"
     */
    public void update(String unit, int done, int total, String detail, double elapsed, double eta) {
        show(done, total, line(unit, done, total, detail, elapsed, eta));
    }

    /**
     * Bytes of a transfer: {@code gpt2/model.safetensors 231.5/548.1 MB [##########..............]  42% | 38.2 MB/s | 6s elapsed, ETA 8s}.
     * Without a terminal a line every {@code logEvery} percent.
     *
     * @param startBytes bytes that were already there (a resumed download), not counted in the speed
     */
    public void transfer(String label, long done, long total, long startBytes, double elapsed) {
        double rate = (done - startBytes) / Math.max(1e-9, elapsed);
        String speed = String.format(Locale.ROOT, "%.1f MB/s", rate / 1e6);
        if (total <= 0) {
            show(0, 1, String.format(Locale.ROOT, "%s %.1f MB | %s | %s elapsed", label, done / 1e6, speed, duration(elapsed)));
            return;
        }
        int percent = (int) Math.min(100, done * 100 / total);
        String unit = String.format(Locale.ROOT, "%s %.1f/%.1f MB", label, done / 1e6, total / 1e6);
        show(percent, 100, line(unit, percent, 100, speed, elapsed, rate > 0 ? (total - done) / rate : Double.NaN)
                .replaceFirst(" " + percent + "/100 ", " "));
    }

    private void show(int done, int total, String line) {
        if (terminal) {
            long now = System.nanoTime();
            if (now - lastDraw < REDRAW_NANOS && done != total) return;
            lastDraw = now;
            String padded = line.length() < lastLength ? line + " ".repeat(lastLength - line.length()) : line;
            out.print("\r" + padded);
            out.flush();
            lastLength = line.length();
        } else if ((done % logEvery == 0 || done == total) && done != lastLogged) {
            // Once per unit: a download's last chunk and its finish both report 100%.
            out.println(line);
            lastLogged = done;
        }
    }

    public static String line(int done, int total, double loss, double tokensPerSecond, double elapsed, double eta) {
        return line("step", done, total, String.format(Locale.ROOT, "loss %.4f | %,.0f tok/s", loss, tokensPerSecond), elapsed, eta);
    }

    public static String line(String unit, int done, int total, String detail, double elapsed, double eta) {
        int pct = (int) Math.floor(100.0 * done / total);
        int filled = (int) Math.round(24.0 * done / total);
        return String.format(Locale.ROOT, "%s %,d/%,d %s %3d%% | %s%s elapsed, ETA %s", unit,
                done, total, "[" + "#".repeat(filled) + ".".repeat(24 - filled) + "]", pct,
                detail.isEmpty() ? "" : detail + " | ", duration(elapsed), Double.isFinite(eta) ? duration(eta) : "?");
    }

    /** A whole line (an evaluation, a checkpoint, a warning), clearing the updating line first. */
    public void message(String text) {
        if (terminal && lastLength > 0) {
            out.print("\r" + " ".repeat(lastLength) + "\r");
            lastLength = 0;
            lastDraw = 0;
        }
        out.println(text);
        out.flush();
    }

    /** Ends the updating line, if any. */
    public void finish() {
        if (terminal && lastLength > 0) {
            out.println();
            lastLength = 0;
        }
        out.flush();
    }

    public static String duration(double seconds) {
        long s = Math.round(seconds);
        if (s < 60) return s + "s";
        if (s < 3600) return (s / 60) + "m" + String.format("%02d", s % 60) + "s";
        return (s / 3600) + "h" + String.format("%02d", (s % 3600) / 60) + "m";
    }
}
