package dev.jlens.sae;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.cache.CacheSpec;
import dev.jlens.load.CorruptModelFileException;
import dev.jlens.load.SafeTensors;
import dev.jlens.model.HookedTransformer;
import dev.jlens.model.Run;
import dev.jlens.testing.TestData;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** SAEs against their definitions on hand-made weights, and spliced into runs of the GPT-2 fixture. */
class SaeTest {
    static final HookedTransformer GPT2 = HookedTransformer.fromPretrained(TestData.file("fixtures/gpt2-tiny").toString());

    static SaeConfig cfg(SaeConfig.Activation act, int k, int dIn, int dSae, String hook, boolean bDecIn) {
        return new SaeConfig(act, k, dIn, dSae, dIn, hook, null, bDecIn, SaeConfig.InputNorm.NONE, "hand-made");
    }

    /** Encoder [I, −I], decoder [I; −I]: relu(x) − relu(−x) = x, exactly, for every x. */
    static SAE identity(int d, String hook) {
        INDArray eye = Nd4j.eye(d).castTo(DataType.FLOAT);
        INDArray enc = Nd4j.hstack(eye, eye.neg()), dec = Nd4j.vstack(eye, eye.neg());
        return new SAE(cfg(SaeConfig.Activation.RELU, 0, d, 2 * d, hook, true), enc, Nd4j.zeros(DataType.FLOAT, 2 * d), dec,
                Nd4j.zeros(DataType.FLOAT, d), null, null);
    }

    static SAE random(int dIn, int dSae, String hook, long seed) {
        Nd4j.getRandom().setSeed(seed);
        return new SAE(cfg(SaeConfig.Activation.RELU, 0, dIn, dSae, hook, true), Nd4j.randn(DataType.FLOAT, dIn, dSae).muli(0.3),
                Nd4j.randn(DataType.FLOAT, dSae).muli(0.1), Nd4j.randn(DataType.FLOAT, dSae, dIn).muli(0.3), Nd4j.randn(DataType.FLOAT, dIn).muli(0.1),
                null, null);
    }

    @Test
    void eachArchitectureComputesItsDefinition() {
        // One input, identity-like encoder: pre = x − b_dec·[apply] + b_enc, read off by hand.
        INDArray eye = Nd4j.eye(4).castTo(DataType.FLOAT);
        INDArray x = Nd4j.createFromArray(new float[][] {{2.5f, 1.9f, -3f, 0.5f}});
        INDArray zero4 = Nd4j.zeros(DataType.FLOAT, 4);

        SAE jump = new SAE(cfg(SaeConfig.Activation.JUMPRELU, 0, 4, 4, "h", false), eye, zero4, eye, zero4,
                Nd4j.createFromArray(2f, 2f, 2f, 0f), null);
        assertArrayEquals(new float[] {2.5f, 0f, 0f, 0.5f}, jump.encode(x).toFloatVector(), "threshold 2 passes 2.5, zeroes 1.9; negatives stay 0");

        SAE relu = new SAE(cfg(SaeConfig.Activation.RELU, 0, 4, 4, "h", true), eye, Nd4j.createFromArray(0f, 0f, 0f, 1f), eye,
                Nd4j.createFromArray(0.5f, 0f, 0f, 0f), null, null);
        // apply_b_dec_to_input: x − b_dec = [2, 1.9, −3, 0.5]; + b_enc = [2, 1.9, −3, 1.5]; relu.
        assertArrayEquals(new float[] {2f, 1.9f, 0f, 1.5f}, relu.encode(x).toFloatVector(), 1e-6f);
        assertArrayEquals(new float[] {2.5f, 1.9f, 0f, 1.5f}, relu.decode(relu.encode(x)).toFloatVector(), 1e-6f, "f·W_dec + b_dec");

        SAE topk = new SAE(cfg(SaeConfig.Activation.TOPK, 2, 4, 4, "h", false), eye, zero4, eye, zero4, null, null);
        assertArrayEquals(new float[] {2.5f, 1.9f, 0f, 0f}, topk.encode(x).toFloatVector(), "the two largest stay");
        INDArray ties = Nd4j.createFromArray(new float[][] {{1f, 3f, 3f, 3f}});
        assertArrayEquals(new float[] {0f, 3f, 3f, 0f}, topk.encode(ties).toFloatVector(), "ties keep the lower index, as torch.topk");

        // constant_norm_rescale: the input scaled to norm √d, the output scaled back: an identity SAE still reconstructs x.
        SAE scaled = new SAE(new SaeConfig(SaeConfig.Activation.RELU, 0, 4, 8, 4, "h", null, false, SaeConfig.InputNorm.CONSTANT_NORM_RESCALE,
                "hand-made"), identity(4, "h").W_enc(), Nd4j.zeros(DataType.FLOAT, 8), identity(4, "h").W_dec(), zero4, null, null);
        double norm = x.norm2Number().doubleValue();
        assertEquals(2.5 * 2 / norm, scaled.encode(x).getDouble(0, 0), 1e-6, "x·√4/‖x‖");
        assertArrayEquals(x.toFloatVector(), scaled.forward(x).toFloatVector(), 1e-5f);
    }

    @Test
    void anIdentitySaeReconstructsPerfectlyAndSplicedInChangesNothing() {
        SAE id = identity(64, "blocks.1.hook_resid_pre");
        INDArray tokens = GPT2.toTokens("Hello world, hello world");
        INDArray resid = GPT2.runWithCache(tokens).cache().get("resid_pre", 1);
        assertEquals(0.0, id.forward(resid).sub(resid).amaxNumber().doubleValue(), "relu(x) − relu(−x) = x exactly");
        Run spliced = id.runWithCache(GPT2, tokens);
        assertArrayEquals(GPT2.forward(tokens).data().asFloat(), spliced.logits().data().asFloat(), 0f);
    }

    @Test
    void anAttentionSaeReadsHookZFlattenedAcrossHeads() {
        SAE id = identity(64, "blocks.0.attn.hook_z");   // gpt2-tiny: 4 heads × d_head 16 = 64
        INDArray tokens = GPT2.toTokens("Hello world");
        Run run = id.withErrorTerm().runWithCache(GPT2, tokens);
        INDArray z = run.cache().get("z", 0);                                           // [1, pos, 4, 16]
        INDArray in = run.cache().get("blocks.0.attn.hook_z.hook_sae_input");           // [1, pos, 64]
        assertArrayEquals(new long[] {1, z.size(1), 64}, in.shape());
        assertArrayEquals(z.dup('c').data().asFloat(), in.dup('c').data().asFloat(), 0f, "heads side by side, head-major as SAELens flattens");
        assertArrayEquals(GPT2.forward(tokens).data().asFloat(), id.runWithCache(GPT2, tokens).logits().data().asFloat(), 0f);
    }

    @Test
    void withTheErrorTermTheRunIsExactlyThePlainRunAndTheCacheHasSaeLensNames() {
        SAE sae = random(64, 96, "blocks.1.hook_resid_pre", 7);
        INDArray tokens = GPT2.toTokens("Hello world, hello world");
        INDArray plain = GPT2.forward(tokens);
        Run exact = sae.withErrorTerm().runWithCache(GPT2, tokens);
        assertArrayEquals(plain.data().asFloat(), exact.logits().data().asFloat(), 0f, "error term: bit for bit the plain run");
        Run replaced = sae.runWithCache(GPT2, tokens);
        assertTrue(replaced.logits().sub(plain).amaxNumber().doubleValue() > 1e-3, "a random SAE's reconstruction changes the run");

        for (String p : SAE.POINTS) assertTrue(exact.cache().contains("blocks.1.hook_resid_pre." + p), p + " in " + exact.cache().keys());
        INDArray in = exact.cache().get("blocks.1.hook_resid_pre.hook_sae_input");
        assertArrayEquals(exact.cache().get("resid_pre", 1).data().asFloat(), in.data().asFloat(), 0f);
        INDArray acts = exact.cache().get("blocks.1.hook_resid_pre.hook_sae_acts_post");
        assertArrayEquals(new long[] {1, tokens.size(1), 96}, acts.shape());
        assertArrayEquals(sae.encode(in).data().asFloat(), acts.data().asFloat(), 1e-5f);
        INDArray recons = exact.cache().get("blocks.1.hook_resid_pre.hook_sae_recons");
        INDArray error = exact.cache().get("blocks.1.hook_resid_pre.hook_sae_error");
        assertEquals(0.0, recons.add(error).sub(in).amaxNumber().doubleValue(), 1e-5, "recons + error = input");
        // Replaced: what the next block reads is the reconstruction.
        assertArrayEquals(replaced.cache().get("blocks.1.hook_resid_pre.hook_sae_recons").data().asFloat(),
                replaced.cache().get("blocks.1.hook_resid_pre.hook_sae_output").data().asFloat(), 0f);
        assertTrue(GPT2.hookNames(sae.splices()).contains("blocks.1.hook_resid_pre.hook_sae_acts_post"));
    }

    @Test
    void ablatingAFeatureWithTheErrorTermMovesTheRunByItsDecoderDirectionOnly() {
        SAE sae = random(64, 96, "blocks.1.hook_resid_pre", 11).withErrorTerm();
        INDArray tokens = GPT2.toTokens("Hello world, hello world");
        Run clean = sae.runWithCache(GPT2, tokens);
        INDArray acts = clean.cache().get("blocks.1.hook_resid_pre.hook_sae_acts_post");
        int feature = Nd4j.argMax(acts.sum(0, 1)).getInt(0);   // one that fires
        Run ablated = GPT2.run(tokens, List.of(sae.feature(feature).times(0)), CacheSpec.all(), true, sae.splices());
        INDArray out = ablated.cache().get("blocks.1.hook_resid_pre.hook_sae_output");
        INDArray expected = clean.cache().get("resid_pre", 1).sub(acts.get(
                org.nd4j.linalg.indexing.NDArrayIndex.all(), org.nd4j.linalg.indexing.NDArrayIndex.all(),
                org.nd4j.linalg.indexing.NDArrayIndex.point(feature)).reshape(1, tokens.size(1), 1).mul(sae.feature(feature).direction().reshape(1, 1, 64)));
        assertEquals(0.0, out.sub(expected).amaxNumber().doubleValue(), 1e-4, "x − f_i·W_dec[i]");
        assertEquals(0.0, ablated.cache().get("blocks.1.hook_resid_pre.hook_sae_acts_post").get(
                org.nd4j.linalg.indexing.NDArrayIndex.all(), org.nd4j.linalg.indexing.NDArrayIndex.all(),
                org.nd4j.linalg.indexing.NDArrayIndex.point(feature)).amaxNumber().doubleValue());
        // Steering adds the direction at the hook point, no splice needed.
        Run steered = GPT2.run(tokens, List.of(sae.feature(feature).steer(3)), CacheSpec.only("resid_pre"), true, List.of());
        INDArray added = steered.cache().get("resid_pre", 1).sub(clean.cache().get("resid_pre", 1));
        assertArrayEquals(sae.feature(feature).direction().mul(3).toFloatVector(), added.get(
                org.nd4j.linalg.indexing.NDArrayIndex.point(0), org.nd4j.linalg.indexing.NDArrayIndex.point(2),
                org.nd4j.linalg.indexing.NDArrayIndex.all()).toFloatVector(), 1e-4f);
    }

    @Test
    void aTranscoderReadsTheMlpInputAndWritesItsOutput() {
        Nd4j.getRandom().setSeed(5);
        SaeConfig c = new SaeConfig(SaeConfig.Activation.RELU, 0, 64, 80, 64, "blocks.0.ln2.hook_normalized", "blocks.0.hook_mlp_out", false,
                SaeConfig.InputNorm.NONE, "hand-made transcoder");
        SAE tc = new SAE(c, Nd4j.randn(DataType.FLOAT, 64, 80).muli(0.2), Nd4j.randn(DataType.FLOAT, 80).muli(0.1),
                Nd4j.randn(DataType.FLOAT, 80, 64).muli(0.2), Nd4j.randn(DataType.FLOAT, 64).muli(0.1), null, Nd4j.randn(DataType.FLOAT, 64, 64).muli(0.05));
        INDArray tokens = GPT2.toTokens("Hello world");
        INDArray plain = GPT2.forward(tokens);
        assertArrayEquals(plain.data().asFloat(), tc.withErrorTerm().runWithCache(GPT2, tokens).logits().data().asFloat(), 0f);
        Run replaced = tc.runWithCache(GPT2, tokens);
        INDArray mlpIn = replaced.cache().get("normalized", 0, "ln2");
        assertArrayEquals(tc.forward(mlpIn).data().asFloat(), replaced.cache().get("blocks.0.hook_mlp_out.hook_sae_output").data().asFloat(), 1e-5f,
                "the MLP's output is the transcoder's, skip term included");
        assertTrue(replaced.cache().contains("blocks.0.ln2.hook_normalized.hook_sae_acts_post"));
    }

    // ------------------------------------------------------------------ files

    static Map<String, INDArray> weights(SAE s) {
        Map<String, INDArray> w = new LinkedHashMap<>();
        w.put("W_enc", s.W_enc());
        w.put("W_dec", s.W_dec());
        w.put("b_enc", s.b_enc());
        w.put("b_dec", s.b_dec());
        return w;
    }

    @Test
    void theThreeFormatsLoadToTheSameSae(@TempDir Path dir) throws IOException {
        SAE made = random(64, 96, "blocks.1.hook_resid_pre", 3);
        INDArray x = Nd4j.randn(DataType.FLOAT, 5, 64);
        INDArray expected = made.encode(x);

        Path lens = Files.createDirectories(dir.resolve("saelens"));
        SafeTensors.write(lens.resolve("sae_weights.safetensors"), weights(made), Map.of());
        Files.writeString(lens.resolve("cfg.json"), "{\"architecture\": \"standard\", \"d_in\": 64, \"d_sae\": 96, \"hook_name\":"
                + " \"blocks.1.hook_resid_pre\", \"apply_b_dec_to_input\": true, \"normalize_activations\": \"none\"}");
        assertArrayEquals(expected.data().asFloat(), SAE.load(lens).encode(x).data().asFloat(), 1e-6f);

        // sparsify: encoder.weight is W_enc transposed; TopK over relu(pre); the folder name says the hook.
        Path sp = Files.createDirectories(dir.resolve("layers.1"));
        Map<String, INDArray> w = new LinkedHashMap<>();
        w.put("encoder.weight", made.W_enc().transpose().dup('c'));
        w.put("encoder.bias", made.b_enc());
        w.put("W_dec", made.W_dec());
        w.put("b_dec", made.b_dec());
        SafeTensors.write(sp.resolve("sae.safetensors"), w, Map.of());
        Files.writeString(sp.resolve("cfg.json"), "{\"expansion_factor\": 1.5, \"normalize_decoder\": true, \"num_latents\": 96, \"k\": 96}");
        SAE sparsify = SAE.load(sp);
        assertEquals("blocks.1.hook_resid_post", sparsify.hookName());
        assertArrayEquals(expected.data().asFloat(), sparsify.encode(x).data().asFloat(), 1e-6f, "TopK with k = d_sae is ReLU");

        // Gemma Scope: params.npz of .npy arrays, JumpReLU, no b_dec on the input.
        Path gs = Files.createDirectories(dir.resolve("gemma-scope-2b-pt-res/layer_1/width_16k/average_l0_71"));
        Map<String, INDArray> npz = new LinkedHashMap<>(weights(made));
        npz.put("threshold", Nd4j.zeros(DataType.FLOAT, 96).addi(0.05));
        writeNpz(gs.resolve("params.npz"), npz);
        SAE gemma = SAE.load(gs);
        assertEquals("blocks.1.hook_resid_post", gemma.hookName());
        INDArray pre = x.mmul(made.W_enc()).addiRowVector(made.b_enc());
        INDArray jump = pre.mul(pre.gt(0.05).castTo(DataType.FLOAT));
        assertArrayEquals(jump.data().asFloat(), gemma.encode(x).data().asFloat(), 1e-6f);
    }

    @Test
    void malformedFilesAreRefusedNamingTheFileAndTheTensor(@TempDir Path dir) throws IOException {
        SAE made = random(8, 12, "blocks.0.hook_resid_pre", 1);
        Path f = Files.createDirectories(dir.resolve("bad"));
        String cfg = "{\"architecture\": \"standard\", \"d_in\": 8, \"d_sae\": 12, \"hook_name\": \"blocks.0.hook_resid_pre\"}";
        Files.writeString(f.resolve("cfg.json"), cfg);
        Map<String, INDArray> w = weights(made);
        w.remove("b_enc");
        SafeTensors.write(f.resolve("sae_weights.safetensors"), w, Map.of());
        CorruptModelFileException missing = assertThrows(CorruptModelFileException.class, () -> SAE.load(f));
        assertTrue(missing.getMessage().contains("b_enc") && missing.getMessage().contains("sae_weights.safetensors"), missing.getMessage());

        w = weights(made);
        w.put("W_enc", Nd4j.zeros(DataType.FLOAT, 8, 13));
        SafeTensors.write(f.resolve("sae_weights.safetensors"), w, Map.of());
        IllegalArgumentException shape = assertThrows(IllegalArgumentException.class, () -> SAE.load(f));
        assertTrue(shape.getMessage().contains("'W_enc' has shape [8, 13]"), shape.getMessage());

        w = weights(made);
        w.put("b_dec", Nd4j.createFromArray(1f, Float.NaN, 0f, 0f, 0f, 0f, 0f, 0f));
        SafeTensors.write(f.resolve("sae_weights.safetensors"), w, Map.of());
        CorruptModelFileException nan = assertThrows(CorruptModelFileException.class, () -> SAE.load(f));
        assertTrue(nan.getMessage().contains("b_dec") && nan.getMessage().contains("NaN"), nan.getMessage());

        SafeTensors.write(f.resolve("sae_weights.safetensors"), weights(made), Map.of());
        Files.writeString(f.resolve("cfg.json"), cfg.replace("standard", "gated"));
        IllegalArgumentException arch = assertThrows(IllegalArgumentException.class, () -> SAE.load(f));
        assertTrue(arch.getMessage().contains("cfg.json") && arch.getMessage().contains("'architecture' is \"gated\""), arch.getMessage());

        Path gs = Files.createDirectories(dir.resolve("gs"));
        Files.write(gs.resolve("params.npz"), zip(Map.of("W_enc.npy", "\u0093NUMPY\u0001\u0000\u0010\u0000{'descr': '>f4', }    \n")));
        CorruptModelFileException npy = assertThrows(CorruptModelFileException.class, () -> SAE.load(gs, "blocks.0.hook_resid_pre"));
        assertTrue(npy.getMessage().contains("W_enc"), npy.getMessage());
        assertThrows(IllegalArgumentException.class, () -> SAE.fromPretrained("no-such-release", "x"));
        assertEquals(new SaeReleases.Location("jbloom/GPT2-Small-SAEs-Reformatted", "blocks.8.hook_resid_pre"),
                SaeReleases.locate("gpt2-small-res-jb", "blocks.8.hook_resid_pre"));
    }

    @Test
    void anSaeForAnotherModelIsRefusedWhenSplicedIn() {
        SAE sae = random(64, 96, "blocks.7.hook_resid_pre", 2);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> sae.runWithCache(GPT2, GPT2.toTokens("Hi")));
        assertTrue(e.getMessage().contains("blocks.7.hook_resid_pre"), e.getMessage());
        SAE wide = random(32, 40, "blocks.1.hook_resid_pre", 2);
        IllegalArgumentException w = assertThrows(IllegalArgumentException.class, () -> wide.runWithCache(GPT2, GPT2.toTokens("Hi")));
        assertTrue(w.getMessage().contains("reads [.., 32]"), w.getMessage());
        assertFalse(w.getMessage().isBlank());
    }

    // ------------------------------------------------------------------ writing .npz as np.savez does

    static void writeNpz(Path file, Map<String, INDArray> arrays) throws IOException {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        for (Map.Entry<String, INDArray> e : arrays.entrySet()) entries.put(e.getKey() + ".npy", npy(e.getValue()));
        Files.write(file, zipBytes(entries));
    }

    static byte[] npy(INDArray a) {
        StringBuilder shape = new StringBuilder("(");
        for (long d : a.shape()) shape.append(d).append(", ");
        String dict = "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape.toString().replaceAll(", $", a.rank() == 1 ? "," : "") + "), }";
        int total = 10 + dict.length() + 1;
        int pad = (64 - total % 64) % 64;
        String header = dict + " ".repeat(pad) + "\n";
        float[] v = a.dup('c').data().asFloat();
        ByteBuffer b = ByteBuffer.allocate(10 + header.length() + 4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) 1).put((byte) 0).putShort((short) header.length());
        b.put(header.getBytes(StandardCharsets.US_ASCII));
        for (float f : v) b.putFloat(f);
        return b.array();
    }

    static byte[] zip(Map<String, String> entries) throws IOException {
        Map<String, byte[]> bytes = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : entries.entrySet()) bytes.put(e.getKey(), e.getValue().getBytes(StandardCharsets.ISO_8859_1));
        return zipBytes(bytes);
    }

    static byte[] zipBytes(Map<String, byte[]> entries) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ZipOutputStream z = new ZipOutputStream(out)) {
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                z.putNextEntry(new ZipEntry(e.getKey()));
                z.write(e.getValue());
                z.closeEntry();
            }
        }
        return out.toByteArray();
    }
}
