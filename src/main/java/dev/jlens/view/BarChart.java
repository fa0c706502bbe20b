package dev.jlens.view;

import java.util.List;

/**
 * One bar per label (seed 000's next-character probabilities, a DLA breakdown).
 *
 * @param title     one line saying what is shown
 * @param labels    one per bar, drawn under it
 * @param values    bar heights (negative bars point down)
 * @param valueName what the height measures ("probability")
 */
public record BarChart(String title, List<String> labels, double[] values, String valueName) {
    public BarChart {
        labels = List.copyOf(labels);
        if (values.length != labels.size()) {
            throw new IllegalArgumentException(values.length + " values for " + labels.size() + " labels");
        }
    }

    /** Horizontal bars of block characters, one line per bar, scaled to the terminal width. */
    public String toText(TerminalStyle style) {
        int labelWidth = 0;
        for (String l : labels) labelWidth = Math.max(labelWidth, Math.min(16, Labels.width(Labels.printable(l))));
        double max = 0;
        for (double v : values) if (Double.isFinite(v)) max = Math.max(max, Math.abs(v));
        int barWidth = Math.max(10, style.columns() - labelWidth - 12);
        StringBuilder sb = new StringBuilder();
        if (title != null && !title.isEmpty()) sb.append(title).append('\n');
        for (int i = 0; i < values.length; i++) {
            double v = values[i];
            sb.append(Labels.pad(Labels.printable(labels.get(i)), labelWidth, false)).append(' ')
                    .append(Labels.pad(Labels.number(v), 7, true)).append(' ');
            if (v < 0) sb.append('-');
            sb.append(Bars.bar(max == 0 ? 0 : Math.abs(v) / max, barWidth)).append('\n');
        }
        return sb.toString();
    }
}
