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
    /** The file, for messages. */
    Path path();

    /** Names in file order. */
    Set<String> names();

    /** The shape of a tensor that {@link #names} lists. */
    long[] shape(String name);

    /** A tensor that {@link #names} lists, as float32 in c order. */
    INDArray get(String name);

    @Override
    void close();

    /** The file the tensors handed out are memory-mapped from, if they are (see {@link MappedFile}). */
    default Optional<MappedFile> mapped() {
        return Optional.empty();
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
            public Optional<MappedFile> mapped() {
                return copy ? Optional.empty() : file.mappedFile();
            }

            @Override
            public void close() {
                file.close();
            }
        };
    }

    /** A torch.save state dict; tensors are decoded on {@link #get}, and views of the same bytes once. */
    static TensorSource of(TorchCheckpoint checkpoint, Map<String, TensorRef> tensors) {
        Map<TensorRef, INDArray> decoded = new HashMap<>();
        return new TensorSource() {
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
                if (a == null) decoded.put(t, a = checkpoint.read(name, t));
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
}
