package dev.jlens.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.jlens.cli.FolderLock;
import dev.jlens.experiment.BlockInternalsExperiment;
import dev.jlens.experiment.BlockInternalsResults;
import dev.jlens.experiment.ExperimentRecipe;
import dev.jlens.experiment.RunOptions;
import dev.jlens.testing.FolderBytes;
import dev.jlens.testing.TestData;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The run every Spark test compares with: 6 batches of 4 windows of 8 characters through blocks 0 and 1 of the tiny
 * fixture model, made once per test JVM by the single-machine engine.
 */
final class SingleMachineRun {
    static final String TEXT = "First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n\n"
            + "First Citizen:\nYou are all resolved rather to die than to famish?\n\nAll:\nResolved. resolved.\n";

    private static SingleMachineRun made;

    final ExperimentRecipe recipe;
    final Path folder;

    private SingleMachineRun(ExperimentRecipe recipe, Path folder) {
        this.recipe = recipe;
        this.folder = folder;
    }

    static synchronized SingleMachineRun get() {
        if (made == null) {
            try {
                Path dir = Files.createTempDirectory("jlens-spark-reference");
                Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteAll(dir)));
                Path text = Files.writeString(dir.resolve("citizens.txt"), TEXT);
                Path folder = dir.resolve("single");
                ExperimentRecipe recipe = new ExperimentRecipe(List.of("block-internals", "--data", text.toString(), "--block", "0,1",
                        "--length", "8", "--split", "all", "--batch-size", "4", "--out", folder.toString()),
                        TestData.file("fixtures/charlm-tiny").toAbsolutePath().toString(), text.toAbsolutePath().toString(), null);
                made = new SingleMachineRun(recipe, folder);
                made.run(folder, quiet());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return made;
    }

    /** The same experiment into {@code out}. */
    BlockInternalsResults run(Path out, RunOptions options) {
        return ((BlockInternalsExperiment) recipe.build()).run(out, options);
    }

    /** Run options that print nowhere, on this machine. */
    static RunOptions quiet() {
        return RunOptions.defaults().withOutput(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8), false);
    }

    /** The same with Spark: {@code master} plus {@code settings}. */
    RunOptions spark(String master, Map<String, String> settings) {
        return quiet().withEngine(new SparkEngine(recipe, master, settings));
    }

    /** {@code other} holds this run's files, byte for byte (the folder lock's file, named only, may differ). */
    void assertSameAs(Path other) {
        FolderBytes.assertSame(folder, other, n -> n.equals(FolderLock.FILE_NAME));
    }

    /**
     * {@code other}, a folder copied back from HDFS, holds this run's results byte for byte: the manifest and every batch.
     * Its lock file is not among them: on a file system without operating-system locks a released lock is deleted (its
     * presence is what holds the folder), where a local folder keeps it empty.
     */
    void assertSameResultsAs(Path other) throws IOException {
        assertEquals(Files.size(folder.resolve(FolderLock.FILE_NAME)), 0, "the local run released its lock");
        Path expected = Files.createTempDirectory("jlens-results");
        for (String n : FolderBytes.files(folder)) if (!n.equals(FolderLock.FILE_NAME)) Files.copy(folder.resolve(n), expected.resolve(n));
        try {
            FolderBytes.assertSame(expected, other, n -> false);
        } finally {
            deleteAll(expected);
        }
    }

    private static void deleteAll(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a temporary folder: the system cleans it eventually
        }
    }
}
