package dev.jlens.testing;

import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The reference files committed with the tests ({@code src/test/data}: the tiny fixtures with their
 * {@code golden.json}, and tokenizer files from registry packages; provenance in its README).
 *
 * <p>Unlike {@link Shared}, these are part of every checkout, so a missing file is a broken checkout
 * and fails the test everywhere rather than skipping it.
 */
public final class TestData {
    private TestData() {}

    /** {@code src/test/data} of this checkout (Maven runs tests in the project's root). */
    public static Path root() {
        return Path.of("src", "test", "data").toAbsolutePath().normalize();
    }

    /** A file or folder under {@code src/test/data}, e.g. {@code "fixtures/gpt2-tiny/golden.json"}. */
    public static Path file(String relative) {
        Path p = root().resolve(relative);
        if (!Files.exists(p)) fail("the committed test data " + p + " is missing: the checkout is incomplete (git status)");
        return p;
    }
}
