package dev.jlens.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.load.SafeTensors;
import dev.jlens.testing.TestData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Weights kept as the file stores them: a bfloat16 checkpoint stays bfloat16 in memory, and a memory-mapped
 * float32 one is packed from reads of the file, not of its mapping. Each must compute exactly what the
 * plain float32 model with the same values computes.
 */
class StoredWeightsTest {
    private static final INDArray TOKENS = Nd4j.createFromArray(new long[][] {{1, 7, 42, 99, 3, 200, 17, 5}});

    /** The fixture's tensors rounded to bfloat16, written as BF16 ({@code bf16}) or as F32 holding the same values. */
    private static Path rounded(Path fixture, Path out, boolean asBf16) throws IOException {
        Files.createDirectories(out);
        Files.copy(fixture.resolve("config.json"), out.resolve("config.json"));
        Map<String, INDArray> tensors = new LinkedHashMap<>();
        try (SafeTensors in = SafeTensors.open(fixture.resolve("model.safetensors"))) {
            for (String name : in.names()) {
                INDArray bf16 = in.get(name).castTo(DataType.BFLOAT16);
                tensors.put(name, asBf16 ? bf16 : bf16.castTo(DataType.FLOAT));
            }
        }
        SafeTensors.write(out.resolve("model.safetensors"), tensors, Map.of());
        return out;
    }

    @Test
    void aBf16CheckpointStaysBf16AndComputesWhatItsFloat32ValuesCompute(@TempDir Path tmp) throws IOException {
        for (String fixture : new String[] {"llama-tiny", "qwen3-tiny", "gemma2-tiny", "gptneox-tiny"}) {
            Path dir = TestData.file("fixtures/" + fixture);
            HookedTransformer bf16 = HookedTransformer.fromPretrained(rounded(dir, tmp.resolve(fixture + "-bf16"), true).toString());
            HookedTransformer f32 = HookedTransformer.fromPretrained(rounded(dir, tmp.resolve(fixture + "-f32"), false).toString());
            Weights w = bf16.weights();
            for (INDArray matrix : new INDArray[] {w.W_E(), w.W_U(), w.layers().get(0).qkvW(), w.layers().get(0).oW(),
                    w.layers().get(1).inW(), w.layers().get(1).outW()}) {
                assertEquals(DataType.BFLOAT16, matrix.dataType(), fixture + ": the matrices stay in the file's dtype");
            }
            assertEquals(DataType.FLOAT, w.layers().get(0).ln1W().dataType(), fixture + ": norms are widened at load");
            assertEquals(0, bf16.packedBytes(), "bf16 matrices are read in place, never copied to float32");
            INDArray want = f32.forward(TOKENS), got = bf16.forward(TOKENS);
            float[] a = want.data().asFloat(), b = got.data().asFloat();
            for (int i = 0; i < a.length; i++) {
                assertEquals(a[i], b[i], 1e-5f + 1e-5f * Math.abs(a[i]), fixture + ": logit " + i);
            }
        }
    }

    @Test
    void accessorsGiveFloat32AndTheDoorGivesTheStoredArrays(@TempDir Path tmp) throws IOException {
        HookedTransformer bf16 = HookedTransformer.fromPretrained(rounded(TestData.file("fixtures/llama-tiny"), tmp.resolve("m"), true).toString());
        INDArray wq = bf16.W_Q(0);
        assertEquals(DataType.FLOAT, wq.dataType(), "analyses compute in float32");
        assertArrayEquals(bf16.weights().layers().get(0).qkvW().castTo(DataType.FLOAT).get(
                org.nd4j.linalg.indexing.NDArrayIndex.all(), org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 16)).dup('c').data().asFloat(),
                wq.get(org.nd4j.linalg.indexing.NDArrayIndex.point(0)).dup('c').data().asFloat(), 0f, "head 0 of W_Q is the stored values");
        INDArray before = bf16.forward(TOKENS);
        bf16.W_O(0).muli(0);   // a float32 copy: changes nothing
        assertArrayEquals(before.data().asFloat(), bf16.forward(TOKENS).data().asFloat(), 0f);
        bf16.editWeights(w -> {
            assertEquals(DataType.BFLOAT16, bf16.W_O(0).dataType(), "inside the door, the stored array itself");
            bf16.W_O(0).muli(0);
        });
        assertTrue(!java.util.Arrays.equals(before.data().asFloat(), bf16.forward(TOKENS).data().asFloat()), "the edit through the door is seen");
    }

    @Test
    void aMappedCheckpointIsPackedFromTheFileAndComputesTheSameBits() {
        Path dir = TestData.file("fixtures/gpt2-tiny");
        HookedTransformer copied = HookedTransformer.fromPretrained(dir.toString());
        String key = "jlens.copyWeightsBelowMiB";
        String before = System.getProperty(key);
        HookedTransformer mapped;
        try {
            System.setProperty(key, "0");
            mapped = HookedTransformer.fromPretrained(dir.toString());
        } finally {
            if (before == null) System.clearProperty(key); else System.setProperty(key, before);
        }
        assertTrue(mapped.packedBytes() > 0, "the mapped model's matrices were packed");
        assertEquals(copied.packedBytes(), mapped.packedBytes());
        assertArrayEquals(copied.forward(TOKENS).data().asFloat(), mapped.forward(TOKENS).data().asFloat(), 0f);
        // A change made around the door to a matrix handed out is still seen (the handed-out one is checked).
        mapped.W_O(0).muli(0);
        assertTrue(!java.util.Arrays.equals(copied.forward(TOKENS).data().asFloat(), mapped.forward(TOKENS).data().asFloat()),
                "zeroing W_O(0) of the mapped model is seen by its next run");
    }
}
