package dev.jlens.view;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class TerminalViewsTest {
    static final String ESC = "\u001b[";

    static Heatmap grid(int rows, int cols) {
        List<String> r = new ArrayList<>(), c = new ArrayList<>();
        double[][] v = new double[rows][cols];
        for (int i = 0; i < rows; i++) r.add("row " + i);
        for (int j = 0; j < cols; j++) c.add("c" + j);
        for (int i = 0; i < rows; i++) for (int j = 0; j < cols; j++) v[i][j] = (i * cols + j) / (double) (rows * cols);
        return new Heatmap("test grid", r, c, null, v, null, ColourScale.unit(), "value");
    }

    static int visibleWidth(String line) {
        return Labels.width(line.replaceAll("\u001b\\[[0-9;]*m", ""));
    }

    @Test
    void aTableFitsTheTerminalByCuttingTextAndThenLeavingOutColumns() {
        Table t = new Table("token", "context", "p");
        t.row("the", "a very long context that goes on and on well past any sensible width of a terminal window", 0.25);
        t.row("cat", "short", 0.125);
        String wide = t.render(200);
        assertTrue(wide.contains("window"), "fits at 200: nothing cut\n" + wide);
        String narrow = t.render(40);
        for (String line : narrow.split("\n")) assertTrue(Labels.width(line) <= 40, "wider than 40: '" + line + "'\n" + narrow);
        assertTrue(narrow.contains("a very long context that…"), "the text column is cut with a mark:\n" + narrow);
        assertTrue(narrow.contains("0.2500") && narrow.contains("0.1250"), "numbers are never cut:\n" + narrow);

        Table numbers = new Table(java.util.stream.IntStream.range(0, 30).mapToObj(i -> "pos" + i).toList());
        numbers.row(java.util.stream.IntStream.range(0, 30).mapToObj(i -> (Object) (i * 0.5)).toArray());
        String cut = numbers.render(80);
        String[] lines = cut.split("\n");
        for (String line : lines) assertTrue(Labels.width(line) <= 80 || line.startsWith("("), "'" + line + "'\n" + cut);
        assertTrue(lines[lines.length - 1].startsWith("(") && lines[lines.length - 1].contains("pos29"),
                "the columns left out are named:\n" + cut);
        assertTrue(cut.contains("pos0") && !lines[0].contains("pos29"), cut);
    }

    @Test
    void plainStyleWritesNoEscapesAndShowsTheNumbers() {
        String text = AnsiHeatmap.render(grid(3, 4), TerminalStyle.plain());
        assertFalse(text.contains(ESC), text);
        assertTrue(text.contains("0.917"), "values are printed when there is no colour:\n" + text);
        assertTrue(text.contains("row 2") && text.contains("c3"), text);
    }

    @Test
    void colourStyleColoursEveryCell() {
        String text = AnsiHeatmap.render(grid(3, 4), new TerminalStyle(true, 100));
        int cells = text.split("48;2;", -1).length - 1;
        assertEquals(3 * 4 + 12, cells, "12 cells and a 12-step legend:\n" + text);
        assertTrue(text.contains(ESC + "0m"), "colours are reset");
    }

    @Test
    void wideHeatmapsAreCutIntoBlocksThatFitTheWidth() {
        for (boolean colour : new boolean[] {false, true}) {
            TerminalStyle style = new TerminalStyle(colour, 60);
            String text = AnsiHeatmap.render(grid(2, 50), style);
            for (String line : text.split("\n")) {
                if (line.startsWith("test grid") || line.startsWith("value")) continue;
                assertTrue(visibleWidth(line) <= 60, "line of " + visibleWidth(line) + " > 60 (colour " + colour + "): " + line);
            }
            assertTrue(text.contains(colour ? "4" : "c49"), "the last column is shown in some block");
        }
    }

    @Test
    void colourCellsShrinkToFitBeforeTheGridIsCut() {
        String text = AnsiHeatmap.render(grid(2, 45), new TerminalStyle(true, 120));
        long gridLines = text.lines().filter(l -> l.startsWith("row 0")).count();
        assertEquals(1, gridLines, "45 two-character cells fit 120 columns in one block:\n" + text);
    }

    @Test
    void labelsAreMadePrintableAndOnlyTokensDotted() {
        // A label only loses what would break the layout; a plain label with spaces stays as it is.
        assertEquals("⏎", Labels.printable("\n"));
        assertEquals("layer 3 head 1", Labels.printable("layer 3 head 1"));
        assertEquals("a\\u0001b", Labels.printable("a\u0001b"));
        assertEquals("abc…", Labels.fit("abcdefg", 4));
        // Tokens are the analyses' to mark, through the one token display.
        assertEquals("·world", TokenText.visible(" world"));
        assertEquals("··", TokenText.visible("  "));
        assertEquals("⏎", TokenText.visible("\n"));
    }

    @Test
    void aHeatmapShowsTokenLabelsAsTokensAndOtherLabelsUnchanged() {
        // The analysis marks the tokens (TokenText.visible); the view lays out whatever labels it is given.
        Heatmap h = new Heatmap("logit lens", List.of("layer 0", "layer 1"), TokenText.visible(List.of(" the", "\n")), null,
                new double[][] {{0.1, 0.2}, {0.3, 0.4}}, null, ColourScale.unit(), "probability");
        String text = AnsiHeatmap.render(h, TerminalStyle.plain());
        assertTrue(text.contains("layer 0") && text.contains("layer 1") && text.contains("logit lens"), text);
        assertFalse(text.contains("layer·") || text.contains("logit·"), "a plain label keeps its spaces:\n" + text);
        assertTrue(text.contains("·the") && text.contains("⏎"), text);
    }

    @Test
    void tablesAlignTextLeftAndNumbersRight() {
        String t = new Table("head", "score").row("L0H1", 0.5).row("L10H11", 0.25).toString();
        String[] lines = t.split("\n");
        assertEquals(4, lines.length, t);
        assertTrue(lines[2].startsWith("L0H1  ") && lines[2].endsWith("0.5000"), t);
        assertEquals(lines[2].length(), lines[3].length(), "columns line up:\n" + t);
    }

    @Test
    void barsAndSparklines() {
        assertEquals("████", Bars.bar(1, 4));
        assertEquals("██▌", Bars.bar(0.625, 4));
        assertEquals("▁█", Bars.sparkline(new double[] {0, 1}));
        String bars = new BarChart("p", List.of("a", "b"), new double[] {0.75, 0.25}, "probability").toText(TerminalStyle.plain());
        assertTrue(bars.contains("a") && bars.contains("0.750") && bars.contains("█"), bars);
    }

    @Test
    void colourOverrideProperty() {
        String old = System.getProperty("jlens.color");
        try {
            System.setProperty("jlens.color", "never");
            assertFalse(TerminalStyle.detect().colour());
            System.setProperty("jlens.color", "always");
            assertTrue(TerminalStyle.detect().colour());
        } finally {
            if (old == null) System.clearProperty("jlens.color");
            else System.setProperty("jlens.color", old);
        }
    }

    @Test
    void browserNeverOpensWhenToldNot() {
        String old = System.getProperty("jlens.browser");
        try {
            System.setProperty("jlens.browser", "none");
            assertTrue(Browser.whyNot() != null);
        } finally {
            if (old == null) System.clearProperty("jlens.browser");
            else System.setProperty("jlens.browser", old);
        }
    }
}
