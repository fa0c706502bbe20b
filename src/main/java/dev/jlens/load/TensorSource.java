package dev.jlens.load;

import dev.jlens.load.TorchPickle.TensorRef;
import java.nio.file.Path;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Named tensors from one weights file, whatever its format: what {@link StateDict} reads from. Each
 * tensor comes back as float32 in c order; shapes are known without reading the data.
 */
interface TensorSource extends AutoCloseable {
    /** See {@link #of(TorchCheckpoint, Map)}. */
    long OVERLAP_FACTOR = 4, OVERLAP_SLACK = 1 << 20;

    /** The file, for messages. */
    Path path();

    /** Names in file order. */
    Set<String> names();

    /** The shape of a tensor that {@link #names} lists. */
    long[] shape(String name);

    /** A tensor that {@link #names} lists, as float32 in c order. */
    INDArray get(String name);

    /**
     * Like {@link #get}, but a bfloat16 tensor stays bfloat16 where the format allows it (safetensors):
     * for weight matrices, which the kernels widen as they read them.
     */
    default INDArray getStored(String name) {
        return get(name);
    }

    /**
     * NaN and ±∞ in a tensor that {@link #get} or {@link #getStored} handed out as {@code handedOut}: counted on
     * it, or, for a memory-mapped one, on reads of the file that leave its pages alone.
     */
    default dev.jlens.compute.NonFinite countNonFinite(String name, INDArray handedOut) {
        return dev.jlens.compute.NonFinite.count(handedOut);
    }

    /**
     * {@link #getStored} as a fresh array the caller owns (and may close), read without mapping the file
     * where the format allows: for a tensor the loader rearranges and drops.
     */
    default INDArray copyStored(String name) {
        return getStored(name).dup('c');
    }

    @Override
    void close();

    /** The file the tensors handed out are memory-mapped from, if they are (see {@link MappedFile}). */
    default Optional<MappedFile> mapped() {
        return Optional.empty();
    }

    /** Every file the tensors handed out are memory-mapped from (several for a sharded checkpoint). */
    default java.util.List<MappedFile> mappedFiles() {
        return mapped().stream().toList();
    }

    /**
     * A checkpoint sharded the Hugging Face way: {@code model.safetensors.index.json} maps each tensor name
     * to the shard that holds it ({@code "weight_map"}); the shards are safetensors files in the same folder.
     * A shard name with a path in it, a tensor its shard lacks or one listed twice is refused.
     */
    static TensorSource sharded(Path index) {
        com.fasterxml.jackson.databind.JsonNode root = Json.read(index);
        com.fasterxml.jackson.databind.JsonNode map = root.path("weight_map");
        if (!map.isObject() || map.isEmpty()) {
            throw new CorruptModelFileException(index, "has no \"weight_map\" object naming each tensor's shard",
                    "download the index again with the shards it names");
        }
        Map<String, String> shardOf = new java.util.LinkedHashMap<>();
        Map<String, SafeTensors> shards = new java.util.LinkedHashMap<>();
        try {
            for (var it = map.fields(); it.hasNext(); ) {
                var e = it.next();
                String shard = e.getValue().asText("");
                if (!e.getValue().isTextual() || shard.isEmpty() || shard.contains("/") || shard.contains("\\") || shard.equals("..")) {
                    throw new CorruptModelFileException(index, e.getKey(), "names the shard " + Unpickler.render(e.getValue().toString(), 80)
                            + ", which is not a file name in the model's folder", "download the index again");
                }
                shardOf.put(e.getKey(), shard);
                if (!shards.containsKey(shard)) shards.put(shard, SafeTensors.open(RegularFiles.require(index.resolveSibling(shard))));
            }
            for (Map.Entry<String, String> e : shardOf.entrySet()) {
                if (!shards.get(e.getValue()).names().contains(e.getKey())) {
                    throw new CorruptModelFileException(index.resolveSibling(e.getValue()), e.getKey(), "is listed in "
                            + index.getFileName() + " but missing from this shard", "download the shard again");
                }
            }
        } catch (RuntimeException e) {
            shards.values().forEach(SafeTensors::close);
            throw e;
        }
        Map<String, TensorSource> sources = new java.util.LinkedHashMap<>();
        shards.forEach((name, file) -> sources.put(name, of(file)));
        return new TensorSource() {
            @Override
            public Path path() {
                return index;
            }

            @Override
            public Set<String> names() {
                return Collections.unmodifiableSet(shardOf.keySet());
            }

            @Override
            public long[] shape(String name) {
                return sources.get(shardOf.get(name)).shape(name);
            }

            @Override
            public INDArray get(String name) {
                return sources.get(shardOf.get(name)).get(name);
            }

            @Override
            public INDArray getStored(String name) {
                return sources.get(shardOf.get(name)).getStored(name);
            }

            @Override
            public INDArray copyStored(String name) {
                return sources.get(shardOf.get(name)).copyStored(name);
            }

            @Override
            public dev.jlens.compute.NonFinite countNonFinite(String name, INDArray handedOut) {
                return sources.get(shardOf.get(name)).countNonFinite(name, handedOut);
            }

            @Override
            public java.util.List<MappedFile> mappedFiles() {
                return sources.values().stream().flatMap(s -> s.mapped().stream()).toList();
            }

            @Override
            public void close() {
                sources.values().forEach(TensorSource::close);
            }
        };
    }

    /**
     * Weights files smaller than this are read into memory rather than memory-mapped: a model that
     * does not map its file survives the file being rewritten or truncated under it, and for small
     * models the copy costs next to nothing. {@code -Djlens.copyWeightsBelowMiB=0} maps every file.
     */
    static long copyBelowBytes() {
        return Long.getLong("jlens.copyWeightsBelowMiB", 16) << 20;
    }

    /**
     * Opens a weights file by what it holds, not by its name: a zip file (or PyTorch's legacy format,
     * refused with a message saying how to convert it) is read as torch.save output (its state dict,
     * see {@link TorchFiles}), anything else as safetensors.
     */
    static TensorSource open(Path file) {
        return isTorch(file) ? TorchFiles.openStateDict(file) : of(SafeTensors.open(file));
    }

    static boolean isTorch(Path file) {
        return TorchCheckpoint.looksLikeZip(file) || TorchCheckpoint.looksLikeLegacy(file);
    }

    /**
     * A safetensors file (closed with the source): F32 tensors memory-mapped, or copied when the file is
     * below {@link #copyBelowBytes}.
     */
    static TensorSource of(SafeTensors file) {
        boolean copy = file.dataBytes() < copyBelowBytes();
        return new TensorSource() {
            @Override
            public Path path() {
                return file.path();
            }

            @Override
            public Set<String> names() {
                return file.names();
            }

            @Override
            public long[] shape(String name) {
                return file.info(name).shape();
            }

            @Override
            public INDArray get(String name) {
                return copy ? file.copy(name) : file.get(name);
            }

            @Override
            public INDArray getStored(String name) {
                return copy ? file.copyStored(name) : file.getStored(name);
            }

            @Override
            public INDArray copyStored(String name) {
                return file.copyStored(name);
            }

            @Override
            public dev.jlens.compute.NonFinite countNonFinite(String name, INDArray handedOut) {
                return copy ? dev.jlens.compute.NonFinite.count(handedOut) : file.countNonFinite(name);
            }

            @Override
            public Optional<MappedFile> mapped() {
                return copy ? Optional.empty() : file.mappedFile();
            }

            @Override
            public void close() {
                file.close();
            }
        };
    }

    /**
     * A torch.save state dict; tensors are decoded on {@link #get}, and views of the same bytes once.
     *
     * <p>Each distinct view is copied out, so views that overlap cost memory that the file does not hold: a
     * crafted file could name one real storage under thousands of tensor names at different offsets. In a
     * state dict distinct tensors hardly ever overlap (tied weights are the same view, read once), so the
     * views read from one source may hold at most {@value #OVERLAP_FACTOR} times the elements of the storages
     * they view, plus {@value #OVERLAP_SLACK}.
     */
    static TensorSource of(TorchCheckpoint checkpoint, Map<String, TensorRef> tensors) {
        Map<TensorRef, INDArray> decoded = new HashMap<>();
        Map<String, Long> storages = new HashMap<>();
        for (TensorRef t : tensors.values()) storages.put(t.storage().key(), t.storage().numel());
        long held = storages.values().stream().mapToLong(Long::longValue).sum();
        return new TensorSource() {
            private long copied;

            @Override
            public Path path() {
                return checkpoint.path();
            }

            @Override
            public Set<String> names() {
                return Collections.unmodifiableSet(tensors.keySet());
            }

            @Override
            public long[] shape(String name) {
                return ref(name).shape();
            }

            @Override
            public synchronized INDArray get(String name) {
                TensorRef t = ref(name);
                INDArray a = decoded.get(t);
                if (a == null) {
                    long numel = checkpoint.elements(name, t);   // refuses a view outside or larger than its storage
                    long limit = saturatingTimes(held, OVERLAP_FACTOR) + OVERLAP_SLACK;
                    if (numel > limit - copied) {
                        throw new CorruptModelFileException(checkpoint.path(), name, "would bring the elements copied out of this"
                                + " file's storages past " + limit + " (" + OVERLAP_FACTOR + " times the " + held + " they hold):"
                                + " its view overlaps others again and again, which the tensors of a state dict do not do",
                                "the file is corrupt or crafted; do not use it");
                    }
                    decoded.put(t, a = checkpoint.read(name, t));
                    copied += numel;
                }
                return a;
            }

            private TensorRef ref(String name) {
                TensorRef t = tensors.get(name);
                if (t == null) {
                    throw new CorruptModelFileException(checkpoint.path(), name, "is not in this state dict; the closest names are "
                            + NameSuggestions.closest(name, tensors.keySet(), 5), "check the spelling and any key prefix");
                }
                return t;
            }

            @Override
            public void close() {
                checkpoint.close();
            }
        };
    }

    private static long saturatingTimes(long a, long b) {
        long r = a * b;
        return b != 0 && (r / b != a || r < 0) ? Long.MAX_VALUE : r;
    }
}
