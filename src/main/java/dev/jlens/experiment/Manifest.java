package dev.jlens.experiment;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.jlens.load.AtomicFiles;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * {@code manifest.json} of a block-internals results folder: what was run (model, text, split,
 * samples, blocks, components, positions, batch size), the shape of every saved tensor, and the
 * batches finished so far with their SHA-256. It is rewritten atomically after each batch, so it
 * never lists a batch that is not completely on disk.
 *
 * <p>Any tool can read the results from it: each {@code batch-NNNNN.safetensors} holds
 * {@code tokens} {@code [samples, length]} (I32) and one F32 tensor per hook name, e.g.
 * {@code blocks.1.hook_attn_out} {@code [samples, length, d_model]} (all positions) or
 * {@code [samples, d_model]} (last position only).
 *
 * @param format        {@value #FORMAT}
 * @param tensors       tensor name → shape of one sample's part (the batch axis left out)
 * @param expectedBytes the whole folder's expected size, stated before the run
 * @param batches       finished batches, by index
 *
 * <p>Serializable: a Spark job carries the driver's plan to each executor, which checks that it built the same one.
 */
public record Manifest(
        String format,
        ModelIdentity model,
        DatasetIdentity dataset,
        String split,
        Map<String, Object> samples,
        List<Integer> blocks,
        List<String> components,
        String positions,
        int batchSize,
        int batchCount,
        String dtype,
        Map<String, List<Long>> tensors,
        long expectedBytes,
        List<Batch> batches,
        @com.fasterxml.jackson.annotation.JsonInclude(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL) Map<String, Object> sae)
        implements java.io.Serializable {

    public static final String FORMAT = "jlens block-internals 1";
    /** The SAE max-activating contexts' format: the same folder layout, the SAE's identity in {@code sae}. */
    public static final String FEATURE_CONTEXTS_FORMAT = "jlens feature-contexts 1";
    private static final List<String> FORMATS = List.of(FORMAT, FEATURE_CONTEXTS_FORMAT);
    public static final String FILE_NAME = "manifest.json";

    private static final ObjectMapper JSON = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    /**
     * Which model made the results. The weights' SHA-256 is the identity; the rest says in words
     * what the model was when they differ.
     */
    public record ModelIdentity(String name, String architecture, int nLayers, int dModel, int nHeads, int dHead,
                                int dVocab, int nCtx, String weightsSha256) implements java.io.Serializable {}

    /** Which text: its SHA-256 is the identity; {@code source} is where it was read from. */
    public record DatasetIdentity(String source, String sha256, int tokens, String tokenizer) implements java.io.Serializable {}

    /** One finished batch file (serializable: a Spark task sends it back to the driver). */
    public record Batch(int index, String file, int firstSample, int samples, long bytes, String sha256) implements java.io.Serializable {}

    public Manifest {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(dataset, "dataset");
        blocks = List.copyOf(blocks);
        components = List.copyOf(components);
        batches = batches == null ? List.of() : List.copyOf(batches);
    }

    /** The file name of batch {@code index}: {@code batch-00003.safetensors}. */
    public static String batchFileName(int index) {
        return String.format(Locale.ROOT, "batch-%05d.safetensors", index);
    }

    /** Whether {@code name} is a batch file's name. */
    static boolean isBatchFileName(String name) {
        return name.matches("batch-\\d{5,}\\.safetensors");
    }

    /** Every batch is finished. */
    public boolean complete() {
        return batches.size() == batchCount;
    }

    /** Samples in all: {@code samples.count}. */
    public int sampleCount() {
        return ((Number) samples.get("count")).intValue();
    }

    /** Tokens per sample: {@code samples.length}. */
    public int sampleLength() {
        return ((Number) samples.get("length")).intValue();
    }

    /** This manifest with one more finished batch (replacing an entry of the same index). */
    Manifest withBatch(Batch b) {
        List<Batch> list = new ArrayList<>();
        for (Batch x : batches) if (x.index() != b.index()) list.add(x);
        list.add(b);
        list.sort(Comparator.comparingInt(Batch::index));
        return withBatches(list);
    }

    Manifest withBatches(List<Batch> list) {
        return new Manifest(format, model, dataset, split, samples, blocks, components, positions, batchSize, batchCount,
                dtype, tensors, expectedBytes, list, sae);
    }

    /**
     * The first way this manifest's experiment differs from {@code planned}'s, in words for the
     * person who ran it, or empty when they are the same experiment (so {@code planned} may resume
     * this one).
     */
    Optional<String> differenceFrom(Manifest planned) {
        if (!Objects.equals(format, planned.format)) {
            return Optional.of("it was written in format '" + format + "', this jlens writes '" + planned.format + "'");
        }
        if (!Objects.equals(model.weightsSha256(), planned.model.weightsSha256())) {
            return Optional.of("it holds results of another model: " + describe(model) + ", not " + describe(planned.model));
        }
        if (!Objects.equals(dataset.sha256(), planned.dataset.sha256())) {
            return Optional.of("it holds results for another text: " + dataset.source() + " (sha256 " + shortHash(dataset.sha256())
                    + "), not " + planned.dataset.source() + " (sha256 " + shortHash(planned.dataset.sha256()) + ")");
        }
        if (!Objects.equals(split, planned.split)) {
            return Optional.of("it holds results for the " + split + " split, not the " + planned.split + " split");
        }
        if (!Objects.equals(samples, planned.samples)) {
            return Optional.of("it holds other samples: " + samples + ", not " + planned.samples);
        }
        if (!blocks.equals(planned.blocks)) {
            return Optional.of("it holds block" + (blocks.size() == 1 ? " " : "s ") + join(blocks) + ", not block"
                    + (planned.blocks.size() == 1 ? " " : "s ") + join(planned.blocks));
        }
        if (!components.equals(planned.components)) {
            return Optional.of("it holds components " + join(components) + ", not " + join(planned.components));
        }
        if (!Objects.equals(positions, planned.positions)) {
            return Optional.of("it holds " + positions + " positions, not " + planned.positions);
        }
        if (batchSize != planned.batchSize) {
            return Optional.of("it was written in batches of " + batchSize + " samples, this run uses " + planned.batchSize
                    + " (pass --batch-size " + batchSize + " to resume it)");
        }
        if (!Objects.equals(sae, planned.sae)) {
            return Optional.of("it holds results of another SAE: " + sae + ", not " + planned.sae);
        }
        if (!Objects.equals(dtype, planned.dtype) || !Objects.equals(tensors, planned.tensors)) {
            return Optional.of("its tensors are " + tensors + " in " + dtype + ", this run writes " + planned.tensors + " in " + planned.dtype);
        }
        return Optional.empty();
    }

    private static String describe(ModelIdentity m) {
        return m.name() + " (" + m.nLayers() + " layers, d_model " + m.dModel() + ", weights sha256 " + shortHash(m.weightsSha256()) + ")";
    }

    static String shortHash(String sha) {
        return sha == null ? "?" : sha.substring(0, Math.min(12, sha.length())) + "…";
    }

    private static String join(List<?> items) {
        return items.stream().map(String::valueOf).reduce((a, b) -> a + ", " + b).orElse("(none)");
    }

    // ---------------------------------------------------------------- files

    /** The manifest in {@code folder}, or empty when there is none. */
    static Optional<Manifest> readIfPresent(ResultsFolder folder) throws IOException {
        if (folder.size(FILE_NAME).isEmpty()) return Optional.empty();
        return Optional.of(read(folder));
    }

    /**
     * Reads {@code folder/manifest.json}.
     *
     * @throws ResultsFolderException when it is missing or not a jlens block-internals manifest
     */
    public static Manifest read(Path folder) {
        return read(ResultsFolder.local(folder));
    }

    /** {@link #read(Path)} on any results folder. */
    static Manifest read(ResultsFolder folder) {
        String file = folder.location(FILE_NAME);
        Manifest m;
        try (InputStream in = folder.open(FILE_NAME)) {
            m = JSON.readValue(in, Manifest.class);
        } catch (java.nio.file.NoSuchFileException | java.io.FileNotFoundException e) {
            throw new ResultsFolderException(folder.location(), ResultsFolderException.Problem.NOT_A_RESULTS_FOLDER,
                    "there is no " + FILE_NAME + " here, so this is not a block-internals results folder (or its run never started)",
                    "check the path, or run the experiment into it first");
        } catch (com.fasterxml.jackson.core.JacksonException | IllegalArgumentException | NullPointerException e) {
            throw new ResultsFolderException(file, ResultsFolderException.Problem.NOT_A_RESULTS_FOLDER,
                    "is not a readable block-internals manifest (" + String.valueOf(e.getMessage()).lines().findFirst().orElse("") + ")",
                    "restore it, or pass --force to delete the folder's results and run again");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
        if (!FORMATS.contains(m.format()) || m.samples() == null || m.tensors() == null) {
            throw new ResultsFolderException(file, ResultsFolderException.Problem.NOT_A_RESULTS_FOLDER,
                    "is not a jlens results manifest (format: " + m.format() + "; jlens writes " + FORMATS + ")",
                    "use the jlens version that wrote it, or pass --force to replace its results");
        }
        return m;
    }

    /** Writes {@code folder/manifest.json} atomically. */
    void write(ResultsFolder folder) {
        try {
            folder.replace(FILE_NAME, JSON.writeValueAsBytes(this));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + folder.location(FILE_NAME) + ": " + e.getMessage()
                    + "; check that the folder is writable and the disk has room", e);
        }
    }
}
