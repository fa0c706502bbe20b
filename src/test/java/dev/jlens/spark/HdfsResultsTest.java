package dev.jlens.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.cli.FolderLock;
import dev.jlens.experiment.BatchedExperiment;
import dev.jlens.experiment.Manifest;
import dev.jlens.experiment.ResultsFolderException;
import dev.jlens.testing.FolderBytes;
import dev.jlens.testing.MiniHdfs;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Results folders on a real HDFS (namenode and datanode in this JVM): Spark embedded writes the batches, the driver locks
 * the folder, takes stock and writes the manifest through Hadoop's API, and the folder, copied back, is the
 * single-machine run's byte for byte; a failed job resumes, a damaged batch is named by its URI, a held lock refuses.
 */
class HdfsResultsTest {
    @TempDir
    Path tmp;

    private final SingleMachineRun single = SingleMachineRun.get();
    private final ByteArrayOutputStream printed = new ByteArrayOutputStream();

    @AfterEach
    void noFailure() {
        SparkEngine.failOnceForTests = null;
    }

    @Test
    void anEmbeddedRunIntoHdfsWritesTheSingleMachineBytesAndResumesAfterAFailedJob() throws Exception {
        URI out = MiniHdfs.folder("b01");
        // Batch 3 fails once and Spark may not retry it (local[2,1]): the job stops, keeping what it finished.
        SparkEngine.failOnceForTests = new BatchTask.FailOnce(tmp.resolve("failed-once").toString(), 3);
        var stopped = assertThrows(SparkEngine.JobFailedException.class, () -> run(out, "local[2,1]"));
        assertTrue(stopped.getMessage().contains("run the same command again"), stopped.getMessage());
        Manifest partial = Manifest.read(MiniHdfs.copyDown(out, tmp.resolve("partial")));
        assertTrue(partial.batches().size() < 6, "the failed job listed every batch");

        run(out, "local[2,1]");
        String said = printed.toString(StandardCharsets.UTF_8);
        assertTrue(said.contains("results: " + out) && said.contains(partial.batches().size() + " of 6 batches already there"), said);
        single.assertSameResultsAs(MiniHdfs.copyDown(out, tmp.resolve("copy")));   // no lock or temporary file left either
    }

    @Test
    void aDamagedBatchIsNamedByItsUriAndForceStartsOver() throws Exception {
        URI out = upload(MiniHdfs.folder("damaged"));
        byte[] batch2 = Files.readAllBytes(single.folder.resolve(Manifest.batchFileName(2)));
        batch2[batch2.length - 5] ^= 0x10;   // one bit, the size unchanged
        write(out, Manifest.batchFileName(2), batch2);

        var damaged = assertThrows(ResultsFolderException.class, () -> run(out, "local[2]"));
        assertEquals(ResultsFolderException.Problem.CORRUPT_BATCH, damaged.problem());
        assertEquals(out + "/" + Manifest.batchFileName(2), damaged.location());
        assertTrue(damaged.getMessage().contains("batch 2 is damaged"), damaged.getMessage());

        single.recipe.build().runInto(folder(out), single.spark("local[2]", Map.of()).withForce(true));
        single.assertSameResultsAs(MiniHdfs.copyDown(out, tmp.resolve("copy")));
    }

    @Test
    void aLockFromAnotherMachineIsRefusedAndOneLeftHereByADeadRunIsTakenOver() throws Exception {
        URI out = MiniHdfs.folder("locked");
        write(out, FolderLock.FILE_NAME, "pid 4242\nhost some-other-machine\nstarted 2026-12-05T10:00:00Z\n".getBytes(StandardCharsets.UTF_8));
        var held = assertThrows(FolderLock.HeldException.class, () -> run(out, "local[2]"));
        assertTrue(held.getMessage().startsWith(out + " is in use by process 4242 on some-other-machine")
                && held.getMessage().contains("delete " + out + "/" + FolderLock.FILE_NAME), held.getMessage());
        assertEquals(List.of(FolderLock.FILE_NAME), names(out), "a refused run writes nothing");

        Process gone = new ProcessBuilder("true").start();
        gone.waitFor();
        String here = dev.jlens.cli.LockOwner.current().host();
        write(out, FolderLock.FILE_NAME, ("pid " + gone.pid() + "\nhost " + here + "\nstarted 2026-12-05T10:00:00Z\n").getBytes(StandardCharsets.UTF_8));
        run(out, "local[2]");
        assertTrue(printed.toString(StandardCharsets.UTF_8).contains("taking over " + out + "/" + FolderLock.FILE_NAME
                + " from process " + gone.pid()), printed.toString(StandardCharsets.UTF_8));
        single.assertSameResultsAs(MiniHdfs.copyDown(out, tmp.resolve("copy")));
        assertTrue(!names(out).contains(FolderLock.FILE_NAME), "the lock is released");
    }

    private void run(URI out, String master) {
        BatchedExperiment exp = single.recipe.build();
        exp.runInto(folder(out), single.spark(master, Map.of()).withOutput(new PrintStream(printed, true, StandardCharsets.UTF_8), false));
    }

    private static HadoopResultsFolder folder(URI out) {
        return HadoopResultsFolder.open(out, HadoopSettings.of(Map.of()));
    }

    /** The single-machine run's files, uploaded to {@code out}. */
    private URI upload(URI out) throws Exception {
        for (String n : FolderBytes.files(single.folder)) write(out, n, Files.readAllBytes(single.folder.resolve(n)));
        return out;
    }

    private static void write(URI folder, String name, byte[] bytes) throws Exception {
        FileSystem fs = MiniHdfs.fileSystem();
        try (FSDataOutputStream o = fs.create(new org.apache.hadoop.fs.Path(folder + "/" + name), true)) {
            o.write(bytes);
        }
    }

    private static List<String> names(URI folder) throws Exception {
        return folder(folder).names();
    }
}
