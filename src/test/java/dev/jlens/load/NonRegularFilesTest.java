package dev.jlens.load;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.Timeout.ThreadMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * Model paths that are not regular files (issue 13, item 3): opening a FIFO for reading blocks until a
 * writer comes, and a device reads forever, so each is refused by what it is before it is opened; a
 * symbolic link is followed, and a loop or a dangling link says so.
 *
 * <p>The {@code @Timeout}s are guards, not timing assertions: code that opens the FIFO blocks forever.
 */
class NonRegularFilesTest {
    @TempDir Path tmp;

    private static void assertMentions(Exception e, String... parts) {
        for (String part : parts) assertTrue(e.getMessage().contains(part), "expected '" + part + "' in: " + e.getMessage());
    }

    private static Path fifoOrSkip(Path p) {
        assumeTrue(HostileTorchFiles.mkfifo(p), "mkfifo cannot make a FIFO here");
        return p;
    }

    @Test
    @Timeout(value = 30, threadMode = ThreadMode.SEPARATE_THREAD)
    void aFifoIsRefusedWhereverAModelFileIsOpened() throws IOException {
        Path folder = HostileTorchFiles.fifoModel(tmp);
        assumeTrue(folder != null, "mkfifo cannot make a FIFO here");
        Path weights = folder.resolve("model.safetensors");
        // The folder (weights found by name), the weights file itself, and each reader on its own.
        assertMentions(assertThrows(IllegalArgumentException.class, () -> ModelLoader.load(folder)),
                weights.toString(), "is a FIFO (named pipe), not a regular file");
        assertMentions(assertThrows(IllegalArgumentException.class, () -> ModelLoader.load(weights)), "is a FIFO");
        assertMentions(assertThrows(java.io.UncheckedIOException.class, () -> SafeTensors.open(weights)), "is a FIFO");
        assertMentions(assertThrows(IllegalArgumentException.class, () -> TorchFiles.readStateDict(weights)), "is a FIFO");

        // config.json as a FIFO beside real weights.
        Path dir = Files.createDirectories(tmp.resolve("fifo-config"));
        Files.copy(dev.jlens.testing.TestData.file("fixtures/gpt2-tiny/model.safetensors"), dir.resolve("model.safetensors"));
        fifoOrSkip(dir.resolve("config.json"));
        assertMentions(assertThrows(IllegalArgumentException.class, () -> ModelLoader.load(dir)),
                "config.json", "is a FIFO");

        // nanoGPT's meta.pkl beside a ckpt.pt is opened too.
        Path nano = Files.createDirectories(tmp.resolve("nano"));
        fifoOrSkip(nano.resolve("meta.pkl"));
        var e = assertThrows(RuntimeException.class, () -> NanoGptLoader.charTokenizer(nano.resolve("meta.pkl")));
        assertMentions(e, "meta.pkl", "is a FIFO");
    }

    @Test
    @Timeout(value = 30, threadMode = ThreadMode.SEPARATE_THREAD)
    void aDeviceBehindASymbolicLinkIsRefused() {
        assumeTrue(Files.exists(Path.of("/dev/zero")), "no /dev/zero here");
        Path folder = HostileTorchFiles.deviceModel(tmp, Path.of("/dev/zero"));
        assertMentions(assertThrows(IllegalArgumentException.class, () -> ModelLoader.load(folder)),
                "model.safetensors", "is a character device, not a regular file");
        assertMentions(assertThrows(IllegalArgumentException.class, () -> TorchFiles.readStateDict(Path.of("/dev/zero"))),
                "/dev/zero", "is a character device");
    }

    @Test
    void aSymbolicLinkLoopOrDanglingLinkSaysSo() throws IOException {
        Path loop = HostileTorchFiles.symlinkLoop(tmp);
        assertMentions(assertThrows(IllegalArgumentException.class, () -> ModelLoader.load(loop.toString())),
                loop.toString(), "symbolic link", "loop");
        Path dangling = Files.createSymbolicLink(tmp.resolve("gone"), tmp.resolve("nowhere"));
        assertMentions(assertThrows(IllegalArgumentException.class, () -> ModelLoader.load(dangling.toString())),
                dangling.toString(), "symbolic link to", "nowhere", "does not exist");
        // A weights file in a model folder that is a link loop is named as such, not as "no weights".
        Path dir = Files.createDirectories(tmp.resolve("looped"));
        Files.copy(dev.jlens.testing.TestData.file("fixtures/gpt2-tiny/config.json"), dir.resolve("config.json"));
        Files.createSymbolicLink(dir.resolve("model.safetensors"), Path.of("model.safetensors"));
        assertMentions(assertThrows(IllegalArgumentException.class, () -> ModelLoader.load(dir)),
                "model.safetensors", "symbolic link", "loop");
    }
}
