package dev.jlens.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The command line.
 *
 * @param mode        what to do
 * @param model       {@code --model DIR_OR_FILE}, or {@code null} for the default
 * @param startup     {@code --startup FILE}, or {@code null} for {@code startup-scripts/default.jsh}
 * @param noStartup   {@code --no-startup}
 * @param script      the script file for {@link Mode#SCRIPT}
 * @param code        the {@code -e} snippets, in order
 */
public record Options(Mode mode, Path model, Path startup, boolean noStartup, Path script, List<String> code) {

    public enum Mode { INTERACTIVE, SCRIPT, STDIN, EVAL, HELP, VERSION }

    /** A command line jlens cannot run: the message is one line, the exit status 2. */
    public static final class UsageException extends Exception {
        private static final long serialVersionUID = 1L;

        public UsageException(String message) {
            super(message);
        }
    }

    public static final String USAGE = """
            usage: jlens [--model DIR_OR_FILE] [--startup FILE | --no-startup] [FILE.jsh | - | -e CODE …]
              (nothing)          interactive console
              FILE.jsh           run a script; the first error prints FILE:LINE: message and exits 1
              -                  run the script read from stdin
              -e CODE            evaluate CODE (one or more snippets; repeatable), print the results, exit
              --model PATH       the model folder or file (default: $JLENS_MODEL, else artifacts/shakespeare-char)
              --startup FILE     the startup script (default: startup-scripts/default.jsh)
              --no-startup       start without the preloaded session (no model/tokenizer/cfg variables)
              --help, --version
            environment: JLENS_MODEL (default model), JLENS_HOME (history; default ~/.jlens),
                         JAVA_HOME (the JDK), JLENS_HEAP (heap size, default 2g)
            """;

    /** What the console's command line declares (picocli); {@link #parse} checks how the parts combine. */
    @picocli.CommandLine.Command(name = "jlens")
    static final class Spec {
        @picocli.CommandLine.Option(names = {"--help", "-h"}, usageHelp = true) boolean help;
        @picocli.CommandLine.Option(names = {"--version", "-V"}) boolean version;
        @picocli.CommandLine.Option(names = {"--model", "-m"}) Path model;
        @picocli.CommandLine.Option(names = "--startup") Path startup;
        @picocli.CommandLine.Option(names = "--no-startup") boolean noStartup;
        @picocli.CommandLine.Option(names = {"-e", "--eval"}) List<String> code = new ArrayList<>();
        @picocli.CommandLine.Parameters(arity = "0..*") List<String> scripts = new ArrayList<>();
    }

    public static Options parse(String... args) throws UsageException {
        Spec o = new Spec();
        try {
            CommandLines.parse(o, args);
        } catch (CommandLines.HelpRequested h) {
            return new Options(Mode.HELP, o.model, o.startup, o.noStartup, null, List.copyOf(o.code));
        } catch (UsageException e) {
            throw new UsageException(e.getMessage() + (e.getMessage().startsWith("unknown option") ? " (jlens --help lists them)" : ""));
        }
        if (o.scripts.size() > 1) throw new UsageException("give one script, not several: " + String.join(" and ", o.scripts));
        Path script = o.scripts.isEmpty() ? null : Path.of(o.scripts.get(0));
        if (o.version) return new Options(Mode.VERSION, o.model, o.startup, o.noStartup, script, List.copyOf(o.code));
        if (!o.code.isEmpty() && script != null) throw new UsageException("give a script or -e CODE, not both");
        if (o.noStartup && o.startup != null) throw new UsageException("--startup and --no-startup contradict each other");
        Mode mode = Mode.INTERACTIVE;
        if (!o.code.isEmpty()) mode = Mode.EVAL;
        else if (script != null) mode = script.toString().equals("-") ? Mode.STDIN : Mode.SCRIPT;
        return new Options(mode, o.model, o.startup, o.noStartup, script, List.copyOf(o.code));
    }

    public boolean interactive() {
        return mode == Mode.INTERACTIVE;
    }
}
