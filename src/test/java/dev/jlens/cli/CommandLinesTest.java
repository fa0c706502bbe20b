package dev.jlens.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The one parser's conventions, on a small declared command; each command's own tests cover its options. */
class CommandLinesTest {
    @Command(name = "jlens demo", customSynopsis = "usage: jlens demo --out DIR [options]\n")
    static final class Demo {
        final List<String> calls = new ArrayList<>();

        @Option(names = {"--help", "-h"}, usageHelp = true, description = "this text")
        boolean help;

        @Option(names = "--out", paramLabel = "DIR", required = true, description = "where results go")
        String out;

        @Option(names = "--batch", paramLabel = "N", converter = CommandLines.Positive.class, description = "per step")
        Integer batch;

        @Option(names = "--seed", paramLabel = "N", description = "seed")
        long seed;

        @Option(names = "--lr", paramLabel = "X", description = "rate")
        double lr;

        @Option(names = {"--block", "--blocks"}, paramLabel = "N", split = ",", description = "blocks")
        List<Integer> blocks;

        @Option(names = "--layers", paramLabel = "N", description = "calls a setter")
        void layers(int v) { calls.add("layers " + v); }
    }

    private static Demo parse(String... args) throws CommandLines.HelpRequested {
        Demo d = new Demo();
        CommandLines.parse(d, args);
        return d;
    }

    private static String refusal(String... args) {
        return assertThrows(UsageException.class, () -> parse(args)).getMessage();
    }

    @Test
    void valuesInBothFormsWithDigitGroupsAndListsCommaSeparated() throws Exception {
        Demo d = parse("--out=o", "--batch", "32,768", "--seed", "1_337", "--lr", "3e-4", "--block", "0,2", "--layers", "2");
        assertEquals("o", d.out);
        assertEquals(32768, d.batch);
        assertEquals(1337L, d.seed);
        assertEquals(3e-4, d.lr);
        assertEquals(List.of(0, 2), d.blocks);
        assertEquals(List.of("layers 2"), d.calls);
        assertThrows(CommandLines.HelpRequested.class, () -> parse("--help"));
        assertThrows(CommandLines.HelpRequested.class, () -> parse("-h", "--bogus-after-help-is-not-read"));
    }

    @Test
    void eachRefusalIsOneLineNamingTheOption() {
        assertEquals("unknown option --bach (did you mean --batch?); jlens demo --help lists the options", refusal("--out", "o", "--bach", "3"));
        assertEquals("unexpected argument 'stray' (options start with --); jlens demo --help lists them", refusal("--out", "o", "stray"));
        assertEquals("--out (DIR) needs a value", refusal("--out"));
        // A misspelt option is reported before the required one it leaves out.
        assertEquals("unknown option --bach (did you mean --batch?); jlens demo --help lists the options", refusal("--bach", "3"));
        assertEquals("--out is required (DIR: where results go)", refusal("--lr", "-1", "--seed=-2"));
        assertEquals("--out is required (DIR: where results go)", refusal("--batch", "3"));
        assertEquals("--out given twice; give it once", refusal("--out", "a", "--out=b"));
        assertEquals("--block given twice; list its values once, comma-separated (--block 0,1)",
                refusal("--out", "o", "--blocks", "0", "--block", "1"));
        assertEquals("--batch must be at least 1, got 0", refusal("--out", "o", "--batch", "0"));
        assertEquals("--seed needs a whole number, got '1.5'", refusal("--out", "o", "--seed", "1.5"));
        assertEquals("--lr needs a number, got 'fast'", refusal("--out", "o", "--lr", "fast"));
        assertEquals("--block needs a whole number, got 'x'", refusal("--out", "o", "--block", "0,x"));
        for (String[] args : List.of(new String[] {"--bach"}, new String[] {"--out", "o", "--lr", "fast"})) {
            assertEquals(1, refusal(args).lines().count());
        }
    }

    @Test
    void theUsageIsGeneratedFromTheDeclarations() {
        String usage = CommandLines.usage(new Demo());
        assertTrue(usage.startsWith("usage: jlens demo --out DIR [options]\n"), usage);
        assertTrue(usage.contains("options:\n") && usage.contains("--out=DIR") && usage.contains("where results go"), usage);
        // In the order declared, not sorted.
        assertTrue(usage.indexOf("--out=DIR") < usage.indexOf("--batch=N") && usage.indexOf("--batch=N") < usage.indexOf("--block"), usage);
    }
}
