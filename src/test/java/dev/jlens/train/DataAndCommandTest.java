package dev.jlens.train;

import dev.jlens.data.TinyShakespeare;
import dev.jlens.cli.Progress;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.model.HookedTransformer;
import dev.jlens.testing.Shared;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Data loading (TinyShakespeare by path, the offline message) and the {@code jlens train} command line. */
class DataAndCommandTest {
    @Test
    void tinyShakespeareSplitsAsTheLectureDoes() {
        TrainingBatches c = TrainingBatches.read(Shared.file("data/tinyshakespeare/input.txt"));
        assertEquals(65, c.vocabSize());
        assertEquals("\n !$&',-.3:;?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", c.chars());
        assertEquals(1_115_394, c.trainLength() + c.valLength());
        assertEquals(1_003_854, c.trainLength());   // int(0.9 * len(data))
    }

    @Test
    void repeatedWindowsAreAPassageFollowedByItselfAndZeroRepeatsChangesNothing() {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < 400; i++) text.append((char) ('a' + (i * 7 + i / 26) % 26));
        TrainingBatches c = TrainingBatches.of(text.toString(), "letters");
        TrainingBatches.Batch plain = c.sample(false, 8, 9, new java.util.SplittableRandom(5));
        TrainingBatches.Batch zero = c.sample(false, 8, 9, new java.util.SplittableRandom(5), 0);
        assertTrue(java.util.Arrays.deepEquals(plain.x(), zero.x()) && java.util.Arrays.deepEquals(plain.y(), zero.y()));
        TrainingBatches.Batch all = c.sample(false, 64, 16, new java.util.SplittableRandom(5), 1);
        java.util.Set<Integer> periods = new java.util.TreeSet<>();
        for (int b = 0; b < 64; b++) {
            long[] seq = new long[17];   // x0..x15 and the last target
            for (int t = 0; t < 16; t++) seq[t] = all.x()[b][t];
            seq[16] = all.y()[b][15];
            for (int t = 0; t < 15; t++) assertEquals(all.x()[b][t + 1], all.y()[b][t], "y is x shifted by one");
            // The text never repeats within 16 characters, so the smallest period is the passage length.
            int period = 1;
            while (!periodic(seq, period)) period++;
            assertTrue(period >= 2 && period <= 9, "passage length " + period + " in [max(2, 17/8), 18/2]");
            periods.add(period);
            assertTrue(text.indexOf(c.tokenizer().decode(java.util.Arrays.stream(seq).limit(period).mapToInt(v -> (int) v).toArray())) >= 0,
                    "the passage comes from the text");
        }
        assertTrue(periods.size() >= 5, "passage lengths vary from row to row: " + periods);
        assertThrows(IllegalArgumentException.class, () -> TrainCommand.parse(new String[] {"--data", "x", "--out", "y", "--repeats", "1.5"}));
    }

    private static boolean periodic(long[] seq, int period) {
        for (int t = period; t < seq.length; t++) if (seq[t] != seq[t - period]) return false;
        return true;
    }

    @Test
    void aPresentCacheFileIsUsedWithoutTheNetwork(@TempDir Path tmp) throws Exception {
        Path cached = tmp.resolve("input.txt");
        Files.writeString(cached, "cached text");
        assertEquals(cached, TinyShakespeare.file(cached, URI.create("http://127.0.0.1:9/never-called")));
    }

    /** Serves {@code body} at /input.txt on 127.0.0.1 while {@code use} runs. */
    private static void serving(byte[] body, java.util.function.Consumer<URI> use) throws Exception {
        com.sun.net.httpserver.HttpServer server = com.sun.net.httpserver.HttpServer.create(
                new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/input.txt", x -> {
            x.sendResponseHeaders(200, body.length);
            try (var out = x.getResponseBody()) {
                out.write(body);
            }
        });
        server.start();
        try {
            use.accept(URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/input.txt"));
        } finally {
            server.stop(0);
        }
    }

    @Test
    void theDownloadIsCheckedAgainstTinyShakespearesSha256(@TempDir Path tmp) throws Exception {
        // Bytes of the right length that are not TinyShakespeare are refused, and nothing is kept.
        Path cache = tmp.resolve("cache/input.txt");
        byte[] wrong = new byte[1_115_394];
        java.util.Arrays.fill(wrong, (byte) 'a');
        serving(wrong, url -> {
            UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> TinyShakespeare.file(cache, url));
            assertTrue(e.getMessage().contains("sha256"), e.getMessage());
        });
        assertFalse(Files.exists(cache));
        // The real file (from ../shared) is accepted.
        byte[] real = Files.readAllBytes(Shared.file("data/tinyshakespeare/input.txt"));
        serving(real, url -> assertEquals(cache, TinyShakespeare.file(cache, url)));
        assertArrayEquals(real, Files.readAllBytes(cache));
    }

    @Test
    void offlineDownloadSaysWhatToDo(@TempDir Path tmp) throws Exception {
        Path cache = tmp.resolve("cache/tinyshakespeare/input.txt");
        // A local port nobody listens on stands for "no network": the connection is refused at once.
        UncheckedIOException e = assertThrows(UncheckedIOException.class,
                () -> TinyShakespeare.file(cache, URI.create("http://127.0.0.1:9/input.txt")));
        assertTrue(e.getMessage().contains("Are you offline?") && e.getMessage().contains("curl -o " + cache)
                && e.getMessage().contains("--data"), e.getMessage());
        assertFalse(Files.exists(cache));
        try (Stream<Path> left = Files.list(cache.getParent())) {
            assertEquals(0, left.count(), "no partial download is left behind");
        }
        assertTrue(TinyShakespeare.URL.toString().endsWith("karpathy/char-rnn/master/data/tinyshakespeare/input.txt"));
    }

    @Test
    void theCommandLineSetsEveryOption() {
        TrainConfig c = TrainCommand.parse(new String[] {"--data", "in.txt", "--out=runs/x", "--kind", "attn-only", "--layers", "2",
                "--d-model", "64", "--heads", "4", "--ctx", "64", "--batch", "16", "--steps", "3000", "--lr", "3e-3", "--min-lr", "1e-4",
                "--warmup", "50", "--dropout", "0", "--weight-decay", "0.05", "--grad-clip", "0.5", "--eval-every", "100",
                "--eval-batches", "4", "--checkpoint-every", "500", "--log-every", "20", "--seed", "9", "--no-layer-norm", "--resume"});
        assertEquals(Path.of("in.txt"), c.data());
        assertEquals(Path.of("runs/x"), c.out());
        assertEquals(ModelKind.ATTN_ONLY, c.kind());
        assertEquals(2, c.layers());
        assertEquals(64, c.dModel());
        assertEquals(4, c.heads());
        assertEquals(16, c.dHead());
        assertEquals(64, c.ctx());
        assertEquals(16, c.batch());
        assertEquals(3000, c.steps());
        assertEquals(3e-3, c.lr());
        assertEquals(1e-4, c.minLr());
        assertEquals(50, c.warmup());
        assertEquals(0.0, c.dropout());
        assertEquals(0.05, c.weightDecay());
        assertEquals(0.5, c.gradClip());
        assertEquals(100, c.evalEvery());
        assertEquals(4, c.evalBatches());
        assertEquals(500, c.checkpointEvery());
        assertEquals(20, c.logEvery());
        assertEquals(9, c.seed());
        assertFalse(c.hasLayerNorm());
        assertTrue(c.resume());
        TrainConfig d = TrainCommand.parse(new String[] {"--data", "a", "--out", "b"});
        assertEquals(d.lr() / 10, d.minLr());
        assertEquals(d.evalEvery(), d.checkpointEvery());
    }

    @Test
    void badCommandLinesExitWithStatus2AndAReason() {
        assertEquals(2, run("--data", "a.txt"), "no --out");
        assertTrue(lastErr.contains("--out is required"), lastErr);
        assertEquals(2, run("--data", "a.txt", "--out", "o", "--d-modle", "64"));
        assertTrue(lastErr.contains("unknown option --d-modle (did you mean --d-model?)"), lastErr);
        assertEquals(2, run("--data", "a.txt", "--out", "o", "--heads", "five"));
        assertTrue(lastErr.contains("--heads needs a whole number"), lastErr);
        assertEquals(2, run("--data", "a.txt", "--out", "o", "--d-model", "100", "--heads", "8"));
        assertTrue(lastErr.contains("not divisible by heads 8"), lastErr);
        assertEquals(2, run("--data", "a.txt", "--out", "o", "--kind", "attn-only", "--layers", "3"));
        assertTrue(lastErr.contains("1 or 2 layers"), lastErr);
        assertEquals(0, run("--help"));
        assertTrue(lastOut.contains("usage: jlens train") && lastOut.contains("--resume"), lastOut);
    }

    @Test
    void missingDataFailsWithStatus1(@TempDir Path tmp) {
        assertEquals(1, run("--data", tmp.resolve("nope.txt").toString(), "--out", tmp.resolve("o").toString()));
        assertTrue(lastErr.contains("no corpus at") && lastErr.contains("nope.txt"), lastErr);
    }

    @Test
    void theCommandTrainsAndTheResultLoads(@TempDir Path tmp) throws Exception {
        Path data = tmp.resolve("tiny.txt");
        Files.writeString(data, TrainerTest.TEXT);
        Path out = tmp.resolve("run");
        assertEquals(0, run("--data", data.toString(), "--out", out.toString(), "--layers", "1", "--d-model", "16", "--heads", "2",
                "--ctx", "16", "--batch", "4", "--steps", "4", "--eval-every", "2", "--eval-batches", "1", "--log-every", "1"));
        assertTrue(lastOut.contains("step 4/4") && lastOut.contains("val loss") && lastOut.contains("tok/s"), lastOut);
        assertTrue(lastOut.contains("ETA"), lastOut);
        assertTrue(Files.isDirectory(out.resolve("resume")));
        HookedTransformer m = HookedTransformer.fromPretrained(out.toString());
        assertEquals(1, m.cfg().nLayers());
        assertEquals(5, Files.readAllLines(out.resolve("loss.csv")).size(), "header + 4 steps");
    }

    @Test
    void aCompletedRunWritesAModelCardWhoseCommandTrainsTheSameRun(@TempDir Path tmp) throws Exception {
        Path data = tmp.resolve("tiny.txt");
        Files.writeString(data, TrainerTest.TEXT);
        Path out = tmp.resolve("run");
        assertEquals(0, run("--data", data.toString(), "--out", out.toString(), "--kind", "attn-only", "--layers", "2", "--d-model", "16",
                "--heads", "2", "--ctx", "16", "--batch", "4", "--steps", "4", "--lr", "3e-3", "--min-lr", "2e-4", "--eval-every", "2",
                "--eval-batches", "1", "--seed", "7", "--no-layer-norm", "--repeats", "0.3", "--sample-prompt", "the"));
        String card = Files.readString(out.resolve("README.md"));
        assertTrue(lastOut.contains("model card: " + out.resolve("README.md")), lastOut);
        // The card's command, parsed as the shell would, gives the run's own hyperparameters.
        String command = card.substring(card.indexOf("```bash\n") + 8, card.indexOf("\n```", card.indexOf("```bash")));
        String[] args = command.replace("\\\n", " ").replace("./jlens train", "").trim().split("\\s+");
        TrainConfig again = TrainCommand.parse(args);
        TrainConfig original = TrainCommand.parse(new String[] {"--data", data.toString(), "--out", out.toString(), "--kind", "attn-only",
                "--layers", "2", "--d-model", "16", "--heads", "2", "--ctx", "16", "--batch", "4", "--steps", "4", "--lr", "3e-3",
                "--min-lr", "2e-4", "--eval-every", "2", "--eval-batches", "1", "--seed", "7", "--no-layer-norm", "--repeats", "0.3"});
        assertEquals(original.hyperparameters(), again.hyperparameters());
        assertTrue(card.contains("2 layers of attention only (no LayerNorm)"), card);
        assertTrue(card.contains("generate(\"the\", 500, 1337)"), card);
        assertTrue(card.contains("best induction head | L"), card);
    }

    @Test
    void theCardsBestValidationLossIsTheSmallestEstimateInTheLossCurve(@TempDir Path tmp) throws Exception {
        Path csv = tmp.resolve("loss.csv");
        Files.writeString(csv, "step,lr,loss,grad_norm,tokens,elapsed_s,tokens_per_s,eval_train_loss,eval_val_loss\n"
                + "1,0.001,3.0,1,10,1,10,,\n2,0.001,2.5,1,20,2,10,2.4,2.6\n3,0.001,2.0,1,30,3,10,,\n"
                + "4,0.001,1.9,1,40,4,10,1.8,2.1\n6,0.001,1.7,1,60,6,10,1.6,2.2\n");
        assertEquals(new ModelCard.BestEval(4, 2.1), ModelCard.bestEval(csv));
        assertEquals(null, ModelCard.bestEval(tmp.resolve("absent.csv")));
        assertEquals("1h01m05s", ModelCard.duration(3665));
        assertEquals("0m59s", ModelCard.duration(59.4));
    }

    @Test
    void dropResumeStateLeavesOnlyTheModel(@TempDir Path tmp) throws Exception {
        Path data = tmp.resolve("tiny.txt");
        Files.writeString(data, TrainerTest.TEXT);
        Path out = tmp.resolve("run");
        assertEquals(0, run("--data", data.toString(), "--out", out.toString(), "--layers", "1", "--d-model", "16", "--heads", "2",
                "--ctx", "16", "--batch", "4", "--steps", "2", "--eval-batches", "1", "--drop-resume-state"));
        assertFalse(Files.exists(out.resolve("resume")));
        assertEquals(1, HookedTransformer.fromPretrained(out.toString()).cfg().nLayers());
    }

    @Test
    void theProgressLineShowsStepLossSpeedAndEta() {
        String line = Progress.line(250, 1000, 1.2345, 7890, 65, 195);
        assertEquals("step 250/1,000 [######..................]  25% | loss 1.2345 | 7,890 tok/s | 1m05s elapsed, ETA 3m15s", line);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Progress p = new Progress(new PrintStream(bytes, true, StandardCharsets.UTF_8), true, 10);
        p.step(1, 10, 2.0, 100, 1, 9);
        p.message("eval");
        p.step(10, 10, 1.0, 100, 10, 0);
        p.finish();
        String s = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(s.startsWith("\rstep 1/10") && s.contains("\reval\n") && s.contains("\rstep 10/10"), s);
    }

    private String lastOut = "", lastErr = "";

    private int run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int status = TrainCommand.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), false);
        lastOut = out.toString(StandardCharsets.UTF_8);
        lastErr = err.toString(StandardCharsets.UTF_8);
        return status;
    }
}
