package dev.jlens.console;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.nd4j.linalg.indexing.NDArrayIndex.all;
import static org.nd4j.linalg.indexing.NDArrayIndex.point;

import dev.jlens.model.LogProbs;
import dev.jlens.model.HookedTransformer;
import dev.jlens.model.Run;
import dev.jlens.testing.TestData;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

/** The helpers on the char fixture model, without JShell. */
class HelpersTest {
    static HookedTransformer model;
    ByteArrayOutputStream printed;

    @BeforeAll
    static void load() {
        model = HookedTransformer.fromPretrained(TestData.file("fixtures/charlm-tiny").toString());
    }

    @BeforeEach
    void bind() {
        printed = new ByteArrayOutputStream();
        Helpers.bind(Binding.of(model, new PrintStream(printed, true, StandardCharsets.UTF_8)));
    }

    String printed() {
        return printed.toString(StandardCharsets.UTF_8);
    }

    @Test
    void topkPrintsATableAndReturnsTheRowsMostLikelyFirst() {
        List<TopToken> top = Helpers.topk("ROMEO:", 5);
        assertEquals(5, top.size());
        float[] last = model.forward("ROMEO:").get(point(0), point(5), all()).toFloatVector();
        int argmax = 0;
        for (int i = 1; i < last.length; i++) if (last[i] > last[argmax]) argmax = i;
        assertEquals(argmax, top.get(0).id());
        for (int i = 0; i < 5; i++) {
            assertEquals(i + 1, top.get(i).rank());
            assertEquals(model.tokenizer().tokenString(top.get(i).id()), top.get(i).token());
            if (i > 0) assertTrue(top.get(i).probability() <= top.get(i - 1).probability());
        }
        String[] lines = printed().split("\n");
        assertEquals("rank  token  probability  logit  id", lines[0]);
        assertEquals(7, lines.length);
        assertTrue(Shown.wasShown(top), "the console must not print the rows a second time");
    }

    @Test
    void topkOfLogitsUsesTheLastPosition() {
        INDArray logits = model.forward("ROMEO:");
        assertEquals(Helpers.topk("ROMEO:", 3).get(0).id(), Helpers.topk(logits, 3).get(0).id());
        assertEquals(Helpers.topk(logits, 3), Helpers.topk(logits.get(point(0), point(5), all()), 3));
    }

    @Test
    void theLogitLensLastRowIsTheModelsOwnPrediction() {
        dev.jlens.analysis.LogitLens lens = Helpers.logitLens("ROMEO:\nThus");
        assertEquals(model.cfg().nLayers() + 1, lens.stages().size());
        assertEquals("embed", lens.stages().get(0));
        INDArray logits = model.forward("ROMEO:\nThus");
        INDArray logProbs = LogProbs.logSoftmax(logits);
        int[] prediction = lens.finalPredictions();
        for (int p = 0; p < prediction.length; p++) {
            float[] row = logits.get(point(0), point(p), all()).toFloatVector();
            int best = 0;
            for (int v = 1; v < row.length; v++) if (row[v] > row[best]) best = v;
            assertEquals(best, prediction[p], "position " + p);
            double prob = Math.exp(logProbs.getDouble(0, p, best));
            assertEquals(prob, lens.topProb()[lens.stages().size() - 1][p], 1e-4, "probability at position " + p);
        }
        String table = printed();
        assertTrue(table.startsWith("Logit lens: top token per layer"), table);
        assertTrue(table.contains("⏎"), "the newline token is shown as ⏎: " + table);
        assertTrue(table.contains("embed ") && table.contains("L" + (model.cfg().nLayers() - 1) + " "), "a row per stage: " + table);
        assertSame(lens.getClass(), dev.jlens.analysis.LogitLens.class, "the console's lens is the analysis's, over the current run");
    }

    @Test
    void theLogitLensOfGpt2DecodesThroughItsOwnFinalLayerNormAndUnembedding() {
        // GPT-2: gelu_new, tied unembedding without b_U, BOS first. Token ids, so no text encoding is needed.
        HookedTransformer gpt2 = HookedTransformer.fromPretrained(TestData.file("fixtures/gpt2-tiny").toString());
        Helpers.bind(Binding.of(gpt2, new PrintStream(printed, true, StandardCharsets.UTF_8)));
        INDArray ids = org.nd4j.linalg.factory.Nd4j.createFromArray(new long[][] {{50256, 15496, 995, 11, 616}});
        dev.jlens.analysis.LogitLens lens = Helpers.logitLens(ids);
        INDArray logits = gpt2.forward(ids);
        int[] prediction = lens.finalPredictions();
        for (int p = 0; p < prediction.length; p++) {
            float[] row = logits.get(point(0), point(p), all()).toFloatVector();
            int best = 0;
            for (int v = 1; v < row.length; v++) if (row[v] > row[best]) best = v;
            assertEquals(best, prediction[p], "position " + p);
        }
        assertEquals(gpt2.cfg().nLayers() + 1, lens.stages().size());
        List<TopToken> top = Helpers.topk(logits, 3);
        assertEquals(prediction[prediction.length - 1], top.get(0).id());
    }

    @Test
    void runBecomesTheCurrentRunThatCacheReads() {
        assertThrows(IllegalStateException.class, () -> Helpers.cache("pattern", 0), "no run yet");
        Run r = Helpers.run("ROMEO:");
        assertSame(r, Helpers.currentRun());
        INDArray pattern = Helpers.cache("pattern", 0);
        assertArrayEquals(new long[] {1, model.cfg().nHeads(), 6, 6}, pattern.shape());
        assertSame(pattern, Helpers.cache("blocks.0.attn.hook_pattern"));
        assertSame(r.cache().get("normalized", 0, "ln2"), Helpers.cache("normalized", 0, "ln2"));
        assertTrue(printed().startsWith("tokens (6): ['R', 'O', 'M', 'E', 'O', ':']\ntop 5 next tokens:\nrank"), printed());
        String msg = assertThrows(IllegalArgumentException.class, () -> Helpers.cache("blocks.0.attn.hook_patern")).getMessage();
        assertTrue(msg.contains("closest: blocks.0.attn.hook_pattern"), msg);
    }

    @Test
    void hooksListsEveryRecordedActivationWithItsShape() {
        Helpers.run("ROMEO:");
        List<HookShape> hooks = Helpers.hooks();
        assertEquals(Helpers.currentRun().cache().keys(), hooks.stream().map(HookShape::name).toList());
        assertTrue(printed().contains("blocks.0.attn.hook_pattern      [1, 4, 6, 6]"), printed());
    }

    @Test
    void strTokensShowWhitespace() {
        assertEquals(List.of("a", " ", "b", "\n"), Helpers.strTokens("a b\n"));
        assertEquals("['a', '·', 'b', '⏎']\n", printed());
    }

    @Test
    void generateIsTheModelsGenerationPrintedAndRepeatable() {
        String text = Helpers.generate("ROMEO:", 40, 1337);
        assertEquals(model.generate("ROMEO:", 40, 1337), text);
        assertEquals(text, Helpers.generate("ROMEO:", 40, 1337));
        assertTrue(printed().startsWith(text + "\n"));
    }

    @Test
    void cornerShowAndParams() {
        assertArrayEquals(new long[] {3, 3}, Helpers.corner(model.W_E()).shape());
        assertArrayEquals(new long[] {2, 2}, Helpers.corner(model.W_E(), 2).shape());
        assertSame(model.W_E(), Helpers.show(model.W_E()));
        assertTrue(printed().startsWith("FLOAT [65, 64]  min "), printed());
        assertTrue(Helpers.params().containsKey("blocks.0.mlp.W_in"));
        assertTrue(printed().contains("blocks.0.mlp.W_in   [64, 256]"), printed());
    }

    @Test
    void helpKnowsEveryHelperAndTopic() {
        Helpers.help();
        String overview = printed();
        for (String h : List.of("run(prompt)", "cache(name[, layer[, sublayer]])", "topk(", "logitLens(prompt)", "hooks()")) {
            assertTrue(overview.contains(h), h + " missing from help()");
        }
        Helpers.help("completion");
        assertTrue(printed().contains("hook names inside cache"));
        Helpers.help("nonsense");
        assertTrue(printed().contains("no help on 'nonsense'"));
    }

    @Test
    void hooksChangeARunAndLoadRebindsTheHelpers() {
        INDArray plain = model.forward("ROMEO:");
        INDArray ablated = Helpers.runWithHooks("ROMEO:", Helpers.hook("blocks.0.hook_attn_out", (act, h) -> act.mul(0)));
        assertTrue(Helpers.maxAbsDiff(plain, ablated) > 1e-3, "zeroing block 0's attention output changes the logits");
        String unknown = assertThrows(IllegalArgumentException.class,
                () -> Helpers.runWithHooks("ROMEO:", Helpers.hook("blocks.0.hook_atn_out", (act, h) -> null))).getMessage();
        assertTrue(unknown.contains("closest: blocks.0.hook_attn_out"), unknown);
        Helpers.run("ROMEO:");
        HookedTransformer gpt2 = Helpers.load(TestData.file("fixtures/gpt2-tiny").toString());
        assertSame(gpt2, Helpers.model());
        assertEquals(null, Helpers.currentRun(), "the old model's run is dropped");
        assertTrue(printed().contains("loaded HookedTransformer"), printed());
        assertSame(model, Helpers.use(model));
        assertSame(model, Helpers.model());
    }

    @Test
    void maxAbsDiffAndCheck() {
        INDArray a = model.W_E();
        assertEquals(0.0, Helpers.maxAbsDiff(a, a.dup()));
        assertThrows(IllegalArgumentException.class, () -> Helpers.maxAbsDiff(a, model.W_pos()));
        assertThrows(AssertionError.class, () -> Helpers.check(false, "boom"));
    }

    @Test
    void trainTakesTheShellsOptionsAndReturnsAModelThatLoadsFromItsFolder(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp)
            throws Exception {
        java.nio.file.Path data = tmp.resolve("text.txt");
        java.nio.file.Files.writeString(data, "to be or not to be, that is the question\n".repeat(40));
        java.nio.file.Path out = tmp.resolve("run");
        HookedTransformer trained = Helpers.train("--data " + data + " --out " + out
                + " --layers 1 --d-model 16 --heads 2 --ctx 16 --batch 4 --steps 3 --eval-every 3 --eval-batches 1");
        assertEquals(1, trained.cfg().nLayers());
        assertTrue(printed().contains("step 3: train loss"), printed());
        INDArray again = HookedTransformer.fromPretrained(out.toString()).forward("to be");
        assertTrue(again.equalsWithEps(trained.forward("to be"), 1e-5f), "the returned model is the one saved in --out");
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> Helpers.train("--out " + out));
        assertTrue(bad.getMessage().contains("--data"), bad.getMessage());
        assertEquals(null, Helpers.train("--help"));
        assertTrue(printed().contains("usage: jlens train"), printed());
    }
}
