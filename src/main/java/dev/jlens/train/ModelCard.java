package dev.jlens.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jlens.analysis.HeadDetector;
import dev.jlens.analysis.HeadScores;
import dev.jlens.load.SafeTensors;
import dev.jlens.model.HookedTransformer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The {@code README.md} of a trained model's folder: what it is, what it was trained on, how well it
 * did, and the one command that trains it again. Everything comes from the folder itself
 * ({@code config.json}'s training block, {@code loss.csv}, the weights), so a card can be written for
 * any finished run, also one trained before cards existed.
 */
public final class ModelCard {
    private ModelCard() {}

    /** Characters of generated text shown in the card. */
    static final int SAMPLE_CHARS = 500;
    static final long SAMPLE_SEED = 1337;

    /**
     * Writes {@code dir/README.md}, with a sample generated from {@code samplePrompt}.
     *
     * @param dir the run's folder as it should appear in the reproduce command (e.g. {@code artifacts/shakespeare-char})
     */
    public static Path write(Path dir, String samplePrompt) {
        Path card = dir.resolve("README.md");
        try {
            Files.writeString(card, render(dir, samplePrompt), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the model card " + card + ": " + e.getMessage(), e);
        }
        return card;
    }

    /** The card's text. */
    public static String render(Path dir, String samplePrompt) {
        JsonNode cfg = readConfig(dir);
        JsonNode t = cfg.path("training");
        JsonNode hp = t.path("hyperparameters");
        if (hp.isMissingNode()) {
            throw new IllegalArgumentException(dir.resolve("config.json") + " has no training.hyperparameters block: "
                    + "cards are written for folders that jlens train wrote");
        }
        HookedTransformer model = HookedTransformer.fromPretrained(dir.toString());
        boolean attnOnly = cfg.path("attn_only").asBoolean(false);
        int layers = hp.path("layers").asInt(), heads = hp.path("heads").asInt(), dModel = hp.path("d_model").asInt();
        int ctx = hp.path("ctx").asInt(), batch = hp.path("batch").asInt(), steps = t.path("step").asInt();
        BestEval best = bestEval(dir.resolve("loss.csv"));
        HeadScores induction = HeadDetector.induction(model, Math.min(50, ctx / 2), 8, 0);
        String bestHead = induction.top(1).get(0);

        StringBuilder s = new StringBuilder();
        s.append("# ").append(dir.getFileName()).append("\n\n");
        s.append(attnOnly
                ? "A " + layers + "-layer attention-only character-level model"
                : "A character-level GPT in Karpathy's lecture architecture (`gpt.py`: pre-LayerNorm, ReLU MLP, untied head with bias)");
        s.append(", trained by `jlens train`. Load it with `./jlens --model ").append(dir)
                .append("` or `HookedTransformer.fromPretrained(\"").append(dir).append("\")`; the lecture's PyTorch code loads ")
                .append("`model.safetensors` as its `state_dict` too (same names and layouts).\n\n");
        s.append("| | |\n|---|---|\n");
        row(s, "architecture", layers + " layers" + (attnOnly ? " of attention only" + (hp.path("layer_norm").asBoolean(true) ? " (with LayerNorm)" : " (no LayerNorm)") : "")
                + ", d_model " + dModel + ", " + heads + " heads of " + dModel / heads
                + (attnOnly ? "" : ", MLP " + cfg.path("ffwd_hidden").asInt()) + ", context " + ctx
                + ", vocabulary " + cfg.path("vocab_size").asInt() + " characters, attention scale head_size^-0.5");
        row(s, "parameters", String.format(Locale.ROOT, "%,d (file %s, float32)", parameterCount(dir), megabytes(dir.resolve("model.safetensors"))));
        row(s, "data", "`" + t.path("data").asText() + "`: " + String.format(Locale.ROOT, "%,d", t.path("data_characters").asLong())
                + " characters, " + t.path("split").asText());
        row(s, "training", String.format(Locale.ROOT, "%,d steps × batch %d × %d tokens = %.1fM tokens; AdamW (β %s/%s, weight decay %s), "
                        + "lr %s → %s (warmup %d, cosine), dropout %s, gradient clip %s, seed %d",
                steps, batch, ctx, t.path("tokens_seen").asLong() / 1e6, shown(hp, "beta1"), shown(hp, "beta2"), shown(hp, "weight_decay"),
                shown(hp, "lr"), shown(hp, "min_lr"), hp.path("warmup").asInt(), shown(hp, "dropout"), shown(hp, "grad_clip"), hp.path("seed").asLong()));
        if (hp.path("repeats").asDouble(0) > 0) {
            row(s, "repeated passages", String.format(Locale.ROOT, "%.0f%% of training windows were a passage of the text followed by itself "
                    + "(`--repeats`), so that copying from context pays; validation windows are plain text", 100 * hp.path("repeats").asDouble()));
        }
        double wall = Files.exists(dir.resolve(Checkpoints.TIMING)) ? Checkpoints.elapsedSeconds(dir.resolve("state.json")) : t.path("elapsed_s").asDouble();
        row(s, "wall time", duration(wall) + " (training and evals, summed over resumed sessions)");
        row(s, "final loss", String.format(Locale.ROOT, "train %.4f, val %.4f (%d batches each, no dropout)",
                t.path("train_loss").asDouble(), t.path("val_loss").asDouble(), hp.path("eval_batches").asInt()));
        if (best != null) row(s, "best val loss", String.format(Locale.ROOT, "%.4f at step %,d", best.valLoss(), best.step()));
        row(s, "best induction head", String.format(Locale.ROOT, "%s, score %.3f (HeadDetector: repeated random characters, copy length %d)",
                bestHead, score(induction, bestHead), Math.min(50, ctx / 2)));
        s.append("\nFiles: `model.safetensors` (weights, lecture `state_dict` names), `config.json` (vocabulary as `chars`, ")
                .append("dimensions, the training block), `loss.csv` (the loss curve: train loss per step, train/val estimates every ")
                .append(hp.path("eval_every").asInt()).append(" steps), `train.log` (the run's output).\n\n");
        s.append("## Train it again\n\n```bash\n").append(command(dir, t, hp)).append("\n```\n\n");
        s.append("Deterministic from the seed on one thread count; the loss curve can differ in the last digits with another.\n\n");
        s.append("## Sample\n\n`generate(").append(javaString(samplePrompt)).append(", ").append(SAMPLE_CHARS).append(", ")
                .append(SAMPLE_SEED).append(")`:\n\n```\n")
                .append(model.generate(samplePrompt, SAMPLE_CHARS, SAMPLE_SEED)).append("\n```\n");
        return s.toString();
    }

    /** The {@code ./jlens train} command line that reproduces the run in {@code dir}. */
    static String command(Path dir, JsonNode training, JsonNode hp) {
        List<String> a = new ArrayList<>(List.of("./jlens train", "--data " + training.path("data").asText(), "--out " + dir,
                "--kind " + hp.path("kind").asText(), "--layers " + hp.path("layers").asInt(), "--d-model " + hp.path("d_model").asInt(),
                "--heads " + hp.path("heads").asInt(), "--ctx " + hp.path("ctx").asInt(), "--batch " + hp.path("batch").asInt(),
                "--steps " + hp.path("steps").asInt(), "--lr " + num(hp, "lr"),
                "--warmup " + hp.path("warmup").asInt(), "--dropout " + num(hp, "dropout"), "--weight-decay " + num(hp, "weight_decay"),
                "--grad-clip " + num(hp, "grad_clip"), "--eval-every " + hp.path("eval_every").asInt(),
                "--eval-batches " + hp.path("eval_batches").asInt(), "--checkpoint-every " + hp.path("checkpoint_every").asInt(),
                "--seed " + hp.path("seed").asLong()));
        // --min-lr only when it is not the default lr / 10: printing that quotient would round it.
        if (hp.path("min_lr").asDouble() != hp.path("lr").asDouble() / 10) a.add(a.indexOf("--warmup " + hp.path("warmup").asInt()), "--min-lr " + num(hp, "min_lr"));
        if (hp.path("repeats").asDouble(0) > 0) a.add("--repeats " + num(hp, "repeats"));
        if (!hp.path("layer_norm").asBoolean(true)) a.add("--no-layer-norm");
        return String.join(" \\\n    ", a);
    }

    record BestEval(int step, double valLoss) {}

    /** The step with the lowest validation estimate in {@code loss.csv}, or null when it has none. */
    static BestEval bestEval(Path lossCsv) {
        if (!Files.isRegularFile(lossCsv)) return null;
        try {
            List<String> lines = Files.readAllLines(lossCsv, StandardCharsets.UTF_8);
            if (lines.isEmpty()) return null;
            List<String> header = List.of(lines.get(0).split(","));
            int stepCol = header.indexOf("step"), valCol = header.indexOf("eval_val_loss");
            if (stepCol < 0 || valCol < 0) return null;
            BestEval best = null;
            for (String line : lines.subList(1, lines.size())) {
                String[] f = line.split(",", -1);
                if (f.length <= valCol || f[valCol].isBlank()) continue;
                double v = Double.parseDouble(f[valCol]);
                if (best == null || v < best.valLoss()) best = new BestEval(Integer.parseInt(f[stepCol]), v);
            }
            return best;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + lossCsv + ": " + e.getMessage(), e);
        }
    }

    private static JsonNode readConfig(Path dir) {
        Path file = dir.resolve("config.json");
        try {
            return new ObjectMapper().readTree(file.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + " (a folder written by jlens train has one): " + e.getMessage(), e);
        }
    }

    /**
     * Trained parameters as the file stores them, without the lecture's {@code tril} mask buffers
     * (TransformerLens's layout would add zero Q/K/V biases the lecture's model does not have).
     */
    private static long parameterCount(Path dir) {
        try (SafeTensors st = SafeTensors.open(dir.resolve("model.safetensors"))) {
            long n = 0;
            for (String name : st.names()) if (!CheckpointNames.isBuffer(name)) n += st.info(name).numel();
            return n;
        }
    }

    private static double score(HeadScores scores, String head) {
        int l = Integer.parseInt(head.substring(1, head.indexOf('H'))), h = Integer.parseInt(head.substring(head.indexOf('H') + 1));
        return scores.scores()[l][h];
    }

    private static void row(StringBuilder s, String what, String value) {
        s.append("| ").append(what).append(" | ").append(value).append(" |\n");
    }

    /** A hyperparameter for reading: six significant digits. */
    private static String shown(JsonNode hp, String field) {
        return new java.math.BigDecimal(hp.path(field).asDouble()).round(new java.math.MathContext(6)).stripTrailingZeros().toPlainString();
    }

    /** A hyperparameter for the command line: the exact double. */
    private static String num(JsonNode hp, String field) {
        double v = hp.path(field).asDouble();
        return v == Math.rint(v) && Math.abs(v) < 1e6 ? Long.toString((long) v) : Double.toString(v).replace("E", "e");
    }

    private static String megabytes(Path file) {
        try {
            return String.format(Locale.ROOT, "%.1f MB", Files.size(file) / 1e6);
        } catch (IOException e) {
            return "? MB";
        }
    }

    static String duration(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600 ? String.format(Locale.ROOT, "%dh%02dm%02ds", s / 3600, s / 60 % 60, s % 60)
                : String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
    }

    private static String javaString(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n") + "\"";
    }
}
