package dev.jlens.console;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.testing.Programs;
import dev.jlens.testing.TestData;
import dev.jlens.testing.Subprocess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The console in a real terminal: tmux gives it a pseudo-terminal, so JLine runs its full line
 * editor (not the dumb one of the piped tests), Tab completes, and Ctrl-C is a real SIGINT.
 * The tmux server runs on a private socket and is killed after each test.
 */
class TerminalTest {
    @TempDir
    Path dir;
    Path socket;

    @BeforeEach
    void startTmux() {
        Programs.require("tmux");
        socket = dir.resolve("tmux.sock");
    }

    @AfterEach
    void killTmux() throws Exception {
        if (socket == null) return;
        tmux("kill-server");
        // The console gets SIGHUP from tmux; make sure it is gone even if it did not listen.
        Path pidFile = dir.resolve("jlens.pid");
        if (Files.exists(pidFile)) {
            ProcessHandle.of(Long.parseLong(Files.readString(pidFile).strip())).ifPresent(p -> {
                try {
                    p.onExit().get(10, TimeUnit.SECONDS);
                } catch (Exception e) {
                    p.destroyForcibly();
                }
            });
        }
    }

    private Subprocess.Result tmux(String... args) {
        String[] cmd = new String[args.length + 3];
        cmd[0] = "tmux";
        cmd[1] = "-S";
        cmd[2] = socket.toString();
        System.arraycopy(args, 0, cmd, 3, args.length);
        return Subprocess.of(cmd).timeout(Duration.ofSeconds(20)).run();
    }

    private String screen() {
        return tmux("capture-pane", "-p", "-J", "-S", "-200", "-t", "jlens").out();
    }

    /** Waits until the screen shows what we want; fails with the screen after the time limit. */
    private String await(String what, Predicate<String> seen, Duration limit) throws InterruptedException {
        long end = System.nanoTime() + limit.toNanos();
        String s = screen();
        while (!seen.test(s)) {
            if (System.nanoTime() > end) throw new AssertionError("timed out waiting for " + what + "; the screen:\n" + s);
            Thread.sleep(200);
            s = screen();
        }
        return s;
    }

    private String await(String text) throws InterruptedException {
        return await("'" + text + "'", s -> s.contains(text), Duration.ofSeconds(60));
    }

    /** Types text literally; a trailing ';' is escaped, or tmux would take it as its own command separator. */
    private void type(String text) {
        tmux("send-keys", "-t", "jlens", "-l", text.endsWith(";") ? text.substring(0, text.length() - 1) + "\\;" : text);
    }

    private void key(String key) {
        tmux("send-keys", "-t", "jlens", key);
    }

    private void start() throws InterruptedException {
        start(150);
    }

    private void start(int columns) throws InterruptedException {
        String model = TestData.file("fixtures/charlm-tiny").toString();
        // The inner shell writes its pid and becomes jlens, which becomes java: the pid is the console's.
        String command = "JLENS_HOME=" + dir + " sh -c 'echo $$ > " + dir.resolve("jlens.pid") + "; exec ./jlens --model " + model
                + "'; echo jlens-exited-$?; sleep 60";
        tmux("new-session", "-d", "-s", "jlens", "-x", Integer.toString(columns), "-y", "50", "-c", Path.of("").toAbsolutePath().toString(), command);
        // The first start after a build also records the class-data archive, minutes on a loaded 2-core machine.
        await("the prompt", screen -> screen.contains("jlens> "), Duration.ofSeconds(300));
    }

    @Test
    void tabCompletesHelpersAndHookNamesAndAnErrorLeavesTheSessionUsable() throws InterruptedException {
        start();
        type("cach");
        key("Tab");
        await("jlens> cache(");
        key("C-u");
        type("cache(\"blocks.0.attn.hook_pa");
        key("Tab");
        await("cache(\"blocks.0.attn.hook_pattern\"");
        key("C-u");
        type("1/0");
        key("Enter");
        await("ArithmeticException: / by zero");
        type("1+1");
        key("Enter");
        String s = await("the value 2", x -> x.matches("(?s).*\\$\\d+ ==> 2\\n.*"), Duration.ofSeconds(60));
        assertTrue(s.contains("jlens> 1+1"), s);
    }

    @Test
    void ctrlCStopsALoopAndCtrlDExits() throws InterruptedException {
        start();
        // The loop says when it runs: Ctrl-C sent while the snippet still compiles (a cold JVM, a fresh clone without
        // its class-data archive) would stop it before n ever grew.
        // (The word is printed in two pieces, so the typed line on the screen does not already show it.)
        type("int n = 0; while (true) { if (++n == 1) System.out.println(\"loop\" + \"ing\"); }");
        key("Enter");
        await("the loop to start", s -> s.contains("\nlooping"), Duration.ofSeconds(60));
        Thread.sleep(200);
        key("C-c");
        await("interrupted");
        type("n > 0");
        key("Enter");
        await("==> true");
        type("for (int i = 0; i < 2; i++) {");
        key("Enter");
        await(Console.CONTINUATION.strip());
        type("System.out.println(\"line \" + i);");
        key("Enter");
        type("}");
        key("Enter");
        await("line 1");
        key("C-d");
        await("jlens-exited-0");
    }

    @Test
    void generationStreamsAndCtrlCKeepsTheTextSoFar() throws InterruptedException {
        start();
        type("String g = generate(\"ROMEO:\", 1000000);");
        key("Enter");
        // Tokens appear while it runs: the line after the input grows before the call returns.
        await("generated text", s -> {
            int at = s.indexOf("1000000);");
            return at >= 0 && s.substring(at + 9).strip().length() > 80;
        }, Duration.ofSeconds(120));
        key("C-c");
        await("(stopped after");
        type("g.startsWith(\"ROMEO:\") && g.length() > 40");
        key("Enter");
        await("==> true");
    }

    @Test
    void tablesAndHeatmapsFitANarrowTerminal() throws InterruptedException {
        start(90);
        type("logitLens(\"ROMEO: But soft, what light\")");
        key("Enter");
        String s = await("the lens", x -> x.contains("Logit lens: top token per layer") && x.lastIndexOf("jlens> ") > x.indexOf("Logit lens"),
                Duration.ofSeconds(120));
        // capture-pane -J joins lines the terminal wrapped: a line wider than the pane here is one that wrapped.
        for (String line : s.substring(s.indexOf("jlens> logitLens")).split("\n")) assertTrue(line.stripTrailing().codePointCount(0, line.stripTrailing().length()) <= 90,
                "a line wider than the 90-column terminal:\n" + line + "\nscreen:\n" + s);
    }
}
