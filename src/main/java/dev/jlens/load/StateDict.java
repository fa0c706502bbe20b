package dev.jlens.load;

import dev.jlens.cache.HookNames;
import dev.jlens.compute.NonFinite;
import dev.jlens.model.WeightFiles;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A checkpoint's tensors by their names in the file (safetensors or torch.save, see
 * {@link TensorSource}), read with the checks a loader owes its user:
 * a missing tensor names what was expected and the closest names present; a shape that
 * contradicts the config names both; tensors nobody asked for are reported instead of ignored.
 */
final class StateDict {
    private final TensorSource file;
    private final String prefix;
    private final String family;
    private final Set<String> unused;
    private final List<String> nonFinite = new ArrayList<>();
    /** Which tensor each array handed out was read from, by its buffer (views share it). */
    private final java.util.Map<org.nd4j.linalg.api.buffer.DataBuffer, String> handedOut = new java.util.IdentityHashMap<>();

    /**
     * @param prefix a prefix every key may carry ({@code transformer.} in some GPT-2 exports), "" for none
     * @param family what the loader expects, for messages ("a Hugging Face GPT-2 checkpoint")
     */
    StateDict(TensorSource file, String prefix, String family) {
        this.file = file;
        this.family = family;
        boolean prefixed = !prefix.isEmpty() && file.names().stream().anyMatch(n -> n.startsWith(prefix));
        this.prefix = prefixed ? prefix : "";
        this.unused = new LinkedHashSet<>(file.names());
    }

    boolean has(String name) {
        return file.names().contains(prefix + name);
    }

    long[] shape(String name) {
        return file.shape(require(name));
    }

    /** The tensor {@code name}, which must have exactly {@code shape}. */
    INDArray take(String name, long... shape) {
        return takeKey(require(name), shape);
    }

    /** Like {@link #take}, a weight matrix in the file's dtype when that is bfloat16 ({@link TensorSource#getStored}). */
    INDArray takeMatrix(String name, long... shape) {
        return takeKey(require(name), Read.STORED, shape);
    }

    /**
     * Like {@link #takeMatrix}, a fresh copy read without mapping the file: for a matrix the loader
     * rearranges (transposes, joins) and then drops, whose mapped pages would otherwise stay resident.
     */
    INDArray takeMatrixCopy(String name, long... shape) {
        return takeKey(require(name), Read.STORED_COPY, shape);
    }

    private enum Read { FLOAT32, STORED, STORED_COPY }

    /** Whether the file has {@code key} exactly as written, outside the prefix ({@code lm_head.weight} in GPT-2 exports). */
    boolean hasKey(String key) {
        return file.names().contains(key);
    }

    /** The tensor stored under exactly {@code key}, which must have exactly {@code shape}. */
    INDArray takeKey(String key, long... shape) {
        return takeKey(key, Read.FLOAT32, shape);
    }

    private INDArray takeKey(String key, Read read, long... shape) {
        long[] actual = file.shape(key);
        if (!Arrays.equals(actual, shape)) {
            throw new CorruptModelFileException(file.path(), key, "has shape " + Arrays.toString(actual)
                    + " but the model's config implies " + Arrays.toString(shape),
                    "the weights and the config do not belong together: check that config.json is the one"
                    + " saved with these weights");
        }
        unused.remove(key);
        INDArray t = switch (read) {
            case FLOAT32 -> file.get(key);
            case STORED -> file.getStored(key);
            case STORED_COPY -> file.copyStored(key);
        };
        checkFinite(key, t);
        handedOut.put(t.data(), key);
        return t;
    }

    /**
     * NaN or ±Inf in a weight makes every result it touches NaN: say so once, at load, naming the
     * tensor and the count (one vectorised pass over each tensor; the model still loads, so that the
     * weights can be looked at).
     */
    private void checkFinite(String key, INDArray t) {
        NonFinite bad = file.countNonFinite(key, t);
        if (bad.total() == 0) return;
        nonFinite.add(key + ": " + bad.describe());
        System.err.printf("jlens: warning: %s: tensor '%s' holds %s among its %,d values; runs that read it give NaN"
                + " (a diverged training run or a broken export? re-export the weights)%n", file.path(), key, bad.describe(), t.length());
    }

    /** The files the model's arrays are mapped from, the tensors that held NaN or ±Inf, and how to read a mapped one again. */
    WeightFiles weightFiles() {
        List<MappedFile> mapped = file.mappedFiles();
        return new WeightFiles(mapped, nonFinite, mapped.isEmpty() ? WeightFiles.Rereads.NONE : this::readUnmapped);
    }

    /**
     * A fresh copy, read without the mapping, of an array this state dict handed out (or a view of one), laid out
     * as it is; null for any other array. The model packs its matrices from these, so that the mapped pages
     * stay unread and out of memory.
     */
    private INDArray readUnmapped(INDArray a) {
        String key = handedOut.get(a.data());
        if (key == null || file.shape(key).length == 0) return null;
        INDArray whole = file.copyStored(key);
        if (a.dataType() != whole.dataType()) {
            whole.close();
            return null;
        }
        INDArray same = Nd4j.create(whole.data(), a.shape(), a.stride(), a.offset(), a.ordering());
        if (same.length() == whole.length() && java.util.Arrays.equals(same.stride(), whole.stride())) return whole;
        INDArray copy = same.dup(a.ordering());
        whole.close();
        return copy;
    }

    /** Marks buffers that carry no parameters (causal masks) as read. */
    void ignore(Predicate<String> buffers) {
        unused.removeIf(k -> buffers.test(k.startsWith(prefix) ? k.substring(prefix.length()) : k));
    }

    /** Fails when the file holds tensors the loader did not use: it is probably another architecture. */
    void requireAllUsed() {
        if (unused.isEmpty()) return;
        List<String> some = new ArrayList<>(unused).subList(0, Math.min(8, unused.size()));
        throw new CorruptModelFileException(file.path(), "has " + unused.size()
                + " tensors that " + family + " does not have, e.g. " + some,
                "is this a checkpoint of another architecture? jlens reads GPT-2 (Hugging Face names) and"
                + " Karpathy's lecture GPT (its state_dict names)");
    }

    private String require(String name) {
        String key = prefix + name;
        if (file.names().contains(key)) return key;
        throw new CorruptModelFileException(file.path(), key, "is missing, and " + family + " needs it",
                "closest names present: " + String.join(", ", NameSuggestions.closest(key, file.names(), 4))
                        + "; the file may be truncated or of another model");
    }

    Set<String> names() {
        Set<String> out = new LinkedHashSet<>();
        for (String n : file.names()) out.add(n.substring(n.startsWith(prefix) ? prefix.length() : 0));
        return out;
    }
}
