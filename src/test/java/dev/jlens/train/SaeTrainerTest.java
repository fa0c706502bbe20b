package dev.jlens.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.sae.SAE;
import dev.jlens.sae.SaeConfig;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** SAE training: the hand-written gradients, recovery of known sparse directions, determinism, kill and resume, the command. */
class SaeTrainerTest {
    static final PrintStream QUIET = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);

    static SaeTrainConfig config(SaeConfig.Activation act, int dSae, int k, double l1, double lr, int steps, int batch, long seed, Path out,
                                 boolean resume) {
        return new SaeTrainConfig(act, dSae, k, l1, lr, steps, batch, seed, 10_000, 5, 1000, "blocks.0.hook_resid_pre", "synthetic", out, resume);
    }

    /**
     * Rows that are sparse sums of {@code n} known unit directions in {@code d} dimensions: each direction is on with
     * probability {@code p}, at a magnitude in [1, 2), plus a constant offset that b_dec must learn.
     */
    record Synthetic(INDArray directions, INDArray rows) {
        static Synthetic make(int d, int n, int rows, double p, long seed) {
            Random r = new Random(seed);
            double[][] dirs = new double[n][d];
            for (double[] v : dirs) {
                double norm = 0;
                for (int j = 0; j < d; j++) norm += (v[j] = r.nextGaussian()) * v[j];
                for (int j = 0; j < d; j++) v[j] /= Math.sqrt(norm);
            }
            float[] x = new float[rows * d];
            for (int i = 0; i < rows; i++) {
                for (int j = 0; j < d; j++) x[i * d + j] = 0.5f;
                for (double[] v : dirs) {
                    if (r.nextDouble() >= p) continue;
                    double a = 1 + r.nextDouble();
                    for (int j = 0; j < d; j++) x[i * d + j] += (float) (a * v[j]);
                }
            }
            return new Synthetic(Nd4j.createFromArray(dirs).castTo(DataType.FLOAT), Nd4j.create(x, new long[] {rows, d}, DataType.FLOAT));
        }

        /** Each true direction's best cosine with any decoder row. */
        double[] bestCosines(SAE sae) {
            INDArray dec = sae.W_dec().divColumnVector(sae.W_dec().norm2(1).reshape(sae.cfg().dSae(), 1));
            INDArray cos = directions.mmul(dec.transpose());                         // [n, d_sae]
            return cos.max(1).toDoubleVector();
        }
    }

    // ------------------------------------------------------------------ gradients

    /** Random parameters in double precision, with decoder rows of uneven norm so the L1 term's norm factor is tested too. */
    static SaeModel randomModel(SaeConfig.Activation act, int dIn, int dSae, int k, DataType type, long seed) {
        Nd4j.getRandom().setSeed(seed);
        SaeConfig cfg = new SaeConfig(act, k, dIn, dSae, dIn, "blocks.0.hook_resid_pre", null, true, SaeConfig.InputNorm.NONE, "test");
        return new SaeModel(cfg, Nd4j.randn(type, dIn, dSae).muli(0.5), Nd4j.randn(type, dSae).muli(0.2),
                Nd4j.randn(type, dSae, dIn).muli(0.7), Nd4j.randn(type, dIn).muli(0.2));
    }

    static void assertGradientsMatchFiniteDifferences(SaeModel m, INDArray x, double l1, double eps, double tolerance) {
        m.forwardBackward(x, l1);
        INDArray[] params = {m.wEnc, m.bEnc, m.wDec, m.bDec};
        INDArray[] grads = {m.gWEnc.dup(), m.gBEnc.dup(), m.gWDec.dup(), m.gBDec.dup()};
        for (int p = 0; p < params.length; p++) {
            INDArray flat = params[p].reshape(params[p].length());
            for (long i = 0; i < flat.length(); i++) {
                double v = flat.getDouble(i);
                flat.putScalar(i, v + eps);
                double up = m.forwardBackward(x, l1).loss();
                flat.putScalar(i, v - eps);
                double down = m.forwardBackward(x, l1).loss();
                flat.putScalar(i, v);
                double numeric = (up - down) / (2 * eps), analytic = grads[p].reshape(grads[p].length()).getDouble(i);
                assertEquals(numeric, analytic, tolerance * Math.max(1, Math.abs(numeric)), "parameter " + p + " element " + i);
            }
        }
    }

    @Test
    void reluWithL1GradientsMatchFiniteDifferences() {
        SaeModel m = randomModel(SaeConfig.Activation.RELU, 5, 7, 0, DataType.DOUBLE, 1);
        INDArray x = Nd4j.randn(DataType.DOUBLE, 6, 5);
        assertGradientsMatchFiniteDifferences(m, x, 0.3, 1e-6, 1e-6);
    }

    @Test
    void topKGradientsMatchFiniteDifferences() {
        // TopK's selection is computed in float32; a small step keeps each token's selection as it is.
        SaeModel m = randomModel(SaeConfig.Activation.TOPK, 5, 8, 3, DataType.FLOAT, 2);
        INDArray x = Nd4j.randn(DataType.FLOAT, 6, 5);
        assertGradientsMatchFiniteDifferences(m, x, 0, 1e-2, 2e-2);
    }

    @Test
    void decoderGradientLosesItsComponentAlongEachRow() {
        SaeModel m = randomModel(SaeConfig.Activation.RELU, 5, 7, 0, DataType.DOUBLE, 3);
        m.normaliseDecoder();
        assertArrayEquals(new double[7], m.wDec.norm2(1).subi(1).toDoubleVector(), 1e-9);
        m.forwardBackward(Nd4j.randn(DataType.DOUBLE, 6, 5), 0.3);
        m.removeParallelDecoderGradient();
        assertArrayEquals(new double[7], m.gWDec.mul(m.wDec).sum(1).toDoubleVector(), 1e-9);
    }

    // ------------------------------------------------------------------ learning known directions

    static SAE train(SaeTrainConfig c, INDArray rows) {
        return new SaeTrainer(c, new MatrixActivations(rows, "synthetic"), QUIET, false).run().sae();
    }

    /** Every true direction has a decoder row within cosine 0.95 of it (0.99+ at these settings). */
    static void assertRecovers(Synthetic s, SAE sae) {
        for (double c : s.bestCosines(sae)) assertTrue(c >= 0.95, "a true direction's best decoder cosine is " + c);
    }

    @Test
    void reluSaeRecoversKnownSparseDirections() {
        Synthetic s = Synthetic.make(24, 16, 20_000, 0.08, 7);
        SAE sae = train(config(SaeConfig.Activation.RELU, 32, 0, 0.3, 3e-3, 700, 256, 1, null, false), s.rows());
        assertRecovers(s, sae);
    }

    @Test
    void topKSaeRecoversKnownSparseDirections() {
        Synthetic s = Synthetic.make(24, 16, 20_000, 0.08, 8);
        SAE sae = train(config(SaeConfig.Activation.TOPK, 32, 4, 0, 3e-3, 700, 256, 1, null, false), s.rows());
        assertRecovers(s, sae);
    }

    @Test
    void anUntrainedSaeDoesNotPassTheRecoveryBar() {
        // The bar can fail: the same check on the initial (random) decoder stays far below 0.95.
        Synthetic s = Synthetic.make(24, 16, 20_000, 0.08, 7);
        SAE sae = train(config(SaeConfig.Activation.RELU, 32, 0, 0.3, 1e-12, 1, 256, 1, null, false), s.rows());
        double worst = 1;
        for (double c : s.bestCosines(sae)) worst = Math.min(worst, c);
        assertTrue(worst < 0.9, "random decoder rows matched every direction: " + worst);
    }

    // ------------------------------------------------------------------ determinism, checkpoints, resume

    static final Function<Path, SaeTrainConfig> SMALL = out -> config(SaeConfig.Activation.TOPK, 16, 3, 0, 1e-3, 12, 64, 5, out, false);

    @Test
    void theSameSeedGivesTheSameBytesAndAnotherSeedOthers(@TempDir Path dir) throws Exception {
        INDArray rows = Synthetic.make(8, 6, 500, 0.2, 1).rows();
        train(SMALL.apply(dir.resolve("a")), rows);
        train(SMALL.apply(dir.resolve("b")), rows);
        SaeTrainConfig other = config(SaeConfig.Activation.TOPK, 16, 3, 0, 1e-3, 12, 64, 6, dir.resolve("c"), false);
        train(other, rows);
        byte[] a = Files.readAllBytes(dir.resolve("a/sae_weights.safetensors"));
        assertArrayEquals(a, Files.readAllBytes(dir.resolve("b/sae_weights.safetensors")));
        assertArrayEquals(Files.readAllBytes(dir.resolve("a/cfg.json")), Files.readAllBytes(dir.resolve("b/cfg.json")));
        assertFalse(java.util.Arrays.equals(a, Files.readAllBytes(dir.resolve("c/sae_weights.safetensors"))));
        SAE loaded = SAE.load(dir.resolve("a"));
        assertEquals(SaeConfig.Activation.TOPK, loaded.cfg().activation());
        assertEquals(3, loaded.cfg().k());
        assertTrue(Files.isDirectory(dir.resolve("a/checkpoints/step-0000012")));
        assertEquals(1, Files.list(dir.resolve("a/checkpoints")).count(), "older checkpoints are deleted");
    }

    @Test
    void aKilledRunResumedEndsWithTheBytesOfAnUninterruptedOne(@TempDir Path dir) throws Exception {
        INDArray rows = Synthetic.make(8, 6, 500, 0.2, 2).rows();
        train(SMALL.apply(dir.resolve("whole")), rows);
        SaeTrainer killed = new SaeTrainer(SMALL.apply(dir.resolve("killed")), new MatrixActivations(rows, "synthetic"), QUIET, false);
        killed.afterStep = s -> {
            if (s == 8) throw new IllegalStateException("killed");       // no checkpoint at the kill: the last one is step 5
        };
        assertThrows(IllegalStateException.class, killed::run);
        assertTrue(Files.isDirectory(dir.resolve("killed/checkpoints/step-0000005")));
        assertThrows(IllegalArgumentException.class, () -> train(SMALL.apply(dir.resolve("killed")), rows), "a second run without --resume");
        SaeTrainConfig resume = config(SaeConfig.Activation.TOPK, 16, 3, 0, 1e-3, 12, 64, 5, dir.resolve("killed"), true);
        train(resume, rows);
        for (String f : new String[] {"sae_weights.safetensors", "cfg.json", "checkpoints/step-0000012/optimizer.safetensors",
                "checkpoints/step-0000012/state.json"}) {
            assertArrayEquals(Files.readAllBytes(dir.resolve("whole").resolve(f)), Files.readAllBytes(dir.resolve("killed").resolve(f)), f);
        }
        SaeTrainConfig changed = config(SaeConfig.Activation.TOPK, 16, 3, 0, 2e-3, 20, 64, 5, dir.resolve("killed"), true);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> train(changed, rows));
        assertTrue(e.getMessage().contains("resume with the same options"), e.getMessage());
    }

    // ------------------------------------------------------------------ the command line

    static String[] runCommand(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int status = TrainSaeCommand.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8),
                false);
        return new String[] {Integer.toString(status), out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8)};
    }

    static final String TEXT = "First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n\n"
            + "First Citizen:\nYou are all resolved rather to die than to famish?\n\nAll:\nResolved. resolved.\n";

    @Test
    void theCommandTrainsOnStreamedOrSavedActivationsAndWritesACard(@TempDir Path dir) throws Exception {
        Path model = dev.jlens.testing.TestData.file("fixtures/charlm-tiny"), text = dir.resolve("text.txt");
        Files.writeString(text, TEXT.repeat(8));
        String[] streamed = runCommand("--model", model.toString(), "--data", text.toString(), "--hook", "blocks.0.hook_resid_post",
                "--d-sae", "16", "--k", "4", "--steps", "6", "--batch-size", "32", "--context", "8", "--eval-windows", "2",
                "--checkpoint-every", "3", "--out", dir.resolve("streamed").toString());
        assertEquals("0", streamed[0], streamed[2]);
        SAE sae = SAE.load(dir.resolve("streamed"));
        assertEquals("blocks.0.hook_resid_post", sae.cfg().hookName());
        String card = Files.readString(dir.resolve("streamed/README.md"));
        assertTrue(card.contains("CE loss recovered") && card.contains("./jlens train-sae --model"), card);

        var m = dev.jlens.model.HookedTransformer.fromPretrained(model.toString());
        var corpus = dev.jlens.data.Corpus.read(text, m.tokenizer());
        var quiet = dev.jlens.experiment.RunOptions.defaults().withOutput(QUIET, false);
        dev.jlens.experiment.BlockInternalsExperiment.of(m, dev.jlens.data.Dataset.windows(corpus, dev.jlens.data.Split.TRAIN, 8, 8), 0)
                .run(dir.resolve("results"), quiet);
        String[] saved = runCommand("--model", model.toString(), "--activations", dir.resolve("results").toString(), "--hook",
                "blocks.0.hook_resid_post", "--architecture", "relu", "--d-sae", "16", "--steps", "4", "--batch-size", "16",
                "--out", dir.resolve("saved").toString());
        assertEquals("0", saved[0], saved[2]);
        assertTrue(Files.readString(dir.resolve("saved/README.md")).contains("explained variance"));
        String[] wrongHook = runCommand("--model", model.toString(), "--activations", dir.resolve("results").toString(), "--hook",
                "blocks.0.hook_mlp_in", "--out", dir.resolve("wrong").toString());
        assertEquals("1", wrongHook[0]);
        assertTrue(wrongHook[2].contains("holds no activations of blocks.0.hook_mlp_in"), wrongHook[2]);
    }

    @Test
    void badOptionsAreOneLineAndStatusTwo() {
        String[][] cases = {
                {"--hook", "blocks.0.hook_resid_pre", "--out", "x"},
                {"--data", "t.txt", "--out", "x"},
                {"--data", "t.txt", "--hook", "h", "--out", "x", "--architecture", "jumprelu"},
                {"--data", "t.txt", "--hook", "h", "--out", "x", "--k", "0"},
                {"--data", "t.txt", "--hook", "h", "--out", "x", "--k", "900", "--d-sae", "768"},
                {"--data", "t.txt", "--hook", "h", "--out", "x", "--l1", "-1", "--architecture", "relu"},
                {"--data", "t.txt", "--hook", "h", "--out", "x", "--stpes", "5"},
                {"--data", "t.txt", "--hook", "h", "--out", "x", "--lr", "fast"},
        };
        for (String[] args : cases) {
            String[] r = runCommand(args);
            assertEquals("2", r[0], String.join(" ", args) + " → " + r[2]);
            assertEquals(1, r[2].strip().lines().count(), r[2]);
            assertTrue(r[2].startsWith("jlens train-sae: "), r[2]);
        }
        String[] help = runCommand("--help");
        assertEquals("0", help[0]);
        assertTrue(help[1].contains("--architecture"), help[1]);
    }
}
