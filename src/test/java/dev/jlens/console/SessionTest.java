package dev.jlens.console;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.testing.TestData;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.jline.reader.Candidate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

/** A real JShell session in this JVM on the char fixture model, with the default startup script. */
class SessionTest {
    static Session session;
    static ByteArrayOutputStream out = new ByteArrayOutputStream();
    static ByteArrayOutputStream err = new ByteArrayOutputStream();
    static ConsoleCompleter completer;

    @BeforeAll
    static void start() {
        Path model = TestData.file("fixtures/charlm-tiny");
        session = Session.start(new Session.Config(model, Path.of("startup-scripts/default.jsh"),
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8), false));
        assertEquals(List.of(), session.awaitReady(), "the default startup script runs cleanly");
        completer = new ConsoleCompleter(session, session.binding()::modelIfLoaded);
    }

    @AfterAll
    static void stop() {
        if (session != null) session.close(); // null when set-up was skipped or failed
    }

    @BeforeEach
    void clear() {
        out.reset();
        err.reset();
        Helpers.bind(session.binding()); // other test classes in this JVM bind their own
    }

    /** Evaluates like the console and returns the outcomes. */
    static List<Outcome> eval(String source) {
        List<Outcome> outcomes = new ArrayList<>();
        session.eval(source, outcomes::add, false);
        return outcomes;
    }

    static Outcome one(String source) {
        List<Outcome> o = eval(source);
        assertEquals(1, o.size(), "outcomes of " + source + ": " + o);
        return o.get(0);
    }

    @Test
    void theStartupScriptDefinesModelTokenizerAndCfg() {
        Object model = one("model").value();
        assertSame(session.binding().model(), model, "the snippet sees the console's very object");
        assertSame(session.binding().model().tokenizer(), one("tokenizer").value());
        assertSame(session.binding().model().cfg(), one("cfg").value());
    }

    @Test
    void valuesAreTheObjectsNotJShellStrings() {
        Outcome o = one("model.W_E()");
        assertEquals(Outcome.Kind.EXPRESSION, o.kind());
        assertTrue(o.name().startsWith("$"));
        assertInstanceOf(INDArray.class, o.value());
        Outcome v = one("var e = model.W_E();");
        assertEquals(Outcome.Kind.VARIABLE, v.kind());
        assertEquals("e", v.name());
        assertEquals(true, one("e == model.W_E()").value(), "the variable holds the array itself");
    }

    @Test
    void anErrorIsOneOutcomeAndTheSessionGoesOnWithEverythingDefined() {
        eval("int kept = 41; int twice(int x) { return 2 * x; }");
        Outcome boom = one("1/0");
        assertTrue(boom.failed());
        assertEquals("ArithmeticException: / by zero", boom.message());
        assertInstanceOf(ArithmeticException.class, session.binding().lastError(), "lastError() holds the real exception");
        assertEquals(84, one("twice(kept + 1)").value());
        Outcome compile = one("undefinedThing + 1");
        assertTrue(compile.failed());
        assertEquals("error: cannot find symbol: variable undefinedThing", compile.message());
        assertTrue(compile.detail().contains("^"), compile.detail());
        assertEquals(2, one("1+1").value());
        one("1/0");
        one("lastError()");
        String trace = out.toString(StandardCharsets.UTF_8);
        assertTrue(trace.startsWith("java.lang.ArithmeticException: / by zero\n\tat "), trace);
    }

    @Test
    void errorsCarryTheLineOfTheInputTheyHappenedOn() {
        List<Outcome> o = eval("int a = 1;\n\n// a comment\nint b = 2;\nint c = a +\n   missing;\n");
        Outcome bad = o.get(o.size() - 1);
        assertTrue(bad.failed());
        assertEquals(6, bad.line(), bad.toString());
        List<Outcome> r = eval("int d = 1;\nvoid f() {\n  int z = 0;\n  int y = 1 / z;\n}\nf();\n");
        Outcome thrown = r.get(r.size() - 1);
        assertTrue(thrown.failed());
        assertEquals(6, thrown.line(), "the call site in the input");
    }

    @Test
    void aBareExpressionAtTheEndOfALineIsItsOwnSnippet() {
        List<Outcome> o = eval("1 + 1\n// next\nvar s = \"x\";\n");
        assertEquals(2, o.size(), o.toString());
        assertEquals(2, o.get(0).value());
    }

    @Test
    void aValueAHelperPrintedIsNotPrintedAgain() {
        ByteArrayOutputStream shown = new ByteArrayOutputStream();
        PrintStream ps = new PrintStream(shown, true, StandardCharsets.UTF_8);
        session.eval("topk(\"ROMEO:\", 3)\n1 + 2", new Feedback(ps, ps, Feedback.Style.CONSOLE, null), false);
        String printed = out.toString(StandardCharsets.UTF_8) + shown.toString(StandardCharsets.UTF_8);
        assertEquals(1, printed.split("rank  token", -1).length - 1, "one table: " + printed);
        assertTrue(printed.contains("$") && printed.contains("==> 3"), printed);
    }

    @Test
    void eachVariableEchoesItsOwnValueOnceAndOnlyTokensAreDotted() {
        List<Outcome> o = eval("int m1 = 1, m2 = 2;");
        assertEquals(1, o.get(0).value(), "m1 is 1, not the last value of the line");
        assertEquals(2, o.get(1).value());
        ByteArrayOutputStream shown = new ByteArrayOutputStream();
        PrintStream ps = new PrintStream(shown, true, StandardCharsets.UTF_8);
        session.eval("var arr = new int[] {7, 8}; arr\nList.of(\"a b\", \"c\")\nmodel.toStrTokens(\"RO ME\")",
                new Feedback(ps, ps, Feedback.Style.CONSOLE, null), false);
        String printed = shown.toString(StandardCharsets.UTF_8);
        assertEquals(1, printed.split("int\\[2\\] \\{ 7, 8 \\}", -1).length - 1, "var x = …; x shows x once: " + printed);
        assertTrue(printed.contains("[\"a b\", \"c\"]"), "plain strings stay plain: " + printed);
        assertTrue(printed.contains("'·'"), "tokens show spaces as ·: " + printed);
        shown.reset();
        session.eval("System.out.printf(\"%d%n\", 42)", new Feedback(ps, ps, Feedback.Style.CONSOLE, null), false);
        assertFalse(shown.toString(StandardCharsets.UTF_8).contains("PrintStream"), "printf's stream is not echoed: " + shown);
    }

    @Test
    void anAnalysisPrintsAsItsTableNotAsARecordAndItsHelpIsThere() {
        ByteArrayOutputStream shown = new ByteArrayOutputStream();
        PrintStream ps = new PrintStream(shown, true, StandardCharsets.UTF_8);
        session.eval("LogitLens.of(model, \"ROMEO:\", false)\nhelp(\"analysis\")", new Feedback(ps, ps, Feedback.Style.CONSOLE, null), false);
        String printed = out.toString(StandardCharsets.UTF_8) + shown.toString(StandardCharsets.UTF_8);
        assertTrue(printed.contains("Logit lens: top token per layer") && printed.contains("embed "), printed);
        assertFalse(printed.contains("LogitLens["), "not a record dump: " + printed);
        assertTrue(printed.contains("HeadDetector.detect(model)"), "help(\"analysis\") lists the analyses: " + printed);
    }

    @Test
    void analysesOfTheCurrentRunAreOneWordAndPrintTheirTables() {
        ByteArrayOutputStream shown = new ByteArrayOutputStream();
        PrintStream ps = new PrintStream(shown, true, StandardCharsets.UTF_8);
        session.eval("run(\"ROMEO: ROMEO\")\nattention(1)\ndla(\"O\", \"E\")\ntokenLogProbs()\nlogitLens()",
                new Feedback(ps, ps, Feedback.Style.CONSOLE, null), false);
        String printed = out.toString(StandardCharsets.UTF_8) + shown.toString(StandardCharsets.UTF_8);
        assertTrue(printed.contains("L1H0") && printed.contains("L1H1"), "attention(1) lists block 1's heads: " + printed);
        assertTrue(printed.contains("'O' − 'E'"), "dla names what it attributes: " + printed);
        assertTrue(printed.contains("log p per token"), printed);
        assertTrue(printed.contains("Logit lens: top token per layer"), printed);
        assertFalse(printed.matches("(?s).*[A-Za-z]+\\[[a-z]+=.*"), "no record dumps: " + printed);
        // A different prompt's analyses read the new run: the current run is what they look at.
        double before = (Double) eval("tokenLogProbs().loss()").get(0).value();
        eval("run(\"To be\")");
        double after = (Double) eval("tokenLogProbs().loss()").get(0).value();
        assertEquals((Double) eval("model.loss(\"To be\")").get(0).value(), after, 1e-5);
        assertFalse(before == after);
    }

    @Test
    void transformerLensVocabularyIsOneLineEach() {
        ByteArrayOutputStream shown = new ByteArrayOutputStream();
        PrintStream ps = new PrintStream(shown, true, StandardCharsets.UTF_8);
        session.eval(String.join("\n", "run(\"ROMEO:\")", "accumulatedResid()", "testPrompt(\"ROMEO\", \":\")",
                "runWithHooks(\"ROMEO:\", hook(\"pattern\", 1, (a, h) -> a), hook(n -> n.endsWith(\"hook_z\"), (a, h) -> a)).shape()[2]",
                "model.W_Q().shape()[0]"), new Feedback(ps, ps, Feedback.Style.CONSOLE, null), false);
        String printed = out.toString(StandardCharsets.UTF_8) + shown.toString(StandardCharsets.UTF_8);
        assertTrue(printed.contains("0_pre") && printed.contains("final_post"), "accumulatedResid's labels: " + printed);
        assertTrue(printed.contains("Performance on answer token"), printed);
        assertTrue(printed.matches("(?s).*==> 65\\s.*==> 3\\s.*"), "hooks by short name, layer and predicate ran (65 logits); W_Q stacked over 3 layers: " + printed);
        assertFalse(printed.contains("Exception"), printed);
    }

    @Test
    void anSaeLoadsRunsSplicedInShowsAFeatureAndItsHookNamesComplete(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path folder = dir.resolve("sae");
        Files.createDirectories(folder);
        org.nd4j.linalg.factory.Nd4j.getRandom().setSeed(1);
        java.util.Map<String, INDArray> w = new java.util.LinkedHashMap<>();
        w.put("W_enc", org.nd4j.linalg.factory.Nd4j.randn(org.nd4j.linalg.api.buffer.DataType.FLOAT, 64, 32));
        w.put("b_enc", org.nd4j.linalg.factory.Nd4j.zeros(org.nd4j.linalg.api.buffer.DataType.FLOAT, 32));
        w.put("W_dec", org.nd4j.linalg.factory.Nd4j.randn(org.nd4j.linalg.api.buffer.DataType.FLOAT, 32, 64));
        w.put("b_dec", org.nd4j.linalg.factory.Nd4j.zeros(org.nd4j.linalg.api.buffer.DataType.FLOAT, 64));
        dev.jlens.load.SafeTensors.write(folder.resolve("sae_weights.safetensors"), w, java.util.Map.of());
        Files.writeString(folder.resolve("cfg.json"), "{\"architecture\": \"standard\", \"d_in\": 64, \"d_sae\": 32,"
                + " \"hook_name\": \"blocks.1.hook_resid_pre\"}");
        ByteArrayOutputStream shown = new ByteArrayOutputStream();
        PrintStream ps = new PrintStream(shown, true, StandardCharsets.UTF_8);
        session.eval("var sae = loadSae(\"" + folder + "\")\nrunWithSaes(\"ROMEO:\", sae.withErrorTerm())\nfeature(sae, 3)",
                new Feedback(ps, ps, Feedback.Style.CONSOLE, null), false);
        String printed = out.toString(StandardCharsets.UTF_8) + shown.toString(StandardCharsets.UTF_8);
        assertTrue(printed.contains("SAE[standard, blocks.1.hook_resid_pre"), printed);
        assertTrue(printed.contains("Feature 3 on the prompt") && printed.contains("promoted"), printed);
        assertFalse(printed.contains("Exception"), printed);
        List<String> names = complete("cache(\"blocks.1.hook_resid_pre.hook_sae_a");
        assertTrue(names.stream().anyMatch(n -> n.contains("hook_sae_acts_post")), "completion knows the SAE's hook points: " + names);
    }

    @Test
    void aBatchOfPromptsIsOneRunAndItsLossSkipsThePadding() {
        ByteArrayOutputStream shown = new ByteArrayOutputStream();
        PrintStream ps = new PrintStream(shown, true, StandardCharsets.UTF_8);
        session.eval("run(List.of(\"ROMEO:\", \"To be\"))", new Feedback(ps, ps, Feedback.Style.CONSOLE, null), false);
        String printed = out.toString(StandardCharsets.UTF_8) + shown.toString(StandardCharsets.UTF_8);
        assertTrue(printed.contains("row 0 (6 tokens)") && printed.contains("row 1 (5 tokens)"), printed);
        double batch = (Double) eval("model.loss(List.of(\"ROMEO:\", \"To be\"))").get(0).value();
        double weighted = (5 * (Double) eval("model.loss(\"ROMEO:\")").get(0).value() + 4 * (Double) eval("model.loss(\"To be\")").get(0).value()) / 9;
        assertEquals(weighted, batch, 1e-5, "token-weighted mean of the prompts' own losses");
    }

    @Test
    void completenessDecidesWhenEnterRunsTheInput() {
        assertTrue(session.isComplete("1+1"));
        assertTrue(session.isComplete("int x = 1; int y = 2;"));
        assertFalse(session.isComplete("for (int i = 0; i < 3; i++) {"));
        assertFalse(session.isComplete("int f(int x) {\n  return x;"));
        assertTrue(session.isComplete("int f(int x) {\n  return x;\n}"));
    }

    static List<String> complete(String buffer) {
        return completer.candidates(buffer, buffer.length()).stream().map(Candidate::value).toList();
    }

    @Test
    void tabCompletesJavaNamesAndHelpers() {
        assertTrue(complete("cach").contains("cache("), complete("cach").toString());
        assertTrue(complete("mode").contains("model"), complete("mode").toString());
        assertTrue(complete("model.W_").contains("W_E()"), complete("model.W_").toString());
        assertTrue(complete("logitL").contains("logitLens("));
    }

    @Test
    void tabCompletesHookNamesFullAndShortInsideHookArguments() {
        assertEquals(List.of("blocks.0.attn.hook_pattern\""), complete("cache(\"blocks.0.attn.hook_pa"));
        assertEquals(List.of("pattern\""), complete("cache(\"pat"));
        assertTrue(complete("cache(\"").contains("resid_post\""));
        assertTrue(complete("run(\"ROMEO:\").cache().get(\"blocks.2.hook_resid_p").contains("blocks.2.hook_resid_post\""));
        String closed = "cache(\"blocks.0.attn.hook_z\")";
        assertEquals(List.of("blocks.0.attn.hook_z"), completer.candidates(closed, closed.indexOf("z") + 1).stream()
                .map(Candidate::value).toList(), "no second closing quote when the string is closed");
        assertEquals(List.of("blocks.1.mlp.W_in\""), complete("param(\"blocks.1.mlp.W_i"));
        assertTrue(complete("help(\"compl").contains("completion\""));
        assertEquals(List.of(), complete("System.out.println(\"pat"), "no hook names in other strings");
    }

    @Test
    void tabCompletesPathsInsidePathArguments() {
        assertTrue(complete("runScript(\"startup-scr").contains("startup-scripts/"));
        assertTrue(complete("runScript(\"startup-scripts/seed00").contains("startup-scripts/seed001-tour.jsh\""));
    }

    @Test
    void runScriptRunsAfterTheSnippetThatAskedForIt() throws Exception {
        Path script = Files.createTempFile("jlens", ".jsh");
        Files.writeString(script, "int fromScript = 7;\n");
        eval("runScript(\"" + script + "\")");
        assertEquals(14, one("fromScript * 2").value());
    }

    @Test
    void userRecordsPrintAsTables() {
        // A component marked as a token is shown as one; any other string as it is.
        eval("record Row(@dev.jlens.view.Token String tok, double p) {}");
        String shown = Printer.render(one("List.of(new Row(\" a\", 0.5), new Row(\"\\n\", 0.25))").value());
        assertEquals("tok       p\n───  ──────\n·a   0.5000\n⏎    0.2500", shown);
        eval("record Named(String name, double p) {}");
        assertEquals("name          p\n───────  ──────\nlayer 3  0.5000",
                Printer.render(one("List.of(new Named(\"layer 3\", 0.5))").value()));
    }
}
