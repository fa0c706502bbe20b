package dev.jlens.analysis;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.jlens.testing.TestData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import jdk.jshell.JShell;
import jdk.jshell.Snippet;
import jdk.jshell.SnippetEvent;
import jdk.jshell.SourceCodeAnalysis;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every {@code startup-scripts/analysis-*.jsh} runs in JShell as {@code ./jlens FILE.jsh --no-startup}
 * would after one line that loads a model: snippet by snippet, in this JVM ("local" execution), with
 * only {@code model} defined. Figures go to a temporary folder and no browser is opened.
 */
class ScriptsTest {
    @TempDir Path figures;

    /** Scripts whose prompts fit the char fixture's 32-token context also run on it. */
    static final List<String> CHAR_SCRIPTS = List.of("analysis-logit-lens.jsh", "analysis-block-internals.jsh",
            "analysis-head-detectors.jsh", "analysis-score-decomposition.jsh", "analysis-circuits.jsh", "analysis-ablation.jsh");

    static List<Path> scripts() throws IOException {
        try (Stream<Path> s = Files.list(Path.of("startup-scripts"))) {
            return s.filter(p -> p.getFileName().toString().startsWith("analysis-") && p.toString().endsWith(".jsh")).sorted().toList();
        }
    }

    @Test
    void everyAnalysisScriptRunsOnAGpt2Model() throws IOException {
        List<Path> all = scripts();
        assertTrue(all.size() >= 9, "expected an example script per analysis, found " + all);
        run(TestData.file("fixtures/gpt2-tiny"), all);
        try (Stream<Path> written = Files.list(figures)) {
            assertTrue(written.count() >= 9, "the scripts save their figures");
        }
    }

    @Test
    void theTokenizerAgnosticScriptsRunOnACharModel() throws IOException {
        run(TestData.file("fixtures/charlm-tiny"), scripts().stream().filter(p -> CHAR_SCRIPTS.contains(p.getFileName().toString())).toList());
    }

    private void run(Path modelDir, List<Path> scripts) throws IOException {
        String oldFigures = System.getProperty("jlens.figures"), oldBrowser = System.getProperty("jlens.browser");
        System.setProperty("jlens.figures", figures.toString());
        System.setProperty("jlens.browser", "none");
        // JShell compiles against java.class.path; give it what the console has — jlens and its
        // dependencies, without target/test-classes. (With the test classes first on it, the
        // script's `import dev.jlens.analysis.*;` made JShell re-declare `model`, resetting it to null.)
        String oldClassPath = System.getProperty("java.class.path");
        String classPath = java.util.Arrays.stream(System.getProperty("surefire.test.class.path", oldClassPath)
                .split(java.io.File.pathSeparator)).filter(e -> !e.endsWith("test-classes"))
                .collect(java.util.stream.Collectors.joining(java.io.File.pathSeparator));
        try {
            for (Path script : scripts) {
                System.setProperty("java.class.path", classPath);
                try (JShell shell = JShell.builder().executionEngine("local").build()) {
                    eval(shell, "var model = dev.jlens.model.HookedTransformer.fromPretrained(\""
                            + modelDir.toString().replace("\\", "\\\\") + "\");", script + " (loading the model)");
                    String rest = Files.readString(script);
                    SourceCodeAnalysis analysis = shell.sourceCodeAnalysis();
                    while (!rest.isBlank()) {
                        SourceCodeAnalysis.CompletionInfo info = analysis.analyzeCompletion(rest);
                        if (info.completeness() == SourceCodeAnalysis.Completeness.EMPTY) break;
                        if (!info.completeness().isComplete()) fail(script + ": incomplete snippet at the end: " + rest);
                        eval(shell, info.source(), script.toString());
                        rest = info.remaining();
                    }
                }
            }
        } finally {
            System.setProperty("java.class.path", oldClassPath);
            restore("jlens.figures", oldFigures);
            restore("jlens.browser", oldBrowser);
        }
    }

    private static void eval(JShell shell, String source, String where) {
        for (SnippetEvent e : shell.eval(source)) {
            if (e.exception() != null) {
                java.io.StringWriter sw = new java.io.StringWriter();
                e.exception().printStackTrace(new java.io.PrintWriter(sw));
                fail(where + ": `" + source.strip() + "` threw " + sw);
            }
            if (e.status() == Snippet.Status.REJECTED) {
                StringBuilder why = new StringBuilder();
                shell.diagnostics(e.snippet()).forEach(d -> why.append(d.getMessage(java.util.Locale.ROOT)).append('\n'));
                fail(where + ": `" + source.strip() + "` does not compile:\n" + why);
            }
        }
    }

    private static void restore(String key, String old) {
        if (old == null) System.clearProperty(key);
        else System.setProperty(key, old);
    }
}
