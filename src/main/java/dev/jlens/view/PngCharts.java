package dev.jlens.view;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.AffineTransform;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;

/**
 * Heatmaps, line charts and bar charts as PNG files, drawn with Java2D so that a script can save
 * figures with no display and no extra dependency. Java2D runs headless: unless the caller chose
 * otherwise, {@code java.awt.headless} is set to true before the first figure is drawn.
 */
public final class PngCharts {
    private PngCharts() {}

    static {
        if (System.getProperty("java.awt.headless") == null) System.setProperty("java.awt.headless", "true");
    }

    private static final Font LABEL = new Font(Font.SANS_SERIF, Font.PLAIN, 12);
    private static final Font SMALL = new Font(Font.SANS_SERIF, Font.PLAIN, 11);
    private static final Font TITLE = new Font(Font.SANS_SERIF, Font.BOLD, 14);
    /** Matplotlib's "tab10" series colours. */
    private static final int[] SERIES = {0x1f77b4, 0xff7f0e, 0x2ca02c, 0xd62728, 0x9467bd, 0x8c564b, 0xe377c2, 0x7f7f7f, 0xbcbd22, 0x17becf};
    private static final int MARGIN = 16;

    // ------------------------------------------------------------------ heatmap

    /** The most pixels a heatmap figure spans either way, unless its cells hold text (which keeps its size). */
    static final int MAX_SIDE = 1600;

    /** Writes {@code h} to {@code file} and returns the file. */
    public static Path heatmap(Heatmap h, Path file) {
        return write(heatmapImage(h), file);
    }

    /** Writes several heatmaps, each with its own colour bar, tiled in one picture; returns the file. */
    public static Path heatmaps(List<Heatmap> panels, Path file) {
        return write(heatmapsImage(panels), file);
    }

    /**
     * Several heatmaps in a grid of about as many columns as rows (four make 2 × 2), each drawn whole, with its own
     * scale, inside its share of {@link #MAX_SIDE}.
     */
    public static BufferedImage heatmapsImage(List<Heatmap> panels) {
        if (panels.size() == 1) return heatmapImage(panels.get(0));
        int columns = (int) Math.ceil(Math.sqrt(panels.size())), rows = (panels.size() + columns - 1) / columns;
        BufferedImage[] images = new BufferedImage[panels.size()];
        int[] colW = new int[columns], rowH = new int[rows];
        for (int i = 0; i < images.length; i++) {
            images[i] = heatmapImage(panels.get(i), MAX_SIDE / columns, MAX_SIDE / rows);
            colW[i % columns] = Math.max(colW[i % columns], images[i].getWidth());
            rowH[i / columns] = Math.max(rowH[i / columns], images[i].getHeight());
        }
        BufferedImage img = new BufferedImage(java.util.Arrays.stream(colW).sum(), java.util.Arrays.stream(rowH).sum(),
                BufferedImage.TYPE_INT_RGB);
        Graphics2D g = graphics(img);
        for (int i = 0, y = 0; i < images.length; i++) {
            int x = 0;
            for (int c = 0; c < i % columns; c++) x += colW[c];
            g.drawImage(images[i], x, y, null);
            if (i % columns == columns - 1) y += rowH[i / columns];
        }
        g.dispose();
        return img;
    }

    public static BufferedImage heatmapImage(Heatmap h) {
        return heatmapImage(h, MAX_SIDE, MAX_SIDE);
    }

    /** {@code h} within {@code maxW × maxH} pixels when its cells are colour only, by shrinking them. */
    static BufferedImage heatmapImage(Heatmap h, int maxW, int maxH) {
        Graphics2D probe = probe();
        FontMetrics lm = probe.getFontMetrics(LABEL), sm = probe.getFontMetrics(SMALL);
        int textW = 0;
        boolean hasText = h.cellText() != null;
        if (hasText) {
            for (int r = 0; r < h.rows(); r++) {
                for (int c = 0; c < h.cols(); c++) {
                    String t = h.text(r, c);
                    if (t != null) textW = Math.max(textW, sm.stringWidth(Labels.fit(Labels.printable(t), 10)));
                }
            }
        }
        // Rotated labels need a cell at least one text line wide, or neighbours overprint.
        int minCell = lm.getHeight() + 2;
        int cellW = hasText ? clamp(textW + 8, 26, 90) : clamp(720 / Math.max(1, h.cols()), minCell, 48);
        int cellH = hasText ? 20 : clamp(cellW, minCell, 32);
        int rowLabelW = maxWidth(lm, h.rowLabels(), 24);
        int colLabelW = maxWidth(lm, h.colLabels(), 16);
        int topW = h.topLabels() == null ? 0 : maxWidth(lm, h.topLabels(), 16);
        int left = MARGIN + rowLabelW + 8;
        int titleH = MARGIN + (h.title() == null ? 0 : 24);
        if (!hasText) {
            // Colour-only cells shrink below a label's height to keep a long prompt's picture in bounds; the labels then
            // thin out (below). Room is what is left after the labels and colour bar at their largest.
            int roomW = maxW - left - 16 - ColourBar.of(sm, h.scale(), h.valueName(), 80).width() - MARGIN;
            int roomH = maxH - titleH - (h.topLabels() == null ? 0 : Math.max(topW + 8, lm.getHeight() + 6))
                    - Math.max(colLabelW + 8, lm.getHeight() + 6) - MARGIN;
            cellW = Math.min(cellW, Math.max(1, roomW / Math.max(1, h.cols())));
            cellH = Math.min(cellH, Math.max(1, roomH / Math.max(1, h.rows())));
        }
        boolean rotateCols = colLabelW > cellW - 2;
        // Every step-th label only, when cells are thinner than a line of text: skipped labels beat overprinted ones.
        int rowStep = (lm.getHeight() + cellH - 1) / cellH;
        int colStep = rotateCols ? (lm.getHeight() + cellW - 1) / cellW : 1;
        int bottom = rotateCols ? colLabelW + 8 : lm.getHeight() + 6;
        int top = titleH;
        if (h.topLabels() != null) top += (topW > cellW - 2 ? topW + 8 : lm.getHeight() + 6);
        int gridW = cellW * h.cols(), gridH = cellH * h.rows();
        ColourBar bar = ColourBar.of(sm, h.scale(), h.valueName(), Math.max(gridH, 80));
        int titleW = h.title() == null ? 0 : probe.getFontMetrics(TITLE).stringWidth(h.title()) + 2 * MARGIN;
        int width = Math.max(Math.max(left + gridW + 16 + bar.width() + MARGIN, 320), Math.min(titleW, maxW));
        int height = top + Math.max(gridH, 80) + bottom + MARGIN;

        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = graphics(img);
        if (h.title() != null) title(g, h.title(), width);
        for (int r = 0; r < h.rows(); r++) {
            for (int c = 0; c < h.cols(); c++) {
                double v = h.values()[r][c];
                int rgb = h.scale().rgb(v);
                g.setColor(new Color(rgb));
                int x = left + c * cellW, y = top + r * cellH;
                g.fillRect(x, y, cellW, cellH);
                String t = h.text(r, c);
                if (t != null) {
                    g.setFont(SMALL);
                    g.setColor(new Color(Palette.textOn(rgb)));
                    String s = Labels.fit(Labels.printable(t), 10);
                    g.drawString(s, x + (cellW - sm.stringWidth(s)) / 2, y + (cellH + sm.getAscent() - sm.getDescent()) / 2);
                }
            }
        }
        g.setColor(Color.DARK_GRAY);
        g.drawRect(left, top, gridW, gridH);
        g.setFont(LABEL);
        g.setColor(Color.BLACK);
        for (int r = 0; r < h.rows(); r += rowStep) {
            String s = Labels.fit(Labels.printable(h.rowLabels().get(r)), 24);
            g.drawString(s, left - 6 - lm.stringWidth(s), top + r * cellH + (cellH + lm.getAscent() - lm.getDescent()) / 2);
        }
        columnLabels(g, lm, h.colLabels(), left, cellW, colStep, top + gridH + 4, rotateCols, false);
        if (h.topLabels() != null) {
            boolean rotateTop = topW > cellW - 2;
            columnLabels(g, lm, h.topLabels(), left, cellW, rotateTop ? colStep : 1, top - 4, rotateTop, true);
        }
        colourBar(g, h.scale(), bar, left + gridW + 16, top, Math.max(gridH, 80));
        g.dispose();
        return img;
    }

    private static void columnLabels(Graphics2D g, FontMetrics fm, List<String> labels, int left, int cellW, int step, int y,
                                     boolean rotate, boolean above) {
        for (int c = 0; c < labels.size(); c += step) {
            String s = Labels.fit(Labels.printable(labels.get(c)), 16);
            int cx = left + c * cellW + cellW / 2;
            if (!rotate) {
                int baseline = above ? y - fm.getDescent() : y + fm.getAscent();
                g.drawString(s, cx - fm.stringWidth(s) / 2, baseline);
            } else {
                AffineTransform saved = g.getTransform();
                g.translate(cx + (fm.getAscent() - fm.getDescent()) / 2, y);
                g.rotate(-Math.PI / 2);
                // Below the grid the text runs downward from the grid; above it, upward from it.
                g.drawString(s, above ? 0 : -fm.stringWidth(s), 0);
                g.setTransform(saved);
            }
        }
    }

    private static final int BAR_W = 14;

    /**
     * A colour bar's layout: its end values and its name broken into lines no longer than the bar, so the name is
     * never cut. Computed once and used both to size the image and to draw, so the two cannot disagree.
     *
     * @param hi        the top value's label
     * @param lo        the bottom value's label
     * @param numbersW  the wider of the two
     * @param nameLines the name, each line at most the bar's height long (drawn rotated, side by side)
     * @param width     everything right of the grid's gap: bar, numbers and name lines
     */
    record ColourBar(String hi, String lo, int numbersW, List<String> nameLines, int width) {
        static ColourBar of(FontMetrics fm, ColourScale s, String name, int height) {
            String hi = Labels.number(s.max()), lo = Labels.number(s.min());
            int numbers = Math.max(fm.stringWidth(hi), fm.stringWidth(lo));
            List<String> lines = wrap(fm, (s.log() ? "log " : "") + name, height);
            return new ColourBar(hi, lo, numbers, lines, BAR_W + 4 + numbers + 6 + lines.size() * fm.getHeight());
        }
    }

    /** {@code text} in lines at most {@code width} pixels wide: at spaces, and inside a word only when it alone is too wide. */
    static List<String> wrap(FontMetrics fm, String text, int width) {
        List<String> lines = new java.util.ArrayList<>();
        String line = "";
        for (String word : text.trim().split(" +")) {
            String joined = line.isEmpty() ? word : line + " " + word;
            if (fm.stringWidth(joined) <= width) {
                line = joined;
                continue;
            }
            if (!line.isEmpty()) lines.add(line);
            line = word;
            while (fm.stringWidth(line) > width && line.length() > 1) {
                int cut = line.length() - 1;
                while (cut > 1 && fm.stringWidth(line.substring(0, cut)) > width) cut--;
                lines.add(line.substring(0, cut));
                line = line.substring(cut);
            }
        }
        if (!line.isEmpty()) lines.add(line);
        return lines;
    }

    /** A vertical gradient with its end values beside it and its name, rotated, beyond them. */
    private static void colourBar(Graphics2D g, ColourScale s, ColourBar bar, int x, int y, int h) {
        for (int i = 0; i < h; i++) {
            g.setColor(s.palette().color(1 - i / (double) (h - 1)));
            g.fillRect(x, y + i, BAR_W, 1);
        }
        g.setColor(Color.DARK_GRAY);
        g.drawRect(x, y, BAR_W, h);
        g.setFont(SMALL);
        g.setColor(Color.BLACK);
        FontMetrics fm = g.getFontMetrics();
        g.drawString(bar.hi(), x + BAR_W + 4, y + fm.getAscent());
        g.drawString(bar.lo(), x + BAR_W + 4, y + h);
        int lineX = x + BAR_W + 4 + bar.numbersW() + 6;
        for (String line : bar.nameLines()) {
            AffineTransform saved = g.getTransform();
            g.translate(lineX + fm.getAscent(), y + h / 2 + fm.stringWidth(line) / 2);
            g.rotate(-Math.PI / 2);
            g.drawString(line, 0, 0);
            g.setTransform(saved);
            lineX += fm.getHeight();
        }
    }

    // ------------------------------------------------------------------ line chart

    public static Path line(LineChart chart, Path file) {
        return write(lineImage(chart), file);
    }

    public static BufferedImage lineImage(LineChart chart) {
        int n = chart.xLabels().size();
        double lo = Double.POSITIVE_INFINITY, hi = Double.NEGATIVE_INFINITY;
        for (LineChart.Series s : chart.series()) {
            for (double v : s.values()) {
                if (!Double.isFinite(v)) continue;
                lo = Math.min(lo, v);
                hi = Math.max(hi, v);
            }
        }
        Axis y = Axis.nice(lo, hi);
        Graphics2D probe = probe();
        FontMetrics lm = probe.getFontMetrics(LABEL);
        int step = clamp(900 / Math.max(1, n), 6, 40);
        boolean rotate = maxWidth(lm, chart.xLabels(), 14) > step - 2;
        int bottom = (rotate ? maxWidth(lm, chart.xLabels(), 14) : lm.getHeight()) + 8 + lm.getHeight() + 4;
        int left = MARGIN + lm.getHeight() + maxTickWidth(lm, y) + 10;
        int top = MARGIN + 24 + (chart.series().size() > 1 ? lm.getHeight() + 4 : 0);
        int plotW = Math.max(step * n, 300), plotH = 320;
        int width = left + plotW + 2 * MARGIN, height = top + plotH + bottom + MARGIN;

        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = graphics(img);
        title(g, chart.title(), width);
        yAxis(g, lm, y, chart.yName(), left, top, plotW, plotH);
        double xStep = plotW / (double) Math.max(1, n);
        xLabels(g, lm, chart.xLabels(), left, xStep, top + plotH + 4, rotate);
        g.setFont(LABEL);
        g.drawString(chart.xName(), left + plotW / 2 - lm.stringWidth(chart.xName()) / 2, height - MARGIN);
        for (int si = 0; si < chart.series().size(); si++) {
            LineChart.Series s = chart.series().get(si);
            Color col = new Color(SERIES[si % SERIES.length]);
            g.setColor(col);
            g.setStroke(new BasicStroke(2f));
            Path2D.Double path = new Path2D.Double();
            boolean pen = false;
            for (int i = 0; i < n; i++) {
                double v = s.values()[i];
                if (!Double.isFinite(v)) {
                    pen = false;
                    continue;
                }
                double px = left + (i + 0.5) * xStep, py = top + plotH - y.fraction(v) * plotH;
                if (pen) path.lineTo(px, py);
                else path.moveTo(px, py);
                pen = true;
            }
            g.draw(path);
            for (int i = 0; i < n; i++) {
                double v = s.values()[i];
                if (!Double.isFinite(v)) continue;
                double px = left + (i + 0.5) * xStep, py = top + plotH - y.fraction(v) * plotH;
                g.fillOval((int) px - 3, (int) py - 3, 6, 6);
            }
        }
        if (chart.series().size() > 1) legend(g, lm, chart.series(), left, MARGIN + 24);
        g.dispose();
        return img;
    }

    private static void legend(Graphics2D g, FontMetrics fm, List<LineChart.Series> series, int x, int y) {
        g.setFont(LABEL);
        for (int i = 0; i < series.size(); i++) {
            g.setColor(new Color(SERIES[i % SERIES.length]));
            g.fillRect(x, y + 2, 14, 10);
            g.setColor(Color.BLACK);
            g.drawString(series.get(i).name(), x + 18, y + fm.getAscent());
            x += 30 + fm.stringWidth(series.get(i).name());
        }
    }

    // ------------------------------------------------------------------ bar chart

    public static Path bars(BarChart chart, Path file) {
        return write(barsImage(chart), file);
    }

    public static BufferedImage barsImage(BarChart chart) {
        int n = chart.labels().size();
        double lo = 0, hi = 0;
        for (double v : chart.values()) {
            if (!Double.isFinite(v)) continue;
            lo = Math.min(lo, v);
            hi = Math.max(hi, v);
        }
        Axis y = Axis.nice(lo, hi == lo ? lo + 1 : hi);
        Graphics2D probe = probe();
        FontMetrics lm = probe.getFontMetrics(LABEL);
        int step = clamp(900 / Math.max(1, n), 8, 60);
        boolean rotate = maxWidth(lm, chart.labels(), 14) > step - 2;
        int bottom = (rotate ? maxWidth(lm, chart.labels(), 14) : lm.getHeight()) + 12;
        int left = MARGIN + lm.getHeight() + maxTickWidth(lm, y) + 10;
        int top = MARGIN + 24;
        int plotW = Math.max(step * n, 200), plotH = 320;
        int width = left + plotW + 2 * MARGIN, height = top + plotH + bottom + MARGIN;

        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = graphics(img);
        title(g, chart.title(), width);
        yAxis(g, lm, y, chart.valueName(), left, top, plotW, plotH);
        double xStep = plotW / (double) Math.max(1, n);
        int zero = (int) Math.round(top + plotH - y.fraction(0) * plotH);
        for (int i = 0; i < n; i++) {
            double v = chart.values()[i];
            if (!Double.isFinite(v)) continue;
            int yv = (int) Math.round(top + plotH - y.fraction(v) * plotH);
            int x = (int) Math.round(left + i * xStep + xStep * 0.1);
            int w = Math.max(1, (int) Math.round(xStep * 0.8));
            g.setColor(new Color(v >= 0 ? SERIES[0] : SERIES[3]));
            g.fillRect(x, Math.min(yv, zero), w, Math.max(1, Math.abs(zero - yv)));
        }
        g.setColor(Color.DARK_GRAY);
        g.drawLine(left, zero, left + plotW, zero);
        xLabels(g, lm, chart.labels(), left, xStep, top + plotH + 4, rotate);
        g.dispose();
        return img;
    }

    // ------------------------------------------------------------------ shared pieces

    /** A y axis from {@code min} to {@code max} at round tick values. */
    record Axis(double min, double max, double step) {
        static Axis nice(double lo, double hi) {
            if (!Double.isFinite(lo) || !Double.isFinite(hi)) return new Axis(0, 1, 0.2);
            if (hi == lo) {
                lo -= 0.5;
                hi += 0.5;
            }
            double raw = (hi - lo) / 5, mag = Math.pow(10, Math.floor(Math.log10(raw)));
            double f = raw / mag;
            double step = (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
            return new Axis(Math.floor(lo / step) * step, Math.ceil(hi / step) * step, step);
        }

        double fraction(double v) {
            return (v - min) / (max - min);
        }
    }

    private static void yAxis(Graphics2D g, FontMetrics fm, Axis y, String name, int left, int top, int plotW, int plotH) {
        g.setFont(LABEL);
        for (double t = y.min(); t <= y.max() + y.step() / 2; t += y.step()) {
            int py = (int) Math.round(top + plotH - y.fraction(t) * plotH);
            g.setColor(new Color(0xe6e6e6));
            g.drawLine(left, py, left + plotW, py);
            g.setColor(Color.BLACK);
            String s = tick(t, y.step());
            g.drawString(s, left - 6 - fm.stringWidth(s), py + fm.getAscent() / 2 - 1);
        }
        g.setColor(Color.DARK_GRAY);
        g.drawLine(left, top, left, top + plotH);
        AffineTransform saved = g.getTransform();
        g.translate(MARGIN + fm.getAscent(), top + plotH / 2 + fm.stringWidth(name) / 2);
        g.rotate(-Math.PI / 2);
        g.setColor(Color.BLACK);
        g.drawString(name, 0, 0);
        g.setTransform(saved);
    }

    private static void xLabels(Graphics2D g, FontMetrics fm, List<String> labels, int left, double xStep, int y, boolean rotate) {
        g.setFont(LABEL);
        g.setColor(Color.BLACK);
        for (int i = 0; i < labels.size(); i++) {
            String s = Labels.fit(Labels.printable(labels.get(i)), 14);
            int cx = (int) Math.round(left + (i + 0.5) * xStep);
            if (rotate) {
                AffineTransform saved = g.getTransform();
                g.translate(cx + (fm.getAscent() - fm.getDescent()) / 2, y);
                g.rotate(-Math.PI / 2);
                g.drawString(s, -fm.stringWidth(s), 0);
                g.setTransform(saved);
            } else {
                g.drawString(s, cx - fm.stringWidth(s) / 2, y + fm.getAscent());
            }
        }
    }

    private static int maxTickWidth(FontMetrics fm, Axis y) {
        int w = 0;
        for (double t = y.min(); t <= y.max() + y.step() / 2; t += y.step()) w = Math.max(w, fm.stringWidth(tick(t, y.step())));
        return w;
    }

    private static String tick(double v, double step) {
        if (Math.abs(v) < step * 1e-6) v = 0;
        int decimals = Math.max(0, (int) Math.ceil(-Math.log10(step)));
        return String.format("%." + decimals + "f", v);
    }

    private static void title(Graphics2D g, String title, int width) {
        if (title == null || title.isEmpty()) return;
        g.setFont(TITLE);
        g.setColor(Color.BLACK);
        FontMetrics fm = g.getFontMetrics();
        String s = title;
        while (fm.stringWidth(s) > width - 2 * MARGIN && s.length() > 4) s = s.substring(0, s.length() - 2);
        if (!s.equals(title)) s = s + "…";
        g.drawString(s, Math.max(MARGIN, (width - fm.stringWidth(s)) / 2), MARGIN + fm.getAscent());
    }

    private static int maxWidth(FontMetrics fm, List<String> labels, int maxChars) {
        int w = 0;
        for (String l : labels) w = Math.max(w, fm.stringWidth(Labels.fit(Labels.printable(l), maxChars)));
        return w;
    }

    private static int clamp(int v, int lo, int hi) {
        return Math.max(lo, Math.min(hi, v));
    }

    /** For measuring text: the same rendering hints as {@link #graphics}, since they can change glyph advances. */
    private static Graphics2D probe() {
        return graphics(new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB));
    }

    private static Graphics2D graphics(BufferedImage img) {
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, img.getWidth(), img.getHeight());
        g.setClip(0, 0, img.getWidth(), img.getHeight());
        return g;
    }

    /** Encodes {@code img} as PNG bytes (for pages that carry their pictures inline). */
    static byte[] png(BufferedImage img) {
        try {
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            if (!ImageIO.write(img, "png", out)) throw new IOException("no PNG writer in this JDK");
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException("could not encode a PNG", e);
        }
    }

    static Path write(BufferedImage img, Path file) {
        try {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) Files.createDirectories(parent);
            if (!ImageIO.write(img, "png", file.toFile())) throw new IOException("no PNG writer in this JDK");
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException("could not write " + file, e);
        }
    }
}
