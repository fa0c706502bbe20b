package dev.jlens.cli;

import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.util.concurrent.CancellationException;

/**
 * The one error path of every jlens command ({@code jlens}, {@code jlens train}, {@code jlens
 * experiment}): whatever escapes a command becomes one line on standard error, {@code PROGRAM:
 * what went wrong}, and exit status 1, never a stack trace; a bad command line ({@link UsageException},
 * from the parser or the command's own checks) exits with status 2. {@code JLENS_TRACE=1} (the launcher's
 * {@code -Djlens.trace=true}) prints the trace as well, for a bug report.
 */
public final class Cli {
    private Cli() {}

    /** A command's body: returns its exit status. */
    @FunctionalInterface
    public interface Body {
        int run() throws Exception;
    }

    /**
     * Runs {@code body}; an exception or error it throws is printed as one line and gives status 1, or 2
     * for a {@link UsageException}.
     */
    public static int run(String program, PrintStream err, Body body) {
        try {
            return body.run();
        } catch (Throwable t) {
            err.println(program + ": " + oneLine(t));
            if (Boolean.getBoolean("jlens.trace")) t.printStackTrace(err);
            err.flush();
            return t instanceof UsageException ? 2 : 1;
        }
    }

    /** What went wrong, in one line. */
    public static String oneLine(Throwable t) {
        if (t instanceof OutOfMemoryError) {
            long nativeMax = org.bytedeco.javacpp.Pointer.maxBytes();
            return "out of memory (" + firstLine(t.getMessage()) + "; the Java heap may grow to " + gib(Runtime.getRuntime().maxMemory())
                    + (nativeMax > 0 ? ", native arrays to " + gib(nativeMax) : "")
                    + "): ask for less (a smaller --batch or --batch-size, a smaller model) or give jlens more heap, e.g."
                    + " JLENS_HEAP=8g ./jlens …";
        }
        if (t instanceof StackOverflowError) return "the computation nested too deeply (stack overflow)";
        if (t instanceof CancellationException) return "stopped" + (t.getMessage() == null ? "" : ": " + firstLine(t.getMessage()));
        // Our own refusals say what is wrong and what to do in their message; wrappers say it in their cause.
        Throwable shown = t instanceof UncheckedIOException && t.getMessage() == null && t.getCause() != null ? t.getCause() : t;
        String message = firstLine(shown.getMessage());
        boolean explained = message != null && !message.isBlank()
                && (shown instanceof IllegalArgumentException || shown instanceof IllegalStateException
                || shown instanceof java.io.IOException || shown instanceof UncheckedIOException
                || shown.getClass().getName().startsWith("dev.jlens."));
        if (explained) return message;
        // Anything else is unexpected: name it, and say how to see where it came from.
        return "unexpected " + shown.getClass().getName() + (message == null || message.isBlank() ? "" : ": " + message)
                + " (JLENS_TRACE=1 prints the stack trace; please report it)";
    }

    private static String firstLine(String s) {
        if (s == null) return null;
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl) + " …";
    }

    private static String gib(long bytes) {
        return String.format(java.util.Locale.ROOT, "%.1f GiB", bytes / (double) (1L << 30));
    }
}
