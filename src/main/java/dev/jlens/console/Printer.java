package dev.jlens.console;

import dev.jlens.cache.ActivationCache;
import dev.jlens.model.Run;
import dev.jlens.view.ArrayText;
import dev.jlens.view.Labels;
import dev.jlens.view.Table;
import dev.jlens.view.Token;
import dev.jlens.view.TokenText;
import java.lang.reflect.Array;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * How the console shows a snippet's value (JShell's own {@code toString} printing is replaced, see
 * {@link CapturingExecutionControl}). The rule: never flood the terminal, never hide what matters.
 * <ul>
 *   <li>arrays: dtype, shape, min/max/mean and the 3-corner ({@link ArrayText}); small ones whole;</li>
 *   <li>strings quoted and escaped as Java source; tokens (a {@code TokenStrings} list, a record component marked
 *       {@link Token}) with visible whitespace ({@link TokenText}), other strings in tables as they are;</li>
 *   <li>lists of records and maps of arrays as tables; long collections and texts cut with a count of the rest.</li>
 * </ul>
 */
public final class Printer {
    private Printer() {}

    static final int MAX_ITEMS = 50;
    static final int MAX_CHARS = 4000;
    static final int MAX_LINES = 60;

    /** The value as it appears after {@code ==>}; may span several lines. */
    public static String render(Object value) {
        if (value == null) return "null";
        if (value instanceof INDArray a) return ArrayText.render(a);
        if (value instanceof String s) return quote(s);
        if (value instanceof Character c) return "'" + escape(String.valueOf(c), '\'') + "'";
        if (value instanceof Number || value instanceof Boolean) return value.toString();
        if (value instanceof Run r) return run(r);
        if (value instanceof ActivationCache c) return cut(c.toString());
        if (value.getClass().isArray()) return array(value);
        if (value instanceof Map<?, ?> m) return map(m);
        if (value instanceof Collection<?> c) return collection(c);
        if (rendersItself(value)) return cut(String.valueOf(value));
        if (value instanceof Record r) return cut(record(r));
        return cut(String.valueOf(value));
    }

    /**
     * An analysis result (a heatmap or chart figure, or any record of {@code dev.jlens.analysis}) prints as its
     * own text (the table, the heatmap), as {@code System.out.println} shows it, never as a record dump.
     */
    static boolean rendersItself(Object value) {
        return value instanceof dev.jlens.view.HeatmapFigure || value instanceof dev.jlens.view.ChartFigure
                || value.getClass().getPackageName().equals("dev.jlens.analysis");
    }

    /**
     * One line, for a value inside a table cell or a record. A string is a plain label, shown as it is (only
     * made printable): which strings are tokens the record says ({@link Token}, see {@link #component}).
     */
    static String brief(Object value) {
        if (value == null) return "null";
        if (value instanceof INDArray a) return a.dataType() + " " + ArrayText.shape(a);
        if (value instanceof String s) return Labels.printable(s.length() > 60 ? s.substring(0, 60) + "…" : s);
        if (value instanceof Double || value instanceof Float) return ArrayText.number(((Number) value).doubleValue());
        if (value instanceof ActivationCache c) return "ActivationCache(" + c.size() + " activations)";
        if (value instanceof Run) return "Run";
        if (value.getClass().isArray()) {
            String s = array(value);
            return s.length() > 80 ? s.substring(0, 80) + "…" : s;
        }
        if (value instanceof Collection<?> c) return c.getClass().getSimpleName() + "(" + c.size() + ")";
        if (value instanceof Map<?, ?> m) return m.getClass().getSimpleName() + "(" + m.size() + ")";
        String s = Labels.printable(String.valueOf(value));
        return s.length() > 80 ? s.substring(0, 80) + "…" : s;
    }

    private static String run(Run r) {
        return "Run: tokens " + ArrayText.shape(r.tokens())
                + ", logits " + (r.logits() == null ? "none" : ArrayText.shape(r.logits()))
                + ", cache of " + r.cache().size() + " activations (" + r.cache().sizeInBytes() / 1024 + " KiB)";
    }

    private static String quote(String s) {
        String shown = s.length() > MAX_CHARS ? s.substring(0, MAX_CHARS) : s;
        String q = "\"" + escape(shown, '"') + "\"";
        return s.length() > MAX_CHARS ? q + " … (" + (s.length() - MAX_CHARS) + " more chars)" : q;
    }

    private static String escape(String s, char quote) {
        StringBuilder sb = new StringBuilder(s.length() + 2);
        for (char c : s.toCharArray()) {
            switch (c) {
                case '\n' -> sb.append("\\n");
                case '\t' -> sb.append("\\t");
                case '\r' -> sb.append("\\r");
                case '\\' -> sb.append("\\\\");
                default -> {
                    if (c == quote) sb.append('\\').append(c);
                    else if (Character.isISOControl(c)) sb.append(String.format("\\u%04x", (int) c));
                    else sb.append(c);
                }
            }
        }
        return sb.toString();
    }

    private static String array(Object array) {
        int n = Array.getLength(array);
        StringBuilder sb = new StringBuilder(array.getClass().getComponentType().getSimpleName())
                .append('[').append(n).append("] { ");
        for (int i = 0; i < Math.min(n, MAX_ITEMS); i++) {
            if (i > 0) sb.append(", ");
            sb.append(brief(Array.get(array, i)));
        }
        if (n > MAX_ITEMS) sb.append(", … (").append(n - MAX_ITEMS).append(" more)");
        return sb.append(" }").toString();
    }

    private static String collection(Collection<?> c) {
        if (c.isEmpty()) return "[]";
        if (c.stream().allMatch(e -> e instanceof String)) {
            List<String> strings = new ArrayList<>();
            for (Object o : c) {
                if (strings.size() == MAX_ITEMS * 4) break;
                strings.add((String) o);
            }
            String more = c.size() > strings.size() ? " … (" + (c.size() - strings.size()) + " more)" : "";
            // Tokens (toStrTokens) are shown as tokens; any other strings as they are, quoted.
            if (c instanceof dev.jlens.model.TokenStrings) return TokenText.list(strings) + more;
            List<String> quoted = strings.stream().map(Printer::quote).toList();
            return "[" + String.join(", ", quoted) + "]" + more;
        }
        Object first = c.iterator().next();
        if (first instanceof Record && c.stream().allMatch(e -> e != null && e.getClass() == first.getClass())) {
            return recordTable(c, first.getClass().getRecordComponents());
        }
        StringBuilder sb = new StringBuilder("[");
        Iterator<?> it = c.iterator();
        for (int i = 0; it.hasNext() && i < MAX_ITEMS; i++) {
            if (i > 0) sb.append(", ");
            sb.append(brief(it.next()));
        }
        if (c.size() > MAX_ITEMS) sb.append(", … (").append(c.size() - MAX_ITEMS).append(" more)");
        return sb.append(']').toString();
    }

    private static String recordTable(Collection<?> rows, RecordComponent[] components) {
        List<String> header = new ArrayList<>();
        for (RecordComponent rc : components) header.add(rc.getName());
        Table t = new Table(header);
        int i = 0;
        for (Object row : rows) {
            if (i++ == MAX_LINES) break;
            Object[] cells = new Object[components.length];
            for (int j = 0; j < components.length; j++) cells[j] = cell(row, components[j]);
            t.row(cells);
        }
        String more = rows.size() > MAX_LINES ? "… (" + (rows.size() - MAX_LINES) + " more rows)\n" : "";
        return (t.render() + more).stripTrailing();
    }

    /** A record's component, briefly; a component marked {@link Token} is shown as a token. */
    private static String cell(Object record, RecordComponent rc) {
        Object value = component(record, rc);
        if (value instanceof String s && rc.isAnnotationPresent(Token.class)) {
            return TokenText.visible(s.length() > 60 ? s.substring(0, 60) + "…" : s);
        }
        return brief(value);
    }

    private static Object component(Object record, RecordComponent rc) {
        try {
            return rc.getAccessor().invoke(record);
        } catch (ReflectiveOperationException e) {
            return "?";
        }
    }

    /**
     * A record whose components are all plain values (numbers, text, enums) prints with its own
     * {@code toString} (custom or generated); one holding arrays or collections prints each
     * component briefly, because a generated {@code toString} would format every array element.
     */
    private static String record(Record r) {
        RecordComponent[] cs = r.getClass().getRecordComponents();
        boolean plain = true;
        for (RecordComponent c : cs) {
            Class<?> t = c.getType();
            plain &= t.isPrimitive() || t.isEnum() || t == String.class || Number.class.isAssignableFrom(t) || t == Boolean.class;
        }
        if (plain) return String.valueOf(r);
        StringBuilder sb = new StringBuilder(r.getClass().getSimpleName()).append('[');
        for (int i = 0; i < cs.length; i++) {
            if (i > 0) sb.append(", ");
            sb.append(cs[i].getName()).append('=').append(cell(r, cs[i]));
        }
        return sb.append(']').toString();
    }

    private static String map(Map<?, ?> m) {
        if (m.isEmpty()) return "{}";
        if (m.values().stream().allMatch(v -> v instanceof INDArray)) {
            Table t = new Table("name", "shape", "dtype");
            int i = 0;
            for (Map.Entry<?, ?> e : m.entrySet()) {
                if (i++ == MAX_LINES * 4) break;
                INDArray a = (INDArray) e.getValue();
                t.row(e.getKey(), ArrayText.shape(a), a.dataType());
            }
            return t.render().stripTrailing();
        }
        StringBuilder sb = new StringBuilder("{");
        int i = 0;
        for (Map.Entry<?, ?> e : m.entrySet()) {
            if (i > 0) sb.append(", ");
            if (i++ == MAX_ITEMS) {
                sb.append("… (").append(m.size() - MAX_ITEMS).append(" more)");
                break;
            }
            sb.append(brief(e.getKey())).append('=').append(brief(e.getValue()));
        }
        return sb.append('}').toString();
    }

    /** Cuts a long text to {@link #MAX_LINES} lines and {@link #MAX_CHARS} characters, saying how much is left out. */
    /**
     * At most {@value #MAX_LINES} lines and {@value #MAX_CHARS} visible characters: colour codes (ANSI escapes)
     * are not counted, a cut never falls inside one, and a cut text ends with the reset code so no colour leaks
     * into what follows. Cuts fall at a line's end where one is near.
     */
    static String cut(String s) {
        String[] lines = s.split("\n", -1);
        String out = s;
        String note = "";
        if (lines.length > MAX_LINES) {
            out = String.join("\n", Arrays.copyOf(lines, MAX_LINES));
            note = "\n… (" + (lines.length - MAX_LINES) + " more lines)";
        }
        int visible = 0, i = 0, lastLineEnd = -1;
        boolean coloured = false;
        while (i < out.length() && visible < MAX_CHARS) {
            char ch = out.charAt(i);
            if (ch == '\u001b') {                       // ESC [ … letter: a colour code, zero width
                coloured = true;
                int end = i + 1;
                while (end < out.length() && !Character.isLetter(out.charAt(end))) end++;
                i = Math.min(out.length(), end + 1);
                continue;
            }
            if (ch == '\n') lastLineEnd = i;
            visible++;
            i++;
        }
        if (i < out.length()) {
            int at = lastLineEnd > i - 400 && lastLineEnd > 0 ? lastLineEnd : i;
            long rest = out.substring(at).replaceAll("\u001b\\[[0-9;]*[A-Za-z]", "").length();
            out = out.substring(0, at) + (coloured ? "\u001b[0m" : "") + "\n… (" + rest + " more chars)";
        }
        return out + note;
    }
}
