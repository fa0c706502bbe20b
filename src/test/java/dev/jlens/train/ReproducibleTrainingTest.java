package dev.jlens.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.load.AtomicFiles;
import dev.jlens.testing.ChildJvm;
import dev.jlens.testing.FolderBytes;
import dev.jlens.testing.Subprocess;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code jlens train} killed with kill -9 and resumed writes the files an uninterrupted run writes, byte
 * for byte: weights, optimizer state, config.json, state.json and loss.csv, in the run folder and its
 * snapshot. Only the wall-clock logs differ: {@code train.log}, {@code speed.csv}, {@code timing.json}, and
 * the model card ({@code README.md}), which reports the wall time.
 */
class ReproducibleTrainingTest {
    @TempDir
    Path tmp;

    private String[] args(Path text, Path out, String... more) {
        List<String> a = new ArrayList<>(List.of("--data", text.toString(), "--out", out.toString(), "--layers", "1",
                "--d-model", "16", "--heads", "2", "--ctx", "8", "--batch", "2", "--steps", "60", "--eval-every", "10",
                "--eval-batches", "1", "--threads", "1"));
        a.addAll(List.of(more));
        return a.toArray(String[]::new);
    }

    private Path text() throws Exception {
        return Files.writeString(tmp.resolve("t.txt"), "to be or not to be, that is the question\n".repeat(20));
    }

    @Test
    void aKilledAndResumedRunWritesTheFilesOfAnUninterruptedOne() throws Exception {
        Path text = text(), whole = tmp.resolve("whole"), killed = tmp.resolve("killed");
        List<String> cmd = ChildJvm.command(List.of(), TrainChildMain.class, args(text, whole));
        Subprocess.Result r = Subprocess.of(cmd.toArray(String[]::new)).timeout(Duration.ofMinutes(3)).run();
        assertEquals(0, r.exit(), r.both());

        Process p = ChildJvm.start(ChildJvm.command(List.of(), TrainChildMain.class, args(text, killed)), tmp.resolve("killed.log"));
        try {
            while (p.isAlive() && !Files.isDirectory(killed.resolve("resume/step-0000020"))) Thread.sleep(5);
        } finally {
            p.destroyForcibly();
            assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        }
        assertFalse(Files.isDirectory(killed.resolve("resume/step-0000060")), "killed before the end\n"
                + Files.readString(tmp.resolve("killed.log")));
        cmd = ChildJvm.command(List.of(), TrainChildMain.class, args(text, killed, "--resume"));
        r = Subprocess.of(cmd.toArray(String[]::new)).timeout(Duration.ofMinutes(3)).run();
        assertEquals(0, r.exit(), r.both());

        // Not compared: the wall-clock logs, and the model card (README.md), which reports the wall time.
        FolderBytes.assertSame(whole, killed, n -> n.endsWith("train.log") || n.endsWith("speed.csv") || n.endsWith("timing.json")
                || n.equals("README.md") || n.endsWith(".jlens-lock"));
    }

    @Test
    void leftoversOfAKilledCheckpointAreRemovedWhenTheRunResumes() throws Exception {
        Path text = text(), dir = tmp.resolve("run");
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
        assertEquals(0, TrainCommand.run(args(text, dir), quiet, quiet, false));
        // What a kill in the middle of Checkpoints.write leaves: AtomicFiles' and the model copy's temporaries, a half snapshot.
        Files.writeString(dir.resolve(".config.json.1x2y3z.tmp"), "{\"half\":");
        Files.writeString(dir.resolve(".model.safetensors.tmp"), "half");
        Files.createDirectories(dir.resolve("resume/.tmp-step-0000070-abc"));
        assertEquals(0, TrainCommand.run(args(text, dir, "--resume"), quiet, quiet, false));
        List<String> left = FolderBytes.files(dir).stream()
                .filter(n -> AtomicFiles.isLeftoverTemporary(Path.of(n).getFileName().toString()) || n.contains(".tmp-")).toList();
        assertEquals(List.of(), left);
        assertFalse(Files.exists(dir.resolve("resume/.tmp-step-0000070-abc")));
        assertArrayEquals(new byte[0], Files.readAllBytes(dir.resolve(dev.jlens.cli.FolderLock.FILE_NAME)));
    }
}
