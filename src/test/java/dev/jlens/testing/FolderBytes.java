package dev.jlens.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Predicate;
import java.util.stream.Stream;

/** Two output folders compared file by file, byte for byte. */
public final class FolderBytes {
    private FolderBytes() {}

    /** Every file under {@code folder}, as paths relative to it, sorted. */
    public static List<String> files(Path folder) {
        try (Stream<Path> s = Files.walk(folder)) {
            return s.filter(Files::isRegularFile).map(p -> folder.relativize(p).toString()).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The same files in both, with the same bytes (files {@code skip} accepts are compared by name only). */
    public static void assertSame(Path expected, Path actual, Predicate<String> skip) {
        List<String> names = files(expected);
        assertEquals(names, files(actual), "the files in " + actual + " vs " + expected);
        for (String n : names) {
            if (skip.test(n)) continue;
            try {
                assertArrayEquals(Files.readAllBytes(expected.resolve(n)), Files.readAllBytes(actual.resolve(n)), n + " differs");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
