package dev.jlens.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.cli.FolderLock;
import dev.jlens.experiment.BlockInternalsResults;
import dev.jlens.experiment.ExperimentRecipe;
import dev.jlens.experiment.FeatureContextsExperiment;
import dev.jlens.experiment.Manifest;
import dev.jlens.experiment.ResultsFolderException;
import dev.jlens.load.SafeTensors;
import dev.jlens.testing.FolderBytes;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Block internals on Spark embedded in this JVM ({@code local[2]}) give the single-machine run's folder byte for byte:
 * a fresh run, a run whose task fails once (Spark retries it), resumed runs, the folder lock and --force, and the
 * SAE's max-activating contexts.
 */
class SparkEngineTest {
    final SingleMachineRun single = SingleMachineRun.get();

    @TempDir
    Path tmp;

    @AfterEach
    void noFailure() {
        SparkEngine.failOnceForTests = null;
    }

    @Test
    void embeddedLocal2WritesTheSingleMachineBytes() {
        Path out = tmp.resolve("spark");
        BlockInternalsResults r = single.run(out, single.spark("local[2]", Map.of()));
        assertTrue(r.manifest().complete());
        single.assertSameAs(out);
    }

    @Test
    void aTaskThatFailsOnceIsRetriedToTheSameBytes() {
        Path marker = tmp.resolve("failed-once");
        SparkEngine.failOnceForTests = new BatchTask.FailOnce(marker.toString(), 1);
        Path out = tmp.resolve("spark");
        single.run(out, single.spark("local[2,4]", Map.of()));   // local[N,F]: F tries per task (local[N] gives up at once)
        assertTrue(Files.exists(marker), "no task failed");
        single.assertSameAs(out);
    }

    @Test
    void aJobThatDiesIsResumedByTheSameCommandToTheSameBytes() throws Exception {
        Path out = tmp.resolve("spark");
        SparkEngine.failOnceForTests = new BatchTask.FailOnce(tmp.resolve("failed-once").toString(), 3);
        // local[1]: one task at a time in batch order, one try each: batches 0-2 are written, then batch 3's failure ends
        // the job (as a killed job ends).
        var died = assertThrows(SparkEngine.JobFailedException.class, () -> single.run(out, single.spark("local[1]", Map.of())));
        assertTrue(died.getMessage().contains("failing once, as the test asked") && died.getMessage().contains("run the same command"),
                died.getMessage());
        assertTrue(Files.exists(out.resolve(Manifest.FILE_NAME)), "the driver writes the manifest before the batches");
        SparkEngine.failOnceForTests = null;
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        single.run(out, single.spark("local[2]", Map.of()).withOutput(new PrintStream(printed, true, StandardCharsets.UTF_8), false));
        assertTrue(printed.toString(StandardCharsets.UTF_8).contains("3 of 6 batches already there"), printed.toString(StandardCharsets.UTF_8));
        single.assertSameAs(out);
    }

    @Test
    void theFolderLockAndForceHoldAsOnOneMachine() throws Exception {
        Path out = Files.createDirectories(tmp.resolve("spark"));
        try (FolderLock held = FolderLock.acquire(out, "a test")) {
            var refused = assertThrows(IllegalStateException.class, () -> single.run(out, single.spark("local[2]", Map.of())));
            assertTrue(refused.getMessage().contains("in use by process " + ProcessHandle.current().pid()), refused.getMessage());
        }
        Files.writeString(out.resolve("notes.txt"), "not a results folder");
        var notResults = assertThrows(ResultsFolderException.class, () -> single.run(out, single.spark("local[2]", Map.of())));
        assertTrue(notResults.getMessage().contains("--force"), notResults.getMessage());
        single.run(out, single.spark("local[2]", Map.of()).withForce(true));
        Files.delete(out.resolve("notes.txt"));   // --force deletes jlens's own files only
        single.assertSameAs(out);
    }

    @Test
    void featureContextsOnSparkAreTheSingleMachineBytes() throws Exception {
        Path sae = Files.createDirectories(tmp.resolve("sae"));
        Nd4j.getRandom().setSeed(18);
        Map<String, INDArray> w = new LinkedHashMap<>();
        w.put("W_enc", Nd4j.randn(DataType.FLOAT, 64, 32));
        w.put("b_enc", Nd4j.zeros(DataType.FLOAT, 32));
        w.put("W_dec", Nd4j.randn(DataType.FLOAT, 32, 64));
        w.put("b_dec", Nd4j.zeros(DataType.FLOAT, 64));
        SafeTensors.write(sae.resolve("sae_weights.safetensors"), w, Map.of());
        Files.writeString(sae.resolve("cfg.json"), "{\"architecture\": \"standard\", \"d_in\": 64, \"d_sae\": 32, \"hook_name\":"
                + " \"blocks.1.hook_resid_pre\", \"apply_b_dec_to_input\": false, \"normalize_activations\": \"none\"}");
        Path text = Files.writeString(tmp.resolve("citizens.txt"), SingleMachineRun.TEXT);
        List<Path> folders = List.of(tmp.resolve("single"), tmp.resolve("spark"), tmp.resolve("spark-shipped"));
        for (Path out : folders) {
            var recipe = new ExperimentRecipe(List.of("feature-contexts", "--sae", sae.toString(), "--data", text.toString(),
                    "--length", "8", "--split", "all", "--batch-size", "4", "--top-k", "3", "--out", out.toString()),
                    single.recipe.model(), text.toString(), sae.toString());
            var options = SingleMachineRun.quiet();
            if (!out.endsWith("single")) {
                options = options.withEngine(new SparkEngine(recipe.withShip(out.endsWith("spark-shipped")), "local[2]", Map.of()));
            }
            assertTrue(((FeatureContextsExperiment) recipe.build()).run(out, options).complete());
        }
        FolderBytes.assertSame(folders.get(0), folders.get(1), n -> n.equals(dev.jlens.cli.FolderLock.FILE_NAME));
        FolderBytes.assertSame(folders.get(0), folders.get(2), n -> n.equals(dev.jlens.cli.FolderLock.FILE_NAME));
        var built = ExecutorExperiments.lastBuiltForTests;   // the shipped run's, the last one
        assertTrue(Path.of(built.recipe().sae()).startsWith(built.sparkFiles()) && Path.of(built.recipe().sae()).endsWith("sae"),
                "the executor read the SAE at " + built.recipe().sae() + ", not its copy under " + built.sparkFiles());
    }

    @Test
    void withShipTheExecutorsReadTheirShippedCopiesToTheSameBytes() {
        ExecutorExperiments.lastBuiltForTests = null;
        Path out = tmp.resolve("spark");
        ExperimentRecipe shipped = single.recipe.withShip(true);
        assertTrue(single.run(out, SingleMachineRun.quiet().withEngine(new SparkEngine(shipped, "local[2]", Map.of()))).manifest().complete());
        single.assertSameAs(out);
        var built = ExecutorExperiments.lastBuiltForTests;
        assertNotNull(built, "no executor built the experiment");
        Path model = Path.of(built.recipe().model()), text = Path.of(built.recipe().data());
        // The copies keep the originals' names (the model's name and the manifest's labels come from them), elsewhere.
        assertTrue(model.startsWith(built.sparkFiles()) && model.endsWith("charlm-tiny"), "the executor read the model at " + model
                + ", not its copy under " + built.sparkFiles());
        assertTrue(text.startsWith(built.sparkFiles()) && text.endsWith("citizens.txt"), "the executor read the text at " + text
                + ", not its copy under " + built.sparkFiles());
        assertEquals(single.recipe.args(), built.recipe().args());
    }

    @Test
    void aResumedRunComputesOnlyWhatIsMissingToTheSameBytes() throws Exception {
        Path out = Files.createDirectories(tmp.resolve("spark"));
        for (String n : FolderBytes.files(single.folder)) Files.copy(single.folder.resolve(n), out.resolve(n));
        Files.delete(out.resolve(Manifest.batchFileName(1)));   // as if the job had been killed before writing them
        Files.delete(out.resolve(Manifest.batchFileName(3)));
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        single.run(out, single.spark("local[2]", Map.of()).withOutput(new PrintStream(printed, true, StandardCharsets.UTF_8), false));
        String said = printed.toString(StandardCharsets.UTF_8);
        assertTrue(said.contains("batch 1 (batch-00001.safetensors) is missing") && said.contains("4 of 6 batches already there"), said);
        single.assertSameAs(out);
    }
}
