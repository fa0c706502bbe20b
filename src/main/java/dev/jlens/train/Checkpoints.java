package dev.jlens.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jlens.load.ModelLoader;
import dev.jlens.load.SafeTensors;
import dev.jlens.model.HookedTransformer;
import dev.jlens.model.ModelConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A training run's folder, written so that a crash at any moment leaves a usable model and a
 * resumable state:
 *
 * <pre>
 * OUT/config.json          the lecture's config fields ("chars", "n_embd", …) + "training" metadata
 * OUT/model.safetensors    the weights under the lecture's state_dict names
 * OUT/loss.csv             the loss curve, one row per step (eval columns filled at evals)
 * OUT/train.log            the progress lines
 * OUT/resume/step-NNNNNNN/ the newest complete snapshot: config.json, model.safetensors,
 *                          optimizer.safetensors (AdamW moments), state.json (step, RNG, data), loss.csv
 * </pre>
 *
 * <p>A snapshot is written into a hidden temporary folder, every file forced to disk, and then
 * renamed into place in one atomic step; only then are older snapshots deleted and the top-level
 * {@code config.json} and {@code model.safetensors} replaced (each atomically). So the newest
 * {@code step-*} folder is always complete, and the top-level files are each complete (at worst
 * one checkpoint old). {@code OUT} and every snapshot load with {@code HookedTransformer.fromPretrained}.
 * The names in these files are {@link CheckpointNames}'s.
 */
final class Checkpoints {
    static final String STATE_FORMAT = "jlens-train-state/1";
    private static final Pattern SNAPSHOT = Pattern.compile("step-(\\d+)");
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** Test hook: runs after each file of a snapshot is written (a test throws here to simulate a crash). */
    static volatile java.util.function.Consumer<String> afterSnapshotFile = name -> {};

    private final Path dir;

    Checkpoints(Path dir) {
        this.dir = dir;
    }

    Path dir() {
        return dir;
    }

    Path lossCsv() {
        return dir.resolve("loss.csv");
    }

    Path log() {
        return dir.resolve("train.log");
    }

    /** Wall-clock figures per step (a log, like train.log: the one part of a run that differs between runs). */
    Path speedCsv() {
        return dir.resolve("speed.csv");
    }

    /**
     * {@code timing.json}: the training's wall time summed over resumed sessions. Kept out of config.json and
     * state.json so that every checkpoint file is the same bytes whenever the same command runs.
     */
    static final String TIMING = "timing.json";

    /** What a snapshot holds besides the weights. */
    record State(int step, long adamUpdates, long seed, String chars, long dataChecksum, long dataLength, String dataSource,
                 Map<String, Object> hyperparameters, long tokensSeen, double elapsedSeconds, double lastTrainLoss,
                 double lastValLoss, double bestValLoss) {}

    /** A loaded snapshot: the model (own writable arrays), the optimizer moments (under the trainer's names) and the state. */
    record Snapshot(Path path, HookedTransformer model, Map<String, INDArray> optimizer, State state) {}

    // ---------------------------------------------------------------- writing

    void write(HookedTransformer model, AdamW optimizer, State state, double dropout) {
        try {
            Path resume = dir.resolve("resume");
            Files.createDirectories(resume);
            String name = String.format("step-%07d", state.step());
            Path tmp = resume.resolve(".tmp-" + name + "-" + Long.toUnsignedString(ThreadLocalRandom.current().nextLong(), 36));
            Files.createDirectory(tmp);
            ObjectNode config = modelConfig(model, state, dropout);
            SafeTensors.write(tmp.resolve("model.safetensors"), CheckpointNames.modelStateDict(model),
                    metadata("format", "pt", "written_by", "jlens train", "step", Integer.toString(state.step())));
            afterSnapshotFile.accept("model.safetensors");
            SafeTensors.write(tmp.resolve("optimizer.safetensors"), optimizer.state(),
                    metadata("optimizer", "AdamW", "step", Integer.toString(state.step()), "updates", Long.toString(optimizer.updates())));
            afterSnapshotFile.accept("optimizer.safetensors");
            writeDurably(tmp.resolve("config.json"), JSON.writeValueAsBytes(config));
            afterSnapshotFile.accept("config.json");
            byte[] curve = Files.exists(lossCsv()) ? Files.readAllBytes(lossCsv()) : new byte[0];
            writeDurably(tmp.resolve("loss.csv"), curve);
            afterSnapshotFile.accept("loss.csv");
            writeDurably(tmp.resolve("state.json"), JSON.writeValueAsBytes(stateJson(state)));
            afterSnapshotFile.accept("state.json");
            byte[] timing = JSON.writeValueAsBytes(JSON.createObjectNode().put("elapsed_s", Math.round(state.elapsedSeconds() * 10) / 10.0));
            writeDurably(tmp.resolve(TIMING), timing);
            syncDirectory(tmp);
            Path target = resume.resolve(name);
            if (Files.exists(target)) deleteTree(target);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            syncDirectory(resume);
            afterSnapshotFile.accept("committed");
            for (Path old : snapshots()) if (!old.equals(target)) deleteTree(old);
            deleteStaleTemporaries(resume);
            // The loadable top level: each file replaced atomically; the snapshot above is the source of truth.
            writeAtomically(dir.resolve("config.json"), JSON.writeValueAsBytes(config));
            writeAtomically(dir.resolve(TIMING), timing);
            Files.copy(target.resolve("model.safetensors"), dir.resolve(".model.safetensors.tmp"), StandardCopyOption.REPLACE_EXISTING);
            forceFile(dir.resolve(".model.safetensors.tmp"));
            Files.move(dir.resolve(".model.safetensors.tmp"), dir.resolve("model.safetensors"),
                    StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            syncDirectory(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write a checkpoint to " + dir + ": " + e.getMessage()
                    + " (the previous checkpoint is intact)", e);
        }
    }

    /** Key-value pairs in the order given (Map.of's order changes from one JVM to the next). */
    private static Map<String, String> metadata(String... keysAndValues) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) m.put(keysAndValues[i], keysAndValues[i + 1]);
        return m;
    }

    /** The lecture's config.json fields, so the lecture's code and jlens's loader both read it, plus training metadata. */
    static ObjectNode modelConfig(HookedTransformer model, State state, double dropout) {
        ModelConfig cfg = model.cfg();
        ObjectNode c = JSON.createObjectNode();
        c.put("model_class", "GPTLanguageModel");
        c.put("chars", state.chars());
        c.put("vocab_size", cfg.dVocab());
        c.put("n_embd", cfg.dModel());
        c.put("n_head", cfg.nHeads());
        c.put("n_layer", cfg.nLayers());
        c.put("block_size", cfg.nCtx());
        c.put("head_size", cfg.dHead());
        c.put("ffwd_hidden", cfg.dMlp());
        c.put("activation", cfg.attnOnly() ? "none (attention-only)" : "relu");
        c.put("attn_scale", "head_size ** -0.5");
        c.put("attn_scale_value", 1.0 / Math.sqrt(cfg.dHead()));
        c.put("attn_only", cfg.attnOnly());
        c.put("layer_norm", cfg.hasLayerNorm());
        c.put("layer_norm_eps", cfg.eps());
        c.put("lm_head_bias", true);
        c.put("qkv_bias", false);
        c.put("dropout", dropout);
        ObjectNode t = c.putObject("training");
        t.put("written_by", "jlens train");
        t.put("step", state.step());
        t.put("tokens_seen", state.tokensSeen());
        putLoss(t, "train_loss", state.lastTrainLoss());
        putLoss(t, "val_loss", state.lastValLoss());
        putLoss(t, "best_val_loss", state.bestValLoss());
        t.put("data", state.dataSource());
        t.put("data_characters", state.dataLength());
        t.put("split", "first 90% train, last 10% validation");
        t.set("hyperparameters", JSON.valueToTree(state.hyperparameters()));
        return c;
    }

    private static void putLoss(ObjectNode o, String name, double v) {
        if (Double.isFinite(v)) o.put(name, v);
        else o.putNull(name);
    }

    private static ObjectNode stateJson(State s) {
        ObjectNode o = JSON.createObjectNode();
        o.put("format", STATE_FORMAT);
        o.put("step", s.step());
        o.put("adam_updates", s.adamUpdates());
        ObjectNode rng = o.putObject("rng");
        rng.put("kind", "counter-based SplitMix64: every draw is a function of (seed, stream, step, index)");
        rng.put("seed", s.seed());
        rng.put("next_step", s.step());
        o.put("chars", s.chars());
        ObjectNode data = o.putObject("data");
        data.put("source", s.dataSource());
        data.put("characters", s.dataLength());
        data.put("crc32", s.dataChecksum());
        o.set("hyperparameters", JSON.valueToTree(s.hyperparameters()));
        o.put("tokens_seen", s.tokensSeen());
        putLoss(o, "last_train_loss", s.lastTrainLoss());
        putLoss(o, "last_val_loss", s.lastValLoss());
        putLoss(o, "best_val_loss", s.bestValLoss());
        return o;
    }

    // ---------------------------------------------------------------- reading

    /** Complete snapshots, oldest first. */
    List<Path> snapshots() {
        Path resume = dir.resolve("resume");
        List<Path> out = new ArrayList<>();
        if (!Files.isDirectory(resume)) return out;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(resume)) {
            for (Path p : ds) if (SNAPSHOT.matcher(p.getFileName().toString()).matches() && Files.isDirectory(p)) out.add(p);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + resume + ": " + e.getMessage(), e);
        }
        out.sort(Comparator.comparingInt(Checkpoints::stepOf));
        return out;
    }

    private static int stepOf(Path snapshot) {
        Matcher m = SNAPSHOT.matcher(snapshot.getFileName().toString());
        return m.matches() ? Integer.parseInt(m.group(1)) : -1;
    }

    /** Whether the folder already holds a training run (a snapshot or a model). */
    boolean hasRun() {
        return !snapshots().isEmpty() || Files.exists(dir.resolve("model.safetensors"));
    }

    /** The newest complete snapshot, or null when there is none. */
    Snapshot latest() {
        List<Path> all = snapshots();
        if (all.isEmpty()) return null;
        Path p = all.get(all.size() - 1);
        State state = readState(p.resolve("state.json"));
        HookedTransformer model = LectureModel.ownCopy(ModelLoader.load(p));
        Map<String, INDArray> opt = new LinkedHashMap<>();
        try (SafeTensors st = SafeTensors.open(p.resolve("optimizer.safetensors"))) {
            for (String n : st.names()) opt.put(n, st.copy(n));
        }
        return new Snapshot(p, model, CheckpointNames.optimizerState(opt), state);
    }

    @SuppressWarnings("unchecked")
    static State readState(Path file) {
        JsonNode o;
        try {
            o = JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
        if (!STATE_FORMAT.equals(o.path("format").asText())) {
            throw new IllegalArgumentException(file + " is not a jlens training state (format '" + o.path("format").asText()
                    + "', expected " + STATE_FORMAT + ")");
        }
        Map<String, Object> hp = JSON.convertValue(o.get("hyperparameters"), LinkedHashMap.class);
        return new State(o.get("step").asInt(), o.get("adam_updates").asLong(), o.path("rng").get("seed").asLong(),
                o.get("chars").asText(), o.path("data").get("crc32").asLong(), o.path("data").get("characters").asLong(),
                o.path("data").get("source").asText(), hp, o.get("tokens_seen").asLong(), elapsedSeconds(file),
                number(o, "last_train_loss"), number(o, "last_val_loss"), number(o, "best_val_loss"));
    }

    /** The wall time saved beside a state file ({@code timing.json}); older snapshots kept it in state.json. */
    static double elapsedSeconds(Path stateFile) {
        try {
            Path timing = stateFile.resolveSibling(TIMING);
            if (Files.exists(timing)) return JSON.readTree(timing.toFile()).path("elapsed_s").asDouble(0);
            return JSON.readTree(stateFile.toFile()).path("elapsed_s").asDouble(0);
        } catch (IOException e) {
            return 0;                           // a wall-time figure is not worth failing a resume over
        }
    }

    private static double number(JsonNode o, String field) {
        JsonNode v = o.get(field);
        return v == null || v.isNull() ? Double.NaN : v.asDouble();
    }

    /** Puts a snapshot's loss curve back as the live one (rows after the snapshot's step are dropped). */
    void restoreLossCurve(Snapshot s) {
        try {
            Path saved = s.path().resolve("loss.csv");
            writeAtomically(lossCsv(), Files.exists(saved) ? Files.readAllBytes(saved) : new byte[0]);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot restore " + lossCsv() + ": " + e.getMessage(), e);
        }
    }

    /**
     * Deletes what writes cut short by a kill left behind: temporary files beside the top-level files
     * ({@code .config.json.*.tmp}, {@code .model.safetensors.tmp}) and unfinished snapshot folders.
     * Only while this process holds the folder's lock, so no other run is writing them.
     */
    void removeLeftovers() {
        if (!Files.isDirectory(dir)) return;
        try {
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
                for (Path p : ds) {
                    if (dev.jlens.load.AtomicFiles.isLeftoverTemporary(p.getFileName().toString()) && Files.isRegularFile(p)) {
                        Files.deleteIfExists(p);
                    }
                }
            }
            Path resume = dir.resolve("resume");
            if (Files.isDirectory(resume)) deleteStaleTemporaries(resume);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot clear the leftovers of an interrupted checkpoint in " + dir + ": " + e.getMessage(), e);
        }
    }

    // ---------------------------------------------------------------- files

    static void writeAtomically(Path file, byte[] bytes) throws IOException {
        dev.jlens.load.AtomicFiles.write(file, bytes);
    }

    private static void writeDurably(Path file, byte[] bytes) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.wrap(bytes);
            while (b.hasRemaining()) ch.write(b);
            ch.force(true);
        }
    }

    private static void forceFile(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.force(true);
        }
    }

    private static void syncDirectory(Path d) {
        try (FileChannel ch = FileChannel.open(d, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException | UnsupportedOperationException ignored) {
            // best effort: not every platform can open a folder
        }
    }

    private static void deleteStaleTemporaries(Path resume) throws IOException {
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(resume, ".tmp-*")) {
            for (Path p : ds) deleteTree(p);
        }
    }

    static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) return;
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }

    static String utf8(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }
}
