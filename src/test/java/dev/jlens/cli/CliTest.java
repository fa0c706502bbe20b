package dev.jlens.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Every command's one error path: whatever escapes is one line and exit status 1 (2 for a bad command line). */
class CliTest {
    private String err;

    private int run(Cli.Body body) {
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        int status = Cli.run("jlens experiment", new PrintStream(e, true, StandardCharsets.UTF_8), body);
        err = e.toString(StandardCharsets.UTF_8);
        return status;
    }

    @Test
    void outOfMemoryIsOneLineThatSaysWhatToDo() {
        assertEquals(1, run(() -> {
            throw new OutOfMemoryError("Java heap space");
        }));
        assertEquals(1, err.lines().count(), err);
        assertTrue(err.startsWith("jlens experiment: out of memory (Java heap space; the Java heap may grow to "), err);
        assertTrue(err.contains("JLENS_HEAP="), err);
    }

    @Test
    void aRefusalPrintsItsMessageAndABugNamesItsType() {
        assertEquals(1, run(() -> {
            throw new IllegalArgumentException("no model at x (--model): give a model folder\nsecond line");
        }));
        assertEquals("jlens experiment: no model at x (--model): give a model folder …\n", err.replace("\r", ""));
        assertEquals(1, run(() -> {
            throw new NullPointerException("boom");
        }));
        assertEquals(1, err.lines().count(), err);
        assertTrue(err.startsWith("jlens experiment: unexpected java.lang.NullPointerException: boom (JLENS_TRACE=1"), err);
        assertEquals(3, run(() -> 3));
        assertEquals("", err);
    }

    @Test
    void aBadCommandLineIsOneLineAndExitStatus2() {
        assertEquals(2, run(() -> {
            throw new UsageException("--heads needs a whole number, got 'five'");
        }));
        assertEquals("jlens experiment: --heads needs a whole number, got 'five'\n", err.replace("\r", ""));
    }
}
