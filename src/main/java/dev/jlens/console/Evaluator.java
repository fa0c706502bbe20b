package dev.jlens.console;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import jdk.jshell.DeclarationSnippet;
import jdk.jshell.Diag;
import jdk.jshell.EvalException;
import jdk.jshell.JShell;
import jdk.jshell.JShellException;
import jdk.jshell.MethodSnippet;
import jdk.jshell.Snippet;
import jdk.jshell.SnippetEvent;
import jdk.jshell.SourceCodeAnalysis;
import jdk.jshell.SourceCodeAnalysis.CompletionInfo;
import jdk.jshell.SourceCodeAnalysis.Completeness;
import jdk.jshell.TypeDeclSnippet;
import jdk.jshell.UnresolvedReferenceException;
import jdk.jshell.VarSnippet;

/**
 * Turns source text into JShell snippets and what they came to ({@link Outcome}s): splitting,
 * line numbers, values, declarations, compile errors with a caret, exceptions with a hint.
 * Used only on the session's JShell thread.
 */
final class Evaluator {
    private final JShell shell;
    private final Binding binding;
    /** Set by Ctrl-C (any thread); read and cleared when the snippet it stopped comes back. */
    final AtomicBoolean stopRequested = new AtomicBoolean();

    Evaluator(JShell shell, Binding binding) {
        this.shell = shell;
        this.binding = binding;
    }

    /**
     * Splits {@code text} into snippets and evaluates them (on the shell thread). Like the jshell
     * tool, it reads line by line and evaluates as soon as the lines so far make a complete
     * snippet, so a bare expression at the end of a line is a snippet of its own (as in a notebook
     * cell) and is not joined to the next line.
     */
    boolean runAll(String text, Consumer<Outcome> sink, boolean stopAtError) {
        Shown.clear();   // what a helper (or the echo) showed is remembered for the rest of this input only
        SourceCodeAnalysis sca = shell.sourceCodeAnalysis();
        String[] lines = text.split("\n", -1);
        StringBuilder pending = new StringBuilder();
        int pendingLine = 1; // the input line where `pending` begins
        boolean ok = true;
        for (int i = 0; i < lines.length; i++) {
            if (pending.length() == 0) pendingLine = i + 1;
            pending.append(lines[i]);
            if (i < lines.length - 1) pending.append('\n');
            boolean last = i == lines.length - 1;
            while (true) {
                String buf = pending.toString();
                int codeAt = Snippets.skipBlankAndComments(buf, 0);
                if (codeAt >= buf.length()) {
                    // Only blanks and comments so far; keep an unfinished block comment pending.
                    if (!Snippets.inBlockComment(buf)) pending.setLength(0);
                    break;
                }
                CompletionInfo ci = sca.analyzeCompletion(buf);
                int line = pendingLine + Snippets.lineAt(buf, codeAt) - 1;
                if (!ci.completeness().isComplete() || ci.source() == null) {
                    if (!last && ci.completeness() != Completeness.UNKNOWN) break; // read on
                    if (!last) break;
                    sink.accept(Outcome.error(line, "error: incomplete input: the snippet that starts here never ends"
                            + " (a missing ')', '}', ';' or '\"'?)", "", null));
                    return false;
                }
                int consumed = buf.length() - ci.remaining().length();
                for (Outcome o : evalOne(ci.source(), line - Snippets.linesBefore(ci.source()))) {
                    sink.accept(o);
                    if (o.failed()) {
                        ok = false;
                        if (stopAtError || o.interrupted()) return false;
                    }
                }
                pendingLine += Snippets.lineAt(buf, consumed) - 1;
                pending.delete(0, consumed);
            }
        }
        return ok;
    }

    /**
     * Evaluates exactly one snippet.
     *
     * @param firstLine the line of the input where {@code source} begins
     */
    private List<Outcome> evalOne(String source, int firstLine) {
        CapturingExecutionControl.Captured.takeValues();   // nothing left over from an earlier evaluation
        List<SnippetEvent> events = shell.eval(source);
        Trace.mark("evaluated " + source.strip().lines().findFirst().orElse(""));
        Object value = CapturingExecutionControl.Captured.takeValue();
        // One source can be several snippets (int m1 = 1, m2 = 2;): each executed one gets its own value, in order.
        List<Object> values = CapturingExecutionControl.Captured.takeValues();
        int executed = 0;
        Throwable thrown = CapturingExecutionControl.Captured.takeThrown();
        List<Outcome> out = new ArrayList<>();
        for (SnippetEvent e : events) {
            if (e.causeSnippet() != null) continue; // a dependent snippet updated, not what was typed
            Snippet s = e.snippet();
            if (e.status() != Snippet.Status.REJECTED && isExecutable(s) && values.size() > 1) {
                value = executed < values.size() ? values.get(executed) : null;
                executed++;
            }
            if (e.status() == Snippet.Status.REJECTED) {
                out.add(compileError(s, source, firstLine));
            } else if (e.exception() != null) {
                out.add(runtimeError(e.exception(), thrown, s, firstLine));
            } else if (Errors.isStop(thrown) || (stopRequested.getAndSet(false) && thrown == null && value == null && isExecutable(s))) {
                out.add(Outcome.error(firstLine, "interrupted", "", thrown));
            } else {
                out.add(success(s, value, e.status()));
            }
        }
        return out;
    }

    private static boolean isExecutable(Snippet s) {
        return s.kind() == Snippet.Kind.STATEMENT || s.kind() == Snippet.Kind.EXPRESSION || s.kind() == Snippet.Kind.VAR;
    }

    private Outcome success(Snippet s, Object value, Snippet.Status status) {
        switch (s.subKind()) {
            case TEMP_VAR_EXPRESSION_SUBKIND, VAR_VALUE_SUBKIND, ASSIGNMENT_SUBKIND, OTHER_EXPRESSION_SUBKIND -> {
                String name = s instanceof VarSnippet v ? v.name() : (s instanceof jdk.jshell.ExpressionSnippet x ? x.name() : "");
                return new Outcome(Outcome.Kind.EXPRESSION, 0, name, value, null, "", null);
            }
            case VAR_DECLARATION_WITH_INITIALIZER_SUBKIND -> {
                return new Outcome(Outcome.Kind.VARIABLE, 0, ((VarSnippet) s).name(), value, null, "", null);
            }
            default -> { }
        }
        if (s instanceof MethodSnippet m) {
            String what = "created method " + m.name() + "(" + m.parameterTypes() + ")";
            return declared(m, what, status);
        }
        if (s instanceof TypeDeclSnippet t) {
            return declared(t, "created " + t.subKind().toString().replace("_SUBKIND", "").toLowerCase(java.util.Locale.ROOT)
                    + " " + t.name(), status);
        }
        if (s instanceof VarSnippet v) return new Outcome(Outcome.Kind.DECLARATION, 0, v.name(), null, "created variable " + v.name(), "", null);
        return new Outcome(Outcome.Kind.SILENT, 0, null, null, null, "", null);
    }

    private Outcome declared(DeclarationSnippet d, String what, Snippet.Status status) {
        if (status == Snippet.Status.RECOVERABLE_DEFINED || status == Snippet.Status.RECOVERABLE_NOT_DEFINED) {
            List<String> missing = shell.unresolvedDependencies(d).toList();
            what += ", but it cannot be used until " + String.join(", ", missing) + " is declared";
        }
        return new Outcome(Outcome.Kind.DECLARATION, 0, d.name(), null, what, "", null);
    }

    private Outcome compileError(Snippet s, String source, int firstLine) {
        Diag diag = shell.diagnostics(s).filter(Diag::isError).findFirst().orElse(null);
        if (diag == null) return Outcome.error(firstLine, "error: this snippet was rejected", "", null);
        int pos = (int) Math.max(0, Math.min(source.length(), diag.getStartPosition()));
        int line = firstLine + Snippets.lineAt(source, pos) - 1;
        String message = "error: " + Snippets.compactDiagnostic(diag.getMessage(null));
        return Outcome.error(line, message, Snippets.caret(source, pos), null);
    }

    private Outcome runtimeError(JShellException ex, Throwable thrown, Snippet s, int firstLine) {
        if (ex instanceof UnresolvedReferenceException u) {
            DeclarationSnippet d = u.getSnippet();
            String msg = "error: " + d.name() + " cannot be used until "
                    + String.join(", ", shell.unresolvedDependencies(d).toList()) + " is declared";
            return Outcome.error(firstLine, msg, "", ex);
        }
        Throwable real = thrown != null ? thrown : ex;
        binding.lastError(real);
        int line = firstLine;
        for (StackTraceElement el : ex.getStackTrace()) {
            // JShell names a snippet's frames "#<id>" with lines counted within the snippet.
            if (("#" + s.id()).equals(el.getFileName()) && el.getLineNumber() > 0) {
                line = firstLine + el.getLineNumber() - 1;
                break;
            }
        }
        String message = thrown != null ? Errors.oneLine(thrown) : evalMessage(ex);
        return Outcome.error(line, message, "", real);
    }

    private static String evalMessage(JShellException ex) {
        if (ex instanceof EvalException e) {
            String type = e.getExceptionClassName();
            type = type.substring(type.lastIndexOf('.') + 1);
            return type + (e.getMessage() == null ? "" : ": " + Errors.firstLine(e.getMessage()));
        }
        return ex.toString();
    }
}
