package dev.jlens.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jlens.model.HookedTransformer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Training end to end on a tiny corpus: learning, determinism, checkpoints, resuming, bad input. */
class TrainerTest {
    /** A small, very learnable text: a few sentences repeated with variations. */
    static final String TEXT;

    static {
        StringBuilder sb = new StringBuilder();
        String[] lines = {"the cat sat on the mat.\n", "a dog ran to the log.\n", "the sun is hot and bright.\n", "we go home at night.\n"};
        for (int i = 0; i < 120; i++) sb.append(lines[(i * 7 + i / 3) % lines.length]);
        TEXT = sb.toString();
    }

    static final TrainingBatches CORPUS = TrainingBatches.of(TEXT, "tiny.txt");

    static TrainConfig.Builder tiny() {
        return TrainConfig.builder().layers(2).dModel(16).heads(2).ctx(16).batch(4).steps(6).lr(1e-2).warmup(2)
                .dropout(0.1).evalEvery(3).evalBatches(2).seed(3);
    }

    static TrainResult train(TrainConfig c) {
        return new Trainer(c, new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8), false).run(CORPUS);
    }

    static void assertSameWeights(HookedTransformer a, HookedTransformer b) {
        List<LectureModel.Param> pa = LectureModel.params(a), pb = LectureModel.params(b);
        assertEquals(pa.size(), pb.size());
        for (int i = 0; i < pa.size(); i++) {
            assertArrayEquals(pa.get(i).value().data().asFloat(), pb.get(i).value().data().asFloat(), 0f, pa.get(i).name());
        }
    }

    @Test
    void lossGoesDownOnATinyCorpus() {
        TrainResult r = train(tiny().steps(80).evalEvery(80).dropout(0.0).build());
        double uniform = Math.log(CORPUS.vocabSize());
        assertTrue(r.completed());
        assertTrue(r.trainLoss() < 0.5 * uniform, "train loss " + r.trainLoss() + " vs uniform " + uniform);
        assertTrue(r.valLoss() < 0.6 * uniform, "val loss " + r.valLoss() + " vs uniform " + uniform);
    }

    @Test
    void attentionOnlyModelsLearnToo() {
        TrainResult r = train(tiny().kind(ModelKind.ATTN_ONLY).layerNorm(false).steps(100).evalEvery(100).dropout(0.0).build());
        assertTrue(r.trainLoss() < 0.75 * Math.log(CORPUS.vocabSize()), "train loss " + r.trainLoss());
    }

    @Test
    void theSameSeedGivesIdenticalWeights() {
        TrainResult a = train(tiny().build());
        TrainResult b = train(tiny().build());
        assertSameWeights(a.model(), b.model());
        TrainResult c = train(tiny().seed(4).build());
        assertFalse(java.util.Arrays.equals(LectureModel.params(a.model()).get(2).value().data().asFloat(),
                LectureModel.params(c.model()).get(2).value().data().asFloat()), "another seed, other weights");
    }

    @Test
    void resumingAfterAKillEqualsTrainingStraightThrough(@TempDir Path tmp) throws Exception {
        TrainConfig straight = tiny().out(tmp.resolve("straight")).checkpointEvery(2).steps(7).build();
        TrainResult whole = train(straight);

        Path dir = tmp.resolve("killed");
        TrainConfig cfg = tiny().out(dir).checkpointEvery(2).steps(7).build();
        Trainer first = new Trainer(cfg, new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8), false);
        first.stopAt(5, true);                                   // dies after step 5: the last checkpoint is step 4
        assertEquals(5, first.run(CORPUS).step());
        assertEquals(List.of("step-0000004"), snapshotNames(dir));
        TrainResult resumed = train(cfg.toBuilder().resume(true).build());
        assertTrue(resumed.completed());
        assertEquals(7, resumed.step());
        assertSameWeights(whole.model(), resumed.model());
        assertSameWeights(whole.model(), HookedTransformer.fromPretrained(dir.toString()));
        assertEquals(curve(tmp.resolve("straight")), curve(dir), "the loss curve is restored and continued, not duplicated");
    }

    @Test
    void aCrashWhileWritingACheckpointKeepsTheLastGoodOne(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("run");
        TrainConfig cfg = tiny().out(dir).checkpointEvery(2).steps(4).build();
        HookedTransformer atStep2;
        Checkpoints.afterSnapshotFile = name -> {
            if (name.equals("optimizer.safetensors") && Files.exists(dir.resolve("resume/step-0000002"))) {
                throw new IllegalStateException("simulated crash in the middle of writing the step-4 checkpoint");
            }
        };
        try {
            assertThrows(IllegalStateException.class, () -> train(cfg));
        } finally {
            Checkpoints.afterSnapshotFile = name -> {};
        }
        assertEquals(List.of("step-0000002"), snapshotNames(dir));
        atStep2 = HookedTransformer.fromPretrained(dir.toString());           // the top level still loads
        assertSameWeights(atStep2, HookedTransformer.fromPretrained(dir.resolve("resume/step-0000002").toString()));
        TrainResult resumed = train(cfg.toBuilder().resume(true).build());
        assertSameWeights(train(tiny().out(tmp.resolve("straight")).checkpointEvery(2).steps(4).build()).model(), resumed.model());
        try (Stream<Path> s = Files.list(dir.resolve("resume"))) {
            assertEquals(List.of("step-0000004"), s.map(p -> p.getFileName().toString()).collect(Collectors.toList()),
                    "the next checkpoint cleans up the crashed one's temporary folder");
        }
    }

    @Test
    void aCheckpointLoadsWithFromPretrainedAndGivesTheTrainingModelsLogits(@TempDir Path tmp) throws Exception {
        for (TrainConfig c : List.of(tiny().out(tmp.resolve("gpt")).steps(3).build(),
                tiny().out(tmp.resolve("attn-ln")).kind(ModelKind.ATTN_ONLY).steps(3).build(),
                tiny().out(tmp.resolve("attn")).kind(ModelKind.ATTN_ONLY).layers(1).layerNorm(false).steps(3).build())) {
            TrainResult r = train(c);
            HookedTransformer loaded = HookedTransformer.fromPretrained(c.out().toString());
            assertEquals(r.model().cfg().attnOnly(), loaded.cfg().attnOnly());
            assertEquals(r.model().cfg().hasLayerNorm(), loaded.cfg().hasLayerNorm());
            assertEquals(r.model().cfg().attnScale(), loaded.cfg().attnScale(), 1e-12);
            INDArray tokens = loaded.toTokens("the cat ran.");
            INDArray want = r.model().forward(tokens), got = loaded.forward(tokens);
            assertArrayEquals(want.data().asFloat(), got.data().asFloat(), 1e-6f, c.out().toString());
            assertEquals("the cat ran.", loaded.toText(tokens.toLongVector()));

            JsonNode config = new ObjectMapper().readTree(c.out().resolve("config.json").toFile());
            assertEquals(CORPUS.chars(), config.get("chars").asText());
            assertEquals(1 / Math.sqrt(8), config.get("attn_scale_value").asDouble(), 1e-12);
            for (String f : List.of("n_embd", "n_head", "n_layer", "block_size", "head_size")) assertTrue(config.has(f), f);
            assertEquals(3, config.path("training").path("step").asInt());
            assertTrue(Files.exists(c.out().resolve("loss.csv")) && Files.exists(c.out().resolve("train.log")));
        }
    }

    @Test
    void theStateDictHasTheLectureNamesAndLayouts(@TempDir Path tmp) {
        TrainResult r = train(tiny().out(tmp.resolve("m")).steps(1).build());
        try (var st = dev.jlens.load.SafeTensors.open(tmp.resolve("m/model.safetensors"))) {
            assertArrayEquals(new long[] {CORPUS.vocabSize(), 16}, st.info("token_embedding_table.weight").shape());
            assertArrayEquals(new long[] {16, 16}, st.info("position_embedding_table.weight").shape());
            assertArrayEquals(new long[] {8, 16}, st.info("blocks.1.sa.heads.1.value.weight").shape());
            assertArrayEquals(new long[] {16, 16}, st.info("blocks.0.sa.heads.0.tril").shape());
            assertArrayEquals(new long[] {16, 16}, st.info("blocks.0.sa.proj.weight").shape());
            assertArrayEquals(new long[] {64, 16}, st.info("blocks.0.ffwd.net.0.weight").shape());
            assertArrayEquals(new long[] {16, 64}, st.info("blocks.0.ffwd.net.2.weight").shape());
            assertArrayEquals(new long[] {CORPUS.vocabSize(), 16}, st.info("lm_head.weight").shape());
            assertArrayEquals(new long[] {CORPUS.vocabSize()}, st.info("lm_head.bias").shape());
            for (String n : List.of("blocks.1.ln1.weight", "blocks.1.ln2.bias", "ln_f.weight")) assertTrue(st.contains(n), n);
            // query of head 1 = columns [8, 16) of the fused W_QKV, transposed to nn.Linear's [out, in]
            INDArray q1 = st.copy("blocks.0.sa.heads.1.query.weight");
            INDArray fused = r.model().weights().layers().get(0).qkvW();
            assertEquals(fused.getFloat(3, 8 + 5), q1.getFloat(5, 3), 0f);
        }
    }

    @Test
    void anExistingRunIsNeverOverwrittenAndResumeChecksTheSettings(@TempDir Path tmp) {
        Path dir = tmp.resolve("run");
        train(tiny().out(dir).steps(2).build());
        IllegalArgumentException again = assertThrows(IllegalArgumentException.class, () -> train(tiny().out(dir).steps(2).build()));
        assertTrue(again.getMessage().contains("--resume"), again.getMessage());
        IllegalArgumentException other = assertThrows(IllegalArgumentException.class,
                () -> train(tiny().out(dir).steps(4).lr(3e-3).resume(true).build()));
        assertTrue(other.getMessage().contains("lr: saved 0.01, given 0.003"), other.getMessage());
        IllegalArgumentException data = assertThrows(IllegalArgumentException.class,
                () -> new Trainer(tiny().out(dir).steps(4).resume(true).build(), System.out, false)
                        .run(TrainingBatches.of(TEXT + "x", "other.txt")));
        assertTrue(data.getMessage().contains("same --data"), data.getMessage());
        assertEquals(4, train(tiny().out(dir).steps(4).resume(true).build()).step(), "more steps are allowed");
    }

    @Test
    void badConfigurationsAreRejectedWithReasons() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> tiny().dModel(30).heads(4).build());
        assertTrue(e.getMessage().contains("d_model 30 is not divisible by heads 4"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> tiny().kind(ModelKind.ATTN_ONLY).layers(3).build());
        assertTrue(e.getMessage().contains("1 or 2 layers"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> tiny().dropout(1.0).lr(-1).ctx(0).build());
        assertTrue(e.getMessage().contains("dropout") && e.getMessage().contains("lr") && e.getMessage().contains("ctx"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ModelKind.parse("rnn"));
    }

    @Test
    void parametersAndGradientsHaveTheModelsTransformerLensNames() {
        HookedTransformer model = LectureModel.create(tiny().build(), "abcdefgh", "names");
        java.util.Set<String> tl = model.params().keySet();
        for (LectureModel.Param p : LectureModel.params(model)) {
            // The fused query/key/value matrix is jlens's storage; TransformerLens splits it into W_Q, W_K, W_V.
            String name = p.name().replace("attn.W_QKV", "attn.W_Q");
            assertTrue(tl.contains(name), p.name() + " is not one of model.params()'s names " + tl);
            assertEquals(p.name(), CheckpointNames.parameterName(p.name()), "a TransformerLens name is read as itself");
        }
        // Optimizer states saved under the old names still resume: the file boundary reads them under today's.
        assertEquals("embed.W_E", CheckpointNames.parameterName("W_E"));
        assertEquals("blocks.1.attn.W_QKV", CheckpointNames.parameterName("blocks.1.W_QKV"));
        assertEquals("blocks.0.mlp.b_in", CheckpointNames.parameterName("blocks.0.b_in"));
        assertEquals("blocks.0.ln2.w", CheckpointNames.parameterName("blocks.0.ln2.w"));
        assertEquals("ln_final.b", CheckpointNames.parameterName("ln_f.b"));
        assertEquals("blocks.1.attn.W_QKV.exp_avg_sq", CheckpointNames.savedMomentName("blocks.1.W_QKV.exp_avg_sq"));
    }

    @Test
    void anOptimizerStateSavedUnderTheOldNamesStillResumes(@TempDir Path tmp) throws Exception {
        TrainResult whole = train(tiny().out(tmp.resolve("straight")).checkpointEvery(2).steps(7).build());
        Path dir = tmp.resolve("old");
        TrainConfig cfg = tiny().out(dir).checkpointEvery(2).steps(7).build();
        Trainer first = new Trainer(cfg, new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8), false);
        first.stopAt(5, true);                                   // the last checkpoint is step 4
        first.run(CORPUS);
        // The snapshot's optimizer state as jlens wrote it before the TransformerLens names.
        Path file = dir.resolve("resume/step-0000004/optimizer.safetensors");
        java.util.Map<String, INDArray> old = new java.util.LinkedHashMap<>();
        java.util.Map<String, String> metadata;
        try (dev.jlens.load.SafeTensors st = dev.jlens.load.SafeTensors.open(file)) {
            metadata = new java.util.LinkedHashMap<>(st.metadata());
            for (String n : st.names()) {
                String moment = n.endsWith(".exp_avg_sq") ? ".exp_avg_sq" : ".exp_avg";
                String name = n.substring(0, n.length() - moment.length());
                String before = switch (name) {
                    case "embed.W_E" -> "W_E";
                    case "pos_embed.W_pos" -> "W_pos";
                    case "ln_final.w" -> "ln_f.w";
                    case "ln_final.b" -> "ln_f.b";
                    case "unembed.W_U" -> "W_U";
                    case "unembed.b_U" -> "b_U";
                    default -> name.replace(".attn.W_", ".W_").replace(".attn.b_", ".b_").replace(".mlp.", ".");
                };
                old.put(before + moment, st.copy(n));
            }
        }
        assertTrue(old.containsKey("blocks.0.W_QKV.exp_avg") && old.containsKey("ln_f.w.exp_avg_sq"), old.keySet().toString());
        dev.jlens.load.SafeTensors.write(file, old, metadata);
        TrainResult resumed = train(cfg.toBuilder().resume(true).build());
        assertEquals(7, resumed.step());
        assertSameWeights(whole.model(), resumed.model());
    }

    @Test
    void emptyOrTooShortTextIsRejected() {
        IllegalArgumentException empty = assertThrows(IllegalArgumentException.class, () -> TrainingBatches.of("", "empty.txt"));
        assertTrue(empty.getMessage().contains("empty.txt is empty"), empty.getMessage());
        TrainingBatches shortText = TrainingBatches.of("abcdefghij".repeat(10), "short.txt");
        IllegalArgumentException tooShort = assertThrows(IllegalArgumentException.class,
                () -> new Trainer(tiny().ctx(32).build(), System.out, false).run(shortText));
        assertTrue(tooShort.getMessage().contains("at least ctx + 1 = 33") && tooShort.getMessage().contains("at least " + TrainingBatches.minimumLength(32) + " characters"),
                tooShort.getMessage());
        long n = TrainingBatches.minimumLength(32);
        TrainingBatches.of("a".repeat((int) n), "ok").requireContext(32);
        assertThrows(IllegalArgumentException.class, () -> TrainingBatches.of("a".repeat((int) n - 1), "no").requireContext(32));
    }

    @Test
    void aDivergingRunStopsWithAClearMessage(@TempDir Path tmp) {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> train(tiny().out(tmp.resolve("nan")).lr(1e30).warmup(0).gradClip(0).steps(20).dropout(0).build()));
        assertTrue(e.getMessage().contains("diverged") && e.getMessage().contains("--lr"), e.getMessage());
    }

    private static List<String> snapshotNames(Path dir) {
        return new Checkpoints(dir).snapshots().stream().map(p -> p.getFileName().toString()).collect(Collectors.toList());
    }

    /** The loss curve (its timing went to speed.csv, so the whole file must match between runs). */
    private static List<String> curve(Path dir) throws Exception {
        return Files.readAllLines(dir.resolve("loss.csv"));
    }

    static INDArray tokens(String s) {
        return Nd4j.createFromArray(new long[][] {java.util.Arrays.stream(CORPUS.tokenizer().encode(s)).asLongStream().toArray()});
    }
}
