package dev.jlens.load;

import dev.jlens.load.TorchPickle.TensorRef;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * PyTorch checkpoints ({@code .pt}, {@code .pth}, {@code .bin}, {@code .ckpt} in torch.save's zip
 * format), read safely: the pickle inside may name only tensors, storages, {@code OrderedDict} and
 * plain containers and values, like {@code torch.load(weights_only=True)}. Anything else (a class, a
 * function such as {@code os.system}) is refused by name before it could run, because unpickling an
 * arbitrary global can execute any code the file's author chose.
 *
 * <p>Reads F32, F16, BF16, F64 and the integer and bool storages; tensors that are strided views of
 * a larger storage (slices, transposes) and tensors sharing one storage (tied weights) come back as
 * what PyTorch would show.
 */
public final class TorchFiles {
    /** Where training checkpoints keep the model's state dict, in the order they are tried. */
    private static final List<String> STATE_DICT_KEYS = List.of("model", "state_dict", "model_state_dict", "module");

    private TorchFiles() {}

    /**
     * The state dict in a torch.save file, as float32 c-order arrays in the file's order.
     *
     * <p>The file may hold the state dict itself ({@code torch.save(model.state_dict(), f)}, Hugging
     * Face's {@code pytorch_model.bin}) or a training checkpoint that keeps it under {@code "model"}
     * (nanoGPT's {@code ckpt.pt}), {@code "state_dict"} or {@code "model_state_dict"}; the rest of a
     * checkpoint (optimizer state, counters, configs) is parsed under the same rules but never decoded.
     * Key prefixes left by {@code torch.compile} ({@code _orig_mod.}) and by DistributedDataParallel
     * ({@code module.}, when every key has it) are removed. Tensors that share bytes in the file share
     * one array here.
     *
     * @throws CorruptModelFileException if the file is not a torch.save zip file, is truncated or
     *     inconsistent, holds no state dict, or its pickle names anything beyond tensors and plain data
     */
    public static Map<String, INDArray> readStateDict(Path file) {
        try (TensorSource source = openStateDict(file)) {
            Map<String, INDArray> out = new LinkedHashMap<>();
            for (String name : source.names()) out.put(name, source.get(name));
            return out;
        } catch (StackOverflowError | OutOfMemoryError | InternalError e) {
            throw CorruptModelFileException.of(file, e);
        }
    }

    /** Whether a file is in torch.save's zip format, judged by its first bytes rather than its name. */
    public static boolean isTorchFile(Path file) {
        return TorchCheckpoint.looksLikeZip(file);
    }

    /** The state dict as a lazily decoded source (see {@link #readStateDict}); the caller closes it. */
    static TensorSource openStateDict(Path file) {
        TorchCheckpoint checkpoint = TorchCheckpoint.open(file);
        try {
            return TensorSource.of(checkpoint, stateDictOf(checkpoint.root(), file));
        } catch (RuntimeException e) {
            checkpoint.close();
            throw e;
        }
    }

    /** Finds the state dict in an unpickled checkpoint and strips wrapper prefixes from its keys. */
    static Map<String, TensorRef> stateDictOf(Object root, Path file) {
        Map<?, ?> dict = null;
        if (isTensorDict(root)) {
            dict = (Map<?, ?>) root;
        } else if (root instanceof Map<?, ?> top) {
            for (String key : STATE_DICT_KEYS) {
                if (isTensorDict(top.get(key))) {
                    dict = (Map<?, ?>) top.get(key);
                    break;
                }
            }
            if (dict == null) {
                List<String> keys = new ArrayList<>();
                for (Object k : top.keySet()) {
                    if (keys.size() == 12) break;
                    keys.add(Unpickler.render(k, 40));
                }
                throw new CorruptModelFileException(file, "holds no state dict: it is a dict with keys "
                        + keys + (top.size() > keys.size() ? " (" + top.size() + " in all)" : "") + ", none of which is a dict of tensors (jlens looks at the top"
                        + " level and under " + STATE_DICT_KEYS + ")", "save model.state_dict() with torch.save");
            }
        } else {
            throw new CorruptModelFileException(file, "holds " + Unpickler.describe(root) + ", not a state dict (a dict of tensors)",
                    "save model.state_dict() with torch.save");
        }
        return stripPrefixes(TorchCheckpoint.tensorsOf(dict), file);
    }

    private static boolean isTensorDict(Object o) {
        if (!(o instanceof Map<?, ?> m) || m.isEmpty()) return false;
        for (var e : m.entrySet()) {
            if (!(e.getKey() instanceof String) || !(e.getValue() instanceof TensorRef)) return false;
        }
        return true;
    }

    /** {@code _orig_mod.} (torch.compile) wherever a key starts with it; {@code module.} (DDP) when all keys do. */
    private static Map<String, TensorRef> stripPrefixes(Map<String, TensorRef> tensors, Path file) {
        boolean allModule = tensors.keySet().stream().allMatch(k -> stripCompiled(k).startsWith("module."));
        Map<String, TensorRef> out = new LinkedHashMap<>();
        for (var e : tensors.entrySet()) {
            String name = stripCompiled(e.getKey());
            if (allModule) name = stripCompiled(name.substring("module.".length()));
            if (out.put(name, e.getValue()) != null) {
                throw new CorruptModelFileException(file, "holds " + Unpickler.render(name, 120) + " twice once wrapper prefixes (_orig_mod., module.)"
                        + " are removed", "save the unwrapped model's state_dict (model._orig_mod or model.module)");
            }
        }
        return out;
    }

    private static String stripCompiled(String key) {
        return key.startsWith("_orig_mod.") ? key.substring("_orig_mod.".length()) : key;
    }
}
