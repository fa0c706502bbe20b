package dev.jlens.analysis;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.model.HookedTransformer;
import dev.jlens.testing.TestData;
import dev.jlens.view.TerminalStyle;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class LogitLensTest {
    static HookedTransformer gpt2() {
        return HookedTransformer.fromPretrained(TestData.file("fixtures/gpt2-tiny").toString());
    }

    static HookedTransformer charModel() {
        return HookedTransformer.fromPretrained(TestData.file("fixtures/charlm-tiny").toString());
    }

    /** The last stage is the model's own output, so its row must be the model's prediction. */
    @Test
    void lastRowIsTheModelsOwnPrediction() {
        for (HookedTransformer model : List.of(gpt2(), charModel())) {
            String prompt = "ROMEO: Is the day so young?";
            INDArray tokens = model.toTokens(prompt);
            LogitLens lens = LogitLens.of(model, tokens, true);
            INDArray logits = model.forward(tokens).slice(0);                          // [pos, d_vocab]
            int[] predicted = Nd4j.argMax(logits, 1).castTo(DataType.INT).toIntVector();
            assertArrayEquals(predicted, lens.finalPredictions());
            INDArray probs = org.nd4j.linalg.ops.transforms.Transforms.exp(Distributions.logProbs(logits), false);
            double[] top = probs.max(1).castTo(DataType.DOUBLE).toDoubleVector();
            double[] lensTop = lens.topProb()[lens.stages().size() - 1];
            for (int p = 0; p < top.length; p++) assertEquals(top[p], lensTop[p], 1e-6, "probability at " + p);
            for (int p = 0; p < top.length; p++) {
                assertEquals(0, lens.klToFinal()[lens.stages().size() - 1][p], 1e-6, "final KL to itself");
                assertEquals(1, lens.finalTopRank()[lens.stages().size() - 1][p], "final top token ranks first");
            }
            assertEquals(1 + 2 * model.cfg().nLayers(), lens.stages().size());
        }
    }

    @Test
    void decodingTheFinalResidualGivesTheLogits() {
        HookedTransformer model = gpt2();
        INDArray tokens = model.toTokens("Hello world, hello");
        var run = model.runWithCache(tokens);
        INDArray decoded = Unembed.logits(model, run.cache().get("resid_post", -1).slice(0));
        double diff = decoded.sub(run.logits().slice(0)).amaxNumber().doubleValue();
        assertTrue(diff < 1e-5, "max |Δ| " + diff);
    }

    @Test
    void starsMarkPositionsWhereTheFinalPredictionIsRight() {
        HookedTransformer model = charModel();
        LogitLens lens = LogitLens.of(model, "First Citizen:");
        int[] pred = lens.finalPredictions();
        List<String> toks = lens.tokens();
        for (int p = 0; p + 1 < toks.size(); p++) {
            boolean right = model.tokenizer().tokenString(pred[p]).equals(toks.get(p + 1));
            assertEquals(right, lens.finalCorrect()[p]);
            assertEquals(right, lens.heatmap().topLabels().get(p).endsWith("*"));
        }
        String text = lens.toText(TerminalStyle.plain());
        assertTrue(text.contains("embed") && text.contains("L0"), text);
        System.out.println(text);
        System.out.println(lens.colouredBy(LogitLens.Colour.RANK).toText(new TerminalStyle(true, 100)));
    }

    /** Issue 16: a 61-character lens wrapped into an unreadable block in a 200-column terminal. */
    @Test
    void theLensFitsTheTerminalWidthInColourAndInPlainText() {
        LogitLens lens = LogitLens.of(HookedTransformer.fromPretrained("artifacts/shakespeare-char"),
                "First Citizen: Before we proceed any further, hear me speak.");
        for (TerminalStyle style : List.of(new TerminalStyle(true, 200), new TerminalStyle(false, 200), new TerminalStyle(false, 80),
                new TerminalStyle(true, 60))) {
            String text = lens.toText(style);
            for (String line : text.split("\n")) {
                int visible = dev.jlens.view.Labels.width(line.replaceAll("\u001b\\[[0-9;]*m", ""));
                assertTrue(visible <= style.columns(), visible + " > " + style.columns() + " columns: '" + line + "'\n" + text);
            }
            assertTrue(text.contains("embed"), text);
        }
    }
}
