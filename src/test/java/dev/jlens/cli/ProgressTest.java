package dev.jlens.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The one progress display, as logs see it (no terminal): whole lines, each once. */
class ProgressTest {
    @Test
    void aDownloadLogsEveryTenPercentOnceAndItsEndOnce() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Progress p = new Progress(new PrintStream(bytes, true, StandardCharsets.UTF_8), false, 10);
        long total = 1_000_000;
        for (long done = 0; done <= total; done += 50_000) p.transfer("gpt2/model.safetensors", done, total, 0, 1 + done / 1e6);
        p.transfer("gpt2/model.safetensors", total, total, 0, 2);   // the last chunk, then the finish, both at 100%
        p.finish();
        List<String> lines = bytes.toString(StandardCharsets.UTF_8).lines().toList();
        assertEquals(11, lines.size(), String.join("\n", lines));   // 0%, 10%, …, 100%
        assertTrue(lines.get(10).startsWith("gpt2/model.safetensors 1.0/1.0 MB [########################] 100% | "), lines.get(10));
    }

    @Test
    void trainingStepsLogEveryNAndTheLast() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Progress p = new Progress(new PrintStream(bytes, true, StandardCharsets.UTF_8), false, 4);
        for (int step = 1; step <= 10; step++) p.step(step, 10, 1.0, 100, step, 10 - step);
        List<String> lines = bytes.toString(StandardCharsets.UTF_8).lines().map(l -> l.substring(0, l.indexOf(' ', 5))).toList();
        assertEquals(List.of("step 4/10", "step 8/10", "step 10/10"), lines);
    }
}
