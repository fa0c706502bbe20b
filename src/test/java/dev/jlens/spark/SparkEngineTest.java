package dev.jlens.spark;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.cli.FolderLock;
import dev.jlens.experiment.BlockInternalsExperiment;
import dev.jlens.experiment.BlockInternalsResults;
import dev.jlens.experiment.ExperimentRecipe;
import dev.jlens.experiment.Manifest;
import dev.jlens.experiment.RunOptions;
import dev.jlens.testing.FolderBytes;
import dev.jlens.testing.TestData;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Block internals on Spark embedded in this JVM ({@code local[2]}) give the single-machine run's folder byte for byte:
 * a fresh run, a run whose task fails once (Spark retries it), and a resumed one.
 */
class SparkEngineTest {
    static final String TEXT = "First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n\n"
            + "First Citizen:\nYou are all resolved rather to die than to famish?\n\nAll:\nResolved. resolved.\n";

    @TempDir
    static Path shared;
    static Path single;
    static ExperimentRecipe recipe;

    @TempDir
    Path tmp;

    /** The single-machine run every Spark run is compared with. */
    @BeforeAll
    static void singleMachine() throws Exception {
        Path text = Files.writeString(shared.resolve("citizens.txt"), TEXT);
        single = shared.resolve("single");
        recipe = recipe(text, single);
        run(single, RunOptionsFor.local());
    }

    /** 5 batches of 4 windows of 8 characters through blocks 0 and 1 of the tiny fixture. */
    static ExperimentRecipe recipe(Path text, Path out) {
        return new ExperimentRecipe(List.of("block-internals", "--data", text.toString(), "--block", "0,1", "--length", "8",
                "--split", "all", "--batch-size", "4", "--out", out.toString()),
                TestData.file("fixtures/charlm-tiny").toAbsolutePath().toString(), text.toAbsolutePath().toString());
    }

    static BlockInternalsResults run(Path out, RunOptions options) {
        return ((BlockInternalsExperiment) recipe.build()).run(out, options);
    }

    /** Options that print nowhere. */
    static final class RunOptionsFor {
        static RunOptions local() {
            return RunOptions.defaults().withOutput(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8), false);
        }

        static RunOptions spark(String master) {
            return local().withEngine(new SparkEngine(recipe, master, Map.of()));
        }
    }

    @AfterEach
    void noFailure() {
        SparkEngine.failOnceForTests = null;
    }

    static void assertSameAsSingle(Path folder) {
        FolderBytes.assertSame(single, folder, n -> n.equals(FolderLock.FILE_NAME));
    }

    @Test
    void embeddedLocal2WritesTheSingleMachineBytes() {
        Path out = tmp.resolve("spark");
        BlockInternalsResults r = run(out, RunOptionsFor.spark("local[2]"));
        assertTrue(r.manifest().complete());
        assertSameAsSingle(out);
    }

    @Test
    void aTaskThatFailsOnceIsRetriedToTheSameBytes() {
        Path marker = tmp.resolve("failed-once");
        SparkEngine.failOnceForTests = marker.toString();
        Path out = tmp.resolve("spark");
        run(out, RunOptionsFor.spark("local[2,4]"));
        assertTrue(Files.exists(marker), "no task failed");
        assertSameAsSingle(out);
    }

    @Test
    void aResumedRunComputesOnlyWhatIsMissingToTheSameBytes() throws Exception {
        Path out = tmp.resolve("spark");
        Files.createDirectories(out);
        for (String n : FolderBytes.files(single)) Files.copy(single.resolve(n), out.resolve(n));
        Files.delete(out.resolve(Manifest.batchFileName(1)));   // as if the job had been killed before it
        Files.delete(out.resolve(Manifest.batchFileName(3)));
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        run(out, RunOptionsFor.spark("local[2]").withOutput(new PrintStream(printed, true, StandardCharsets.UTF_8), false));
        assertTrue(printed.toString(StandardCharsets.UTF_8).contains("batch 1 (batch-00001.safetensors) is missing"), printed.toString());
        assertSameAsSingle(out);
    }
}
