package dev.jlens.load;

import dev.jlens.cli.Options;
import dev.jlens.cli.UsageException;
import dev.jlens.load.hub.HuggingFaceHub;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Which model a session or command loads: {@code --model}, else {@code $JLENS_MODEL}, else the
 * trained default.
 */
public final class ModelChoice {
    /** Where the trained character model will live, relative to the repository root. */
    public static final String DEFAULT_MODEL = "artifacts/shakespeare-char";

    private ModelChoice() {}

    /**
     * The model to load, or {@code null} for none (only allowed with {@code --no-startup}).
     *
     * @param envModel the value of {@code $JLENS_MODEL}, or {@code null}
     * @param root     the repository root, where {@value #DEFAULT_MODEL} is looked for
     */
    public static Path resolve(Options o, String envModel, Path root) throws UsageException {
        return resolve(o.model(), o.noStartup(), envModel, root);
    }

    /**
     * The same choice for any command: {@code explicit} ({@code --model}), else {@code envModel}, else
     * {@code root}/{@value #DEFAULT_MODEL}; {@code null} only when {@code optional} and none exists.
     *
     * @throws UsageException with a one-line reason when the chosen path is not a model
     */
    public static Path resolve(Path explicit, boolean optional, String envModel, Path root) throws UsageException {
        if (explicit != null) return check(explicit, "--model");
        if (envModel != null && !envModel.isBlank()) return check(Path.of(envModel), "$JLENS_MODEL");
        Path fallback = root.resolve(DEFAULT_MODEL);
        if (Files.isDirectory(fallback)) return check(fallback, DEFAULT_MODEL);
        if (optional) return null;
        throw new UsageException("no model: " + DEFAULT_MODEL + " does not exist yet; pass --model DIR"
                + " (e.g. --model ../shared/fixtures/charlm-tiny) or set JLENS_MODEL");
    }

    /** The cheap checks, so a wrong path fails at once with one line instead of after loading starts. */
    private static Path check(Path p, String from) throws UsageException {
        if (!Files.exists(p) && HuggingFaceHub.isRepoId(p.toString())) return p;   // "gpt2": the HF cache or the hub
        if (!Files.exists(p)) {
            throw new UsageException("no model at " + p + " (" + from + "): give a model folder or a file in one");
        }
        Path dir = Files.isDirectory(p) ? p : p.toAbsolutePath().getParent();
        boolean torchFile = Files.isRegularFile(p) && p.getFileName().toString().matches(".*\\.(pt|pth|bin)");
        boolean nanoGpt = Files.isDirectory(p) && Files.isRegularFile(p.resolve("ckpt.pt"));
        if (!torchFile && !nanoGpt && (dir == null || !Files.isRegularFile(dir.resolve("config.json")))) {
            throw new UsageException(p + " (" + from + ") is not a model: " + (Files.isDirectory(p) ? "the folder" : "its folder")
                    + " has no config.json (expected a Hugging Face GPT-2 folder or a jlens/lecture checkpoint folder)");
        }
        return p;
    }
}
