package dev.jlens.console;

import dev.jlens.cli.Options;
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
 * objects with the console. See {@link Options#USAGE}.
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
        Options o;
        Path model;
        Path root = Path.of(System.getProperty("jlens.root", "."));
        try {
            o = Options.parse(args);
            if (o.mode() == Options.Mode.HELP) {
                out.print(Options.USAGE);
                return 0;
            }
            if (o.mode() == Options.Mode.VERSION) {
                out.println("jlens " + Version.VERSION + " (Java " + Runtime.version() + ")");
                return 0;
            }
            model = ModelChoice.resolve(o, System.getenv("JLENS_MODEL"), root);
        } catch (Options.UsageException e) {
            err.println("jlens: " + e.getMessage());
            return 2;
        }
        Path startup = o.noStartup() ? null : o.startup() != null ? o.startup() : root.resolve("startup-scripts/default.jsh");
        if (startup != null && !Files.isRegularFile(startup)) {
            err.println("jlens: no startup script at " + startup + " (--startup FILE, or --no-startup)");
            return 2;
        }
        String scriptText = null;
        if (o.mode() == Options.Mode.SCRIPT) {
            if (!Files.isRegularFile(o.script())) {
                err.println("jlens: no script at " + o.script());
                return 2;
            }
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
