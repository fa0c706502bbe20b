package dev.jlens.console;

import dev.jlens.cli.Options;
import dev.jlens.cli.UsageException;
import dev.jlens.load.ModelChoice;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code jlens}: the console, a script runner and one-off probes over a JShell session with a model
 * loaded. Started by the {@code ./jlens} launcher as {@code java -cp target/classes:<deps>
 * dev.jlens.console.Main}, so the jlens classes are on the system class path and snippets share
 * objects with the console. See {@link Options#usage}.
 *
 * <p>Exit status: 0 success, 1 an error in a script or probe, 2 a bad command line or model.
 */
public final class Main {
    private Main() {}

    public static void main(String[] args) {
        // UTF-8 whatever the locale: token displays use · and ⏎.
        PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);
        PrintStream err = new PrintStream(new FileOutputStream(FileDescriptor.err), true, StandardCharsets.UTF_8);
        System.setOut(out);
        System.setErr(err);
        int status = dev.jlens.cli.Cli.run("jlens", err, () -> run(args, out, err));
        out.flush();
        err.flush();
        // JShell and ND4J leave threads behind; the console is done.
        System.exit(status);
    }

    static int run(String[] args, PrintStream out, PrintStream err) throws IOException {
        Trace.mark("main");
        Path root = Path.of(System.getProperty("jlens.root", "."));
        Options o = Options.parse(args);   // a bad command line: one line and status 2 (Cli.run)
        if (o.mode() == Options.Mode.HELP) {
            out.print(Options.usage());
            return 0;
        }
        if (o.mode() == Options.Mode.VERSION) {
            out.println("jlens " + Version.VERSION + " (Java " + Runtime.version() + ")");
            return 0;
        }
        Path model = ModelChoice.resolve(o, System.getenv("JLENS_MODEL"), root);
        Path startup = o.noStartup() ? null : o.startup() != null ? o.startup() : root.resolve("startup-scripts/default.jsh");
        if (startup != null && !Files.isRegularFile(startup)) {
            throw new UsageException("no startup script at " + startup + " (--startup FILE, or --no-startup)");
        }
        String scriptText = null;
        if (o.mode() == Options.Mode.SCRIPT) {
            if (!Files.isRegularFile(o.script())) throw new UsageException("no script at " + o.script());
            scriptText = Session.read(o.script());
        } else if (o.mode() == Options.Mode.STDIN) {
            scriptText = new String(System.in.readAllBytes(), StandardCharsets.UTF_8);
        }
        Session session = Session.start(new Session.Config(model, startup, out, err, o.interactive()));
        try {
            return switch (o.mode()) {
                case INTERACTIVE -> Console.run(session, model == null ? null : model.toString(), out, err);
                case SCRIPT -> ScriptRunner.run(session, List.of(scriptText), o.script().toString(), Feedback.Style.SCRIPT, out, err);
                case STDIN -> ScriptRunner.run(session, List.of(scriptText), "<stdin>", Feedback.Style.SCRIPT, out, err);
                case EVAL -> ScriptRunner.run(session, o.code(), null, Feedback.Style.CONSOLE, out, err);
                default -> throw new IllegalStateException(o.mode().toString());
            };
        } finally {
            session.close();
        }
    }
}
