package dev.jlens.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.compute.NonFinite;
import dev.jlens.load.SafeTensors;
import dev.jlens.testing.TestData;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * NaN and ±Inf weights are reported once at load, naming the tensor and the count; a run whose logits
 * hold NaN says at which hook point NaN first appeared.
 */
class NonFiniteWeightsTest {
    private static final String TEXT = "Hello world";

    @TempDir Path tmp;

    /** What {@code body} printed on stderr, and its result. */
    private static <T> Map.Entry<T, String> capturingErr(Supplier<T> body) {
        PrintStream old = System.err;
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        System.setErr(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        try {
            T result = body.get();
            return Map.entry(result, bytes.toString(StandardCharsets.UTF_8));
        } finally {
            System.setErr(old);
        }
    }

    /** gpt2-tiny with 3 NaN and one +Inf in block 0's MLP input weight (c_fc, [d_model, d_mlp] = [64, 256]). */
    private Path gpt2WithNaN() throws IOException {
        Path src = TestData.file("fixtures/gpt2-tiny");
        Path dir = Files.createDirectories(tmp.resolve("nan"));
        for (String f : List.of("config.json", "vocab.json", "merges.txt")) Files.copy(src.resolve(f), dir.resolve(f));
        Map<String, INDArray> tensors = new LinkedHashMap<>();
        try (SafeTensors st = SafeTensors.open(src.resolve("model.safetensors"))) {
            for (String n : st.names()) tensors.put(n, st.copy(n));
        }
        INDArray fc = tensors.get("h.0.mlp.c_fc.weight");
        fc.putScalar(new long[] {0, 5}, Float.NaN);
        fc.putScalar(new long[] {3, 5}, Float.NaN);
        fc.putScalar(new long[] {63, 200}, Float.NaN);
        fc.putScalar(new long[] {10, 11}, Float.POSITIVE_INFINITY);
        SafeTensors.write(dir.resolve("model.safetensors"), tensors, Map.of("format", "pt"));
        return dir;
    }

    @Test
    void countsMatchAHandBuiltArray() {
        float[] v = new float[37];   // longer than a vector, with a tail
        for (int i = 0; i < v.length; i++) v[i] = i;
        v[0] = Float.NaN;
        v[17] = Float.POSITIVE_INFINITY;
        v[35] = Float.NEGATIVE_INFINITY;
        v[36] = Float.NaN;
        INDArray a = Nd4j.createFromArray(v);
        assertEquals(new NonFinite(2, 2), NonFinite.count(a));
        assertEquals(new NonFinite(0, 2), NonFinite.count(a.reshape(1, 37).get(   // elements 10..35: +Inf at 17, -Inf at 35
                org.nd4j.linalg.indexing.NDArrayIndex.all(), org.nd4j.linalg.indexing.NDArrayIndex.interval(10, 36))));
        INDArray m = Nd4j.create(DataType.FLOAT, 5, 7);
        m.putScalar(new long[] {4, 1}, Float.NaN);
        assertEquals(new NonFinite(1, 0), NonFinite.count(m.transpose()), "a transposed view");
        assertEquals(new NonFinite(0, 0), NonFinite.count(Nd4j.ones(DataType.FLOAT, 100_000)));
        assertEquals("2 NaN and 2 ±Inf", NonFinite.count(a).describe());
    }

    @Test
    void nonFiniteWeightsAreNamedAtLoadAndTheFirstHookWithNaNAfterARun() throws IOException {
        Path dir = gpt2WithNaN();
        var loaded = capturingErr(() -> HookedTransformer.fromPretrained(dir.toString()));
        String loadErr = loaded.getValue();
        assertTrue(loadErr.contains("tensor 'h.0.mlp.c_fc.weight' holds 3 NaN and 1 ±Inf among its 16,384 values"), loadErr);
        assertEquals(1, loadErr.lines().count(), loadErr);
        HookedTransformer model = loaded.getKey();

        // NaN in W_in's columns 5 and 200: the first activation to hold it is the MLP's input, block 0.
        var run = capturingErr(() -> model.runWithCache(TEXT));
        assertTrue(Float.isNaN(run.getKey().logits().getFloat(0, 0, 0)));
        String runErr = run.getValue();
        assertTrue(runErr.contains("the logits hold NaN; NaN first appears at blocks.0.mlp.hook_pre"), runErr);
        assertTrue(runErr.contains("h.0.mlp.c_fc.weight: 3 NaN and 1 ±Inf"), runErr);
        assertEquals(1, runErr.lines().count(), runErr);

        var e = assertThrows(IllegalStateException.class, () -> model.generate("Hi", 3, 1L));
        assertTrue(e.getMessage().contains("NaN first appears at blocks.0.mlp.hook_pre"), e.getMessage());
    }

    @Test
    void nanFromAHookIsTracedToTheHooks() {
        HookedTransformer model = HookedTransformer.fromPretrained(TestData.file("fixtures/gpt2-tiny").toString());
        var clean = capturingErr(() -> model.runWithCache(TEXT));
        assertEquals("", clean.getValue(), "finite logits: nothing to say");
        int[] calls = {0};
        var run = capturingErr(() -> model.runWithHooks(model.toTokens(TEXT),
                Hook.hook("blocks.1.hook_attn_out", (act, h) -> {
                    calls[0]++;
                    return act.putScalar(new long[] {0, 1, 7}, Float.NaN);
                })));
        String err = run.getValue();
        assertTrue(err.contains("a run without your hooks has none: a hook on blocks.1.hook_attn_out put it there"), err);
        assertEquals(1, calls[0], "the caller's hook runs once");
        assertFalse(err.contains("at load"), err);
    }
}
