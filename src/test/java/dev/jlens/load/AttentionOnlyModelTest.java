package dev.jlens.load;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.nd4j.linalg.indexing.NDArrayIndex.all;
import static org.nd4j.linalg.indexing.NDArrayIndex.point;

import dev.jlens.cache.ActivationCache;
import dev.jlens.model.HookedTransformer;
import dev.jlens.model.Normalization;
import dev.jlens.model.Run;
import dev.jlens.testing.TestData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Attention-only models (no MLP), with and without LayerNorm, built from the lecture fixture by
 * dropping its MLP (and LayerNorm) tensors, checked by recomputing the whole model by hand from
 * its weights and cached attention outputs.
 */
class AttentionOnlyModelTest {
    @TempDir Path tmp;

    private HookedTransformer variant(boolean keepLayerNorm) throws IOException {
        Path src = TestData.file("fixtures/charlm-tiny");
        Map<String, INDArray> tensors = new LinkedHashMap<>();
        try (SafeTensors st = SafeTensors.open(src.resolve("model.safetensors"))) {
            for (String n : st.names()) {
                boolean mlp = n.contains(".ffwd.") || n.contains(".ln2.");
                boolean norm = n.contains(".ln1.") || n.startsWith("ln_f.");
                if (!mlp && (keepLayerNorm || !norm)) tensors.put(n, st.copy(n));
            }
        }
        Path dir = Files.createDirectories(tmp.resolve(keepLayerNorm ? "with-ln" : "no-ln"));
        SafeTensors.write(dir.resolve("model.safetensors"), tensors, Map.of());
        // The fixture's config without its MLP width, which these weights no longer have.
        var config = (com.fasterxml.jackson.databind.node.ObjectNode) new com.fasterxml.jackson.databind.ObjectMapper().readTree(src.resolve("config.json").toFile());
        config.remove("ffwd_hidden");
        new com.fasterxml.jackson.databind.ObjectMapper().writeValue(dir.resolve("config.json").toFile(), config);
        return HookedTransformer.fromPretrained(dir.toString());
    }

    static void assertClose(INDArray expected, INDArray actual, String what) {
        assertArrayEquals(expected.shape(), actual.shape(), what);
        double diff = Transforms.abs(expected.sub(actual)).maxNumber().doubleValue();
        assertTrue(diff < 1e-4, what + ": max |Δ| " + diff);
    }

    @Test
    void withoutLayerNormTheLogitsAreEmbeddingsPlusHeadsUnembedded() throws IOException {
        HookedTransformer model = variant(false);
        assertTrue(model.cfg().attnOnly());
        assertEquals(Normalization.NONE, model.cfg().normalization());
        assertFalse(model.hookNames().stream().anyMatch(n -> n.contains("mlp") || n.contains("ln") || n.contains("resid_mid")),
                model.hookNames().toString());
        Run run = model.runWithCache(model.toTokens("ROMEO: O"));
        ActivationCache cache = run.cache();
        INDArray resid = cache.get("embed").add(cache.get("pos_embed")).get(point(0), all(), all());   // [pos, d_model]
        for (int l = 0; l < model.cfg().nLayers(); l++) {
            // The attention output, recomputed from the cached z and the TransformerLens-layout W_O.
            INDArray z = cache.get("z", l).get(point(0), all(), all(), all());                          // [pos, head, d_head]
            INDArray out = model.b_O(l).reshape(1, 64).repeat(0, z.size(0));
            for (int h = 0; h < model.cfg().nHeads(); h++) {
                out.addi(z.get(all(), point(h), all()).mmul(model.W_O(l).get(point(h), all(), all())));
            }
            assertClose(cache.get("attn_out", l).get(point(0), all(), all()), out, "attn_out " + l);
            resid = resid.add(out);
            assertClose(cache.get("resid_post", l).get(point(0), all(), all()), resid, "resid_post " + l);
        }
        INDArray logits = resid.mmul(model.W_U()).addRowVector(model.b_U());
        assertClose(run.logits().get(point(0), all(), all()), logits, "logits");
    }

    @Test
    void withLayerNormTheFinalNormalisationFeedsTheUnembedding() throws IOException {
        HookedTransformer model = variant(true);
        assertTrue(model.cfg().attnOnly());
        assertEquals(Normalization.LN, model.cfg().normalization());
        Run run = model.runWithCache(model.toTokens("ROMEO: O"));
        INDArray x = run.cache().get("normalized").get(point(0), all(), all());                        // ln_final output
        assertClose(run.logits().get(point(0), all(), all()), x.mmul(model.W_U()).addRowVector(model.b_U()), "logits");
        assertEquals(2 + 3 * 11 + 2, run.cache().size(), "no resid_mid, ln2 or mlp hooks in attention-only blocks");
    }
}
