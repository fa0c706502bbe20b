package dev.jlens.console;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.data.Corpus;
import dev.jlens.model.HookedTransformer;
import dev.jlens.testing.TestData;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The console's dataset and experiment helpers, bound to the char fixture model, without JShell. */
class ExperimentHelpersTest {
    @Test
    void fromATextFileToSavedActivationsInFourCalls(@TempDir Path tmp) throws Exception {
        HookedTransformer model = HookedTransformer.fromPretrained(TestData.file("fixtures/charlm-tiny").toString());
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        Helpers.bind(Binding.of(model, new PrintStream(printed, true, StandardCharsets.UTF_8)));
        Path text = Files.writeString(tmp.resolve("t.txt"), "ROMEO:\nThus he, thus she; thus they.\n".repeat(3));

        Corpus c = Helpers.corpus(text.toString());
        assertTrue(printed.toString(StandardCharsets.UTF_8).contains("t.txt"));
        var d = Helpers.windows(c, "all", 6, 6);
        var r = Helpers.blockInternals(d, tmp.resolve("r").toString(), 1);
        assertEquals(d.samples().count() * 6L, r.rowCount());
        assertEquals(d.samples().count() * 6L, Helpers.openResults(tmp.resolve("r").toString()).matrix("blocks.1.hook_mlp_out").size(0));
        assertTrue(Shown.wasShown(r));

        var counts = Helpers.nextTokenCounts(c, "all", 4);
        var freq = Helpers.substringFrequencies(counts, "thus", "Thus");
        assertEquals(" ", freq.topTokens().get(0).get(0).token());   // "thus" is followed by a space twice per line
        assertEquals(6.0, freq.topTokens().get(0).get(0).frequency());
        assertTrue(printed.toString(StandardCharsets.UTF_8).contains("Substrings: 'thus', 'Thus'"));
        assertArrayEquals(c.tokenizer().encode("ROMEO"), Helpers.substrings(c, "all", 5).samples().tokens(0));
    }
}
