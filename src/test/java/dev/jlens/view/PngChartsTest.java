package dev.jlens.view;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What the PNG heatmaps draw, checked on the pixels. */
class PngChartsTest {
    static final int WHITE = 0xffffff;

    static Heatmap twoByTwo(double[][] values, ColourScale scale, String name) {
        return new Heatmap(null, List.of("a", "b"), List.of("x", "y"), null, values, null, scale, name);
    }

    /** Pixels darker than light grey: text, lines and dark cells (anti-aliased edges of letters count too). */
    static int ink(BufferedImage img) {
        int n = 0;
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                int rgb = img.getRGB(x, y) & 0xffffff;
                if ((rgb >> 16 & 0xff) + (rgb >> 8 & 0xff) + (rgb & 0xff) < 3 * 200) n++;
            }
        }
        return n;
    }

    /** Nothing is drawn in a band along the image's right and bottom edges: no label runs off the picture. */
    static void assertClearEdges(BufferedImage img, String what) {
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = img.getWidth() - 6; x < img.getWidth(); x++) {
                assertEquals(WHITE, img.getRGB(x, y) & 0xffffff, what + ": ink at the right edge, (" + x + ", " + y + ")");
            }
        }
        for (int x = 0; x < img.getWidth(); x++) {
            assertEquals(WHITE, img.getRGB(x, img.getHeight() - 1) & 0xffffff, what + ": ink at the bottom edge, x " + x);
        }
    }

    @Test
    void colourBarLabelsStayInsideTheImageForEveryScale() {
        double[][] unit = {{0, 0.5}, {0.2, 1}}, signed = {{-12345.6, 3}, {0, 9876.5}}, tiny = {{1e-7, 0.5}, {0.01, 1}};
        List<Heatmap> maps = List.of(
                twoByTwo(unit, ColourScale.unit(), "probability"),
                twoByTwo(signed, null, "logit difference"),
                twoByTwo(signed, ColourScale.sequential(signed), "logit difference"),
                twoByTwo(tiny, ColourScale.log(1e-7, 1), "probability of the top token"),
                twoByTwo(new double[][] {{1, 2}, {3, 40000}}, new ColourScale(1, 40000, true, Palette.VIRIDIS_REVERSED), "rank"),
                twoByTwo(signed, null, "a very long name for what the colour means, longer than the bar is tall, twice over"));
        for (Heatmap h : maps) assertClearEdges(PngCharts.heatmapImage(h), h.valueName() + " on " + h.scale());
    }

    /**
     * A name longer than a short bar is drawn whole, in more lines, not cut with "…": the ink a long name adds over
     * an empty name is its full length's worth (27 characters against 10 for the short one), not a bar's height's.
     */
    @Test
    void aLongColourBarNameIsDrawnWhole() {
        double[][] v = {{-1, 0.5}, {0.25, 1}};
        int none = ink(PngCharts.heatmapImage(twoByTwo(v, null, "")));
        int shortName = ink(PngCharts.heatmapImage(twoByTwo(v, null, "normalised"))) - none;
        int longName = ink(PngCharts.heatmapImage(twoByTwo(v, null, "normalised logit difference"))) - none;
        assertTrue(shortName > 20, "the short name draws ink: " + shortName);
        assertTrue(longName > 1.8 * shortName, "long name's ink " + longName + " vs short name's " + shortName);
    }

    /** Lines are cut at spaces when they can be, each no wider than asked, and together they are the whole text. */
    @Test
    void wrapKeepsEveryCharacterAndTheWidth() {
        var fm = PngCharts.heatmapImage(twoByTwo(new double[][] {{0, 1}, {1, 0}}, null, "v")).createGraphics()
                .getFontMetrics(new java.awt.Font(java.awt.Font.SANS_SERIF, java.awt.Font.PLAIN, 11));
        String text = "KL(final ‖ layer), nats of a supercalifragilisticexpialidociouslylongword";
        List<String> lines = PngCharts.wrap(fm, text, 80);
        assertEquals(text.replace(" ", ""), String.join("", lines).replace(" ", ""));
        for (String l : lines) assertTrue(fm.stringWidth(l) <= 80, "'" + l + "' is " + fm.stringWidth(l) + " px");
        assertEquals("KL(final ‖", lines.get(0));
    }

    /** A 200 × 200 colour-only heatmap is drawn within 1600 pixels a side (cells shrink, labels thin out), still readable. */
    @Test
    void aLargeHeatmapIsCapped() {
        int n = 200;
        double[][] v = new double[n][n];
        List<String> labels = new java.util.ArrayList<>();
        for (int i = 0; i < n; i++) {
            labels.add("token " + i);
            for (int j = 0; j < n; j++) v[i][j] = Math.sin(i * 0.1) * Math.cos(j * 0.07);
        }
        BufferedImage img = PngCharts.heatmapImage(new Heatmap("big", labels, labels, null, v, null, null, "value"));
        assertTrue(img.getWidth() <= 1600 && img.getHeight() <= 1600, img.getWidth() + "×" + img.getHeight());
        assertTrue(img.getWidth() >= 1000, "uses the room it has: " + img.getWidth());
        assertClearEdges(img, "200 × 200");
    }
}
