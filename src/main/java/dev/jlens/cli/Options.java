package dev.jlens.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * The console's command line ({@code ./jlens --help}). A bad one is a {@link UsageException}.
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

    /** What the console's command line declares (picocli); {@link #parse} checks how the parts combine. */
    @Command(name = "jlens", customSynopsis = """
            usage: jlens [--model DIR_OR_FILE] [--startup FILE | --no-startup] [FILE.jsh | - | -e CODE …]

            Without FILE.jsh, - or -e CODE: the interactive console.
            """, parameterListHeading = "arguments:%n", optionListHeading = "%noptions:%n", footer = """

            environment: JLENS_MODEL (default model), JLENS_HOME (history; default ~/.jlens),
                         JAVA_HOME (the JDK), JLENS_HEAP (heap size, default 2g)
            """)
    static final class Spec {
        @Option(names = {"--help", "-h"}, usageHelp = true, description = "this text") boolean help;
        @Option(names = {"--version", "-V"}, description = "jlens's and Java's versions") boolean version;
        @Option(names = {"--model", "-m"}, paramLabel = "DIR_OR_FILE",
                description = "the model folder or file (default: $JLENS_MODEL, else artifacts/shakespeare-char)") Path model;
        @Option(names = "--startup", paramLabel = "FILE", description = "the startup script (default: startup-scripts/default.jsh)")
        Path startup;
        @Option(names = "--no-startup", description = "start without the preloaded session (no model/tokenizer/cfg variables)")
        boolean noStartup;
        @Option(names = {"-e", "--eval"}, paramLabel = "CODE",
                description = "evaluate CODE (one or more snippets; repeatable), print the results, exit") List<String> code = new ArrayList<>();
        @Parameters(arity = "0..*", paramLabel = "FILE.jsh | -", hideParamSyntax = true,
                description = "run a script (the first error prints FILE:LINE: message and exits 1), or - for the script on stdin")
        List<String> scripts = new ArrayList<>();
    }

    /** {@code jlens --help}: generated from {@link Spec}'s declarations. */
    public static String usage() {
        return CommandLines.usage(new Spec());
    }

    public static Options parse(String... args) throws UsageException {
        Spec o = new Spec();
        try {
            CommandLines.parse(o, args);
        } catch (CommandLines.HelpRequested h) {
            return new Options(Mode.HELP, o.model, o.startup, o.noStartup, null, List.copyOf(o.code));
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
