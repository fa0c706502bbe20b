package dev.jlens.view;

import java.awt.image.BufferedImage;
import java.nio.file.Path;

/**
 * A result that draws as a line or bar chart: text in the terminal, and from one {@link #image()} a PNG file and a
 * self-contained HTML page that {@link #show()} opens, as a {@link HeatmapFigure} does.
 */
public interface ChartFigure {
    /** The chart as text (bars or a sparkline with a table). */
    String toText(TerminalStyle style);

    default String toText() {
        return toText(TerminalStyle.detect());
    }

    /** The chart drawn ({@link PngCharts#lineImage}, {@link PngCharts#barsImage}). */
    BufferedImage image();

    /** Writes the chart as a PNG and returns the file. */
    default Path savePng(Path file) {
        return PngCharts.write(image(), file);
    }

    default Path savePng(String file) {
        return savePng(Path.of(file));
    }

    /** A short file name for {@link #savePng()} and {@link #show()} ("dla"). */
    default String figureName() {
        return "chart";
    }

    /** Saves the PNG under {@link Browser#figuresDir()}, named after what it shows (its first line of text), says where, returns the file. */
    default Path savePng() {
        Path file = savePng(Browser.figureFile(figureName(), caption(), "png")).toAbsolutePath();
        System.out.println("wrote " + file);
        return file;
    }

    /** A page with the chart (inline, no files beside it) above its text. */
    default String html() {
        return HtmlPages.chart(caption(), image(), toText(TerminalStyle.plain()));
    }

    default Path saveHtml(Path file) {
        return HtmlPages.write(file, html());
    }

    default Path saveHtml(String file) {
        return saveHtml(Path.of(file));
    }

    /** Writes the HTML page under {@link Browser#figuresDir()} and opens it (or prints where it is). */
    default Path show() {
        return Browser.show(figureName(), html());
    }

    /** What the chart shows: the first line of its text. */
    private String caption() {
        return toText(TerminalStyle.plain()).lines().findFirst().orElse("");
    }
}
