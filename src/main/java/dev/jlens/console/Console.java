package dev.jlens.console;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jline.reader.EndOfFileException;
import org.jline.reader.LineReader;
import org.jline.reader.LineReaderBuilder;
import org.jline.reader.UserInterruptException;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;

/**
 * The interactive console: a JLine reader (history, Tab completion, multi-line input) in front of
 * a {@link Session}. The prompt appears while the model and JShell are still starting; the first
 * evaluation waits for them.
 */
final class Console {
    static final String PROMPT = "jlens> ";
    static final String CONTINUATION = "  ...> ";
    /** After Ctrl-C, how long to wait for the evaluation to stop before returning to the prompt anyway. */
    private static final long STOP_GRACE_MS = 3000;

    private final Session session;
    private final PrintStream out;
    private final PrintStream err;
    private final Terminal terminal;
    private final LineReader reader;
    private final Feedback feedback;
    private boolean startupReported;
    private volatile long interruptedAt;

    private Console(Session session, PrintStream out, PrintStream err) throws IOException {
        this.session = session;
        this.out = out;
        this.err = err;
        // dumb(true): with stdin piped (tests, `echo … | jlens`) JLine falls back to a dumb terminal, silently.
        Trace.mark("console: building the terminal");
        this.terminal = TerminalBuilder.builder().name("jlens").system(true).dumb(true)
                .encoding(StandardCharsets.UTF_8).build();
        Path history = historyFile();
        Files.createDirectories(history.getParent());
        this.reader = LineReaderBuilder.builder()
                .terminal(terminal)
                .appName("jlens")
                .parser(new SnippetParser(session::isComplete))
                // Tab inside cache("… right after start waits for the model (Ctrl-C gives up): the names come from it.
                .completer(new ConsoleCompleter(session, () -> session.binding().modelWithin(120_000)))
                .variable(LineReader.HISTORY_FILE, history)
                .variable(LineReader.SECONDARY_PROMPT_PATTERN, CONTINUATION)
                .option(LineReader.Option.DISABLE_EVENT_EXPANSION, true) // '!' is Java's not, not history
                .option(LineReader.Option.CASE_INSENSITIVE, false)
                .build();
        this.feedback = new Feedback(out, err, Feedback.Style.CONSOLE, null);
        // Ctrl-C outside readLine (which handles it itself) stops the running evaluation; without
        // this handler the default one would end the JVM, e.g. while the first input waits for the model.
        terminal.handle(Terminal.Signal.INT, sig -> {
            interruptedAt = System.nanoTime();
            session.stop();
        });
    }

    /** {@code $JLENS_HOME/history}, else {@code ~/.jlens/history}. */
    static Path historyFile() {
        String home = System.getenv("JLENS_HOME");
        if (home != null && !home.isBlank()) return Path.of(home, "history");
        return Path.of(System.getProperty("user.home"), ".jlens", "history");
    }

    /** Runs the console until Ctrl-D or /exit; returns the exit status. */
    static int run(Session session, String modelName, PrintStream out, PrintStream err) throws IOException {
        Console c = new Console(session, out, err);
        try {
            return c.loop(modelName);
        } finally {
            c.terminal.close();
        }
    }

    private int loop(String modelName) {
        out.println("jlens " + Version.VERSION + (modelName == null ? " · no model" : " · model " + modelName)
                + " · help() lists the helpers · Tab completes · Ctrl-D exits");
        out.flush();
        Trace.mark("prompt");
        // readLine draws the prompt first thing; JShell starts behind it (see Session).
        session.promptShown();
        while (true) {
            String input;
            try {
                input = reader.readLine(PROMPT);
            } catch (UserInterruptException | java.util.concurrent.CancellationException e) {
                continue; // Ctrl-C at the prompt clears the line
            } catch (EndOfFileException e) {
                return 0;
            }
            if (input.isBlank()) continue;
            if (Commands.isCommand(input)) {
                if (!Commands.run(input, session, out)) return 0;
                continue;
            }
            Integer exit = evaluate(input);
            if (exit != null) return exit;
        }
    }

    /** Evaluates one input; returns an exit status when the console must end, else {@code null}. */
    private Integer evaluate(String input) {
        interruptedAt = 0;
        Integer problem = reportStartup();
        if (problem != null) return problem;
        if (interruptedAt != 0) { // Ctrl-C while the first input waited for the model: drop it
            err.println("interrupted");
            return null;
        }
        // Views fit tables and heatmaps to jlens.columns (TerminalStyle): the terminal knows its width now, after any
        // resize, where COLUMNS is rarely exported to the JVM. Snippets run in this JVM, so they see the property.
        if (terminal.getWidth() > 0) System.setProperty("jlens.columns", Integer.toString(terminal.getWidth()));
        Future<Boolean> running = session.submit(input, feedback, false);
        try {
            while (true) {
                try {
                    running.get(100, TimeUnit.MILLISECONDS);
                    return null;
                } catch (TimeoutException e) {
                    long since = interruptedAt;
                    if (since != 0 && System.nanoTime() - since > TimeUnit.MILLISECONDS.toNanos(STOP_GRACE_MS)) {
                        err.println("interrupted; the evaluation is still finishing in the background (native work cannot"
                                + " be stopped) and the next input waits for it");
                        return null;
                    }
                } catch (InterruptedException e) {
                    session.stop();
                } catch (ExecutionException e) {
                    err.println("internal error: " + e.getCause());
                    return null;
                }
            }
        } finally {
            out.flush();
        }
    }

    /** Before the first evaluation: waits for the startup, reports its errors; a model that failed to load ends the console. */
    private Integer reportStartup() {
        CompletableFuture<?> model = session.modelFuture();
        if (model != null && model.isCompletedExceptionally()) {
            return ScriptRunner.ready(session, err);
        }
        if (startupReported) return null;
        startupReported = true;
        if (model != null) {
            int status = ScriptRunner.ready(session, err);
            if (status == ScriptRunner.BAD_MODEL) return status;
            if (status != 0) err.println("(the startup script failed; the session goes on without what it did not define)");
        } else {
            List<Outcome> problems = session.awaitReady();
            for (Outcome o : problems) err.println(session.startupScript() + ":" + o.line() + ": " + o.message());
        }
        return null;
    }
}
