package dev.jlens.view;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.analysis.NextTokenProbs;
import dev.jlens.analysis.TokenLogProbs;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Chart analyses open as a page, like heatmaps: one self-contained file holding the chart. */
class ChartFigureTest {

    /** The chart inside a page, decoded from its data URI. */
    static BufferedImage inlineImage(String html) throws Exception {
        Matcher m = Pattern.compile("src=\"data:image/png;base64,([A-Za-z0-9+/=]+)\"").matcher(html);
        assertTrue(m.find(), "the page holds a PNG data URI");
        return ImageIO.read(new ByteArrayInputStream(Base64.getDecoder().decode(m.group(1))));
    }

    static void assertSamePixels(BufferedImage want, BufferedImage got) {
        assertEquals(want.getWidth(), got.getWidth());
        assertEquals(want.getHeight(), got.getHeight());
        for (int y = 0; y < want.getHeight(); y++) {
            for (int x = 0; x < want.getWidth(); x++) assertEquals(want.getRGB(x, y), got.getRGB(x, y), "pixel " + x + "," + y);
        }
    }

    @Test
    void showWritesASelfContainedPageWithTheChart(@TempDir Path dir) throws Exception {
        String figures = System.getProperty("jlens.figures"), browser = System.getProperty("jlens.browser");
        System.setProperty("jlens.figures", dir.toString());
        System.setProperty("jlens.browser", "none");
        try {
            TokenLogProbs lp = new TokenLogProbs(List.of(" the", " king", "!"), new double[] {-1.5, -0.25, -4});
            NextTokenProbs next = new NextTokenProbs(List.of("ROMEO", ":"), new int[] {3, 7}, List.of(" O", "\n"), new double[] {0.6, 0.3});
            for (ChartFigure f : List.<ChartFigure>of(lp, next)) {
                Path page = f.show();
                assertEquals(dir.resolve(f.figureName() + ".html").toAbsolutePath(), page);
                String html = Files.readString(page);
                assertFalse(html.matches("(?s).*https?://.*"), "no address outside the page");
                assertFalse(html.contains("<link") || html.contains("<script src"), "nothing loaded from beside it");
                assertTrue(html.contains("<h1>" + Html.escape(f.toText(TerminalStyle.plain()).lines().findFirst().orElseThrow()) + "</h1>"), "its title");
                // The chart itself, the same drawing PngCharts makes of the figure's chart.
                BufferedImage want = f instanceof TokenLogProbs t ? PngCharts.lineImage(t.chart())
                        : PngCharts.barsImage(((NextTokenProbs) f).chart());
                assertSamePixels(want, inlineImage(html));
            }
        } finally {
            restore("jlens.figures", figures);
            restore("jlens.browser", browser);
        }
    }

    private static void restore(String key, String value) {
        if (value == null) System.clearProperty(key);
        else System.setProperty(key, value);
    }
}
