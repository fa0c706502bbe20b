package dev.jlens.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.data.Corpus;
import dev.jlens.data.Dataset;
import dev.jlens.data.Split;
import dev.jlens.model.HookedTransformer;
import dev.jlens.sae.SAE;
import dev.jlens.sae.SaeConfig;
import dev.jlens.testing.FolderBytes;
import dev.jlens.testing.TestData;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Max-activating contexts: features wired to one token each fire only on that token, and a killed run resumes to the same bytes. */
class FeatureContextsTest {
    static final HookedTransformer MODEL = HookedTransformer.fromPretrained(TestData.file("fixtures/charlm-tiny").toString());
    static final String TEXT = "First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n\n"
            + "First Citizen:\nYou are all resolved rather to die than to famish?\n\nAll:\nResolved. resolved.\n";

    @TempDir
    Path tmp;

    @AfterEach
    void reset() {
        ExperimentRunner.afterFileForTests = b -> {};
    }

    /**
     * An SAE on {@code hook_embed} whose feature {@code j} reads token {@code wired[j]}'s embedding, JumpReLU with a threshold
     * halfway between that token's own score ‖W_E[t]‖² and the best other token's: it fires on that token and no other.
     */
    static SAE wiredTo(int... wired) {
        INDArray wE = MODEL.W_E();                                         // [d_vocab, d_model]
        int d = (int) wE.size(1), n = wired.length;
        INDArray enc = Nd4j.zeros(DataType.FLOAT, d, n), dec = Nd4j.zeros(DataType.FLOAT, n, d), thr = Nd4j.zeros(DataType.FLOAT, n);
        for (int j = 0; j < n; j++) {
            INDArray dir = wE.getRow(wired[j]);
            INDArray scores = wE.mmul(dir.reshape(d, 1)).reshape(wE.size(0));
            double own = scores.getDouble(wired[j]), other = Double.NEGATIVE_INFINITY;
            for (int t = 0; t < scores.length(); t++) if (t != wired[j]) other = Math.max(other, scores.getDouble(t));
            assertTrue(own > other, "token " + wired[j] + "'s embedding must score itself highest");
            enc.putColumn(j, dir);
            dec.putRow(j, dir);
            thr.putScalar(j, (own + Math.max(other, 0)) / 2);
        }
        SaeConfig c = new SaeConfig(SaeConfig.Activation.JUMPRELU, 0, d, n, d, "hook_embed", null, false, SaeConfig.InputNorm.NONE, "wired");
        return new SAE(c, enc, Nd4j.zeros(DataType.FLOAT, n), dec, Nd4j.zeros(DataType.FLOAT, d), thr, null);
    }

    static Dataset windows() {
        Corpus c = Corpus.of(TEXT, "two speeches", MODEL.tokenizer());
        return Dataset.windows(c, Split.ALL, 16, 16);
    }

    static RunOptions quiet() {
        return RunOptions.defaults().withOutput(new PrintStream(new ByteArrayOutputStream()), false);
    }

    @Test
    void aFeatureWiredToOneTokenFiresOnlyOnIt() {
        int e = MODEL.tokenizer().encode("e")[0], colon = MODEL.tokenizer().encode(":")[0];
        FeatureContexts r = FeatureContextsExperiment.of(MODEL, wiredTo(e, colon), windows()).withTopK(5).withBatchSize(2)
                .run(tmp.resolve("wired"), quiet());
        assertTrue(r.complete());
        Dataset d = windows();
        long es = 0, colons = 0;
        for (int s = 0; s < d.samples().count(); s++) {
            for (long id : d.samples().rows(s, s + 1)[0]) {
                if (id == e) es++;
                if (id == colon) colons++;
            }
        }
        int[] wired = {e, colon};
        long[] expected = {es, colons};
        for (int f = 0; f < 2; f++) {
            List<dev.jlens.sae.FeatureStatistics.TopContext> top = r.top(f, 4, 2);
            assertEquals(Math.min(5, expected[f]), top.size(), "all of its occurrences when fewer than k");
            for (dev.jlens.sae.FeatureStatistics.TopContext c : top) assertEquals(wired[f], c.tokenIds()[c.maxIndex()], "feature " + f + " fired off its token");
            long fired = 0;
            for (long n : r.histogram(f)) fired += n;
            assertEquals(expected[f], fired, "it fires on every occurrence of its token and nowhere else");
            assertEquals(expected[f] / (double) r.tokens(), r.density(f), 1e-12);
        }
        assertEquals(0, r.deadFeatures());
    }

    @Test
    void aRunKilledMidwayResumesToTheSameBytesAndAnotherSaeIsRefused() throws Exception {
        int e = MODEL.tokenizer().encode("e")[0];
        var exp = FeatureContextsExperiment.of(MODEL, wiredTo(e), windows()).withTopK(3).withBatchSize(1);
        assertTrue(exp.batchCount() >= 4);
        Path reference = tmp.resolve("reference"), killed = tmp.resolve("killed");
        exp.run(reference, quiet());
        ExperimentRunner.afterFileForTests = b -> {
            if (b == 2) throw new IllegalStateException("simulated kill");
        };
        assertThrows(IllegalStateException.class, () -> exp.run(killed, quiet()));
        ExperimentRunner.afterFileForTests = b -> {};
        assertEquals(2, Manifest.read(killed).batches().size());
        exp.run(killed, quiet());
        FolderBytes.assertSame(reference, killed, n -> n.equals(dev.jlens.cli.FolderLock.FILE_NAME));

        int o = MODEL.tokenizer().encode("o")[0];
        var other = FeatureContextsExperiment.of(MODEL, wiredTo(o), windows()).withTopK(3).withBatchSize(1);
        ResultsFolderException x = assertThrows(ResultsFolderException.class, () -> other.run(killed, quiet()));
        assertTrue(x.getMessage().contains("another SAE"), x.getMessage());
        assertFalse(x.getMessage().isBlank());
    }

    @Test
    void theDashboardShowsTheContextsAndThePromptAsTheSaeComputesThem() {
        int e = MODEL.tokenizer().encode("e")[0];
        SAE sae = wiredTo(e);
        FeatureContexts r = FeatureContextsExperiment.of(MODEL, sae, windows()).withTopK(4).withBatchSize(2).run(tmp.resolve("d"), quiet());
        var d = dev.jlens.analysis.FeatureDashboard.of(MODEL, sae, 0, "Here be thee").withContexts(MODEL, sae, r);
        List<String> prompt = d.prompt();
        for (int i = 0; i < prompt.size(); i++) {
            assertEquals(prompt.get(i).equals("e"), d.promptActs()[i] > 0, "fires exactly on the prompt's e's: " + prompt.get(i));
        }
        assertEquals(4, d.contexts().size());
        for (var c : d.contexts()) {
            assertEquals("e", c.tokens().get(c.maxIndex()));
            // Recomputed on the whole sample, the max is the value the corpus run kept.
            assertEquals(c.max(), c.acts()[c.maxIndex()], 1e-5);
        }
        var panels = d.panels();
        assertEquals(2, panels.size());
        assertEquals("e", panels.get(1).text(0, panels.get(1).colLabels().indexOf("max")));
        String text = d.toText(dev.jlens.view.TerminalStyle.plain());
        assertTrue(text.contains("Top contexts of feature 0") && text.contains("activation density"), text);
        String html = d.html();
        assertTrue(html.contains("Top contexts of feature 0") && !html.contains("http://") && !html.contains("https://"));
    }
}
