package dev.jlens.cli;

import java.util.List;
import picocli.CommandLine;

/**
 * The one command-line parser of every command (picocli): a command declares its options (on a class
 * with {@code @Option} fields, or as a {@link CommandLine.Model.CommandSpec} built from its own option
 * table), and this turns whatever is wrong with a command line into one line that says what and what to
 * do ({@link Options.UsageException}, exit status 2).
 */
public final class CommandLines {
    private CommandLines() {}

    /** {@code --help} was asked for: print {@link #usage} and exit 0. */
    public static final class HelpRequested extends Exception {
        private static final long serialVersionUID = 1L;

        HelpRequested() {
            super(null, null, false, false);
        }
    }

    /**
     * Parses {@code args} against {@code spec} (an annotated object, whose fields it fills, or a {@code CommandSpec}).
     *
     * @throws HelpRequested          for {@code --help} / {@code -h}
     * @throws Options.UsageException for an unknown option (with the closest one), a missing value, an
     *                                option given twice, a value of the wrong kind
     */
    public static CommandLine.ParseResult parse(Object spec, String... args) throws HelpRequested, Options.UsageException {
        CommandLine cl = commandLine(spec);
        try {
            CommandLine.ParseResult r = cl.parseArgs(args);
            if (r.isUsageHelpRequested()) throw new HelpRequested();
            return r;
        } catch (CommandLine.UnmatchedArgumentException e) {
            String arg = e.getUnmatched().isEmpty() ? "?" : e.getUnmatched().get(0);
            if (!arg.startsWith("-")) throw new Options.UsageException("unexpected argument '" + arg + "' (options start with --)");
            List<String> near = e.getSuggestions();
            String name = arg.contains("=") ? arg.substring(0, arg.indexOf('=')) : arg;
            throw new Options.UsageException("unknown option " + name + (near.isEmpty() ? "" : " (did you mean " + near.get(0) + "?)"));
        } catch (CommandLine.OverwrittenOptionException e) {
            CommandLine.Model.ArgSpec twice = e.getOverwritten();
            throw new Options.UsageException((twice instanceof CommandLine.Model.OptionSpec o ? o.longestName() : twice.paramLabel())
                    + " given twice");
        } catch (CommandLine.MissingParameterException e) {
            throw new Options.UsageException(e.getMissing().isEmpty() ? e.getMessage()
                    : describe(e.getMissing().get(0)) + " needs a value");
        } catch (CommandLine.ParameterException e) {
            // A value's own check (our converters) says what is wrong with it; picocli's other messages are one line too.
            Throwable cause = e.getCause();
            throw new Options.UsageException(cause instanceof IllegalArgumentException ? cause.getMessage() : e.getMessage());
        }
    }

    /** The usage text picocli builds from {@code spec}'s declarations (header, options, footer). */
    public static String usage(Object spec) {
        return commandLine(spec).getUsageMessage(CommandLine.Help.Ansi.OFF);
    }

    /**
     * A command declared by a table: {@code --help}/{@code -h}, then each option ({@code arg} null for a flag), in
     * order; usage shows {@code header} above the options and {@code footer} below.
     */
    public static CommandLine.Model.CommandSpec spec(String name, String header, String footer, List<String[]> options) {
        CommandLine.Model.CommandSpec spec = CommandLine.Model.CommandSpec.create().name(name);
        // picocli formats these texts with String.format: a literal % must be doubled.
        spec.usageMessage().synopsisHeading("").customSynopsis(literal(header)).footer(literal(footer))
                .optionListHeading("options:%n").sortOptions(false);
        spec.addOption(CommandLine.Model.OptionSpec.builder("--help", "-h").usageHelp(true).description("this text").build());
        for (String[] o : options) {   // {name, arg or null, help, more names…}
            String[] names = new String[o.length - 2];
            names[0] = o[0];
            System.arraycopy(o, 3, names, 1, o.length - 3);
            CommandLine.Model.OptionSpec.Builder b = CommandLine.Model.OptionSpec.builder(names).description(literal(o[2]));
            b = o[1] == null ? b.arity("0").type(boolean.class) : b.arity("1").type(String.class).paramLabel(o[1]);
            spec.addOption(b.build());
        }
        return spec;
    }

    private static String literal(String text) {
        return text.replace("%", "%%");
    }

    private static CommandLine commandLine(Object spec) {
        CommandLine cl = new CommandLine(spec);
        cl.setOverwrittenOptionsAllowed(false);
        cl.setUnmatchedOptionsArePositionalParams(false);
        cl.setUsageHelpLongOptionsMaxWidth(24);
        cl.setUsageHelpWidth(110);
        return cl;
    }

    private static String describe(CommandLine.Model.ArgSpec arg) {
        return arg instanceof CommandLine.Model.OptionSpec o ? o.longestName() + " (" + o.paramLabel() + ")" : arg.paramLabel();
    }
}
