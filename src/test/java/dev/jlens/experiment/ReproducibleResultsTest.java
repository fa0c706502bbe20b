package dev.jlens.experiment;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.load.SafeTensors;
import dev.jlens.testing.ChildJvm;
import dev.jlens.testing.FolderBytes;
import dev.jlens.testing.Subprocess;
import dev.jlens.testing.TestData;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The same experiment command gives byte-identical files: in two fresh JVMs, in this (warm) JVM,
 * and killed with kill -9 part-way and resumed; and a batch computed first in a cold JVM has the
 * same bits as the same batch computed after the JIT has compiled the kernels.
 */
class ReproducibleResultsTest {
    @TempDir
    Path tmp;

    /** 32-token windows: longer than a vector (16 lanes), so the softmax's vector path runs, not just its tail. */
    private String[] args(Path text, Path out) {
        return new String[] {"block-internals", "--model", TestData.file("fixtures/charlm-tiny").toString(), "--data", text.toString(),
                "--out", out.toString(), "--length", "32", "--split", "all", "--batch-size", "2", "--block", "0,1", "--threads", "1"};
    }

    private Path text() throws Exception {
        return Files.writeString(tmp.resolve("text.txt"),
                "First Citizen:\nBefore we proceed any further, hear me speak.\nAll:\nSpeak, speak.\n".repeat(12));
    }

    private static Subprocess.Result child(List<String> jvm, String... args) {
        List<String> cmd = ChildJvm.command(jvm, ExperimentChildMain.class, args);
        return Subprocess.of(cmd.toArray(String[]::new)).timeout(Duration.ofMinutes(3)).run();
    }

    private static String[] with(String first, String[] rest) {
        List<String> l = new ArrayList<>(List.of(first));
        l.addAll(List.of(rest));
        return l.toArray(String[]::new);
    }

    @Test
    void freshJvmsThisJvmAndAKilledAndResumedRunWriteTheSameBytes() throws Exception {
        Path text = text();
        Path a = tmp.resolve("a"), b = tmp.resolve("b"), killed = tmp.resolve("killed"), here = tmp.resolve("here");
        for (Path out : List.of(a, b)) {
            Subprocess.Result r = child(List.of(), with("slow", args(text, out)));
            assertEquals(0, r.exit(), r.both());
        }
        FolderBytes.assertSame(a, b, n -> false);

        // kill -9 part-way (after at least three batch files), then the same command again in a fresh JVM.
        Process p = ChildJvm.start(ChildJvm.command(List.of(), ExperimentChildMain.class, with("slow", args(text, killed))),
                tmp.resolve("killed.log"));
        try {
            while (p.isAlive() && batchFiles(killed) < 3) Thread.sleep(5);
        } finally {
            p.destroyForcibly();
            assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        }
        Manifest partial = Manifest.read(killed);
        assertTrue(partial.batches().size() < partial.batchCount(), "killed before the end: " + partial.batches().size()
                + " of " + partial.batchCount() + " batches\n" + Files.readString(tmp.resolve("killed.log")));
        assertEquals(0, child(List.of(), with("slow", args(text, killed))).exit());
        FolderBytes.assertSame(a, killed, n -> false);

        ByteArrayOutputStream o = new ByteArrayOutputStream(), e = new ByteArrayOutputStream();
        assertEquals(0, ExperimentCommand.run(args(text, here), new PrintStream(o, true, StandardCharsets.UTF_8),
                new PrintStream(e, true, StandardCharsets.UTF_8), null, tmp, FreeSpace.fixed(Long.MAX_VALUE), false), e.toString());
        FolderBytes.assertSame(a, here, n -> false);
    }

    private static long batchFiles(Path folder) throws Exception {
        if (!Files.isDirectory(folder)) return 0;
        try (var s = Files.list(folder)) {
            return s.filter(f -> Manifest.isBatchFileName(f.getFileName().toString())).count();
        }
    }

    @Test
    void aBatchComputedColdHasTheBitsOfTheSameBatchComputedWarm() throws Exception {
        // No tiered compilation and a low threshold: the first batch runs interpreted, the last in C2 code.
        Subprocess.Result r = child(List.of("-XX:-TieredCompilation", "-XX:CompileThreshold=100", "-Xbatch"),
                with("warm", with("60", args(text(), tmp.resolve("unused")))));
        assertEquals(0, r.exit(), r.both());
        List<String> lines = r.out().lines().filter(s -> s.startsWith("cold ") || s.startsWith("warm ")).toList();
        assertEquals(2, lines.size(), r.both());
        assertEquals(lines.get(0).substring(5), lines.get(1).substring(5), "batch 0 cold vs warm\n" + r.both());
    }

    @Test
    void safetensorsMetadataIsWrittenInOneOrderWhateverMapHoldsIt() throws Exception {
        Map<String, INDArray> tensors = Map.of("x", Nd4j.createFromArray(1f, 2f));
        Map<String, String> ab = new LinkedHashMap<>(), ba = new LinkedHashMap<>();
        ab.put("format", "pt");
        ab.put("step", "3");
        ba.put("step", "3");
        ba.put("format", "pt");
        SafeTensors.write(tmp.resolve("ab.safetensors"), tensors, ab);
        SafeTensors.write(tmp.resolve("ba.safetensors"), tensors, ba);
        assertArrayEquals(Files.readAllBytes(tmp.resolve("ab.safetensors")), Files.readAllBytes(tmp.resolve("ba.safetensors")));
    }
}
