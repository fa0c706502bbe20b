package dev.jlens.view;

import java.util.List;

/**
 * A labelled grid of numbers to be drawn as colours: what every heatmap-shaped analysis (logit
 * lens, patching, head scores, attention) hands to the terminal, HTML and PNG renderers.
 *
 * @param title      one line saying what is shown
 * @param rowLabels  one per row (drawn left)
 * @param colLabels  one per column (drawn below, or above when there are no top labels)
 * @param topLabels  optional second set of column labels drawn above (the logit lens's true next
 *                   tokens); {@code null} for none
 * @param values     {@code [row][col]}; NaN cells are drawn grey and empty
 * @param cellText   optional text inside each cell ({@code [row][col]}, entries may be null);
 *                   {@code null} to show nothing but the colour
 * @param scale      how values map to colours; {@code null} for {@link ColourScale#of} (diverging when any is negative)
 * @param valueName  what the colour means ("probability", "logit difference"), for legends
 */
public record Heatmap(String title, List<String> rowLabels, List<String> colLabels, List<String> topLabels,
                      double[][] values, String[][] cellText, ColourScale scale, String valueName) {
    public Heatmap {
        rowLabels = List.copyOf(rowLabels);
        colLabels = List.copyOf(colLabels);
        topLabels = topLabels == null ? null : List.copyOf(topLabels);
        if (values.length != rowLabels.size()) {
            throw new IllegalArgumentException(values.length + " rows of values but " + rowLabels.size() + " row labels");
        }
        for (double[] row : values) {
            if (row.length != colLabels.size()) {
                throw new IllegalArgumentException("a row of " + row.length + " values but " + colLabels.size() + " column labels");
            }
        }
        if (topLabels != null && topLabels.size() != colLabels.size()) {
            throw new IllegalArgumentException(topLabels.size() + " top labels but " + colLabels.size() + " columns");
        }
        if (cellText != null && cellText.length != values.length) {
            throw new IllegalArgumentException("cell text has " + cellText.length + " rows, values " + values.length);
        }
        if (scale == null) scale = ColourScale.of(values);
        if (valueName == null) valueName = "value";
    }

    /** A heatmap coloured over the values' own range. */
    public static Heatmap of(String title, List<String> rowLabels, List<String> colLabels, double[][] values) {
        return new Heatmap(title, rowLabels, colLabels, null, values, null, null, "value");
    }

    public Heatmap withScale(ColourScale s) {
        return new Heatmap(title, rowLabels, colLabels, topLabels, values, cellText, s, valueName);
    }

    public Heatmap withCellText(String[][] text) {
        return new Heatmap(title, rowLabels, colLabels, topLabels, values, text, scale, valueName);
    }

    public Heatmap withTopLabels(List<String> top) {
        return new Heatmap(title, rowLabels, colLabels, top, values, cellText, scale, valueName);
    }

    public Heatmap withValueName(String name) {
        return new Heatmap(title, rowLabels, colLabels, topLabels, values, cellText, scale, name);
    }

    public Heatmap withTitle(String t) {
        return new Heatmap(t, rowLabels, colLabels, topLabels, values, cellText, scale, valueName);
    }

    public int rows() {
        return values.length;
    }

    public int cols() {
        return colLabels.size();
    }

    /** The text in a cell, or null. */
    public String text(int r, int c) {
        return cellText == null || cellText[r] == null ? null : cellText[r][c];
    }
}
