package dev.jlens.view;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * A plain-text table whose columns line up in a terminal: a header row, a rule, then the rows.
 *
 * <p>Columns whose cells are all numbers are right-aligned so digits line up; everything else is
 * left-aligned. Widths are counted in code points, so the visible-whitespace marks of
 * {@link TokenText} (·, ⏎) take one column each, as they do on screen.
 *
 * <pre>{@code
 * Table t = new Table("rank", "token", "probability");
 * t.row(1, "·the", 0.231);
 * System.out.print(t.render());
 * }</pre>
 */
public final class Table {
    private static final Pattern NUMBER = Pattern.compile("[-+]?(\\d[\\d,_]*)?(\\.\\d+)?([eE][-+]?\\d+)?%?|[-+]?(Infinity|NaN)");

    private final List<String> header;
    private final List<List<String>> rows = new ArrayList<>();

    public Table(String... header) {
        this(Arrays.asList(header));
    }

    public Table(List<String> header) {
        if (header.isEmpty()) throw new IllegalArgumentException("a table needs at least one column");
        this.header = List.copyOf(header);
    }

    /**
     * Adds a row; a short row is padded with blanks. Doubles and floats are shown with 4 decimals
     * (or 4 significant digits in scientific notation when tiny or huge), everything else with
     * {@code String.valueOf}; {@code null} is blank. Token text is shown as given: make it visible
     * first ({@link TokenText#visible}).
     */
    public Table row(Object... cells) {
        if (cells.length > header.size()) {
            throw new IllegalArgumentException("row has " + cells.length + " cells but the table " + header.size() + " columns");
        }
        List<String> r = new ArrayList<>(header.size());
        for (int i = 0; i < header.size(); i++) r.add(i < cells.length ? cell(cells[i]) : "");
        rows.add(r);
        return this;
    }

    private static String cell(Object v) {
        if (v == null) return "";
        if (v instanceof Double || v instanceof Float) {
            double d = ((Number) v).doubleValue();
            if (Double.isNaN(d)) return "nan";
            double a = Math.abs(d);
            if (a != 0 && (a >= 1e5 || a < 1e-3)) return String.format(Locale.ROOT, "%.3e", d);
            return String.format(Locale.ROOT, "%.4f", d);
        }
        return String.valueOf(v);
    }

    public int size() {
        return rows.size();
    }

    /** The table as lines ending in {@code \n}, fitted to the terminal's width ({@link TerminalStyle#detect()}). */
    public String render() {
        return render(TerminalStyle.detect().columns());
    }

    /**
     * The table fitted to {@code columns} characters: a line that wraps in the terminal is unreadable, so the widest
     * text columns are cut first (to no less than {@value #MIN_TEXT} characters, marked {@code …}); numbers are never
     * cut, since a cut number reads as another number. Columns that still do not fit are left out, from the right,
     * and a last line names them.
     */
    public String render(int columns) {
        int n = header.size();
        int[] width = new int[n];
        boolean[] numeric = new boolean[n];
        for (int c = 0; c < n; c++) {
            width[c] = length(header.get(c));
            numeric[c] = !rows.isEmpty();
            for (List<String> r : rows) {
                String cell = r.get(c);
                width[c] = Math.max(width[c], length(cell));
                if (!cell.isEmpty() && !NUMBER.matcher(cell).matches()) numeric[c] = false;
            }
        }
        int shown = fit(width, numeric, columns);
        StringBuilder sb = new StringBuilder();
        appendRow(sb, header, width, numeric, shown);
        for (int c = 0; c < shown; c++) {
            if (c > 0) sb.append("  ");
            sb.append("─".repeat(width[c]));
        }
        sb.append('\n');
        for (List<String> r : rows) appendRow(sb, r, width, numeric, shown);
        if (shown < n) {
            sb.append("(").append(n - shown).append(" more column").append(n - shown == 1 ? "" : "s").append(" in a wider terminal: ")
                    .append(String.join(", ", header.subList(shown, n))).append(")\n");
        }
        return sb.toString();
    }

    /** The narrowest a text column is cut to. */
    private static final int MIN_TEXT = 10;

    /** Narrows text columns (widest first) until the table fits; returns how many columns fit from the left. */
    private static int fit(int[] width, boolean[] numeric, int columns) {
        int total = 2 * (width.length - 1);
        for (int w : width) total += w;
        while (total > columns) {
            int widest = -1;
            for (int c = 0; c < width.length; c++) {
                if (!numeric[c] && width[c] > MIN_TEXT && (widest < 0 || width[c] > width[widest])) widest = c;
            }
            if (widest < 0) break;
            int next = MIN_TEXT;   // cut to the next widest text column's width, or as far as needed
            for (int c = 0; c < width.length; c++) if (c != widest && !numeric[c] && width[c] < width[widest]) next = Math.max(next, width[c]);
            int cut = Math.min(total - columns, width[widest] - next);
            if (cut <= 0) cut = 1;
            width[widest] -= cut;
            total -= cut;
        }
        int shown = width.length, used = total;
        while (used > columns && shown > 1) {
            shown--;
            used -= width[shown] + 2;
        }
        return shown;
    }

    private static void appendRow(StringBuilder sb, List<String> cells, int[] width, boolean[] rightAligned, int shown) {
        StringBuilder line = new StringBuilder();
        for (int c = 0; c < shown; c++) {
            if (c > 0) line.append("  ");
            String cell = Labels.fit(cells.get(c), width[c]);
            String pad = " ".repeat(width[c] - length(cell));
            if (rightAligned[c]) line.append(pad).append(cell);
            else line.append(cell).append(pad);
        }
        // Trailing blanks help nobody and make expected output in tests fragile.
        sb.append(line.toString().stripTrailing()).append('\n');
    }

    /** Width on screen, counted in code points (one per · or ⏎). */
    static int length(String s) {
        return s.codePointCount(0, s.length());
    }

    @Override
    public String toString() {
        return render();
    }
}
