package dev.jlens.experiment;

import dev.jlens.cli.FolderLock;
import dev.jlens.load.AtomicFiles;
import dev.jlens.cli.Progress;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * One run of a {@link BatchedExperiment} into a folder: takes stock of what is there, checks the disk,
 * then has the {@link RunOptions#engine} compute and write the missing batches, updating the manifest
 * after each (this JVM, or a Spark cluster: the folder's lock and manifest stay with this process). The folder is a
 * {@link ResultsFolder}: a local one, or one on HDFS or S3, through the same steps.
 *
 * <p>Order of writes per batch: the batch file (atomically, {@link SafeTensors#write}), then the
 * manifest listing it (atomically). A kill between the two leaves a complete file the manifest does
 * not list; the next run computes it again and replaces it with identical bytes.
 */
final class ExperimentRunner {
    /** Test hook: called after batch {@code b}'s file is written and before the manifest lists it. */
    interface AfterFile {
        void written(int batch);
    }

    static AfterFile afterFileForTests = b -> {};

    private final BatchedExperiment exp;
    private final ResultsFolder folder;
    private final RunOptions options;

    ExperimentRunner(BatchedExperiment exp, ResultsFolder folder, RunOptions options) {
        this.exp = exp;
        this.folder = folder;
        this.options = options;
    }

    void run() {
        // An existing folder is locked before it is read: another run may be writing to it. A new one is
        // created and locked only once the checks pass, so a refused run leaves nothing behind.
        ResultsFolder.Lock lock = io(folder::isDirectory, "read") ? lock() : null;
        try {
            Manifest plan = exp.plan();
            Manifest manifest = takeStock(plan);
            if (!planFits(plan, manifest)) return;
            if (lock == null) {
                createFolder();
                lock = lock();
                manifest = takeStock(plan);   // another run may have made and filled it since it was found missing
                if (manifest.batches().size() == exp.batchCount()) {
                    options.out().println("another run has just finished these results: nothing to do");
                    return;
                }
            }
            removeLeftovers(manifest);
            manifest.write(folder);
            Set<Integer> done = new HashSet<>();
            for (Manifest.Batch b : manifest.batches()) done.add(b.index());
            runBatches(manifest, done);
        } finally {
            if (lock != null) lock.close();
        }
    }

    private ResultsFolder.Lock lock() {
        ResultsFolder.Lock lock = io(() -> folder.lock("an experiment"), "lock");
        if (lock.previousOwner() != null) {
            options.out().println("taking over " + folder.location(FolderLock.FILE_NAME) + " from " + lock.previousOwner()
                    + ", which stopped without releasing it");
        }
        return lock;
    }

    /**
     * States the plan and what is left to write; refuses when the disk cannot hold it. False when
     * every batch is already there.
     */
    private boolean planFits(Manifest plan, Manifest manifest) {
        Set<Integer> done = new HashSet<>();
        for (Manifest.Batch b : manifest.batches()) done.add(b.index());
        long toWrite = 0;
        for (int b = 0; b < exp.batchCount(); b++) if (!done.contains(b)) toWrite += exp.expectedBatchBytes(b);
        toWrite += 4096;   // the manifest
        long free = freeBytes();
        var out = options.out();
        out.println(exp);
        out.println("results: " + folder.location() + " · about " + BlockInternalsExperiment.bytes(plan.expectedBytes())
                + " in all" + (done.isEmpty() ? "" : ", " + done.size() + " of " + exp.batchCount() + " batches already there")
                + " · " + BlockInternalsExperiment.bytes(toWrite) + " to write · " + BlockInternalsExperiment.bytes(free) + " free on its disk");
        if (toWrite > free) {
            throw new ResultsFolderException(folder.location(), ResultsFolderException.Problem.NO_SPACE,
                    "the run would write about " + BlockInternalsExperiment.bytes(toWrite) + " but the disk has only "
                            + BlockInternalsExperiment.bytes(free) + " free; nothing was written",
                    "free some space, choose a folder on another disk, or save less (--positions last, fewer --components or blocks)");
        }
        if (done.size() == exp.batchCount()) {
            out.println("all " + exp.batchCount() + " batches are already there (checked against the manifest): nothing to do");
            return false;
        }
        return true;
    }

    private void runBatches(Manifest manifest, Set<Integer> done) {
        int total = exp.batchCount(), remaining = total - done.size();
        List<Integer> missing = new ArrayList<>();
        for (int b = 0; b < total; b++) if (!done.contains(b)) missing.add(b);
        Progress progress = new Progress(options.out(), options.terminal(), Math.max(1, remaining / 20));
        long started = System.nanoTime();
        long[] tokens = {0};
        Manifest[] current = {manifest};
        try {
            options.engine().writeBatches(exp, folder, missing, written -> {
                // Whichever engine wrote it, the manifest lists a batch only once its file is there, whole.
                BlockInternalsResults.checkPresent(folder, written);
                afterFileForTests.written(written.index());
                current[0] = current[0].withBatch(written);
                current[0].write(folder);
                done.add(written.index());
                tokens[0] += (long) written.samples() * exp.dataset().samples().length();
                int finishedNow = done.size() - (total - remaining);
                double elapsed = (System.nanoTime() - started) / 1e9;
                double eta = elapsed / finishedNow * (remaining - finishedNow);
                progress.update("batch", done.size(), total, String.format("%,.0f tok/s", tokens[0] / Math.max(elapsed, 1e-9)), elapsed, eta);
            });
        } finally {
            progress.finish();
        }
        double elapsed = (System.nanoTime() - started) / 1e9;
        long bytes = current[0].batches().stream().mapToLong(Manifest.Batch::bytes).sum();
        options.out().println("done: " + total + " batches, " + BlockInternalsExperiment.bytes(bytes) + " in "
                + folder.location() + String.format(java.util.Locale.ROOT, " (%.1f s)", elapsed));
    }

    // ---------------------------------------------------------------- the folder as found

    /**
     * The manifest to continue from: the folder's own when it is this experiment's and every batch it
     * lists checks out, a fresh plan when the folder is new or empty (or {@code --force} is given).
     */
    private Manifest takeStock(Manifest plan) {
        if (!io(folder::exists, "read")) return plan;
        if (!io(folder::isDirectory, "read")) {
            throw new ResultsFolderException(folder.location(), ResultsFolderException.Problem.NOT_A_RESULTS_FOLDER,
                    "is a file, not a folder", "choose a folder for the results");
        }
        Optional<Manifest> existing;
        try {
            existing = io(() -> Manifest.readIfPresent(folder), "read");
        } catch (ResultsFolderException e) {
            if (!options.force()) throw e;
            return startOver(plan, "its manifest is unreadable");
        }
        if (existing.isEmpty()) {
            List<String> others = listing().stream()
                    .filter(n -> !AtomicFiles.isLeftoverTemporary(n) && !n.equals(FolderLock.FILE_NAME)).toList();
            if (others.isEmpty()) return plan;
            if (!options.force()) {
                throw new ResultsFolderException(folder.location(), ResultsFolderException.Problem.NOT_A_RESULTS_FOLDER,
                        "holds " + others.size() + " file" + (others.size() == 1 ? "" : "s") + " (" + String.join(", ", others.subList(0, Math.min(3, others.size())))
                                + (others.size() > 3 ? ", …" : "") + ") but no " + Manifest.FILE_NAME + ", so it is not a results folder",
                        "choose an empty or new folder, or pass --force to delete jlens's batch files there and start again");
            }
            return startOver(plan, "it had no manifest");
        }
        Manifest m = existing.get();
        Optional<String> difference = m.differenceFrom(plan);
        if (difference.isPresent()) {
            if (!options.force()) {
                throw new ResultsFolderException(folder.location(), ResultsFolderException.Problem.MISMATCH, difference.get(),
                        "choose another folder for this run, or pass --force to replace those results");
            }
            return startOver(plan, difference.get());
        }
        List<Manifest.Batch> kept = new ArrayList<>();
        for (Manifest.Batch b : m.batches()) {
            if (io(() -> folder.size(b.file()), "read").isEmpty()) {
                options.out().println("batch " + b.index() + " (" + b.file() + ") is missing: it will be computed again");
                continue;
            }
            try {
                BlockInternalsResults.verify(folder, b);
            } catch (ResultsFolderException e) {
                if (!options.force()) throw e;
                return startOver(plan, e.getMessage());
            }
            kept.add(b);
        }
        return plan.withBatches(kept);
    }

    private Manifest startOver(Manifest plan, String why) {
        options.out().println("--force: deleting the results in " + folder.location() + " (" + why + ")");
        for (String name : listing()) {
            if (Manifest.isBatchFileName(name) || name.equals(Manifest.FILE_NAME) || AtomicFiles.isLeftoverTemporary(name)) {
                delete(name);
            }
        }
        return plan;
    }

    /** Temporary files of writes a kill cut short, and batch files the manifest does not list (they are computed again). */
    private void removeLeftovers(Manifest m) {
        Set<String> listed = new HashSet<>();
        for (Manifest.Batch b : m.batches()) listed.add(b.file());
        for (String name : listing()) {
            if (AtomicFiles.isLeftoverTemporary(name) || (Manifest.isBatchFileName(name) && !listed.contains(name))) {
                delete(name);
            }
        }
    }

    private List<String> listing() {
        return io(folder::names, "list");
    }

    private void createFolder() {
        io(() -> {
            folder.create();
            return null;
        }, "create");
    }

    private long freeBytes() {
        try {
            return folder.usableBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot tell how much space the disk under " + folder.location() + " has: " + e.getMessage(), e);
        }
    }

    private void delete(String name) {
        try {
            folder.delete(name);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + name + " in " + folder.location() + ": " + e.getMessage(), e);
        }
    }

    /** One step on the folder; a failure names the folder and the step. */
    private <T> T io(IoStep<T> step, String verb) {
        try {
            return step.run();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot " + verb + " the results folder " + folder.location() + ": " + e.getMessage(), e);
        }
    }

    private interface IoStep<T> {
        T run() throws IOException;
    }
}
