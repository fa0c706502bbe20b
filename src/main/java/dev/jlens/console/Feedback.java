package dev.jlens.console;

import java.io.PrintStream;
import java.util.function.Consumer;

/** Prints outcomes: values and declarations to {@code out}, errors to {@code err}. */
final class Feedback implements Consumer<Outcome> {
    /** How much to say. */
    enum Style {
        /** The console and {@code -e}: {@code $1 ==> value}, {@code x ==> value}, "created method f()". */
        CONSOLE,
        /** Scripts: only the values of bare expressions, without {@code $1 ==>}; errors as FILE:LINE: message. */
        SCRIPT
    }

    private final PrintStream out;
    private final PrintStream err;
    private final Style style;
    private final String location;

    /**
     * @param location prefix for error lines in scripts ({@code tour.jsh}), or {@code null} for none
     */
    Feedback(PrintStream out, PrintStream err, Style style, String location) {
        this.out = out;
        this.err = err;
        this.style = style;
        this.location = location;
    }

    @Override
    public void accept(Outcome o) {
        switch (o.kind()) {
            case EXPRESSION, VARIABLE -> {
                if (Shown.wasShown(o.value())) return;
                // System.out.printf(…) returns its stream: the text it printed is the point, not "java.io.PrintStream@1d4064".
                if (o.kind() == Outcome.Kind.EXPRESSION && o.value() instanceof PrintStream) return;
                if (style == Style.SCRIPT && o.kind() == Outcome.Kind.VARIABLE) return;
                String shown = Printer.render(o.value());
                out.println(style == Style.CONSOLE ? o.name() + " ==> " + shown : shown);
                // var x = …; x  shows x once: the same object (not a number or a text, which are shared) is not shown again.
                if (style == Style.CONSOLE && !(o.value() instanceof Number || o.value() instanceof CharSequence
                        || o.value() instanceof Boolean || o.value() instanceof Character)) {
                    Shown.mark(o.value());
                }
            }
            case DECLARATION -> {
                if (style == Style.CONSOLE) out.println(o.message());
            }
            case ERROR -> {
                out.flush();
                String where = location == null ? "" : location + ":" + o.line() + ": ";
                err.println(where + o.message());
                if (!o.detail().isEmpty()) err.println(o.detail());
                err.flush();
            }
            case SILENT -> { }
        }
        out.flush();
    }
}
