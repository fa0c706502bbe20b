package dev.jlens.view;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.analysis.AttentionPatterns;
import dev.jlens.analysis.LogitLens;
import dev.jlens.model.HookedTransformer;
import dev.jlens.testing.Programs;
import dev.jlens.testing.TestData;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The HTML views loaded in headless Chromium: each page's script runs to the end (it marks the
 * body with {@code data-jlens-ready}), no JavaScript error is caught into the page, and the
 * attention view has one panel per head. Pages are read back with {@code --dump-dom}, the DOM
 * after the page's scripts ran.
 */
class HtmlInChromiumTest {
    static Path chromium;
    @TempDir Path tmp;

    @BeforeAll
    static void findChromium() {
        chromium = Programs.require("chromium");
    }

    static HookedTransformer gpt2() {
        return HookedTransformer.fromPretrained(TestData.file("fixtures/gpt2-tiny").toString());
    }

    /** Chromium's flags for a headless run that touches nothing outside a throw-away profile. */
    private List<String> command(String... extra) throws IOException {
        List<String> c = new ArrayList<>(List.of(chromium.toString(), "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--disable-dev-shm-usage", "--user-data-dir=" + Files.createTempDirectory(tmp, "profile")));
        c.addAll(List.of(extra));
        return c;
    }

    private String dumpDom(Path page) throws IOException, InterruptedException {
        Path out = tmp.resolve("dom-" + System.nanoTime() + ".html");
        Process p = new ProcessBuilder(command("--dump-dom", page.toUri().toString()))
                .redirectOutput(out.toFile()).redirectError(tmp.resolve("chromium.log").toFile()).start();
        assertTrue(p.waitFor(90, TimeUnit.SECONDS), "chromium did not finish in 90 s");
        String dom = Files.readString(out, StandardCharsets.UTF_8);
        assertTrue(dom.contains("<body"), "no DOM from chromium (exit " + p.exitValue() + "): "
                + Files.readString(tmp.resolve("chromium.log")));
        return dom;
    }

    private static String bodyAttribute(String dom, String name) {
        Matcher m = Pattern.compile("<body[^>]*\\s" + Pattern.quote(name) + "=\"([^\"]*)\"").matcher(dom);
        return m.find() ? m.group(1) : null;
    }

    /** The error the page's catcher recorded on {@code <html>}, or null. */
    private static String htmlError(String dom) {
        Matcher m = Pattern.compile("<html[^>]*\\sdata-jlens-error=\"([^\"]*)\"").matcher(dom);
        return m.find() ? m.group(1) : null;
    }

    private static void assertNoErrors(String dom) {
        assertEquals(null, htmlError(dom), "a JavaScript error was caught");
        Matcher m = Pattern.compile("<pre id=\"jlens-errors\"[^>]*>(.*?)</pre>", Pattern.DOTALL).matcher(dom);
        assertTrue(m.find(), "the error box is missing");
        assertEquals("", m.group(1).trim(), "errors on the page");
    }

    @Test
    void theAttentionViewLoadsWithOnePanelPerHead() throws Exception {
        HookedTransformer model = gpt2();
        String prompt = "When John and Mary went to the shops, John gave the bag to Mary. <script>alert(1)</script> & done";
        Path layer = AttentionPatterns.of(model, prompt, 1).saveHtml(tmp.resolve("attention-layer1.html"));
        String dom = dumpDom(layer);
        assertNoErrors(dom);
        assertEquals("attention", bodyAttribute(dom, "data-jlens-ready"));
        assertEquals(String.valueOf(model.cfg().nHeads()), bodyAttribute(dom, "data-jlens-panels"));
        assertEquals(model.cfg().nHeads(), count(dom, "class=\"head"), "one panel per head in the DOM");
        assertFalse(dom.contains("<script>alert(1)"), "token text is escaped, never markup");

        Path all = AttentionPatterns.all(model, prompt).saveHtml(tmp.resolve("attention-all.html"));
        String domAll = dumpDom(all);
        assertNoErrors(domAll);
        assertEquals(String.valueOf(model.cfg().nHeads() * model.cfg().nLayers()), bodyAttribute(domAll, "data-jlens-panels"));
    }

    @Test
    void theHeatmapPageLoads() throws Exception {
        LogitLens lens = LogitLens.of(gpt2(), "The quick brown fox jumps over the lazy dog");
        String dom = dumpDom(lens.saveHtml(tmp.resolve("lens.html")));
        assertNoErrors(dom);
        assertEquals("heatmap", bodyAttribute(dom, "data-jlens-ready"));
        assertEquals(String.valueOf(lens.stages().size() * lens.tokens().size()), bodyAttribute(dom, "data-jlens-cells"));
    }

    /** A score decomposition's page has its four term tables, every cell of them, and a chart's page its picture. */
    @Test
    void thePanelAndChartPagesLoad() throws Exception {
        var d = dev.jlens.analysis.AttentionScoreDecomposition.of(gpt2(), "When John and Mary went", 0, 0);
        String dom = dumpDom(d.saveHtml(tmp.resolve("terms.html")));
        assertNoErrors(dom);
        int n = d.tokens().size();
        assertEquals(String.valueOf(4 * n * n), bodyAttribute(dom, "data-jlens-cells"));
        var lp = new dev.jlens.analysis.TokenLogProbs(List.of(" the", " king"), new double[] {-1.5, -0.25});
        String chart = dumpDom(lp.saveHtml(tmp.resolve("chart.html")));
        assertNoErrors(chart);
        assertEquals("chart", bodyAttribute(chart, "data-jlens-ready"));
        assertTrue(chart.contains("<img class=\"chart\""), "the chart is on the page");
    }

    /** The error catcher works: a page whose script throws says so in its DOM. */
    @Test
    void aScriptErrorIsCaughtIntoThePage() throws Exception {
        Path page = HtmlPages.write(tmp.resolve("broken.html"), Html.page("broken", "", "<p>x</p>", "undefinedFunction();"));
        String dom = dumpDom(page);
        String error = htmlError(dom);
        assertTrue(error != null && error.contains("undefinedFunction"), dom);
    }

    /** A screenshot of the attention view, kept in target/jlens-figures for looking at. */
    @Test
    void screenshotOfTheAttentionView() throws Exception {
        HookedTransformer model = gpt2();
        Path page = AttentionPatterns.of(model, "When John and Mary went to the shops, John gave the bag to", 0)
                .saveHtml(tmp.resolve("attention.html"));
        Path png = Path.of("target", "jlens-figures", "attention-view.png").toAbsolutePath();
        Files.createDirectories(png.getParent());
        Files.deleteIfExists(png);
        Process p = new ProcessBuilder(command("--screenshot=" + png, "--window-size=1200,1100", "--hide-scrollbars",
                page.toUri().toString())).redirectErrorStream(true).redirectOutput(tmp.resolve("shot.log").toFile()).start();
        assertTrue(p.waitFor(90, TimeUnit.SECONDS));
        assertTrue(Files.size(png) > 10_000, "screenshot " + png + ": " + Files.readString(tmp.resolve("shot.log")));
    }

    private static int count(String s, String needle) {
        int n = 0;
        for (int i = s.indexOf(needle); i >= 0; i = s.indexOf(needle, i + 1)) n++;
        return n;
    }
}
