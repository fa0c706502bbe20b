package dev.jlens.console;

import dev.jlens.console.ArgKind.Completes;
import dev.jlens.model.HookedTransformer;
import java.io.IOException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Parameter;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Supplier;
import org.jline.reader.Candidate;
import org.jline.reader.Completer;
import org.jline.reader.LineReader;
import org.jline.reader.ParsedLine;

/**
 * Tab completion: JShell's Java completion merged with what JShell cannot know — hook names, parameter
 * names, help topics and file paths inside the string arguments of the helpers that take them, and
 * the helper names themselves.
 */
final class ConsoleCompleter implements Completer {
    /** Calls outside {@link Helpers} whose first string argument we can complete. */
    private static final Map<String, ArgKind> API_STRING_ARGS = Map.of(
            "get", ArgKind.HOOK,            // cache.get("…")
            "contains", ArgKind.HOOK,       // cache.contains("…")
            "fromPretrained", ArgKind.PATH, // HookedTransformer.fromPretrained("…")
            "of", ArgKind.PATH,             // Path.of("…")
            "readString", ArgKind.PATH);

    private final Session session;
    private final Supplier<HookedTransformer> model;
    private final Map<String, ArgKind> stringArgs = new HashMap<>(API_STRING_ARGS);
    private final Set<String> helperNames = new TreeSet<>();

    /**
     * @param session for Java completion ({@code null}: none, as in tests of the rest)
     * @param model   the model if it has loaded, else {@code null}; asked at each Tab
     */
    ConsoleCompleter(Session session, Supplier<HookedTransformer> model) {
        this.session = session;
        this.model = model;
        for (Method m : Helpers.class.getMethods()) {
            if (!Modifier.isStatic(m.getModifiers()) || m.getDeclaringClass() != Helpers.class || m.getName().equals("bind")) continue;
            helperNames.add(m.getName());
            Parameter[] ps = m.getParameters();
            if (ps.length > 0 && ps[0].isAnnotationPresent(Completes.class)) {
                stringArgs.put(m.getName(), ps[0].getAnnotation(Completes.class).value());
            }
        }
    }

    @Override
    public void complete(LineReader reader, ParsedLine line, List<Candidate> candidates) {
        candidates.addAll(candidates(line.line(), line.cursor()));
    }

    /** The candidates at {@code cursor}; each value replaces the word {@link CompletionContext} finds there. */
    List<Candidate> candidates(String buffer, int cursor) {
        CompletionContext ctx = CompletionContext.at(buffer, cursor);
        String prefix = ctx.prefix(buffer, cursor);
        List<Candidate> out = new ArrayList<>();
        if (ctx.inString()) {
            ArgKind kind = ctx.argIndex() == 0 && ctx.method() != null ? stringArgs.get(ctx.method()) : null;
            if (kind == null) return out;
            boolean closed = ctx.wordEnd() < buffer.length() && buffer.charAt(ctx.wordEnd()) == '"';
            String close = closed ? "" : "\"";
            switch (kind) {
                case HOOK -> names(hookNames(), prefix, close, "hooks", out);
                case PARAM -> names(paramNames(), prefix, close, "parameters", out);
                case TOPIC -> names(HelpText.topics(), prefix, close, "topics", out);
                case PATH -> paths(prefix, close, out);
            }
            return out;
        }
        Set<String> seen = new LinkedHashSet<>();
        if (session != null) {
            Session.JavaCompletions java = session.javaCompletions(buffer, cursor, session.isReady() ? 2000 : 50);
            String typed = java.anchor() >= 0 && java.anchor() <= cursor ? buffer.substring(java.anchor(), cursor) : prefix;
            // JShell's word must be ours for JLine to replace the right text; it is, for identifiers.
            if (typed.equals(prefix)) seen.addAll(java.continuations());
        }
        if (!ctx.afterDot() && !prefix.isEmpty()) {
            for (String h : helperNames) if (h.startsWith(prefix)) seen.add(h + "(");
        }
        for (String s : seen) out.add(new Candidate(s, s, null, null, null, null, false));
        return out;
    }

    private static void names(Iterable<String> names, String prefix, String close, String group, List<Candidate> out) {
        for (String n : names) {
            if (n.startsWith(prefix)) out.add(new Candidate(n + close, n, group, null, null, null, false));
        }
    }

    /**
     * Every hook name of the model, full ({@code blocks.0.attn.hook_pattern}) and short ({@code pattern}), and those the
     * current run added (an SAE's {@code blocks.3.hook_resid_pre.hook_sae_acts_post}).
     */
    private List<String> hookNames() {
        HookedTransformer m = model.get();
        if (m == null) return List.of();
        Set<String> all = new LinkedHashSet<>(m.hookNames());
        dev.jlens.model.Run current = session == null ? null : session.binding().currentRun();
        if (current != null) all.addAll(current.cache().keys());
        for (String n : m.hookNames()) {
            String last = n.substring(n.lastIndexOf('.') + 1);
            if (last.startsWith("hook_")) all.add(last.substring("hook_".length()));
        }
        return new ArrayList<>(all);
    }

    private List<String> paramNames() {
        HookedTransformer m = model.get();
        return m == null ? List.of() : new ArrayList<>(m.params().keySet());
    }

    /** Entries of the folder the prefix names, folders with a trailing '/' (and no closing quote yet). */
    private static void paths(String prefix, String close, List<Candidate> out) {
        int slash = prefix.lastIndexOf('/');
        String dirPart = slash >= 0 ? prefix.substring(0, slash + 1) : "";
        Path dir = Path.of(dirPart.isEmpty() ? "." : expandHome(dirPart));
        if (!Files.isDirectory(dir)) return;
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path p : entries) {
                String name = p.getFileName().toString();
                if (name.startsWith(".") && !prefix.substring(slash + 1).startsWith(".")) continue;
                boolean isDir = Files.isDirectory(p);
                String value = dirPart + name + (isDir ? "/" : close);
                out.add(new Candidate(value, name + (isDir ? "/" : ""), "files", null, null, null, false));
            }
        } catch (IOException e) {
            // an unreadable folder completes to nothing
        }
    }

    private static String expandHome(String path) {
        return path.startsWith("~/") ? System.getProperty("user.home") + path.substring(1) : path;
    }
}
