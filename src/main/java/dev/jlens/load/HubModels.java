package dev.jlens.load;

import dev.jlens.load.hub.HubException;
import dev.jlens.load.hub.HuggingFaceHub;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The files a model needs from its Hugging Face repository, found in the hub cache or fetched into
 * it: {@code config.json}, the weights ({@code model.safetensors}, else the shards a
 * {@code model.safetensors.index.json} names, else {@code pytorch_model.bin}) and the tokenizer
 * ({@code tokenizer.json} with {@code tokenizer_config.json}, else {@code vocab.json} + {@code merges.txt}).
 *
 * <p>A snapshot already in the cache with all of them is used as it is, without asking the hub
 * whether the branch moved: models such as {@code gpt2} do not change, and loading then works
 * without a network. To pick up a newer revision, delete the repository's cache folder.
 */
final class HubModels {
    static final String REVISION = "main";

    /**
     * The short names TransformerLens users type, and where the hub now keeps those repositories.
     * The hub redirects the short names; the cache may hold either spelling.
     */
    static final Map<String, String> CANONICAL = Map.of(
            "gpt2", "openai-community/gpt2",
            "gpt2-medium", "openai-community/gpt2-medium",
            "gpt2-large", "openai-community/gpt2-large",
            "gpt2-xl", "openai-community/gpt2-xl",
            "distilgpt2", "distilbert/distilgpt2");

    private HubModels() {}

    /** The snapshot folder holding the model's files, downloading what the cache lacks. */
    static Path snapshot(String repoId, HuggingFaceHub hub) {
        Set<String> names = new LinkedHashSet<>(List.of(repoId));
        if (CANONICAL.containsKey(repoId)) names.add(CANONICAL.get(repoId));
        for (String name : names) {
            Optional<Path> cached = hub.cachedSnapshot(name, REVISION).filter(HubModels::complete);
            if (cached.isPresent()) return cached.get();
        }
        Path config = hub.file(repoId, REVISION, "config.json").orElseThrow(() -> new HubException(repoId
                + " has no config.json on the hub, so it is not a model jlens can load"));
        Optional<Path> weights = hub.file(repoId, REVISION, "model.safetensors");
        if (weights.isEmpty()) {
            Optional<Path> index = hub.file(repoId, REVISION, SHARD_INDEX);
            if (index.isPresent()) {
                for (String shard : shards(index.get())) {
                    hub.file(repoId, REVISION, shard).orElseThrow(() -> new HubException(repoId + "'s " + SHARD_INDEX
                            + " names the shard " + shard + ", which the repository lacks"));
                }
                weights = index;
            }
        }
        if (weights.isEmpty()) weights = hub.file(repoId, REVISION, "pytorch_model.bin");
        if (weights.isEmpty()) {
            throw new HubException(repoId + " has none of model.safetensors, " + SHARD_INDEX + " or pytorch_model.bin");
        }
        // tokenizer.json is what every family reads (GPT-2 too); vocab.json + merges.txt only where it is absent.
        if (hub.file(repoId, REVISION, "tokenizer.json").isPresent()) {
            hub.file(repoId, REVISION, "tokenizer_config.json");
        } else if (hub.file(repoId, REVISION, "vocab.json").isPresent()) {
            hub.file(repoId, REVISION, "merges.txt");
        }
        return config.getParent();
    }

    static final String SHARD_INDEX = "model.safetensors.index.json";

    /** The shard files a {@code model.safetensors.index.json} names, each once, in order. */
    static Set<String> shards(Path index) {
        Set<String> out = new LinkedHashSet<>();
        Json.read(index).path("weight_map").forEach(v -> {
            String shard = v.asText("");
            // Checked before anything is fetched: a name with a path in it would be written outside the snapshot.
            if (shard.isEmpty() || shard.contains("/") || shard.contains("\\") || shard.startsWith(".")) {
                throw new CorruptModelFileException(index, "names the shard " + Unpickler.render(shard, 80)
                        + ", which is not a file name in the model's folder", "the repository's index is broken; report it to its owners");
            }
            out.add(shard);
        });
        return out;
    }

    /**
     * Whether a snapshot folder has what the loaders read: config, weights (one file, or an index with every
     * shard) and a tokenizer. (A model repository without tokenizer files is fetched again each time; it
     * loads and runs on ids.)
     */
    static boolean complete(Path snapshot) {
        boolean tokenizer = Files.exists(snapshot.resolve("vocab.json")) && Files.exists(snapshot.resolve("merges.txt"))
                || Files.exists(snapshot.resolve("tokenizer.json"));
        Path index = snapshot.resolve(SHARD_INDEX);
        boolean weights = Gpt2Loader.WEIGHT_FILES.stream().anyMatch(f -> Files.exists(snapshot.resolve(f)))
                || Files.exists(index) && shards(index).stream().allMatch(f -> Files.exists(snapshot.resolve(f)));
        return Files.exists(snapshot.resolve("config.json")) && tokenizer && weights;
    }
}
