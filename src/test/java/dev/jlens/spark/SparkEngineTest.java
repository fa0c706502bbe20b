package dev.jlens.spark;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.experiment.BlockInternalsResults;
import dev.jlens.experiment.Manifest;
import dev.jlens.testing.FolderBytes;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Block internals on Spark embedded in this JVM ({@code local[2]}) give the single-machine run's folder byte for byte:
 * a fresh run, a run whose task fails once (Spark retries it), and a resumed one.
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
        SparkEngine.failOnceForTests = marker.toString();
        Path out = tmp.resolve("spark");
        single.run(out, single.spark("local[2,4]", Map.of()));   // local[N,F]: F tries per task (local[N] gives up at once)
        assertTrue(Files.exists(marker), "no task failed");
        single.assertSameAs(out);
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
