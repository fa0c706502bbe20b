package dev.jlens.sae;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jlens.load.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** SAE.save writes SAELens's folder that SAE.load reads back; Reconstruction's figures at their two ends. */
class SaeSaveTest {
    static final String HOOK = "blocks.1.hook_resid_pre";

    static SAE topK(int dIn, int dSae, int k, long seed) {
        Nd4j.getRandom().setSeed(seed);
        return new SAE(SaeTest.cfg(SaeConfig.Activation.TOPK, k, dIn, dSae, HOOK, true), Nd4j.randn(DataType.FLOAT, dIn, dSae),
                Nd4j.randn(DataType.FLOAT, dSae), Nd4j.randn(DataType.FLOAT, dSae, dIn), Nd4j.randn(DataType.FLOAT, dIn), null, null);
    }

    static void assertSameSae(SAE a, SAE b) {
        assertEquals(a.cfg().activation(), b.cfg().activation());
        assertEquals(a.cfg().k(), b.cfg().k());
        assertEquals(a.cfg().hookName(), b.cfg().hookName());
        assertEquals(a.cfg().applyBDecToInput(), b.cfg().applyBDecToInput());
        assertEquals(a.cfg().inputNorm(), b.cfg().inputNorm());
        for (INDArray[] p : new INDArray[][] {{a.W_enc(), b.W_enc()}, {a.b_enc(), b.b_enc()}, {a.W_dec(), b.W_dec()}, {a.b_dec(), b.b_dec()}}) {
            assertArrayEquals(p[0].shape(), p[1].shape());
            assertArrayEquals(p[0].dup('c').data().asFloat(), p[1].dup('c').data().asFloat(), 0f);
        }
    }

    @Test
    void savedSaesLoadBackExactlyAndResavingGivesTheSameBytes(@TempDir Path dir) throws Exception {
        for (SAE sae : new SAE[] {SaeTest.random(6, 10, HOOK, 3), topK(6, 10, 3, 4)}) {
            Path a = dir.resolve(sae.cfg().architecture() + "-a"), b = dir.resolve(sae.cfg().architecture() + "-b");
            sae.save(a, "gpt2-tiny");
            SAE loaded = SAE.load(a);
            assertSameSae(sae, loaded);
            loaded.save(b, "gpt2-tiny");
            for (String f : new String[] {"cfg.json", "sae_weights.safetensors"}) {
                assertArrayEquals(Files.readAllBytes(a.resolve(f)), Files.readAllBytes(b.resolve(f)), f);
            }
            JsonNode cfg = Json.read(a.resolve("cfg.json"));
            assertEquals(sae.cfg().architecture(), cfg.get("architecture").asText());
            assertEquals(6, cfg.get("d_in").asInt());
            assertEquals(10, cfg.get("d_sae").asInt());
            assertEquals(HOOK, cfg.get("hook_name").asText());
            assertEquals(1, cfg.get("hook_layer").asInt());
            assertEquals("gpt2-tiny", cfg.path("metadata").get("model_name").asText());
            assertEquals("none", cfg.get("normalize_activations").asText());
            assertTrue(cfg.get("apply_b_dec_to_input").asBoolean());
        }
        assertEquals(3, Json.read(dir.resolve("topk-a/cfg.json")).get("k").asInt());
        try (var files = Files.list(dir.resolve("topk-a"))) {
            assertEquals(2, files.count(), "cfg.json and sae_weights.safetensors, no temporary files");
        }
    }

    @Test
    void jumpReluAndTranscodersAreNotWritten(@TempDir Path dir) {
        INDArray eye = Nd4j.eye(3).castTo(DataType.FLOAT);
        SAE jump = new SAE(SaeTest.cfg(SaeConfig.Activation.JUMPRELU, 0, 3, 3, HOOK, false), eye, Nd4j.zeros(DataType.FLOAT, 3), eye,
                Nd4j.zeros(DataType.FLOAT, 3), Nd4j.ones(DataType.FLOAT, 3), null);
        assertThrows(UnsupportedOperationException.class, () -> jump.save(dir));
    }

    @Test
    void aPerfectSaeRecoversAllTheLossAndAZeroOneNone() {
        int d = (int) SaeTest.GPT2.cfg().dModel();
        INDArray tokens = Nd4j.createFromArray(new long[][] {{1, 5, 9, 2, 7, 3}, {4, 4, 8, 1, 0, 6}});
        Reconstruction perfect = Reconstruction.of(SaeTest.GPT2, SaeTest.identity(d, HOOK), tokens);
        assertEquals(12, perfect.tokens());
        assertEquals(1, perfect.explainedVariance(), 1e-5);
        assertEquals(1, perfect.ceLossRecovered(), 1e-4);
        assertEquals(perfect.ceClean(), perfect.ceSpliced(), 1e-4);
        SAE zero = new SAE(SaeTest.cfg(SaeConfig.Activation.RELU, 0, d, 4, HOOK, false), Nd4j.zeros(DataType.FLOAT, d, 4),
                Nd4j.zeros(DataType.FLOAT, 4), Nd4j.zeros(DataType.FLOAT, 4, d), Nd4j.zeros(DataType.FLOAT, d), null, null);
        Reconstruction none = Reconstruction.of(SaeTest.GPT2, zero, tokens);
        assertEquals(0, none.ceLossRecovered(), 1e-6);
        assertEquals(0, none.l0(), 0);
        assertEquals(4, none.deadFeatures());
        assertTrue(none.explainedVariance() <= 0, "a zero reconstruction explains nothing: " + none.explainedVariance());
        Reconstruction rows = Reconstruction.ofRows(SaeTest.identity(d, HOOK), Nd4j.randn(DataType.FLOAT, 50, d));
        assertEquals(1, rows.explainedVariance(), 1e-5);
        assertTrue(Double.isNaN(rows.ceLossRecovered()));
    }
}
