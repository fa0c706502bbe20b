package dev.jlens.console;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.model.HookedTransformer;
import dev.jlens.testing.TestData;
import dev.jlens.testing.Subprocess;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * jlens as a user runs it: the {@code ./jlens} launcher (or Main) in a subprocess, with stdin piped
 * (JLine falls back to its dumb terminal), checking what it prints and its exit status.
 */
class ConsoleProcessTest {
    static String model;
    @TempDir
    static Path home;

    @BeforeAll
    static void fixture() {
        model = TestData.file("fixtures/charlm-tiny").toString();
    }

    /** The launcher from the repository root, with history in a temporary JLENS_HOME and no JLENS_MODEL. */
    static Subprocess jlens(String... args) {
        return Subprocess.of("./jlens").args(args).env("JLENS_HOME", home.toString()).unsetEnv("JLENS_MODEL")
                .timeout(Duration.ofMinutes(4));
    }

    @Test
    void aBadModelPathIsOneLineAndExitStatus2() {
        Subprocess.Result r = jlens("--model", "/no/such/model", "-e", "1+1").run();
        assertEquals(2, r.exit(), r.both());
        assertEquals("jlens: no model at /no/such/model (--model): give a model folder or a file in one\n", r.err());
        assertEquals("", r.out());
        Subprocess.Result notAModel = jlens("--model", "src", "-e", "1+1").run();
        assertEquals(2, notAModel.exit(), notAModel.both());
        assertEquals(1, notAModel.err().lines().count(), notAModel.both());
    }

    @Test
    void withoutAnyModelItSaysToPassOne(@TempDir Path emptyRoot) {
        // Main directly, with a repository root that has no trained model.
        Subprocess.Result r = Subprocess.of(javaMain(emptyRoot)).env("JLENS_HOME", home.toString()).unsetEnv("JLENS_MODEL")
                .timeout(Duration.ofMinutes(2)).run();
        assertEquals(2, r.exit(), r.both());
        assertTrue(r.err().startsWith("jlens: no model: artifacts/shakespeare-char does not exist yet; pass --model DIR"), r.both());
    }

    static String[] javaMain(Path root) {
        try {
            String cp = "target/classes:" + Files.readString(Path.of("target/jlens.classpath")).strip();
            return new String[] {Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Djlens.root=" + root,
                    "-cp", cp, "dev.jlens.console.Main"};
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void helpAndVersion() {
        Subprocess.Result help = jlens("--help").run();
        assertEquals(0, help.exit(), help.both());
        assertTrue(help.out().startsWith("usage: jlens [--model DIR_OR_FILE]"), help.out());
        Subprocess.Result version = jlens("--version").run();
        assertTrue(version.out().startsWith("jlens " + Version.VERSION), version.out());
    }

    @Test
    void aProbePrintsLikeTheConsoleAndStopsAtTheFirstError() {
        Subprocess.Result r = jlens("--model", model, "-e", "topk(\"ROMEO:\", 5)", "-e", "cfg.nLayers()", "-e", "1/0", "-e", "40 + 2").run();
        assertEquals(1, r.exit(), r.both());
        List<String> lines = r.out().lines().toList();
        assertEquals("rank  token  probability  logit  id", lines.get(0), r.both());
        assertEquals(8, lines.size(), r.both());
        assertTrue(lines.get(7).matches("\\$\\d+ ==> 3"), r.both());
        assertEquals("ArithmeticException: / by zero\n", r.err(), "one line, no startup noise: " + r.both());
        assertFalse(r.out().contains("42"), "nothing runs after the error");
    }

    @Test
    void aProbeThatSucceedsExitsZero() {
        Subprocess.Result r = jlens("--model", model, "-e", "strTokens(\"To be,\\nor not\")").run();
        assertEquals(0, r.exit(), r.both());
        assertEquals("['T', 'o', '·', 'b', 'e', ',', '⏎', 'o', 'r', '·', 'n', 'o', 't']\n", r.out());
    }

    @Test
    void aFailingScriptLineIsReportedAsFileLineMessage(@TempDir Path dir) throws IOException {
        Path script = dir.resolve("probe.jsh");
        Files.writeString(script, """
                int a = 1;

                // the next line fails
                println("before");
                int b = a / 0;
                println("after");
                """);
        Subprocess.Result r = jlens("--model", model, script.toString()).run();
        assertEquals(1, r.exit(), r.both());
        assertEquals(script + ":5: ArithmeticException: / by zero\n", r.err());
        assertEquals("before\n", r.out());
    }

    @Test
    void aScriptOnStdinWithACompileError() {
        Subprocess.Result r = jlens("--model", model, "-").stdin("var t = tokens(\"ROMEO\");\nundefinedThing++;\n").run();
        assertEquals(1, r.exit(), r.both());
        assertTrue(r.err().startsWith("<stdin>:2: error: cannot find symbol: variable undefinedThing\n"), r.both());
    }

    @Test
    void thePipedConsoleEvaluatesRecoversFromErrorsAndKeepsHistory() throws IOException {
        String input = String.join("\n",
                "int twice(int x) {",
                "  return 2 * x;",
                "}",
                "1/0",
                "twice(21)",
                "var top = topk(\"ROMEO:\", 3);",
                "top.get(0).rank()",
                "cache(\"pattern\", 0)",
                "run(\"ROMEO:\").tokens()",
                "cache(\"blocks.0.attn.hook_pattern\").shape()",
                "/vars",
                "") ;
        Subprocess.Result r = jlens("--model", model).stdin(input).run();
        assertEquals(0, r.exit(), "Ctrl-D (end of input) exits cleanly: " + r.both());
        String out = r.out();
        assertTrue(out.startsWith("jlens " + Version.VERSION + " · model " + model), out);
        assertTrue(out.contains("created method twice(int)"), out);
        assertTrue(out.contains("==> 42"), out);
        assertTrue(out.contains("rank  token  probability  logit  id"), out);
        assertTrue(out.contains("==> 1\n"), out);
        assertTrue(out.contains("long[4] { 1, 4, 6, 6 }"), out);
        assertTrue(out.contains("LONG [1, 6]\n[[30, 27, 25, 17, 27, 10]]"), out);
        assertTrue(out.contains("  List<dev.jlens.console.TopToken> top\n"), "/vars lists the variables: " + out);
        assertTrue(r.err().contains("ArithmeticException: / by zero"), r.both());
        assertTrue(r.err().contains("no current run: call run(\"your prompt\") first"), r.both());
        String history = Files.readString(home.resolve("history"));
        assertTrue(history.contains("twice(21)"), history);
        assertTrue(history.contains("int twice(int x) {\\n  return 2 * x;\\n}"), "a multi-line snippet is one entry: " + history);
    }

    @Test
    void theSeed001TourRecomputesTheMlpByHand() {
        Subprocess.Result r = jlens("--model", model, "startup-scripts/seed001-tour.jsh").run();
        assertEquals(0, r.exit(), r.both());
        String out = r.out();
        for (String part : List.of("['A', '·', 's', 't', 'o', 'r', 'y'", "corner [:3, :3]", "position  token  next  log p(next)",
                "blocks.0.mlp.W_in   [64, 256]", "blocks.0.attn.hook_pattern      [1, 4, 25, 25]",
                "max |mlp_out by hand − cache(\"mlp_out\", 0)| = ", "MLP recomputed by hand matches the cache.")) {
            assertTrue(out.contains(part), "missing " + part + "\n" + out);
        }
        assertEquals("", r.err());
    }

    @Test
    void theSeed003ScriptDecodesEachLayerAsTheNotebookDoes() {
        String gpt2 = dev.jlens.testing.TestData.file("fixtures/gpt2-tiny").toString();
        Subprocess.Result r = jlens("--model", gpt2, "startup-scripts/seed003-logit-lens.jsh").run();
        assertEquals(0, r.exit(), r.both());
        for (String part : List.of("layer 0: ", "layer 1: ", "the last layer decoded by hand is the model's own prediction",
                "Logit lens: top token per layer (colour: probability", "Logit lens: top token per layer (colour: rank")) {
            assertTrue(r.out().contains(part), "missing " + part + "\n" + r.out());
        }
        assertEquals("", r.err());
    }

    @Test
    void theSeed000SimilarStringsScriptRunsItsOwnExperimentFromAFreshCheckout(@org.junit.jupiter.api.io.TempDir Path results) {
        dev.jlens.testing.Shared.file("data/tinyshakespeare/input.txt");   // skips without ../shared, fails in CI
        Subprocess.Result r = jlens("startup-scripts/seed000-similar-strings.jsh").env("JLENS_RESULTS", results.toString()).run();
        assertEquals(0, r.exit(), r.both());
        for (String part : List.of("no results/s10-block1: saving block 1's MLP output", "the 10 of 98,613 strings nearest 'ROMEO:·Wha'",
                "12 clusters (Euclidean k-means)")) {
            assertTrue(r.out().contains(part), "missing " + part + "\n" + r.out());
        }
        assertTrue(Files.isDirectory(results.resolve("s10-block1-val")), "the experiment it ran is kept for the next time");
    }

    @Test
    void theSeed002ScriptSavesBlockInternalsInTheNotebooksBatchesAndTheyMatchAFreshRun(@org.junit.jupiter.api.io.TempDir Path results) {
        dev.jlens.testing.Shared.file("data/tinyshakespeare/input.txt");   // skips without ../shared, fails in CI
        Subprocess.Result r = jlens("startup-scripts/seed002-block-internals.jsh").env("JLENS_RESULTS", results.toString()).run();
        assertEquals(0, r.exit(), r.both());
        // The notebook's expected shapes: two batches of 64 windows and one of 12, each [samples, 3, n_embd = 192].
        for (String part : List.of("0  [64, 3]  [64, 3, 192]", "2  [12, 3]  [12, 3, 192]", "19/19 batches, 3,486 rows",
                "Saved activations match a fresh run.")) {
            assertTrue(r.out().contains(part), "missing " + part + "\n" + r.out());
        }
        assertFalse(r.out().contains("PrintStream@"), r.out());
        assertTrue(Files.isDirectory(results.resolve("seed002-block0")));
    }

    @Test
    void theSaeScriptShowsTheShippedSaesFeaturesFromAFreshCheckout(@org.junit.jupiter.api.io.TempDir Path results) {
        dev.jlens.testing.Shared.file("data/tinyshakespeare/input.txt");   // skips without ../shared, fails in CI
        Subprocess.Result r = jlens("startup-scripts/sae-features.jsh").env("JLENS_RESULTS", results.toString()).run();
        assertEquals(0, r.exit(), r.both());
        for (String part : List.of("Reconstruction[", "CE loss recovered", "the strongest feature at the last token: ", "Top contexts of feature",
                "promoted", "activation density")) {
            assertTrue(r.out().contains(part), "missing " + part + "\n" + r.out());
        }
        assertTrue(Files.isDirectory(results.resolve("sae-features-val16k")));
    }

    @Test
    void theSeed004ScriptFindsTheShippedModelsInductionHead() {
        Subprocess.Result r = jlens("--model", "artifacts/attn-only-2l", "startup-scripts/seed004-attention-only.jsh").run();
        assertEquals(0, r.exit(), r.both());
        // The shipped model's card says L1H3 is its induction head (score 0.651 on its own repeated text).
        for (String part : List.of("attention score terms", "position-position", "induction heads (score ≥ 0.4): L1H3",
                "L0H0·L1H0 virtual head", "0:W", "Attention of 4 heads over")) {
            assertTrue(r.out().contains(part), "missing " + part + "\n" + r.out());
        }
        assertEquals("", r.err());
    }

    @Test
    void theSeed000ScriptGeneratesWhatTheModelGenerates() {
        Subprocess.Result r = jlens("--model", model, "startup-scripts/seed000-generate.jsh").run();
        assertEquals(0, r.exit(), r.both());
        HookedTransformer m = HookedTransformer.fromPretrained(model);
        for (String expected : List.of(m.generate("ROMEO:", 500, 1337), m.generate("Hello", 100, 1337), m.generate("adxed3dd", 100, 1337))) {
            assertTrue(r.out().contains(expected + "\n"), "missing generation:\n" + expected + "\nin\n" + r.out());
        }
    }

    @Test
    void worksOnJdk25() {
        Path jdk25 = Path.of("/usr/lib/jvm/temurin-25-jdk-amd64");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isDirectory(jdk25), "skipped: no JDK 25 at " + jdk25);
        Subprocess.Result r = jlens("--model", model, "-e", "topk(\"ROMEO:\", 2)", "-e", "Runtime.version().feature()")
                .env("JAVA_HOME", jdk25.toString()).run();
        assertEquals(0, r.exit(), r.both());
        assertTrue(r.out().contains("==> 25"), r.both());
        assertEquals("", r.err(), "no warnings on JDK 25: " + r.both());
    }
}
