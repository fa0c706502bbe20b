package dev.jlens.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.load.ModelFileChangedException;
import dev.jlens.load.SafeTensors;
import dev.jlens.testing.TestData;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A weights file changed under a live model: rewritten in place (which silently changed every result)
 * or truncated (which killed the JVM with SIGBUS at the next read of a mapped page) is refused before
 * the next run reads anything; an atomic replacement leaves the model on the weights it loaded.
 */
class ModelFileChangedTest {
    private static final String TEXT = "Hello world, the quick brown fox";

    @TempDir Path tmp;

    private Path copyOfFixture() throws IOException {
        Path src = TestData.file("fixtures/gpt2-tiny");
        Path dir = Files.createDirectories(tmp.resolve("gpt2-tiny"));
        try (Stream<Path> files = Files.list(src)) {
            for (Path f : files.toList()) Files.copy(f, dir.resolve(f.getFileName()));
        }
        return dir;
    }

    /** The copy loaded with its weights memory-mapped, as every model of 16 MiB or more is. */
    private static HookedTransformer loadMapped(Path dir) {
        String old = System.getProperty("jlens.copyWeightsBelowMiB");
        System.setProperty("jlens.copyWeightsBelowMiB", "0");
        try {
            return HookedTransformer.fromPretrained(dir.toString());
        } finally {
            if (old == null) System.clearProperty("jlens.copyWeightsBelowMiB");
            else System.setProperty("jlens.copyWeightsBelowMiB", old);
        }
    }

    /** Where the tensor data starts: after the 8-byte length and the JSON header. */
    private static long dataStart(FileChannel ch) throws IOException {
        ByteBuffer n = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        ch.read(n, 0);
        return 8 + n.getLong(0);
    }

    private static void assertChanged(Path file, Exception e, String what) {
        String m = e.getMessage();
        assertTrue(m.contains(file + " changed on disk since it was loaded") && m.contains("load(\"" + file + "\") it again")
                && m.contains(what), m);
        assertEquals(1, m.lines().count(), m);
    }

    @Test
    void aFileRewrittenInPlaceIsRefusedBeforeTheNextRun() throws IOException {
        Path dir = copyOfFixture(), file = dir.resolve("model.safetensors");
        HookedTransformer model = loadMapped(dir);
        model.loss(TEXT);
        // Same file, same size, every weight doubled: what a tool that saves over its input does.
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            long start = dataStart(ch);
            ByteBuffer data = ByteBuffer.allocate((int) (ch.size() - start)).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(data, start);
            for (int i = 0; i < data.capacity(); i += 4) data.putFloat(i, 2 * data.getFloat(i));
            ch.write(data.flip(), start);
        }
        var e = assertThrows(ModelFileChangedException.class, () -> model.loss(TEXT));
        assertChanged(file, e, "");
        assertThrows(ModelFileChangedException.class, () -> model.W_E(), "weights are not handed out either");
    }

    @Test
    void aTruncatedFileIsRefusedAndTheJvmLives() throws IOException {
        Path dir = copyOfFixture(), file = dir.resolve("model.safetensors");
        HookedTransformer model = loadMapped(dir);
        double loss = model.loss(TEXT);
        long size = Files.size(file), start;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            start = dataStart(ch);
            ch.truncate(start);           // every mapped page is now past the end of the file
        }
        // Without the check this run reads W_E's pages: SIGBUS, and the test JVM dies here.
        var e = assertThrows(ModelFileChangedException.class, () -> model.runWithCache(TEXT));
        assertChanged(file, e, "its size went from " + size + " to " + start + " bytes");
        assertThrows(ModelFileChangedException.class, () -> model.param("blocks.0.attn.W_Q"));
        assertThrows(ModelFileChangedException.class, () -> model.generate("Hi", 3, 1L));
        assertTrue(loss > 0, "still here");
    }

    @Test
    void anAtomicReplacementKeepsTheWeightsTheModelLoaded() throws IOException {
        Path dir = copyOfFixture(), file = dir.resolve("model.safetensors");
        HookedTransformer model = loadMapped(dir);
        double before = model.loss(TEXT);
        Map<String, INDArray> doubled = new LinkedHashMap<>();
        try (SafeTensors st = SafeTensors.open(file)) {
            for (String n : st.names()) doubled.put(n, st.copy(n).muli(2));
        }
        SafeTensors.write(file, doubled, Map.of("format", "pt"));   // a new file renamed over the path
        assertEquals(before, model.loss(TEXT), 0, "the mapping is of the old file, which nobody changed");
        assertTrue(Math.abs(HookedTransformer.fromPretrained(dir.toString()).loss(TEXT) - before) > 1e-3, "the new file differs");
    }

    @Test
    void smallModelsAreReadIntoMemoryAndDoNotDependOnTheFile() throws IOException {
        Path dir = copyOfFixture(), file = dir.resolve("model.safetensors");
        HookedTransformer model = HookedTransformer.fromPretrained(dir.toString());   // 13 MB: below the 16 MiB default
        double before = model.loss(TEXT);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ch.truncate(dataStart(ch));
        }
        assertEquals(before, model.loss(TEXT), 0);
        assertEquals(before, model.loss(TEXT), 0);
    }
}
