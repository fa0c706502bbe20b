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

        UsageException(String message) {
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

    public static Options parse(String... args) throws UsageException {
        Mode mode = Mode.INTERACTIVE;
        Path model = null, startup = null, script = null;
        boolean noStartup = false;
        List<String> code = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            String inlineValue = null;
            if (a.startsWith("--") && a.contains("=")) {
                inlineValue = a.substring(a.indexOf('=') + 1);
                a = a.substring(0, a.indexOf('='));
            }
            switch (a) {
                case "--help", "-h" -> mode = Mode.HELP;
                case "--version", "-V" -> {
                    if (mode != Mode.HELP) mode = Mode.VERSION;
                }
                case "--no-startup" -> noStartup = true;
                case "--model", "-m" -> model = Path.of(inlineValue != null ? inlineValue : value(args, ++i, a));
                case "--startup" -> startup = Path.of(inlineValue != null ? inlineValue : value(args, ++i, a));
                case "-e", "--eval" -> {
                    code.add(inlineValue != null ? inlineValue : value(args, ++i, a));
                }
                case "-" -> {
                    if (script != null) throw new UsageException("give one script, not several");
                    script = Path.of("-");
                }
                default -> {
                    if (a.startsWith("-")) throw new UsageException("unknown option " + a + " (jlens --help lists them)");
                    if (script != null) throw new UsageException("give one script, not several: " + script + " and " + a);
                    script = Path.of(a);
                }
            }
        }
        if (mode == Mode.HELP || mode == Mode.VERSION) return new Options(mode, model, startup, noStartup, script, code);
        if (!code.isEmpty() && script != null) throw new UsageException("give a script or -e CODE, not both");
        if (noStartup && startup != null) throw new UsageException("--startup and --no-startup contradict each other");
        if (!code.isEmpty()) mode = Mode.EVAL;
        else if (script != null) mode = script.toString().equals("-") ? Mode.STDIN : Mode.SCRIPT;
        return new Options(mode, model, startup, noStartup, script, List.copyOf(code));
    }

    private static String value(String[] args, int i, String option) throws UsageException {
        if (i >= args.length) throw new UsageException(option + " needs a value");
        return args[i];
    }

    public boolean interactive() {
        return mode == Mode.INTERACTIVE;
    }
}
