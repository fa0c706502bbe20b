package dev.jlens.view;

import java.nio.file.Path;

/** A result that draws as a line or bar chart: text in the terminal, PNG for figures. */
public interface ChartFigure {
    /** The chart as text (bars or a sparkline with a table). */
    String toText(TerminalStyle style);

    default String toText() {
        return toText(TerminalStyle.detect());
    }

    /** Writes the chart as a PNG and returns the file. */
    Path savePng(Path file);

    default Path savePng(String file) {
        return savePng(Path.of(file));
    }

    /** A short file name for {@link #savePng()} ("dla"). */
    default String figureName() {
        return "chart";
    }

    /** Saves the PNG under {@link Browser#figuresDir()}, named after what it shows (its first line of text), says where, returns the file. */
    default Path savePng() {
        String title = toText(TerminalStyle.plain()).lines().findFirst().orElse("");
        Path file = savePng(Browser.figureFile(figureName(), title, "png")).toAbsolutePath();
        System.out.println("wrote " + file);
        return file;
    }
}
