package dev.jlens.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.jlens.testing.TestData;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Sampling options and streaming, against their definitions. */
class GenerationTest {
    private static final HookedTransformer MODEL = HookedTransformer.fromPretrained(TestData.file("fixtures/charlm-tiny").toString());
    private static final long[] PROMPT = MODEL.toTokens("ROMEO:", false).toLongVector();

    @Test
    void aTinyNucleusIsTheMostLikelyTokenAndTheFullOneChangesNothing() {
        long[] greedy = MODEL.generate(PROMPT, 30, Sampling.greedy());
        assertArrayEquals(greedy, MODEL.generate(PROMPT, 30, Sampling.seeded(5).withTopP(1e-9)), "top-p → 0 keeps only the top token");
        assertArrayEquals(MODEL.generate(PROMPT, 30, Sampling.seeded(5)), MODEL.generate(PROMPT, 30, Sampling.seeded(5).withTopP(1.0)));
        assertThrows(IllegalArgumentException.class, () -> Sampling.seeded(1).withTopP(0));
        // The nucleus itself: weights 0.5, 0.3, 0.2 with p = 0.7 keep the first two.
        double[] w = {0.2, 0.5, 0.3};
        assertEquals(0.8, Sampler.nucleus(w, 1.0, 0.7), 1e-12);
        assertArrayEquals(new double[] {0, 0.5, 0.3}, w, 1e-12);
    }

    @Test
    void tokensStreamAsTheyComeAndAStopKeepsWhatWasMade() {
        List<Long> streamed = new ArrayList<>();
        long[] all = MODEL.generate(PROMPT, 20, Sampling.seeded(3), id -> streamed.add(id));
        assertEquals(PROMPT.length + 20, all.length);
        assertArrayEquals(Arrays.copyOfRange(all, PROMPT.length, all.length), streamed.stream().mapToLong(Long::longValue).toArray());
        long[] stopped = MODEL.generate(PROMPT, 20, Sampling.seeded(3), id -> streamed.size() < 23 && streamed.add(id) && streamed.size() < 23);
        assertArrayEquals(Arrays.copyOf(all, PROMPT.length + 3), stopped, "stopped after three tokens, the three kept");
    }

    /** The key/value cache changes the work, never the tokens: greedy and seeded sampling, every family, past n_ctx. */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"charlm-tiny", "gpt2-tiny", "llama-tiny", "gemma2-tiny", "gptneox-tiny", "qwen3-tiny"})
    void theKeyValueCacheGivesTheSameTokensAsRunningTheWholeContext(String fixture) {
        HookedTransformer m = HookedTransformer.fromPretrained(TestData.file("fixtures/" + fixture).toString());
        long[] prompt = {1, 5, 9, 2, 7, 3};
        int n = Math.min(m.cfg().nCtx() + 8, 80);   // across n_ctx where the fixture's context is short
        Generation g = new Generation(m);
        for (Sampling s : new Sampling[] {Sampling.greedy(), Sampling.seeded(11).withTemperature(0.8).withTopK(20)}) {
            long[] whole = g.generate(prompt, n, s, id -> true, false);
            long[] cached = g.generate(prompt, n, s, id -> true, true);
            assertArrayEquals(whole, cached, fixture + " " + s);
        }
    }
}
