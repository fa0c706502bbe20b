package dev.jlens.view;

import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;

/**
 * A result that draws as one {@link Heatmap}, or as several side by side ({@link #panels()}): it prints as coloured
 * text, saves as PNG or HTML, and opens in the browser, all from the same panels.
 */
public interface HeatmapFigure {
    /** A figure of a ready-made heatmap, saved and shown under {@code name}. */
    static HeatmapFigure of(Heatmap heatmap, String name) {
        return new HeatmapFigure() {
            @Override
            public Heatmap heatmap() {
                return heatmap;
            }

            @Override
            public String figureName() {
                return name;
            }

            @Override
            public String toString() {
                return toText();
            }
        };
    }

    /** The grid to draw. */
    Heatmap heatmap();

    /**
     * What is drawn: {@link #heatmap()} alone, unless the figure is several grids of different sizes of number (a
     * score decomposition's terms), each of which then gets its own colour scale and colour bar.
     */
    default List<Heatmap> panels() {
        return List.of(heatmap());
    }

    /** A short file name for {@link #show()} ("logit-lens"). */
    default String figureName() {
        return "heatmap";
    }

    /** Coloured when the terminal allows it (see {@link TerminalStyle#detect()}). */
    default String toText() {
        return toText(TerminalStyle.detect());
    }

    default String toText(TerminalStyle style) {
        return panels().stream().map(p -> AnsiHeatmap.render(p, style)).collect(Collectors.joining("\n"));
    }

    default Path savePng(Path file) {
        return PngCharts.heatmaps(panels(), file);
    }

    default Path savePng(String file) {
        return savePng(Path.of(file));
    }

    /**
     * Saves the PNG under {@link Browser#figuresDir()}, named after what it shows ({@link Browser#figureFile}: a logit
     * lens coloured by rank does not overwrite one coloured by probability), says where, returns the file.
     */
    default Path savePng() {
        Path file = savePng(Browser.figureFile(figureName(), heatmap().title(), "png")).toAbsolutePath();
        System.out.println("wrote " + file);
        return file;
    }

    default String html() {
        return HtmlPages.heatmaps(panels());
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
}
