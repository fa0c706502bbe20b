package dev.jlens.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jlens.load.SafeTensors;
import dev.jlens.sae.SAE;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * An SAE training run's checkpoints, {@code OUT/checkpoints/step-NNNNNNN/}: the SAE in SAELens's format
 * ({@code cfg.json}, {@code sae_weights.safetensors}: {@code SAE.load} and SAELens read the folder as it is), the Adam
 * moments and each feature's last firing step ({@code optimizer.safetensors}) and {@code state.json} (step, settings).
 * A checkpoint is written into a hidden folder and renamed into place at once, then older ones are deleted, so the
 * newest {@code step-*} folder is always complete. Nothing in them depends on the clock, so the same run writes the
 * same bytes.
 */
final class SaeCheckpoints {
    static final String FORMAT = "jlens-sae-train-state/1", LAST_FIRED = "feature_last_fired_step";
    private static final Pattern STEP = Pattern.compile("step-(\\d+)");
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final Path dir;

    SaeCheckpoints(Path out) {
        this.dir = out.resolve("checkpoints");
    }

    /** A saved run: the SAE's weights, the optimizer's state (moments and feature firing steps), where it stopped. */
    record Saved(Path path, SAE sae, Map<String, INDArray> optimizer, int step, long adamUpdates, JsonNode identity) {}

    void write(int step, SAE sae, String modelName, AdamW adam, int[] lastFired, Map<String, Object> identity) {
        try {
            Files.createDirectories(dir);
            String name = String.format("step-%07d", step);
            Path tmp = dir.resolve(".tmp-" + name + "-" + Long.toUnsignedString(ThreadLocalRandom.current().nextLong(), 36));
            sae.save(tmp, modelName);
            Map<String, INDArray> opt = new LinkedHashMap<>(adam.state());
            opt.put(LAST_FIRED, Nd4j.createFromArray(lastFired));
            SafeTensors.write(tmp.resolve("optimizer.safetensors"), opt, Map.of("optimizer", "Adam"));
            ObjectNode state = JSON.createObjectNode();
            state.put("format", FORMAT);
            state.put("step", step);
            state.put("adam_updates", adam.updates());
            state.set("run", JSON.valueToTree(identity));
            Checkpoints.writeAtomically(tmp.resolve("state.json"), JSON.writeValueAsBytes(state));
            Path target = dir.resolve(name);
            Checkpoints.deleteTree(target);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            for (Path p : all()) if (!p.equals(target)) Checkpoints.deleteTree(p);
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, ".tmp-*")) {
                for (Path p : ds) Checkpoints.deleteTree(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write a checkpoint to " + dir + ": " + e.getMessage() + " (the previous one is intact)", e);
        }
    }

    /** Complete checkpoints, oldest first. */
    List<Path> all() {
        List<Path> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) return out;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) if (STEP.matcher(p.getFileName().toString()).matches() && Files.isDirectory(p)) out.add(p);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir + ": " + e.getMessage(), e);
        }
        out.sort(Comparator.comparing(p -> p.getFileName().toString()));
        return out;
    }

    /**
     * Refuses to continue {@code saved} with settings of another run. Both sides are compared as JSON read from text,
     * so a number compares equal however it was typed.
     */
    static void checkSameRun(Saved saved, Map<String, Object> identity) {
        try {
            JsonNode now = JSON.readTree(JSON.writeValueAsBytes(identity));
            if (!now.equals(saved.identity())) {
                throw new IllegalArgumentException(saved.path() + " was trained with " + saved.identity().toString()
                        + "; these options ask for " + now + ": resume with the same options, or train into another --out");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The newest checkpoint, or null when there is none. */
    Saved latest() {
        List<Path> all = all();
        if (all.isEmpty()) return null;
        Path p = all.get(all.size() - 1);
        try {
            JsonNode state = JSON.readTree(p.resolve("state.json").toFile());
            if (!FORMAT.equals(state.path("format").asText())) {
                throw new IllegalArgumentException(p.resolve("state.json") + " is not an SAE training state (format '"
                        + state.path("format").asText() + "', expected " + FORMAT + ")");
            }
            Map<String, INDArray> opt = new LinkedHashMap<>();
            try (SafeTensors st = SafeTensors.open(p.resolve("optimizer.safetensors"))) {
                for (String n : st.names()) opt.put(n, st.copy(n));
            }
            return new Saved(p, SAE.load(p), opt, state.get("step").asInt(), state.get("adam_updates").asLong(),
                    state.get("run"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the checkpoint " + p + ": " + e.getMessage(), e);
        }
    }
}
