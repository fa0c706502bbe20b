package dev.jlens.load;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jlens.load.hub.HubException;
import dev.jlens.load.hub.HuggingFaceHub;
import dev.jlens.model.HookedTransformer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * Opens a model from a path or a Hugging Face name, recognising its family from what it finds.
 *
 * <ul>
 *   <li>A Hugging Face GPT-2 folder: {@code config.json} with {@code "model_type": "gpt2"}, weights in
 *       {@code model.safetensors} or {@code pytorch_model.bin}.</li>
 *   <li>A Karpathy lecture checkpoint folder: {@code config.json} with the vocabulary as
 *       {@code "chars"} and optionally the attention scale ({@code "attn_scale_value"}, the
 *       multiplier, or {@code "attn_scale"} naming {@code head_size} or {@code n_embd}), beside
 *       {@code model.safetensors} or {@code model.pt} under the lecture's state_dict names.</li>
 *   <li>A weights file ({@code .safetensors}, or {@code .pt}/{@code .pth}/{@code .bin} from torch.save)
 *       with such a {@code config.json} beside it.</li>
 *   <li>A nanoGPT training checkpoint ({@code ckpt.pt}, or a folder holding one) without any
 *       config.json: its {@code model_args} describe it (see {@link NanoGptLoader}).</li>
 *   <li>A Hugging Face model name ({@code gpt2}, {@code gpt2-medium}, {@code gpt2-large}, {@code gpt2-xl},
 *       {@code distilgpt2}, {@code owner/name}) when no such path exists: the files come from the local
 *       hub cache or are downloaded into it (see {@link HuggingFaceHub}).</li>
 * </ul>
 */
public final class ModelLoader {
    /** torch.save weight file names the loader looks for in a folder, in the order it prefers them. */
    private static final List<String> TORCH_FILES = List.of("pytorch_model.bin", "model.pt", "model.pth", "ckpt.pt");
    private static final List<String> WEIGHT_SUFFIXES = List.of(".safetensors", ".pt", ".pth", ".bin", ".ckpt");

    private ModelLoader() {}

    /**
     * Loads from a path when one exists there, else from the Hugging Face hub by name, configured from
     * the environment ({@code HF_HOME}, {@code HF_HUB_CACHE}, {@code HF_ENDPOINT}, {@code HF_HUB_OFFLINE},
     * {@code HF_TOKEN}).
     */
    public static HookedTransformer load(String pathOrName) {
        return load(pathOrName, null);
    }

    /** Like {@link #load(String)} with the given hub; null for one configured from the environment. */
    public static HookedTransformer load(String pathOrName, HuggingFaceHub hub) {
        Path path = asPath(pathOrName);
        if (path != null && RegularFiles.existsOrIsLink(path)) return load(path);   // a broken link is explained there
        if (!HuggingFaceHub.isRepoId(pathOrName) || WEIGHT_SUFFIXES.stream().anyMatch(pathOrName.toLowerCase(Locale.ROOT)::endsWith)) {
            throw new IllegalArgumentException("no model at " + (path == null ? pathOrName : path.toAbsolutePath())
                    + ": give a model folder or weights file, or a Hugging Face model name such as gpt2");
        }
        HuggingFaceHub h = hub != null ? hub : HuggingFaceHub.fromEnvironment();
        try {
            Path snapshot = HubModels.snapshot(pathOrName, h);
            return guarded(snapshot, () -> loadFolder(snapshot, pathOrName));
        } catch (HubException e) {
            if (!pathOrName.contains("/")) throw e;
            // "models/gpt2" may be a mistyped path as much as a repository: say both.
            throw new HubException("no file or folder at " + path.toAbsolutePath() + ", so '" + pathOrName
                    + "' was looked up on the Hugging Face hub: " + e.getMessage(), e);
        }
    }

    /**
     * Where {@link #load(String, HuggingFaceHub)} reads {@code pathOrName} from: the path itself when one exists there,
     * else the model's snapshot folder in the hub cache (fetched into it when missing), e.g. to copy the model to other
     * machines. {@code hub} null: the one configured from the environment.
     */
    public static Path location(String pathOrName, HuggingFaceHub hub) {
        Path path = asPath(pathOrName);
        if (path != null && RegularFiles.existsOrIsLink(path)) return path;
        if (!HuggingFaceHub.isRepoId(pathOrName)) {
            throw new IllegalArgumentException("no model at " + (path == null ? pathOrName : path.toAbsolutePath())
                    + ": give a model folder or weights file, or a Hugging Face model name such as gpt2");
        }
        return HubModels.snapshot(pathOrName, hub != null ? hub : HuggingFaceHub.fromEnvironment());
    }

    /**
     * Loads a model folder or file (see the class comment for what each may hold). A path that is neither a
     * folder nor a regular file (a FIFO, a device, a broken symbolic link) is refused before it is opened.
     */
    public static HookedTransformer load(Path path) {
        if (!Files.exists(path)) {
            if (RegularFiles.existsOrIsLink(path)) RegularFiles.require(path);   // says which link is broken, and how
            throw new IllegalArgumentException("no model at " + path.toAbsolutePath()
                    + ": give a folder with config.json and model.safetensors");
        }
        if (Files.isDirectory(path)) return guarded(path, () -> loadFolder(path, path.toAbsolutePath().normalize().getFileName().toString()));
        RegularFiles.require(path);
        return guarded(path, () -> loadFile(path));
    }

    /**
     * Runs a load, turning the JVM giving up (a stack overflow, memory running out, a mapped file shrinking)
     * into the one-line {@link CorruptModelFileException} every other bad file gets.
     */
    private static HookedTransformer guarded(Path path, java.util.function.Supplier<HookedTransformer> load) {
        try {
            return load.get();
        } catch (StackOverflowError | OutOfMemoryError | InternalError e) {
            throw CorruptModelFileException.of(path, e);
        }
    }

    private static HookedTransformer loadFile(Path path) {
        Path dir = path.toAbsolutePath().getParent();
        if (path.getFileName().toString().endsWith(".json")) return loadFolder(dir, dir.getFileName().toString());
        Path configFile = dir.resolve("config.json");
        if (!Files.exists(configFile) && TensorSource.isTorch(path)) return NanoGptLoader.load(path);
        return loadWithConfig(dir, path, dir.getFileName().toString());
    }

    private static HookedTransformer loadFolder(Path dir, String name) {
        if (!RegularFiles.existsOrIsLink(dir.resolve("config.json"))) {
            Path ckpt = dir.resolve("ckpt.pt");
            if (Files.exists(ckpt)) return NanoGptLoader.load(ckpt);
            throw new IllegalArgumentException(dir + " has no config.json: jlens reads a Hugging Face GPT-2 folder, a"
                    + " Karpathy lecture checkpoint with a config.json naming its characters (\"chars\"), or a nanoGPT ckpt.pt");
        }
        return loadWithConfig(dir, null, name);
    }

    /**
     * @param weights the weights file, or null to find it in {@code dir}
     */
    private static HookedTransformer loadWithConfig(Path dir, Path weights, String name) {
        Path configFile = dir.resolve("config.json");
        if (!RegularFiles.existsOrIsLink(configFile)) {
            throw new IllegalArgumentException(dir + " has no config.json: jlens reads a Hugging Face GPT-2 folder, a"
                    + " Karpathy lecture checkpoint with a config.json naming its characters (\"chars\"), or a nanoGPT ckpt.pt");
        }
        JsonNode config = Json.read(configFile);
        if ("gpt2".equals(config.path("model_type").asText()) || config.path("architectures").toString().contains("GPT2")) {
            Path w = weights != null ? weights : findWeights(dir, Gpt2Loader.WEIGHT_FILES, "model.safetensors or pytorch_model.bin");
            return Gpt2Loader.load(dir, config, w, name);
        }
        if (config.has("chars")) {
            Path w = weights != null ? weights : findWeights(dir, List.of("model.safetensors", "model.pt", "model.pth"),
                    "model.safetensors or model.pt");
            return KarpathyCharLoader.load(w, new ConfigFields(config, configFile.toString()));
        }
        if (HfFamilies.handles(config)) {
            Path w = weights != null ? weights : findWeights(dir, List.of("model.safetensors", "model.safetensors.index.json"),
                    "model.safetensors, or model.safetensors.index.json with its shards");
            return HfFamilies.load(dir, config, w, name);
        }
        String arch = HfFamilies.architectureOf(config);
        if (arch != null) {
            throw new IllegalArgumentException(configFile + " is a " + arch + ", which jlens does not read; it reads "
                    + String.join(", ", HfFamilies.supported()) + " and Karpathy's lecture GPT");
        }
        throw new IllegalArgumentException(configFile + " describes no model family jlens knows: expected \"architectures\""
                + " naming one of " + String.join(", ", HfFamilies.supported()) + ", or \"chars\" (Karpathy's lecture GPT)");
    }

    /** The first of {@code preferred} in {@code dir}, else the folder's only torch.save file. */
    private static Path findWeights(Path dir, List<String> preferred, String expected) {
        // A broken link under a preferred name is returned too: opening it says what is wrong with it.
        for (String f : preferred) if (RegularFiles.existsOrIsLink(dir.resolve(f))) return dir.resolve(f);
        List<Path> torch;
        try (Stream<Path> files = Files.list(dir)) {
            torch = files.filter(p -> TORCH_FILES.contains(p.getFileName().toString())
                    || p.getFileName().toString().endsWith(".pt") || p.getFileName().toString().endsWith(".pth")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir + ": " + e.getMessage(), e);
        }
        if (torch.size() == 1) return torch.get(0);
        throw new IllegalArgumentException(dir + " has config.json but " + (torch.isEmpty() ? "no weights" : "several weight files "
                + torch.stream().map(p -> p.getFileName().toString()).toList()) + ": expected " + expected
                + " (or pass the weights file itself)");
    }

    private static Path asPath(String s) {
        try {
            return Path.of(s);
        } catch (InvalidPathException e) {
            return null;
        }
    }
}
