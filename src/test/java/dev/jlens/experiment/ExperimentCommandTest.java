package dev.jlens.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.data.Split;
import dev.jlens.testing.TestData;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code jlens experiment block-internals} as a user types it: options, defaults, refusals, exit status. */
class ExperimentCommandTest {
    @TempDir
    Path tmp;
    private String out = "", err = "";

    private int run(FreeSpace free, String... args) {
        ByteArrayOutputStream o = new ByteArrayOutputStream(), e = new ByteArrayOutputStream();
        int status = ExperimentCommand.run(args, new PrintStream(o, true, StandardCharsets.UTF_8),
                new PrintStream(e, true, StandardCharsets.UTF_8), null, tmp, free, false);
        out = o.toString(StandardCharsets.UTF_8);
        err = e.toString(StandardCharsets.UTF_8);
        return status;
    }

    private int run(String... args) {
        return run(FreeSpace.fixed(Long.MAX_VALUE), args);
    }

    @Test
    void optionsAndDefaults() {
        var p = ExperimentCommand.parse(new String[] {"block-internals", "--data", "in.txt", "--out", "r", "--block", "0,2",
                "--split=train", "--components", "z,ffwd_output", "--positions", "last", "--batch-size", "1_000", "--force"});
        assertEquals(List.of(0, 2), p.blocks());
        assertEquals(Split.TRAIN, p.split());
        assertEquals(List.of(Component.Z, Component.MLP_OUT), p.components());
        assertEquals(Positions.LAST, p.positions());
        assertEquals(1000, p.batchSize());
        assertTrue(p.force());
        var defaults = ExperimentCommand.parse(new String[] {"block-internals", "--data", "in.txt", "--out", "r", "--block", "1"});
        assertEquals(null, defaults.split());      // val, filled in with the model
        assertEquals(null, defaults.components());  // all
    }

    @Test
    void helpAndBadCommandLines() {
        assertEquals(0, run("block-internals", "--help"));
        assertTrue(out.contains("usage: jlens experiment block-internals") && out.contains("--dry-run"), out);
        assertEquals(0, run("--help"));
        assertEquals(2, run());
        assertTrue(err.contains("name the experiment"), err);
        assertEquals(2, run("block-internal", "--data", "x"));
        assertTrue(err.contains("unknown experiment 'block-internal'"), err);
        assertEquals(2, run("block-internals", "--data", "x", "--out", "r"));
        assertTrue(err.contains("--block is required"), err);
        assertEquals(2, run("block-internals", "--data", "x", "--out", "r", "--block", "one"));
        assertTrue(err.contains("block numbers"), err);
        assertEquals(2, run("block-internals", "--data", "x", "--out", "r", "--block", "1", "--split", "test"));
        assertTrue(err.contains("train, val or all"), err);
        assertEquals(2, run("block-internals", "--data", "x", "--out", "r", "--block", "1", "--samples", "substrings", "--stride", "3"));
        assertEquals(2, run("block-internals", "--data", "x", "--out", "r", "--block", "1", "--bogus", "3"));
        assertTrue(err.contains("unknown option --bogus"), err);
        assertEquals(2, run("block-internals", "--data", "x", "--out", "r", "--block", "1"));   // no model in tmp, no $JLENS_MODEL
        assertTrue(err.contains("no model"), err);
        assertEquals(2, run("block-internals", "--data", "x", "--out", "r", "--block", "1", "--master", "spark://h:7077"));
        assertTrue(err.contains("--master spark://h:7077 is for --engine spark"), err);
        assertEquals(2, run("feature-contexts", "--sae", "s", "--data", "x", "--out", "r", "--engine", "local", "--master", "local[2]"));
        assertTrue(err.contains("is for --engine spark"), err);
        assertEquals(2, run("block-internals", "--data", "x", "--out", "r", "--block", "1", "--ship"));
        assertTrue(err.contains("--ship sends the model, text and SAE to Spark's executors: add --engine spark"), err);
        assertEquals(2, run("feature-contexts", "--sae", "s", "--data", "x", "--out", "r", "--engine", "local", "--ship"));
        assertTrue(err.contains("add --engine spark"), err);
        assertEquals(2, run("block-internals", "--data", "x", "--out", "r", "--block", "1", "--engine", "flink"));
        assertTrue(err.contains("must be local or spark"), err);
        assertEquals(2, run("block-internals", "--data", "x", "--out", "hdfs://namenode/results", "--block", "1"));
        assertTrue(err.contains("--out hdfs://namenode/results: a folder on hdfs: is written through Hadoop's client")
                && err.contains("add --engine spark"), err);
        assertEquals(2, run("feature-contexts", "--sae", "s", "--data", "x", "--out", "s3a://bucket/r"));
        assertTrue(err.contains("add --engine spark"), err);
        assertEquals(2, run("block-internals", "--data", "x", "--out", "r", "--block", "1", "--conf", "spark.executor.memory=2g"));
        assertTrue(err.contains("--conf spark.executor.memory=… is for --engine spark"), err);
        assertEquals(2, run("block-internals", "--data", "x", "--out", "r", "--block", "1", "--engine", "spark", "--conf", "fs.defaultFS=x"));
        assertTrue(err.contains("Spark settings start with 'spark.'"), err);
    }

    @Test
    void aRunIntoHdfsFromTheShell() throws Exception {
        String model = TestData.file("fixtures/charlm-tiny").toString();
        Path text = Files.writeString(tmp.resolve("text.txt"), "First Citizen:\nBefore we proceed any further, hear me speak.\n".repeat(4));
        String results = dev.jlens.testing.MiniHdfs.folder("cli") + "/b0";
        String[] args = {"block-internals", "--model", model, "--data", text.toString(), "--out", results, "--length", "8",
                "--split", "all", "--batch-size", "7", "--block", "0", "--engine", "spark", "--conf", "spark.master=local[2]"};
        assertEquals(0, run(concat(args, "--dry-run")));
        assertTrue(out.contains("would write about") && out.contains(" to " + results + ";"), out);
        assertEquals(0, run(args), err);
        assertTrue(out.contains("done: 5 batches") && out.contains(" in " + results + " ("), out);
        assertEquals(0, run(args));
        assertTrue(out.contains("nothing to do"), out);

        Path local = tmp.resolve("local");
        assertEquals(0, run("block-internals", "--model", model, "--data", text.toString(), "--out", local.toString(), "--length", "8",
                "--split", "all", "--batch-size", "7", "--block", "0"));
        Files.delete(local.resolve(dev.jlens.cli.FolderLock.FILE_NAME));   // held by its presence on HDFS, so deleted there on release
        dev.jlens.testing.FolderBytes.assertSame(local, dev.jlens.testing.MiniHdfs.copyDown(java.net.URI.create(results), tmp.resolve("copy")),
                n -> false);
    }

    @Test
    void aRunFromTheShellThenItsRefusals() throws Exception {
        String model = TestData.file("fixtures/charlm-tiny").toString();
        Path text = Files.writeString(tmp.resolve("text.txt"), "First Citizen:\nBefore we proceed any further, hear me speak.\n".repeat(4));
        Path results = tmp.resolve("results");
        String[] base = {"block-internals", "--model", model, "--data", text.toString(), "--out", results.toString(),
                "--length", "8", "--split", "all", "--batch-size", "7"};

        assertEquals(0, run(concat(base, "--block", "0", "--dry-run")));
        assertTrue(out.contains("would write about") && !Files.exists(results), out);

        assertEquals(1, run(FreeSpace.fixed(1000), concat(base, "--block", "0")));
        assertTrue(err.contains("the disk has only 1.0 kB free"), err);
        assertFalse(Files.exists(results));

        assertEquals(0, run(concat(base, "--block", "0")));
        assertTrue(out.contains("done: 5 batches"), out + "\n---\n" + err);
        var r = BlockInternalsResults.open(results).verify();
        assertEquals((text.toFile().length() / 8) * 8, r.rowCount());

        assertEquals(0, run(concat(base, "--block", "0")));
        assertTrue(out.contains("nothing to do"), out);

        assertEquals(1, run(concat(base, "--block", "1")));
        assertTrue(err.contains("it holds block 0, not block 1") && err.contains("--force"), err);
        assertEquals(0, run(concat(base, "--block", "1", "--force")));
        assertEquals(List.of(1), BlockInternalsResults.open(results).manifest().blocks());

        assertEquals(1, run("block-internals", "--model", model, "--data", tmp.resolve("nope.txt").toString(),
                "--out", results.toString(), "--block", "0"));
        assertTrue(err.contains("no corpus at"), err);
    }

    @Test
    void aBrokenModelIsOneLineAndExitStatus1() throws Exception {
        Path model = Files.createDirectories(tmp.resolve("broken-model"));
        try (var files = Files.list(TestData.file("fixtures/charlm-tiny"))) {
            for (Path f : files.toList()) Files.copy(f, model.resolve(f.getFileName().toString()));
        }
        Files.write(model.resolve("model.safetensors"), new byte[] {42, 0, 0, 0, 0, 0, 0, 0, '{', '"'});
        Path text = Files.writeString(tmp.resolve("text.txt"), "First Citizen:\n".repeat(8));
        assertEquals(1, run("block-internals", "--model", model.toString(), "--data", text.toString(), "--out",
                tmp.resolve("r").toString(), "--block", "0", "--length", "8"));
        assertEquals(1, err.lines().count(), err);
        assertTrue(err.startsWith("jlens experiment: ") && err.contains("model.safetensors") && !err.contains("\tat "), err);
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
