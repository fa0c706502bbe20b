package dev.jlens.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.cli.FolderLock;
import dev.jlens.testing.HeldLock;
import dev.jlens.testing.TestData;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One writer per results folder: while another process holds the folder's lock a run refuses,
 * naming that process; once it has died (kill -9) its lock is taken over.
 */
class OneWriterPerFolderTest {
    @TempDir
    Path tmp;
    private String out = "", err = "";

    private int run(String... args) {
        ByteArrayOutputStream o = new ByteArrayOutputStream(), e = new ByteArrayOutputStream();
        int status = ExperimentCommand.run(args, new PrintStream(o, true, StandardCharsets.UTF_8),
                new PrintStream(e, true, StandardCharsets.UTF_8), null, tmp, FreeSpace.fixed(Long.MAX_VALUE), false);
        out = o.toString(StandardCharsets.UTF_8);
        err = e.toString(StandardCharsets.UTF_8);
        return status;
    }

    @Test
    void aSecondRunRefusesNamingTheHolderAndADeadHoldersLockIsTakenOver() throws Exception {
        Path text = Files.writeString(tmp.resolve("text.txt"), "First Citizen:\nBefore we proceed any further, hear me speak.\n".repeat(4));
        Path results = tmp.resolve("results");
        String[] args = {"block-internals", "--model", TestData.file("fixtures/charlm-tiny").toString(), "--data", text.toString(),
                "--out", results.toString(), "--length", "8", "--split", "all", "--batch-size", "7", "--block", "0"};
        try (HeldLock holder = HeldLock.of(results, tmp.resolve("holder.log"))) {
            assertEquals(1, run(args));
            assertEquals(1, err.lines().count(), err);
            assertTrue(err.contains(results + " is in use by process " + holder.pid() + " on "), err);
            assertFalse(Files.exists(results.resolve(Manifest.FILE_NAME)), "nothing written while another run holds the folder");

            holder.kill();
            assertTrue(Files.readString(results.resolve(FolderLock.FILE_NAME)).contains("pid " + holder.pid()),
                    "the dead holder's lock file is still there");
            assertEquals(0, run(args), err);
            assertTrue(out.contains("taking over") && out.contains("process " + holder.pid()), out);
            assertTrue(out.contains("done: 5 batches"), out);
            assertEquals("", Files.readString(results.resolve(FolderLock.FILE_NAME)), "released on exit");
        }
        // And a run in this process holds the lock against another in this process.
        try (FolderLock mine = FolderLock.acquire(results, "a test")) {
            assertEquals(1, run(args));
            assertTrue(err.contains("is in use by process " + ProcessHandle.current().pid()), err);
        }
    }
}
