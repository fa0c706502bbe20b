package dev.jlens.experiment;

import dev.jlens.analysis.SampleActivations;
import dev.jlens.compute.FloatRows;
import dev.jlens.data.Corpus;
import dev.jlens.data.Dataset;
import dev.jlens.data.Split;
import dev.jlens.model.HookedTransformer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Objects;

/**
 * A block-internals results folder as {@link SampleActivations}, the input of the similar-strings
 * analyses: the saved rows of one hook, memory-mapped batch by batch (never joined), with the
 * dataset rebuilt from the manifest and checked against it.
 */
public final class SavedSamples {
    private SavedSamples() {}

    /**
     * Opens {@code folder}'s activations at {@code hook} for {@code model}, reading the text from where
     * the manifest says it was read.
     *
     * @throws IllegalArgumentException when the results are of another model, were saved at every
     *                                  position, lack the hook, or the text is no longer the same
     */
    public static SampleActivations open(Path folder, String hook, HookedTransformer model) {
        return of(BlockInternalsResults.open(folder), hook, model);
    }

    /** {@link #open(Path, String, HookedTransformer)} of results already open. */
    public static SampleActivations of(BlockInternalsResults results, String hook, HookedTransformer model) {
        Path folder = results.folder();
        Path source = Path.of(results.manifest().dataset().source());
        if (!Files.isRegularFile(source)) {
            throw new IllegalArgumentException(folder + " was made from " + source + ", which is not there (from "
                    + Path.of("").toAbsolutePath() + "); pass the text with SavedSamples.of(results, hook, model, Corpus.read(…))");
        }
        return of(results, hook, model, Corpus.read(source, model.tokenizer()));
    }

    /** The results' activations at {@code hook}, with {@code corpus} the text they were made from. */
    public static SampleActivations of(BlockInternalsResults results, String hook, HookedTransformer model, Corpus corpus) {
        Objects.requireNonNull(hook, "hook");
        Manifest m = results.manifest();
        Path folder = results.folder();
        if (!Objects.equals(m.model().weightsSha256(), Fingerprints.weights(model))) {
            throw new IllegalArgumentException(folder + " holds activations of " + m.model().name() + " (weights sha256 "
                    + Manifest.shortHash(m.model().weightsSha256()) + "), not of this model (" + model.cfg().modelName()
                    + "): load that model, or run the experiment again with this one");
        }
        if (!results.complete()) {
            throw new IllegalArgumentException(folder + " holds " + m.batches().size() + " of " + m.batchCount()
                    + " batches: run the experiment again to finish it");
        }
        if (results.rowsPerSample() != 1) {
            throw new IllegalArgumentException(folder + " saved every position; similar strings compare each sample at its "
                    + "last token: run the experiment with --positions last");
        }
        if (!results.tensorNames().contains(hook)) {
            throw new IllegalArgumentException(folder + " has no " + hook + "; it has " + String.join(", ", results.tensorNames()));
        }
        if (!corpus.sha256().equals(m.dataset().sha256())) {
            throw new IllegalArgumentException(corpus.source() + " is not the text " + folder + " was made from (its SHA-256 is "
                    + corpus.sha256().substring(0, 12) + "…, the manifest's " + m.dataset().sha256().substring(0, 12) + "…)");
        }
        Dataset dataset = dataset(corpus, Split.parse(m.split()), m.samples(), folder);
        int n = dataset.samples().count();
        if (n != results.sampleCount()) {
            throw new IllegalArgumentException(folder + " holds " + results.sampleCount() + " samples but the manifest's sampling of "
                    + corpus.source() + " gives " + n);
        }
        for (int i : new int[] {0, n / 2, n - 1}) {
            if (!Arrays.equals(results.sampleTokens(i), dataset.samples().tokens(i))) {
                throw new IllegalArgumentException(folder + ": sample " + i + " is not what the manifest's sampling of "
                        + corpus.source() + " gives; the results were not made from this text as described");
            }
        }
        return SampleActivations.of(hook, FloatRows.of(results.batches(hook)), dataset);
    }

    /** The samples a manifest describes: {@code kind} windows or unique-substrings, with their length and stride. */
    static Dataset dataset(Corpus corpus, Split split, Map<String, Object> samples, Path folder) {
        String kind = String.valueOf(samples.get("kind"));
        int length = ((Number) samples.get("length")).intValue();
        return switch (kind) {
            case "unique-substrings" -> Dataset.uniqueSubstrings(corpus, split, length);
            case "windows" -> Dataset.windows(corpus, split, length, ((Number) samples.get("stride")).intValue());
            default -> throw new IllegalArgumentException(folder + ": unknown kind of samples '" + kind + "' in the manifest");
        };
    }
}
