package dev.jlens.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jlens.testing.Golden;
import dev.jlens.testing.TestData;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Text in, tokens out, BOS handling, generation settings, and clear errors for input that cannot run. */
class TokensAndBadInputTest {
    static HookedTransformer gpt2;
    static HookedTransformer chars;
    static JsonNode golden;

    @BeforeAll
    static void load() {
        gpt2 = HookedTransformer.fromPretrained(TestData.file("fixtures/gpt2-tiny").toString());
        chars = HookedTransformer.fromPretrained(TestData.file("fixtures/charlm-tiny").toString());
        golden = Golden.read(TestData.file("fixtures/gpt2-tiny/golden.json"));
    }

    @Test
    void gpt2PrependsBosLikeTransformerLens() {
        assertArrayEquals(new long[] {50256, 15496, 995}, gpt2.toTokens("Hello world").toLongVector());
        assertArrayEquals(new long[] {15496, 995}, gpt2.toTokens("Hello world", false).toLongVector());
        assertEquals(List.of("<|endoftext|>", "Hello", " world"), gpt2.toStrTokens("Hello world"));
        for (JsonNode p : golden.get("prompts")) {
            assertEquals(p.get("loss").asDouble(), gpt2.loss(p.get("text").asText()), 1e-4 + 1e-5 * p.get("loss").asDouble());
        }
        assertEquals(995, gpt2.toSingleToken(" world"));
        assertThrows(IllegalArgumentException.class, () -> gpt2.toSingleToken("Hello world"));
    }

    @Test
    void charModelsHaveNoBos() {
        assertArrayEquals(new long[] {30, 27, 25, 17, 27, 10}, chars.toTokens("ROMEO:").toLongVector());
        var e = assertThrows(IllegalArgumentException.class, () -> chars.toTokens("ROMEO:", true));
        assertTrue(e.getMessage().contains("no BOS"), e.getMessage());
    }

    @Test
    void greedyTextMatchesTheReferenceDecoding() {
        JsonNode p = golden.get("prompts").get(0);
        String text = gpt2.generate(p.get("text").asText(), p.get("greedy").get("n_new").asInt(), Sampling.greedy());
        assertEquals(p.get("text").asText() + p.get("greedy").get("new_text").asText(), text);
    }

    @Test
    void samplingIsReproducibleFromItsSeedAndCropsTheContext() {
        String a = chars.generate("ROMEO:", 60, 1337), b = chars.generate("ROMEO:", 60, 1337);
        assertEquals(a, b);
        assertEquals(66, a.length(), "the prompt and 60 characters, past n_ctx = 32");
        assertNotEquals(a, chars.generate("ROMEO:", 60, 1338));
        String topOne = chars.generate("ROMEO:", 20, Sampling.seeded(7).withTopK(1));
        assertEquals(chars.generate("ROMEO:", 20, Sampling.greedy()), topOne, "top-1 sampling is greedy");
    }

    @Test
    void promptsLongerThanTheContextSayTheLimits() {
        String tooLong = "a".repeat(33);
        var e = assertThrows(IllegalArgumentException.class, () -> chars.forward(tooLong));
        assertTrue(e.getMessage().contains("33 tokens") && e.getMessage().contains("n_ctx = 32"), e.getMessage());
    }

    @Test
    void emptyPromptsAndBadIdsAreRefused() {
        var e = assertThrows(IllegalArgumentException.class, () -> chars.forward(""));
        assertTrue(e.getMessage().contains("empty prompt"), e.getMessage());
        assertEquals(1, gpt2.forward("").size(1), "GPT-2 runs BOS alone, as TransformerLens does");
        var id = assertThrows(IllegalArgumentException.class,
                () -> chars.forward(Nd4j.createFromArray(new long[][] {{1, 65}})));
        assertTrue(id.getMessage().contains("outside the vocabulary 0..64"), id.getMessage());
        var unknown = assertThrows(IllegalArgumentException.class, () -> chars.forward("ROMEO é"));
        assertTrue(unknown.getMessage().contains("é"), unknown.getMessage());
    }

    @Test
    void layersOutOfRangeSayTheRange() {
        var e = assertThrows(IndexOutOfBoundsException.class, () -> chars.W_Q(3));
        assertTrue(e.getMessage().contains("0..2"), e.getMessage());
        assertArrayEquals(new long[] {4, 64, 16}, chars.W_Q(-1).shape());
    }

    @Test
    void parametersHaveTransformerLensNamesAndShapes() {
        var params = gpt2.params();
        assertArrayEquals(new long[] {50257, 64}, params.get("embed.W_E").shape());
        assertArrayEquals(new long[] {128, 64}, params.get("pos_embed.W_pos").shape());
        assertArrayEquals(new long[] {4, 64, 16}, params.get("blocks.0.attn.W_Q").shape());
        assertArrayEquals(new long[] {4, 16, 64}, params.get("blocks.0.attn.W_O").shape());
        assertArrayEquals(new long[] {4, 16}, params.get("blocks.0.attn.b_K").shape());
        assertArrayEquals(new long[] {64, 256}, params.get("blocks.1.mlp.W_in").shape());
        assertArrayEquals(new long[] {64, 50257}, params.get("unembed.W_U").shape());
        // W_K of head 1 is columns 64+16..64+32 of HF's fused c_attn weight.
        assertEquals(gpt2.weights().layers().get(0).qkvW().getFloat(3, 64 + 16 + 5), gpt2.W_K(0).getFloat(1, 3, 5), 0);
        assertEquals(gpt2.W_E().getFloat(7, 9), gpt2.W_U().getFloat(9, 7), 0, "tied unembedding");
        var e = assertThrows(IllegalArgumentException.class, () -> gpt2.param("blocks.0.attn.W_q"));
        assertTrue(e.getMessage().contains("blocks.0.attn.W_Q"), e.getMessage());
        assertTrue(gpt2.cfg().toString().contains("n_layers"));
    }

    @Test
    void zeroTokensAreRefusedSayingWhatToRun() {
        assertArrayEquals(new long[] {1, 0}, gpt2.toTokens("", false).shape(), "[1, pos] with pos 0");
        assertEquals(List.of(), gpt2.toStrTokens(gpt2.toTokens("", false)));
        var e = assertThrows(IllegalArgumentException.class, () -> gpt2.runWithCache(gpt2.toTokens("", false)));
        assertEquals("empty prompt: there are no tokens to run; give at least one token, e.g. toTokens(text) with its BOS"
                + " (toTokens(\"\") is [BOS] alone)", e.getMessage());
        var c = assertThrows(IllegalArgumentException.class, () -> chars.runWithCache(chars.toTokens("", false)));
        assertEquals("empty prompt: there are no tokens to run; this model has no BOS token, so give text of at least"
                + " one character", c.getMessage());
        assertEquals(c.getMessage(), assertThrows(IllegalArgumentException.class, () -> chars.generate("", 5, 1L)).getMessage());
        assertEquals(c.getMessage(), assertThrows(IllegalArgumentException.class,
                () -> chars.forward(Nd4j.create(org.nd4j.linalg.api.buffer.DataType.LONG, 0, 4))).getMessage());
    }

    /** A padded batch counts each prompt's own predictions only: its loss is the token-weighted mean of the prompts' losses. */
    @Test
    void aPaddedBatchNeverCountsItsPadding() {
        for (HookedTransformer m : new HookedTransformer[] {gpt2, chars}) {
            List<String> prompts = List.of("the cat sat on the mat", "a dog", "to be or not to be, that is");
            double weighted = 0;
            long n = 0;
            for (String p : prompts) {
                long predictions = m.toTokens(p).length() - 1;
                weighted += m.loss(p) * predictions;
                n += predictions;
            }
            INDArray batch = m.toTokens(prompts);
            assertEquals(weighted / n, m.loss(batch), 1e-5, m.cfg().modelName() + ": padded-batch loss");
            assertEquals(weighted / n, m.loss(prompts), 1e-5);
            INDArray lp = m.tokenLogProbs(batch);
            long real = m.toTokens("a dog").length() - 1;
            assertTrue(Float.isNaN(lp.getFloat(1, real)), "padding's log-prob is NaN, not a number that looks real");
            assertEquals(m.toStrTokens("a dog"), m.toStrTokens(batch, 1), "row 1 without its padding");
            assertEquals(3, m.toStrTokensAll(batch).size());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> m.toStrTokens(batch));
            assertTrue(e.getMessage().contains("batch of 3"), e.getMessage());
        }
    }
}
