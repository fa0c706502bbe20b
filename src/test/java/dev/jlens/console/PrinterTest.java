package dev.jlens.console;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class PrinterTest {
    @Test
    void stringsAreQuotedAndEscapedLikeJava() {
        assertEquals("\"ROMEO:\\nThus \\\"he\\\"\"", Printer.render("ROMEO:\nThus \"he\""));
        assertEquals("'x'", Printer.render('x'));
        assertEquals("null", Printer.render(null));
    }

    @Test
    void listsOfRecordsAreTables() {
        String t = Printer.render(List.of(new TopToken(1, 5, " the", 0.5, 2.0), new TopToken(2, 7, "\n", 0.25, 1.0)));
        assertEquals("""
                rank  id  token  probability   logit
                ────  ──  ─────  ───────────  ──────
                   1   5  ·the        0.5000  2.0000
                   2   7  ⏎           0.2500  1.0000""", t);
    }

    @Test
    void onlyStringsMarkedAsTokensAreShownAsTokens() {
        // A plain label with spaces (an attribution target, a layer name) is shown unchanged, in a table and in a record.
        record Row(String what, @dev.jlens.view.Token String token, double p) {}
        assertEquals("""
                what              token       p
                ────────────────  ─────  ──────
                logit of ' Mary'  ·Mary  0.5000
                layer 3⏎head 1    ⏎      0.2500""",
                Printer.render(List.of(new Row("logit of ' Mary'", " Mary", 0.5), new Row("layer 3\nhead 1", "\n", 0.25))));
        record Labelled(String label, List<Integer> xs) {}
        assertEquals("Labelled[label=layer 3 head 1, xs=ArrayList(2)]",
                Printer.render(new Labelled("layer 3 head 1", new ArrayList<>(List.of(1, 2)))));
    }

    @Test
    void longCollectionsAndArraysAreCut() {
        List<Integer> many = new ArrayList<>();
        for (int i = 0; i < 1000; i++) many.add(i);
        String s = Printer.render(many);
        assertTrue(s.endsWith(", … (950 more)]"), s);
        String f = Printer.render(new float[50257]);
        assertTrue(f.startsWith("float[50257] { 0, 0,") && f.endsWith("… (50207 more) }"), f);
    }

    @Test
    void mapsOfArraysAreShapeTables() {
        Map<String, INDArray> m = new LinkedHashMap<>();
        m.put("embed.W_E", Nd4j.zeros(DataType.FLOAT, 65, 64));
        assertEquals("name       shape     dtype\n─────────  ────────  ─────\nembed.W_E  [65, 64]  FLOAT", Printer.render(m));
    }

    @Test
    void recordsHoldingArraysShowShapesNotValues() {
        record Pair(String name, INDArray a) {}
        assertEquals("Pair[name=x, a=FLOAT [1000, 1000]]", Printer.render(new Pair("x", Nd4j.zeros(DataType.FLOAT, 1000, 1000))));
    }

    @Test
    void aColouredTextIsCutByWhatShowsAndTheColourIsReset() {
        StringBuilder coloured = new StringBuilder();
        for (int i = 0; i < 50; i++) {
            for (int j = 0; j < 40; j++) coloured.append("\u001b[38;5;").append(j).append("mab\u001b[0m ");
            coloured.append('\n');
        }
        String cut = Printer.cut(coloured.toString());
        String visible = cut.replaceAll("\u001b\\[[0-9;]*[A-Za-z]", "");
        assertTrue(visible.length() <= Printer.MAX_CHARS + 40, "at most MAX_CHARS visible characters, not counting colour codes: " + visible.length());
        assertTrue(visible.length() > Printer.MAX_CHARS / 2, "colour codes do not eat the budget: " + visible.length());
        int lastEsc = cut.lastIndexOf('\u001b');
        assertTrue(cut.startsWith("\u001b[0m", lastEsc), "the last code is a reset, not half of one: " + cut.substring(Math.max(0, lastEsc - 5)));
        assertTrue(cut.contains("more chars)"), cut.substring(cut.length() - 40));
    }
}
