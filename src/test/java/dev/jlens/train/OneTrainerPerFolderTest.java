package dev.jlens.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.testing.HeldLock;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code jlens train}'s --out is locked like an experiment's results folder; too large a model is refused up front. */
class OneTrainerPerFolderTest {
    @TempDir
    Path tmp;
    private String out = "", err = "";

    private int run(String... args) {
        ByteArrayOutputStream o = new ByteArrayOutputStream(), e = new ByteArrayOutputStream();
        int status = TrainCommand.run(args, new PrintStream(o, true, StandardCharsets.UTF_8),
                new PrintStream(e, true, StandardCharsets.UTF_8), false);
        out = o.toString(StandardCharsets.UTF_8);
        err = e.toString(StandardCharsets.UTF_8);
        return status;
    }

    private String[] tiny(Path text, Path dir) {
        return new String[] {"--data", text.toString(), "--out", dir.toString(), "--layers", "1", "--d-model", "16", "--heads", "2",
                "--ctx", "8", "--batch", "2", "--steps", "4", "--eval-every", "2", "--eval-batches", "1", "--threads", "1"};
    }

    @Test
    void aSecondTrainingRunRefusesNamingTheHolderThenTakesOverAfterItDies() throws Exception {
        Path text = Files.writeString(tmp.resolve("t.txt"), "to be or not to be, that is the question\n".repeat(20));
        Path dir = tmp.resolve("run");
        try (HeldLock holder = HeldLock.of(dir, tmp.resolve("holder.log"))) {
            assertEquals(1, run(tiny(text, dir)));
            assertEquals(1, err.lines().count(), err);
            assertTrue(err.contains(dir + " is in use by process " + holder.pid()), err);
            assertFalse(Files.exists(dir.resolve("model.safetensors")));
            holder.kill();
            assertEquals(0, run(tiny(text, dir)), err);
            assertTrue(out.contains("taking over") && out.contains("process " + holder.pid()), out);
            assertTrue(Files.exists(dir.resolve("model.safetensors")));
        }
    }

    @Test
    void aModelThatCannotFitIsRefusedUpFrontWithTheEstimate() throws Exception {
        Path text = Files.writeString(tmp.resolve("t.txt"), "to be or not to be, that is the question\n".repeat(20));
        Path dir = tmp.resolve("huge");
        // 3 · 65,536² query/key/value weights alone: 12.9 billion parameters, 51 GB as float32.
        assertEquals(1, run("--data", text.toString(), "--out", dir.toString(), "--layers", "1", "--d-model", "65536",
                "--heads", "4", "--ctx", "8", "--steps", "1"));
        assertEquals(1, err.lines().count(), err);
        assertTrue(err.startsWith("jlens train: this model does not fit in memory: 51,5"), err);
        assertTrue(err.contains("parameters") && err.contains("optimizer state") && err.contains("activations")
                && err.contains("jlens may use only"), err);
        assertFalse(Files.exists(dir), "nothing written");
    }

    @Test
    void theParameterEstimateCountsTheModelsParameters() {
        for (String kind : new String[] {"gpt", "attn-only"}) {
            TrainConfig c = TrainCommand.parse(new String[] {"--data", "x", "--out", "y", "--kind", kind, "--layers", "2",
                    "--d-model", "24", "--heads", "3", "--ctx", "10"});
            var model = LectureModel.create(c, "abcdefghij", "m");
            long counted = 0;
            for (LectureModel.Param p : LectureModel.params(model)) counted += p.value().length();
            assertEquals(counted, TrainMemory.of(c, 10).parameters(), kind);
        }
    }
}
