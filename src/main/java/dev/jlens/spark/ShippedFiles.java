package dev.jlens.spark;

import dev.jlens.experiment.ExperimentRecipe;
import dev.jlens.load.ModelLoader;
import java.io.IOException;
import java.io.OutputStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitOption;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.Deflater;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.apache.spark.SparkContext;
import org.apache.spark.SparkFiles;

/**
 * {@code --ship}: the model, the text and the SAE sent with the job, so the executors need no folder they share with
 * the driver. Each executor finds its copies under its {@link SparkFiles} folder; these are their paths there.
 *
 * <p>The model and SAE folders go as zip archives ({@link SparkContext#addArchive}), which Spark unpacks on every
 * executor; the text, one file, goes as it is ({@link SparkContext#addFile}). Not {@code addFile(folder, recursive)}:
 * Spark refuses a local folder unless it runs embedded, and the driver's model is a local folder.
 *
 * @param model the model under the SparkFiles folder: {@code jlens-model.zip/NAME} (a folder), or a file in it
 * @param text  the text file under the SparkFiles folder: its own name
 * @param sae   the SAE folder under the SparkFiles folder ({@code jlens-sae.zip/NAME}), or null
 */
record ShippedFiles(String model, String text, String sae) implements Serializable {
    private static final String MODEL_ARCHIVE = "jlens-model.zip";
    private static final String SAE_ARCHIVE = "jlens-sae.zip";

    /**
     * On the driver: packs the recipe's model and SAE into {@code scratch} (deleted by the caller once the job ends)
     * and adds them and the text to {@code sc}'s job.
     */
    static ShippedFiles add(ExperimentRecipe r, SparkContext sc, Path scratch) {
        ModelCopy copy = ModelCopy.of(r.model(), ModelLoader.location(r.model(), null));   // a hub id: the driver's cached snapshot
        sc.addArchive(zip(copy.folder(), copy.name(), scratch.resolve(MODEL_ARCHIVE), false).toUri().toString());

        Path text = Path.of(r.data());
        sc.addFile(text.toUri().toString());

        String sae = null;
        if (r.sae() != null) {
            Path saeFolder = Path.of(r.sae());
            String saeName = saeFolder.getFileName().toString();
            sc.addArchive(zip(saeFolder, saeName, scratch.resolve(SAE_ARCHIVE), true).toUri().toString());
            sae = SAE_ARCHIVE + "/" + saeName;
        }
        return new ShippedFiles(copy.path(), text.getFileName().toString(), sae);
    }

    /**
     * What travels for a model: {@code folder}, under {@code name}; the model is {@code path} under the SparkFiles folder.
     * The loaders read only the files directly in a model's folder (config, weights, tokenizer), so only those travel;
     * its subfolders (its SAEs, its checkpoints) stay behind. A weights file travels with the folder it lies in. The name
     * is the folder's, which the loader calls the model; a hub id's snapshot folder, named after a commit, travels under
     * the id's last part ({@code gpt2}). (The name is a label: executors compare the weights' SHA-256 with the driver's.)
     */
    record ModelCopy(Path folder, String name, String path) {
        /** For the model the command named as {@code model} (a path or a hub id), which the loader reads at {@code location}. */
        static ModelCopy of(String model, Path location) {
            boolean isFolder = Files.isDirectory(location);
            Path folder = isFolder ? location : location.toAbsolutePath().getParent();
            String name = Files.exists(Path.of(model)) ? folder.getFileName().toString() : model.substring(model.lastIndexOf('/') + 1);
            return new ModelCopy(folder, name, MODEL_ARCHIVE + "/" + name + (isFolder ? "" : "/" + location.getFileName()));
        }
    }

    /** A fresh folder for the archives, in java.io.tmpdir: the driver packs there, Spark serves them from there. */
    static Path scratch() {
        try {
            return Files.createTempDirectory("jlens-ship");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a folder in java.io.tmpdir for the files --ship sends (" + e.getMessage()
                    + "); point java.io.tmpdir at a writable disk", e);
        }
    }

    /** Deletes the scratch folder and its archives once the job has ended (the executors hold their own copies). */
    static void deleteScratch(Path scratch) {
        try (Stream<Path> s = Files.walk(scratch)) {
            s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // java.io.tmpdir: the system cleans it eventually
        }
    }

    /** On an executor: the recipe reading this executor's copies, which Spark fetched before the task started. */
    ExperimentRecipe relocate(ExperimentRecipe r) {
        return r.relocated(here(model), here(text), sae == null ? null : here(sae));
    }

    private static String here(String shipped) {
        return Path.of(SparkFiles.getRootDirectory(), shipped).toString();
    }

    /**
     * Writes {@code folder}'s files (only those directly in it unless {@code recursive}) into a zip under {@code name}/,
     * uncompressed: weights barely compress, so packing costs what copying them costs.
     */
    static Path zip(Path folder, String name, Path zip, boolean recursive) {
        try (OutputStream file = Files.newOutputStream(zip); ZipOutputStream out = new ZipOutputStream(file)) {
            out.setLevel(Deflater.NO_COMPRESSION);
            for (Path f : files(folder, recursive)) {
                out.putNextEntry(new ZipEntry(name + "/" + folder.relativize(f).toString().replace('\\', '/')));
                Files.copy(f, out);   // a hub snapshot's files are links into its blobs: their content is copied
                out.closeEntry();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot pack " + folder + " to ship it with the Spark job (" + e.getMessage()
                    + "); check the free space of " + zip.getParent() + " (java.io.tmpdir)", e);
        }
        return zip;
    }

    private static List<Path> files(Path folder, boolean recursive) throws IOException {
        try (Stream<Path> s = recursive ? Files.walk(folder, FileVisitOption.FOLLOW_LINKS) : Files.list(folder)) {
            return s.filter(Files::isRegularFile).sorted().toList();
        }
    }
}
