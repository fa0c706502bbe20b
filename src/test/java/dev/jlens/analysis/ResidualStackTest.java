package dev.jlens.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.nd4j.linalg.indexing.NDArrayIndex.all;
import static org.nd4j.linalg.indexing.NDArrayIndex.point;

import dev.jlens.cache.ActivationCache;
import dev.jlens.cache.HookNames;
import dev.jlens.model.HookedTransformer;
import dev.jlens.model.Run;
import dev.jlens.testing.TestData;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** TransformerLens's cache vocabulary held to its definitions on a LayerNorm model and an RMSNorm one. */
class ResidualStackTest {
    private static void assertClose(INDArray want, INDArray got, double tol, String what) {
        float[] a = want.castTo(DataType.FLOAT).dup('c').data().asFloat(), b = got.castTo(DataType.FLOAT).dup('c').data().asFloat();
        assertEquals(a.length, b.length, what + ": sizes");
        for (int i = 0; i < a.length; i++) assertEquals(a[i], b[i], tol * (1 + Math.abs(a[i])), what + " entry " + i);
    }

    /** {@code [batch, pos, d] + bias[d]}. */
    private static INDArray plus(INDArray x, INDArray bias) {
        INDArray c = x.dup('c');
        c.reshape(c.length() / bias.length(), bias.length()).addiRowVector(bias);
        return c;
    }

    @ParameterizedTest
    @ValueSource(strings = {"gpt2-tiny", "llama-tiny"})
    void eachStackAddsUpToWhatTheRunCached(String fixture) {
        HookedTransformer model = HookedTransformer.fromPretrained(TestData.file("fixtures/" + fixture).toString());
        Run run = model.runWithCache(Nd4j.createFromArray(new long[][] {{1, 5, 9, 2, 7, 3, 8, 4, 6, 11}}));
        ActivationCache cache = run.cache();
        int n = model.cfg().nLayers();

        ResidualStack acc = ResidualStack.accumulated(model, cache, n, true);
        assertEquals("final_post", acc.labels().get(acc.labels().size() - 1));
        assertClose(cache.get(HookNames.block(1, "hook_resid_pre")), acc.stack().get(point(acc.labels().indexOf("1_pre"))), 0, "1_pre");
        assertClose(cache.get(HookNames.block(n - 1, "hook_resid_post")), acc.stack().get(point(acc.labels().size() - 1)), 0, "final_post");

        for (int l = 0; l <= n; l++) {
            INDArray want = l < n ? cache.get(HookNames.block(l, "hook_resid_pre")) : cache.get(HookNames.block(n - 1, "hook_resid_post"));
            assertClose(want, ResidualStack.decomposed(model, cache, l).sum(), 1e-5, fixture + " decomposed up to " + l);
        }

        ResidualStack heads = ResidualStack.heads(model, cache, n);
        int h = model.cfg().nHeads();
        for (int l = 0; l < n; l++) {
            INDArray sum = heads.stack().get(org.nd4j.linalg.indexing.NDArrayIndex.interval(l * h, (l + 1) * h)).sum(0);
            assertClose(cache.get(HookNames.block(l, "hook_attn_out")), plus(sum, model.b_O(l)), 1e-5, fixture + " heads of block " + l);
        }

        INDArray neurons = ResidualStack.neurons(model, cache, 1).sum();
        assertClose(cache.get(HookNames.block(1, "hook_mlp_out")), plus(neurons, model.b_out(1)), 1e-5, fixture + " neurons of block 1");

        // Logit attributions of the final decomposition add up to the logit, with the shared terms: the final norm's
        // bias through W_U and b_U.
        int token = 42;
        INDArray attrs = ResidualStack.decomposed(model, cache, n).logitAttrs(model, cache, token, -1);   // [c, batch, pos]
        INDArray total = attrs.sum(0);                                                                     // [batch, pos]
        double shared = model.b_U().getDouble(token);
        if (model.cfg().hasLayerNorm()) shared += model.param("ln_final.b").mul(model.W_U().getColumn(token)).sumNumber().doubleValue();
        INDArray logits = run.logits().get(all(), all(), point(token));
        assertClose(logits, total.addi(shared), 1e-4, fixture + " logit attributions");
    }
}
