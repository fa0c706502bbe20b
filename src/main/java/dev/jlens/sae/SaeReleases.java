package dev.jlens.sae;

import dev.jlens.load.hub.HuggingFaceHub;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * SAELens's pretrained releases by name ({@code pretrained_saes.yaml}): a release is a Hugging Face repository and an
 * SAE id a folder in it. The releases listed here are those whose files jlens reads as they are (SAELens's format,
 * Gemma Scope, sparsify); others need SAELens's conversion, and {@link SAE#load(Path)} reads the converted folder.
 */
final class SaeReleases {
    private SaeReleases() {}

    /** release → repository; the id is the folder (SAELens lists id = path for these). */
    static final Map<String, String> REPOS = Map.ofEntries(
            Map.entry("gpt2-small-res-jb", "jbloom/GPT2-Small-SAEs-Reformatted"),
            Map.entry("gpt2-small-res-jb-feature-splitting", "jbloom/GPT2-Small-Feature-Splitting-Experiment-Layer-8"),
            Map.entry("gemma-scope-2b-pt-res", "google/gemma-scope-2b-pt-res"),
            Map.entry("gemma-scope-2b-pt-mlp", "google/gemma-scope-2b-pt-mlp"),
            Map.entry("gemma-scope-2b-pt-att", "google/gemma-scope-2b-pt-att"),
            Map.entry("gemma-scope-9b-pt-res", "google/gemma-scope-9b-pt-res"),
            Map.entry("sae-llama-3-8b-32x", "EleutherAI/sae-llama-3-8b-32x"),
            Map.entry("sae-pythia-70m-deduped-32k", "EleutherAI/sae-pythia-70m-deduped-32k"));

    /** The files to fetch for an SAE folder, in the order tried: the first format present is the SAE's. */
    private static final List<List<String>> FORMATS = List.of(List.of("cfg.json", "sae_weights.safetensors"), List.of("cfg.json", "sae.safetensors"),
            List.of("params.npz"), List.of("params.safetensors"));

    /** Where a release's SAE lives: its repository and folder. */
    record Location(String repo, String folder) {}

    static Location locate(String release, String id) {
        String repo = REPOS.get(release);
        if (repo == null) {
            throw new IllegalArgumentException("no SAE release '" + release + "' that jlens reads as it is; known: "
                    + new java.util.TreeSet<>(REPOS.keySet()) + ". For another repository: SAE.load on a downloaded folder");
        }
        if (id.isBlank() || id.contains("..") || id.startsWith("/")) throw new IllegalArgumentException("'" + id + "' is not an SAE id of " + release);
        return new Location(repo, id);
    }

    static SAE load(String release, String id) {
        Location at = locate(release, id);
        HuggingFaceHub hub = HuggingFaceHub.fromEnvironment();
        for (List<String> files : FORMATS) {
            Path last = null;
            boolean all = true;
            for (String f : files) {
                var p = hub.file(at.repo(), "main", at.folder() + "/" + f);
                if (p.isEmpty()) {
                    all = false;
                    break;
                }
                last = p.get();
            }
            if (all) return SAE.load(files.size() == 1 ? last : last.getParent());
        }
        throw new IllegalArgumentException(at.repo() + " has no SAE folder '" + at.folder() + "' in a format jlens reads (cfg.json with"
                + " sae_weights.safetensors or sae.safetensors, params.npz, params.safetensors); check the id");
    }
}
