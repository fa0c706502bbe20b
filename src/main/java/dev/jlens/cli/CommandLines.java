package dev.jlens.cli;

import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * The one command-line parser of {@code jlens}, {@code jlens train} and {@code jlens experiment}: picocli
 * over a class that declares its options with {@code @Option} (on fields, or on setters that hand each value
 * straight to a builder) and its usage text with {@code @Command}. What this adds to picocli is jlens's way of
 * failing: whatever is wrong with a command line becomes one {@link UsageException} line that names the option
 * and says what to do (exit status 2 through {@link Cli#run}).
 *
 * <p>Conventions every command shares: {@code --opt value} and {@code --opt=value}; an option given twice is
 * refused (one whose value is a comma-separated list too); whole numbers may be written {@code 32_768} or
 * {@code 32,768}; a converter's {@link IllegalArgumentException} message follows the option's name, after a
 * space when it reads on from it ({@code needs …}, {@code must …}), else after a colon. Usage texts are laid
 * out the same way ({@code usage: …} synopsis, description, {@code options:} in declared order, examples).
 */
public final class CommandLines {
    private CommandLines() {}

    /** {@code --help} was asked for: print {@link #usage} and exit 0. */
    public static final class HelpRequested extends Exception {
        private static final long serialVersionUID = 1L;

        public HelpRequested() {
            super(null, null, false, false);
        }
    }

    /**
     * Parses {@code args} into {@code spec}, an instance of a {@code @Command} class whose {@code @Option} fields
     * it fills and whose {@code @Option} setters it calls, in command-line order.
     *
     * @throws HelpRequested  for {@code --help} / {@code -h}
     * @throws UsageException for an unknown option (with the closest one), a missing value, a required option
     *                        left out, an option given twice, a value of the wrong kind
     */
    public static void parse(Object spec, String... args) throws HelpRequested {
        CommandLine cl = commandLine(spec);
        String program = cl.getCommandName();
        CommandLine.ParseResult r;
        try {
            r = cl.parseArgs(args);
        } catch (CommandLine.UnmatchedArgumentException e) {
            throw unmatched(e, program);
        } catch (CommandLine.OverwrittenOptionException e) {
            throw new UsageException(name(e.getOverwritten()) + " given twice; give it once");
        } catch (CommandLine.MissingParameterException e) {
            // picocli checks required options before it reports unknown ones; a misspelt option is the better news.
            String unknown = firstUnknownOption(cl, args);
            if (unknown != null) throw unmatched(new CommandLine.UnmatchedArgumentException(cl, List.of(unknown)), program);
            throw new UsageException(missing(e.getMissing(), args, program));
        } catch (CommandLine.ParameterException e) {
            throw new UsageException(badValue(e));
        }
        if (r.isUsageHelpRequested()) throw new HelpRequested();
        for (OptionSpec o : r.matchedOptions()) {
            // picocli gathers the lists of every occurrence; jlens takes a list option's values once, comma-separated.
            if (!o.splitRegex().isEmpty() && o.originalStringValues().size() > 1) {
                throw new UsageException(name(o) + " given twice; list its values once, comma-separated ("
                        + name(o) + " " + String.join(",", o.originalStringValues()) + ")");
            }
        }
    }

    /** The usage text picocli builds from {@code spec}'s declarations (synopsis, description, options, footer). */
    public static String usage(Object spec) {
        return commandLine(spec).getUsageMessage(CommandLine.Help.Ansi.OFF);
    }

    /** A whole number of at least 1 ({@code converter = CommandLines.Positive.class}). */
    public static final class Positive implements CommandLine.ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            int n = wholeNumber(value);
            if (n < 1) throw new IllegalArgumentException("must be at least 1, got " + n);
            return n;
        }
    }

    private static int wholeNumber(String value) {
        return Integer.parseInt(digits(value));
    }

    private static String digits(String value) {
        return value.replace("_", "").replace(",", "");
    }

    private static CommandLine commandLine(Object spec) {
        CommandLine cl = new CommandLine(spec);
        cl.setOverwrittenOptionsAllowed(false);
        cl.setUnmatchedOptionsArePositionalParams(false);
        cl.setUsageHelpLongOptionsMaxWidth(24);
        cl.setUsageHelpWidth(110);
        cl.registerConverter(Integer.class, CommandLines::wholeNumber);
        cl.registerConverter(Integer.TYPE, CommandLines::wholeNumber);
        cl.registerConverter(Long.class, v -> Long.parseLong(digits(v)));
        cl.registerConverter(Long.TYPE, v -> Long.parseLong(digits(v)));
        cl.registerConverter(Double.class, Double::valueOf);   // picocli's own says "'x' is not a double"
        cl.registerConverter(Double.TYPE, Double::valueOf);
        // Every usage text: the command's own synopsis line(s) first, then its options in declared order.
        CommandLine.Model.UsageMessageSpec usage = cl.getCommandSpec().usageMessage().synopsisHeading("").sortOptions(false);
        if (usage.optionListHeading().isEmpty()) usage.optionListHeading("options:%n");
        return cl;
    }

    /** How messages name an option: its first long name as declared ({@code --block}, not its alias {@code --blocks}). */
    private static String name(ArgSpec arg) {
        if (!(arg instanceof OptionSpec o)) return arg.paramLabel();
        for (String n : o.names()) {
            if (n.startsWith("--")) return n;
        }
        return o.longestName();
    }

    private static UsageException unmatched(CommandLine.UnmatchedArgumentException e, String program) {
        String arg = e.getUnmatched().isEmpty() ? "?" : e.getUnmatched().get(0);
        if (!arg.startsWith("-")) {
            return new UsageException("unexpected argument '" + arg + "' (options start with --); " + program + " --help lists them");
        }
        List<String> near = e.getSuggestions();
        String name = arg.contains("=") ? arg.substring(0, arg.indexOf('=')) : arg;
        return new UsageException("unknown option " + name + (near.isEmpty() ? "" : " (did you mean " + near.get(0) + "?)")
                + "; " + program + " --help lists the options");
    }

    /** The first argument that looks like an option the command does not declare (not counting option values). */
    private static String firstUnknownOption(CommandLine cl, String[] args) {
        boolean isValue = false;
        for (String a : args) {
            if (isValue) {
                isValue = false;
                continue;
            }
            if (!a.startsWith("-") || a.equals("-")) continue;
            OptionSpec o = cl.getCommandSpec().findOption(a.contains("=") ? a.substring(0, a.indexOf('=')) : a);
            if (o == null) return a;
            isValue = !a.contains("=") && o.arity().min > 0;
        }
        return null;
    }

    /** A value the option's type refused: {@code --heads needs a whole number, got 'five'}. */
    private static String badValue(CommandLine.ParameterException e) {
        ArgSpec arg = e.getArgSpec();
        Throwable cause = e.getCause();
        if (arg == null) return e.getMessage();
        String name = name(arg), value = e.getValue();
        if (cause instanceof NumberFormatException) {
            Class<?> t = arg.auxiliaryTypes().length > 0 ? arg.auxiliaryTypes()[0] : arg.type();
            boolean whole = t == Integer.class || t == int.class || t == Long.class || t == long.class;
            return name + " needs " + (whole ? "a whole number" : "a number") + ", got '" + value + "'";
        }
        if (cause instanceof IllegalArgumentException && cause.getMessage() != null) {
            String m = cause.getMessage();
            return name + (m.startsWith("needs ") || m.startsWith("must ") ? " " : ": ") + m;
        }
        return e.getMessage();
    }

    /** An option without its value ({@code --model (DIR) needs a value}), or required options left out. */
    private static String missing(List<ArgSpec> missing, String[] args, String program) {
        if (missing.isEmpty()) return "a value is missing; " + program + " --help lists the options";
        ArgSpec first = missing.get(0);
        if (first instanceof OptionSpec o && given(o, args)) return name(o) + " (" + o.paramLabel() + ") needs a value";
        if (missing.size() == 1) {
            String what = first.description().length == 0 ? "" : " (" + first.paramLabel() + ": " + first.description()[0] + ")";
            return name(first) + " is required" + what;
        }
        List<String> names = missing.stream().map(CommandLines::name).toList();
        return String.join(", ", names.subList(0, names.size() - 1)) + " and " + names.get(names.size() - 1)
                + " are required; " + program + " --help describes them";
    }

    private static boolean given(OptionSpec o, String[] args) {
        for (String a : args) {
            for (String n : o.names()) {
                if (a.equals(n) || a.startsWith(n + "=")) return true;
            }
        }
        return false;
    }
}
