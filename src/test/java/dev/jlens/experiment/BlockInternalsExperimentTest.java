package dev.jlens.experiment;

import static dev.jlens.testing.Golden.ATOL;
import static dev.jlens.testing.Golden.RTOL;
import static dev.jlens.testing.Golden.assertClose;
import static dev.jlens.testing.Golden.flat;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.nd4j.linalg.indexing.NDArrayIndex.all;
import static org.nd4j.linalg.indexing.NDArrayIndex.interval;
import static org.nd4j.linalg.indexing.NDArrayIndex.point;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jlens.data.Corpus;
import dev.jlens.data.Dataset;
import dev.jlens.data.Split;
import dev.jlens.model.HookedTransformer;
import dev.jlens.model.Run;
import dev.jlens.model.Weights;
import dev.jlens.testing.Golden;
import dev.jlens.testing.TestData;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The block-internals experiment on the tiny char fixture model: what it saves against the model's
 * own cached run of each sample alone and against the lecture's PyTorch values (golden.json), resume
 * after a kill, and every refusal (another experiment's folder, a damaged batch, a full disk).
 */
class BlockInternalsExperimentTest {
    static HookedTransformer model;
    static JsonNode golden;
    static final String TEXT = "First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n\n"
            + "First Citizen:\nYou are all resolved rather to die than to famish?\n\nAll:\nResolved. resolved.\n";

    @TempDir
    Path tmp;
    final ByteArrayOutputStream printed = new ByteArrayOutputStream();

    @BeforeAll
    static void load() {
        Path dir = TestData.file("fixtures/charlm-tiny");
        model = HookedTransformer.fromPretrained(dir.toString());
        golden = Golden.read(dir.resolve("golden.json"));
    }

    @AfterEach
    void noKill() {
        ExperimentRunner.afterFileForTests = b -> {};
    }

    private RunOptions quiet() {
        return RunOptions.defaults().withOutput(new PrintStream(printed, true, StandardCharsets.UTF_8), false)
                .withFreeSpace(FreeSpace.fixed(Long.MAX_VALUE));
    }

    private String printed() {
        return printed.toString(StandardCharsets.UTF_8);
    }

    private static Dataset windows(Split split, int length, int stride) {
        return Dataset.windows(Corpus.of(TEXT, "citizens.txt", model.tokenizer()), split, length, stride);
    }

    // ---------------------------------------------------------------- what is saved

    @Test
    void everySavedRowEqualsTheModelsOwnRunOfThatSampleAlone() {
        Dataset data = windows(Split.ALL, 9, 9);
        var exp = BlockInternalsExperiment.of(model, data, 0, 2).withBatchSize(4);
        var results = exp.run(tmp.resolve("r"), quiet());
        int n = data.samples().count(), len = 9;
        assertEquals(n, results.sampleCount());
        assertEquals((long) n * len, results.rowCount());
        assertTrue(exp.batchCount() > 2 && n % 4 != 0, "several batches, the last one short");
        for (int block : new int[] {0, 2}) {
            for (Component c : Component.values()) {
                INDArray m = results.matrix(c, block);
                assertArrayEquals(new long[] {(long) n * len, c.width(model.cfg())}, m.shape());
                for (int i = 0; i < n; i++) {
                    Run alone = model.runWithCache(model.toTokens(data.text(i)));   // every hook, logits, batch of one
                    INDArray expected = alone.cache().get(c.hookName(block)).reshape('c', len, c.width(model.cfg()));
                    INDArray got = m.get(interval((long) i * len, (long) (i + 1) * len), all());
                    assertTrue(expected.equalsWithEps(got, 1e-5f), c + " block " + block + " sample " + i);
                }
            }
        }
        for (int i = 0; i < n; i++) assertArrayEquals(data.samples().tokens(i), results.sampleTokens(i));
        assertEquals(Manifest.batchFileName(0), results.manifest().batches().get(0).file());
    }

    @Test
    void lastPositionsMatchTheLecturesPyTorchValues() {
        for (JsonNode p : golden.get("prompts")) {
            String text = p.get("text").asText();
            int len = p.get("T").asInt();
            Dataset one = Dataset.windows(Corpus.of(text, "prompt", model.tokenizer()), Split.ALL, len, len);
            Path folder = tmp.resolve("golden-" + Integer.toHexString(text.hashCode()));
            var r = BlockInternalsExperiment.of(model, one, 0, 1, 2).withPositions(Positions.LAST).run(folder, quiet());
            String at = " for '" + text + "'";
            assertClose("block0 heads" + at, flat(p.get("block0_head_out_last")), r.matrix(Component.Z, 0), ATOL, RTOL);
            assertClose("block1 sa.proj" + at, flat(p.get("block1_sa_proj_out_last")), r.matrix(Component.ATTN_OUT, 1), ATOL, RTOL);
            assertClose("block1 ffwd" + at, flat(p.get("block1_ffwd_out_last")), r.matrix(Component.MLP_OUT, 1), ATOL, RTOL);
            JsonNode blockOut = p.get("block_out_last");
            for (int b = 0; b < 3; b++) {
                assertClose("block " + b + " output" + at, flat(blockOut.get(b)), r.matrix(Component.RESID_POST, b), ATOL, RTOL);
                if (b > 0) assertClose("block " + b + " input" + at, flat(blockOut.get(b - 1)), r.matrix(Component.RESID_PRE, b), ATOL, RTOL);
            }
            assertClose("block 0 input" + at, flat(p.get("embed_last")), r.matrix(Component.RESID_PRE, 0), ATOL, RTOL);
        }
    }

    @Test
    void theManifestSaysWhatWasRun() throws Exception {
        var exp = BlockInternalsExperiment.of(model, windows(Split.VAL, 5, 5), 1).withComponents(Component.Z, Component.MLP_OUT);
        var r = exp.run(tmp.resolve("m"), quiet());
        Manifest m = r.manifest();
        assertEquals("val", m.split());
        assertEquals(List.of(1), m.blocks());
        assertEquals(List.of("z", "mlp_out"), m.components());
        assertEquals("all", m.positions());
        assertEquals(Map.of("kind", "windows", "length", 5, "stride", 5, "count", m.sampleCount()), m.samples());
        assertEquals(List.of(5L, 64L), m.tensors().get("blocks.1.attn.hook_z"));
        assertEquals(64, m.model().weightsSha256().length());
        assertEquals(Corpus.of(TEXT, "x", model.tokenizer()).sha256(), m.dataset().sha256());
        long onDisk = 0;
        for (Manifest.Batch b : m.batches()) {
            Path f = r.folder().resolve(b.file());
            assertEquals(Files.size(f), b.bytes());
            onDisk += b.bytes();
        }
        // the size stated beforehand covers what was written, with little to spare
        assertTrue(onDisk <= exp.expectedBytes() && onDisk > exp.expectedBytes() * 0.5, onDisk + " vs " + exp.expectedBytes());
        assertTrue(printed().contains("about " + BlockInternalsExperiment.bytes(exp.expectedBytes()) + " in all"), printed());
        // another tool reads the batch as plain safetensors
        try (var st = dev.jlens.load.SafeTensors.open(r.folder().resolve(m.batches().get(0).file()))) {
            assertEquals(List.of("tokens", "blocks.1.attn.hook_z", "blocks.1.hook_mlp_out"), List.copyOf(st.names()));
            assertEquals("I32", st.info("tokens").dtype());
        }
    }

    // ---------------------------------------------------------------- resume

    @Test
    void aRunKilledMidwayResumesToTheSameBytes() throws Exception {
        var exp = BlockInternalsExperiment.of(model, windows(Split.ALL, 8, 8), 1).withBatchSize(3);
        assertTrue(exp.batchCount() >= 6);
        Path reference = tmp.resolve("reference"), killed = tmp.resolve("killed");
        exp.run(reference, quiet());

        // killed after batch 3's file was written, before the manifest listed it
        ExperimentRunner.afterFileForTests = b -> {
            if (b == 3) throw new IllegalStateException("simulated kill");
        };
        assertThrows(IllegalStateException.class, () -> exp.run(killed, quiet()));
        ExperimentRunner.afterFileForTests = b -> {};
        assertEquals(3, Manifest.read(killed).batches().size());
        assertTrue(Files.exists(killed.resolve(Manifest.batchFileName(3))));
        // and the writes of batch 4 and of the manifest were cut short
        Files.write(killed.resolve(Manifest.batchFileName(4)), new byte[] {1, 2, 3});
        Files.write(killed.resolve(".batch-00005.safetensors.k3x9.tmp"), new byte[100]);
        Files.write(killed.resolve(".manifest.json.zz1.tmp"), new byte[10]);

        var r = exp.run(killed, quiet());
        assertTrue(r.complete());
        assertEquals(contents(reference), contents(killed));
        assertTrue(printed().contains("3 of " + exp.batchCount() + " batches already there"), printed());
    }

    @Test
    void aCompleteFolderIsLeftAsItIs() throws Exception {
        var exp = BlockInternalsExperiment.of(model, windows(Split.ALL, 8, 8), 0);
        Path folder = tmp.resolve("done");
        exp.run(folder, quiet());
        var before = Files.getLastModifiedTime(folder.resolve(Manifest.batchFileName(0)));
        exp.run(folder, quiet());
        assertEquals(before, Files.getLastModifiedTime(folder.resolve(Manifest.batchFileName(0))));
        assertTrue(printed().contains("nothing to do"), printed());
    }

    @Test
    void aMissingBatchIsComputedAgain() throws Exception {
        var exp = BlockInternalsExperiment.of(model, windows(Split.ALL, 8, 8), 0).withBatchSize(3);
        Path folder = tmp.resolve("missing");
        exp.run(folder, quiet());
        Map<String, String> before = contents(folder);
        Files.delete(folder.resolve(Manifest.batchFileName(1)));
        var e = assertThrows(ResultsFolderException.class, () -> BlockInternalsResults.open(folder));
        assertTrue(e.getMessage().contains("batch-00001.safetensors") && e.getMessage().contains("missing"), e.getMessage());
        exp.run(folder, quiet());
        assertEquals(before, contents(folder));
    }

    // ---------------------------------------------------------------- refusals

    @Test
    void aFolderOfAnotherExperimentIsNamedAndKeptUnlessForced() throws Exception {
        Path folder = tmp.resolve("block0-val");
        BlockInternalsExperiment.of(model, windows(Split.VAL, 6, 6), 0).run(folder, quiet());
        Map<String, String> before = contents(folder);

        var otherBlock = assertThrows(ResultsFolderException.class,
                () -> BlockInternalsExperiment.of(model, windows(Split.VAL, 6, 6), 1).run(folder, quiet()));
        assertEquals(ResultsFolderException.Problem.MISMATCH, otherBlock.problem());
        assertTrue(otherBlock.getMessage().contains("it holds block 0, not block 1") && otherBlock.getMessage().contains("--force"),
                otherBlock.getMessage());

        var otherSplit = assertThrows(ResultsFolderException.class,
                () -> BlockInternalsExperiment.of(model, windows(Split.TRAIN, 6, 6), 0).run(folder, quiet()));
        assertTrue(otherSplit.getMessage().contains("the val split, not the train split"), otherSplit.getMessage());

        Dataset otherText = Dataset.windows(Corpus.of(TEXT + "More.\n", "more.txt", model.tokenizer()), Split.VAL, 6, 6);
        var text = assertThrows(ResultsFolderException.class, () -> BlockInternalsExperiment.of(model, otherText, 0).run(folder, quiet()));
        assertTrue(text.getMessage().contains("another text") && text.getMessage().contains("more.txt"), text.getMessage());

        Weights w = model.weights();
        var changed = new HookedTransformer(model.cfg(), new Weights(w.W_E().dup().addi(0.01f), w.W_pos(), w.layers(),
                w.lnFinalW(), w.lnFinalB(), w.W_U(), w.b_U()), model.tokenizer());
        var otherModel = assertThrows(ResultsFolderException.class,
                () -> BlockInternalsExperiment.of(changed, windows(Split.VAL, 6, 6), 0).run(folder, quiet()));
        assertTrue(otherModel.getMessage().contains("another model"), otherModel.getMessage());

        var batch = assertThrows(ResultsFolderException.class,
                () -> BlockInternalsExperiment.of(model, windows(Split.VAL, 6, 6), 0).withBatchSize(2).run(folder, quiet()));
        assertTrue(batch.getMessage().contains("--batch-size"), batch.getMessage());

        assertEquals(before, contents(folder), "nothing was overwritten");

        var replaced = BlockInternalsExperiment.of(model, windows(Split.VAL, 6, 6), 1).run(folder, quiet().withForce(true));
        assertEquals(List.of(1), replaced.manifest().blocks());
        assertTrue(printed().contains("--force: deleting"), printed());
    }

    @Test
    void aDamagedBatchIsNamed() throws Exception {
        var exp = BlockInternalsExperiment.of(model, windows(Split.ALL, 8, 8), 0).withBatchSize(3);
        Path folder = tmp.resolve("damaged");
        exp.run(folder, quiet());
        Path batch1 = folder.resolve(Manifest.batchFileName(1));
        byte[] bytes = Files.readAllBytes(batch1);
        bytes[bytes.length - 3] ^= 0x40;   // one bit of one activation, size unchanged
        Files.write(batch1, bytes);

        var onResume = assertThrows(ResultsFolderException.class, () -> exp.run(folder, quiet()));
        assertEquals(ResultsFolderException.Problem.CORRUPT_BATCH, onResume.problem());
        assertEquals(batch1.toAbsolutePath().toString(), onResume.location());
        assertTrue(onResume.getMessage().contains("batch 1 is damaged") && onResume.getMessage().contains("SHA-256"), onResume.getMessage());
        var onVerify = assertThrows(ResultsFolderException.class, () -> BlockInternalsResults.open(folder).verify());
        assertEquals(batch1.toAbsolutePath().toString(), onVerify.location());
        assertArrayEquals(bytes, Files.readAllBytes(batch1), "left as found");

        Files.write(batch1, new byte[] {0});
        assertTrue(assertThrows(ResultsFolderException.class, () -> BlockInternalsResults.open(folder)).getMessage()
                .contains("has 1 bytes but the manifest recorded"));
    }

    @Test
    void aFullDiskIsRefusedBeforeAnythingIsWritten() {
        var exp = BlockInternalsExperiment.of(model, windows(Split.ALL, 8, 2), 0, 1, 2);
        Path folder = tmp.resolve("full");
        long need = exp.expectedBytes();
        var e = assertThrows(ResultsFolderException.class,
                () -> exp.run(folder, quiet().withFreeSpace(FreeSpace.fixed(need / 2))));
        assertEquals(ResultsFolderException.Problem.NO_SPACE, e.problem());
        assertTrue(e.getMessage().contains("free") && e.getMessage().contains("nothing was written"), e.getMessage());
        assertFalse(Files.exists(folder));
        assertTrue(printed().contains(BlockInternalsExperiment.bytes(need / 2) + " free"), printed());
        exp.run(folder, quiet().withFreeSpace(FreeSpace.fixed(need + need / 10)));
    }

    @Test
    void aFolderThatIsNotAResultsFolderIsLeftAlone() throws Exception {
        Path folder = Files.createDirectories(tmp.resolve("notes"));
        Files.writeString(folder.resolve("notes.txt"), "mine");
        var exp = BlockInternalsExperiment.of(model, windows(Split.ALL, 8, 8), 0);
        var e = assertThrows(ResultsFolderException.class, () -> exp.run(folder, quiet()));
        assertEquals(ResultsFolderException.Problem.NOT_A_RESULTS_FOLDER, e.problem());
        assertTrue(e.getMessage().contains("notes.txt") && e.getMessage().contains("no manifest.json"), e.getMessage());
        exp.run(folder, quiet().withForce(true));
        assertEquals("mine", Files.readString(folder.resolve("notes.txt")), "--force deletes only jlens's files");
        Files.writeString(folder.resolve(Manifest.FILE_NAME), "{not json");
        assertEquals(ResultsFolderException.Problem.NOT_A_RESULTS_FOLDER,
                assertThrows(ResultsFolderException.class, () -> BlockInternalsResults.open(folder)).problem());
    }

    @Test
    void badSettingsSayWhatIsAllowed() {
        Dataset d = windows(Split.ALL, 8, 8);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> BlockInternalsExperiment.of(model, d, 3))
                .getMessage().contains("blocks 0..2"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> BlockInternalsExperiment.of(model, windows(Split.ALL, 33, 1), 0))
                .getMessage().contains("context of 32"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Component.parse("ffwd")).getMessage().contains("mlp_out (ffwd_output)"));
        assertEquals(Component.ATTN_OUT, Component.parse("proj_output"));
        assertEquals(Positions.LAST, BlockInternalsExperiment.of(model,
                Dataset.uniqueSubstrings(Corpus.of(TEXT, "t", model.tokenizer()), Split.ALL, 10), 0).positions());
    }

    /** File name → SHA-256 of every file in a folder. */
    private static Map<String, String> contents(Path folder) throws Exception {
        Map<String, String> m = new TreeMap<>();
        try (Stream<Path> s = Files.list(folder)) {
            for (Path p : s.toList()) m.put(p.getFileName().toString(), Fingerprints.file(p));
        }
        return m;
    }
}
