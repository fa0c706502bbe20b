package dev.jlens.console;

import dev.jlens.cli.Options;
import dev.jlens.cli.UsageException;
import dev.jlens.load.ModelChoice;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class OptionsTest {
    @Test
    void modesFollowFromTheArguments() throws Exception {
        assertEquals(Options.Mode.INTERACTIVE, Options.parse().mode());
        assertEquals(Options.Mode.SCRIPT, Options.parse("--model", "m", "x.jsh").mode());
        assertEquals(Options.Mode.STDIN, Options.parse("-").mode());
        Options e = Options.parse("-e", "1+1", "--model=m", "-e", "2");
        assertEquals(Options.Mode.EVAL, e.mode());
        assertEquals(List.of("1+1", "2"), e.code());
        assertEquals(Path.of("m"), e.model());
        assertEquals(Options.Mode.HELP, Options.parse("--version", "--help").mode());
        assertTrue(Options.parse("--no-startup").noStartup());
    }

    @Test
    void badCommandLinesSayWhatIsWrong() {
        assertTrue(assertThrows(UsageException.class, () -> Options.parse("--frobnicate")).getMessage().contains("--frobnicate"));
        assertTrue(assertThrows(UsageException.class, () -> Options.parse("--model")).getMessage().contains("needs a value"));
        assertThrows(UsageException.class, () -> Options.parse("a.jsh", "-e", "1"));
        assertThrows(UsageException.class, () -> Options.parse("a.jsh", "b.jsh"));
        assertThrows(UsageException.class, () -> Options.parse("--no-startup", "--startup", "s.jsh"));
    }

    @Test
    void theModelComesFromTheFlagThenTheEnvironmentThenTheTrainedDefault() throws Exception {
        Path root = Files.createTempDirectory("jlens-root");
        Path model = root.resolve("m");
        Files.createDirectories(model);
        Files.writeString(model.resolve("config.json"), "{}");
        assertEquals(model, ModelChoice.resolve(Options.parse("--model", model.toString()), null, root));
        assertEquals(model, ModelChoice.resolve(Options.parse(), model.toString(), root));
        String none = assertThrows(UsageException.class, () -> ModelChoice.resolve(Options.parse(), null, root)).getMessage();
        assertTrue(none.contains("--model"), none);
        assertEquals(null, ModelChoice.resolve(Options.parse("--no-startup"), null, root));
        Path fallback = root.resolve(ModelChoice.DEFAULT_MODEL);
        Files.createDirectories(fallback);
        Files.writeString(fallback.resolve("config.json"), "{}");
        assertEquals(fallback, ModelChoice.resolve(Options.parse(), null, root));
        String bad = assertThrows(UsageException.class,
                () -> ModelChoice.resolve(Options.parse("--model", root.resolve("nope").toString()), null, root)).getMessage();
        assertTrue(bad.startsWith("no model at "), bad);
        String notModel = assertThrows(UsageException.class,
                () -> ModelChoice.resolve(Options.parse("--model", root.toString()), null, root)).getMessage();
        assertTrue(notModel.contains("config.json"), notModel);
    }

    @Test
    void theVersionIsThePomVersion() throws Exception {
        String pom = Files.readString(Path.of("pom.xml"));
        assertTrue(pom.contains("<version>" + Version.VERSION + "</version>"), "update Version.VERSION to the pom's version");
    }
}
