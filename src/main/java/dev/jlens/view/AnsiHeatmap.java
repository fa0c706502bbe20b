package dev.jlens.view;

import java.util.ArrayList;
import java.util.List;

/**
 * Draws a {@link Heatmap} as text for a terminal: coloured cells (24-bit ANSI backgrounds, side by
 * side like pixels) when the style allows colour, otherwise an aligned grid of the cell texts and
 * numbers, so the same call works in a terminal, a pipe and a log file. Cells shrink (down to two
 * characters, colour only) to fit the terminal width; what still does not fit is cut into column
 * blocks, each repeating the row labels.
 */
public final class AnsiHeatmap {
    private AnsiHeatmap() {}

    private static final int MAX_CELL = 8, MAX_ROW_LABEL = 20, LEGEND_STEPS = 12, MAX_VERTICAL_LABEL = 6;
    private static final String RESET = "\u001b[0m";

    public static String render(Heatmap h, TerminalStyle style) {
        boolean colour = style.colour();
        String sep = colour ? "" : " ";
        Cells cells = cellTexts(h, colour);
        int rowLabelWidth = 0;
        for (String l : h.rowLabels()) rowLabelWidth = Math.max(rowLabelWidth, Labels.width(Labels.printable(l)));
        rowLabelWidth = Math.min(rowLabelWidth, MAX_ROW_LABEL);
        int room = style.columns() - rowLabelWidth - 1;
        int cell = cellWidth(h, cells, colour, room);
        // Coloured cells touch, so their words keep one column free to stay apart.
        int textRoom = colour ? cell - 1 : cell;
        boolean showNumbers = cells.numberWidth <= textRoom;
        boolean showOwn = cells.ownWidth <= textRoom || textRoom >= 3;

        StringBuilder out = new StringBuilder();
        if (h.title() != null && !h.title().isEmpty()) out.append(Labels.wrap(h.title(), style.columns()));
        out.append(legend(h, style)).append('\n');
        int perBlock = Math.max(1, (room + sep.length()) / (cell + sep.length()));
        for (int from = 0; from < h.cols(); from += perBlock) {
            int to = Math.min(h.cols(), from + perBlock);
            if (from > 0) out.append('\n');
            if (h.topLabels() != null) out.append(columnLabels(h.topLabels(), from, to, cell, sep, rowLabelWidth, true));
            for (int r = 0; r < h.rows(); r++) {
                out.append(Labels.pad(Labels.printable(h.rowLabels().get(r)), rowLabelWidth, false)).append(' ');
                for (int c = from; c < to; c++) {
                    String t = cells.text[r][c];
                    boolean own = h.text(r, c) != null;
                    String shown = t == null || !(own ? showOwn : showNumbers) ? "" : Labels.fit(t, textRoom);
                    String body = Labels.centre(shown, cell);
                    if (colour && Double.isNaN(h.values()[r][c])) {
                        out.append(" ".repeat(cell));                      // no value: the terminal's own background
                    } else if (colour) {
                        int bg = h.scale().rgb(h.values()[r][c]);
                        out.append(bg(bg)).append(fg(Palette.textOn(bg))).append(body).append(RESET);
                    } else {
                        out.append(body);
                    }
                    if (c < to - 1) out.append(sep);
                }
                out.append('\n');
            }
            out.append(columnLabels(h.colLabels(), from, to, cell, sep, rowLabelWidth, false));
        }
        return out.toString();
    }

    /** Each cell's words: its own text, else (without colour, or when it fits) its value. */
    private record Cells(String[][] text, int ownWidth, int numberWidth) {}

    private static Cells cellTexts(Heatmap h, boolean colour) {
        String[][] t = new String[h.rows()][h.cols()];
        int own = 0, numbers = 0;
        for (int r = 0; r < h.rows(); r++) {
            for (int c = 0; c < h.cols(); c++) {
                String s = h.text(r, c);
                double v = h.values()[r][c];
                if (s != null) {
                    t[r][c] = colour ? Labels.printable(s) : Labels.printable(s) + " " + Labels.number(v);
                    own = Math.max(own, Labels.width(t[r][c]));
                } else {
                    t[r][c] = Double.isNaN(v) ? "" : Labels.number(v);
                    numbers = Math.max(numbers, Labels.width(t[r][c]));
                }
            }
        }
        return new Cells(t, own, numbers);
    }

    /**
     * Without colour: as wide as the widest text. With colour: as wide as the widest text (at most
     * {@value #MAX_CELL}), narrowed to fit the width, but never below 2.
     */
    private static int cellWidth(Heatmap h, Cells cells, boolean colour, int room) {
        int widest = Math.max(1, Math.max(cells.ownWidth, cells.numberWidth));
        if (!colour) {
            // Plain text has room to spend on readable column labels (cut at 12 characters).
            int label = 0;
            for (String l : h.colLabels()) label = Math.max(label, Math.min(12, Labels.width(Labels.printable(l))));
            return Math.min(Math.max(widest, label), MAX_CELL + 6);
        }
        int want = Math.max(2, Math.min(widest + 1, MAX_CELL + 1));
        int available = room / Math.max(1, h.cols());
        return Math.max(2, Math.min(want, available));
    }

    /**
     * Column labels: horizontal (cut to the cell) when cells are separated or at least 3 wide;
     * colour pixels two characters wide get their labels stacked vertically instead.
     */
    private static String columnLabels(List<String> labels, int from, int to, int cell, String sep, int indent, boolean above) {
        StringBuilder sb = new StringBuilder();
        int longest = 0;
        for (int c = from; c < to; c++) longest = Math.max(longest, Labels.width(Labels.printable(labels.get(c))));
        if (!sep.isEmpty() || longest < cell || cell >= 4) {
            sb.append(" ".repeat(indent + 1));
            for (int c = from; c < to; c++) {
                sb.append(Labels.centre(Labels.printable(labels.get(c)), cell));
                if (c < to - 1) sb.append(sep);
            }
            return sb.append('\n').toString();
        }
        List<int[]> cps = new ArrayList<>();
        int lines = 0;
        for (int c = from; c < to; c++) {
            int[] s = Labels.printable(labels.get(c)).codePoints().limit(MAX_VERTICAL_LABEL).toArray();
            cps.add(s);
            lines = Math.max(lines, s.length);
        }
        // Above the grid the labels end at the grid (bottom-aligned); below it they start there.
        for (int line = 0; line < lines; line++) {
            sb.append(" ".repeat(indent + 1));
            for (int i = 0; i < cps.size(); i++) {
                int[] s = cps.get(i);
                int k = above ? line - (lines - s.length) : line;
                String ch = k >= 0 && k < s.length ? new String(Character.toChars(s[k])) : " ";
                sb.append(Labels.pad(ch, cell, false));
                if (i < cps.size() - 1) sb.append(sep);
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    private static String legend(Heatmap h, TerminalStyle style) {
        ColourScale s = h.scale();
        String lo = Labels.number(s.min()), hi = Labels.number(s.max());
        StringBuilder sb = new StringBuilder(h.valueName()).append(s.log() ? " (log scale)" : "").append(": ").append(lo).append(' ');
        if (style.colour()) {
            for (int i = 0; i < LEGEND_STEPS; i++) sb.append(bg(s.palette().rgb(i / (LEGEND_STEPS - 1.0)))).append(' ');
            sb.append(RESET);
        } else {
            sb.append("…");
        }
        return sb.append(' ').append(hi).toString();
    }

    static String bg(int rgb) {
        return "\u001b[48;2;" + (rgb >> 16 & 0xff) + ";" + (rgb >> 8 & 0xff) + ";" + (rgb & 0xff) + "m";
    }

    static String fg(int rgb) {
        return "\u001b[38;2;" + (rgb >> 16 & 0xff) + ";" + (rgb >> 8 & 0xff) + ";" + (rgb & 0xff) + "m";
    }
}
