package dev.jlens.load;

import static dev.jlens.load.TorchFileWriter.floats;
import static dev.jlens.load.TorchFileWriter.tensor;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.load.TorchFileWriter.Pickler;
import dev.jlens.model.HookedTransformer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile PyTorch files: pickles that ask for code, and sizes that lie. Each must be refused with a
 * message naming what was refused, before anything runs or is allocated.
 */
class TorchSecurityTest {
    @TempDir Path tmp;

    /** A torch.save-shaped file around a pickle written opcode by opcode. */
    private Path file(Consumer<Pickler> body) {
        Pickler p = new Pickler();
        body.accept(p);
        Path f = tmp.resolve("model.pt");
        TorchFileWriter.writeZip(f, "model", p.bytes(), p.storages, false);
        return f;
    }

    private CorruptModelFileException refused(Path f) {
        return assertThrows(CorruptModelFileException.class, () -> TorchFiles.readStateDict(f));
    }

    private static void assertMentions(Exception e, String... parts) {
        for (String part : parts) assertTrue(e.getMessage().contains(part), "expected '" + part + "' in: " + e.getMessage());
    }

    // ---- globals and calls ------------------------------------------------------------------------

    @Test
    void osSystemIsRefusedByNameAndNothingRuns() {
        Path marker = tmp.resolve("pwned");
        // What pickle.dumps writes for os.system("touch <marker>") on Linux.
        Path f = file(p -> p.proto(2).global("posix", "system").mark().str("touch " + marker).op('t').op('R').stop());
        var e = refused(f);
        assertMentions(e, "model.pt", "refused pickle global 'posix.system'", "weights_only=True",
                "if you trust this file, re-save its state_dict with torch.save(model.state_dict(), …)", "safetensors");
        assertFalse(Files.exists(marker));
        // fromPretrained on the file (with a config beside it) refuses the same way.
        var viaLoader = assertThrows(CorruptModelFileException.class, () -> HookedTransformer.fromPretrained(f.toString()));
        assertMentions(viaLoader, "refused pickle global 'posix.system'");
    }

    @Test
    void otherDangerousGlobalsAreRefusedWhicheverOpcodeNamesThem() {
        String[][] globals = {{"builtins", "eval"}, {"subprocess", "Popen"}, {"os", "system"}, {"builtins", "getattr"},
            {"__builtin__", "exec"}, {"torch", "load"}, {"torch.serialization", "load"}, {"numpy.core.multiarray", "_reconstruct"},
            {"collections", "Counter"}, {"torch._utils", "_rebuild_tensor"}};
        for (String[] g : globals) {
            assertMentions(refused(file(p -> p.proto(2).global(g[0], g[1]).mark().str("x").op('t').op('R').stop())),
                    "refused pickle global '" + g[0] + "." + g[1] + "'");
            // protocol 4: STACK_GLOBAL takes module and name from the stack
            assertMentions(refused(file(p -> p.proto(4).shortStr(g[0]).shortStr(g[1]).op(0x93).op(')').op('R').stop())),
                    "refused pickle global '" + g[0] + "." + g[1] + "'");
            // protocol 0: INST names the class inline and calls it with the arguments since the mark
            assertMentions(refused(file(p -> p.mark().str("x").op('i').raw((g[0] + "\n" + g[1] + "\n").getBytes(StandardCharsets.US_ASCII)).stop())),
                    "refused pickle global '" + g[0] + "." + g[1] + "'");
        }
    }

    @Test
    void callingAnAllowedGlobalThatIsNotAFunctionIsRefused() {
        assertMentions(refused(file(p -> p.proto(2).global("torch", "FloatStorage").op(')').op('R').stop())),
                "refused to call pickle global 'torch.FloatStorage'");
        assertMentions(refused(file(p -> p.proto(2).global("torch", "float32").op(')').op('R').stop())),
                "refused to call pickle global 'torch.float32'");
        // REDUCE on something that is no global at all (a string)
        assertMentions(refused(file(p -> p.proto(2).str("posix.system").mark().str("id").op('t').op('R').stop())),
                "refused to call a str");
        // NEWOBJ of an allowed function
        assertMentions(refused(file(p -> p.proto(2).global("torch._utils", "_rebuild_tensor_v2").op(')').op(0x81).stop())),
                "refused to create an instance of global 'torch._utils._rebuild_tensor_v2'");
        // OBJ (protocol 1) with a non-global class
        assertMentions(refused(file(p -> p.mark().str("x").op('o').stop())), "refused to call a str");
    }

    @Test
    void containerOpcodesOnlyTouchPlainContainers() {
        // APPEND/SETITEM/BUILD on other objects would call their methods (append, __setitem__, __setstate__) in Python.
        assertMentions(refused(file(p -> p.proto(2).str("s").str("x").op('a').stop())), "refused pickle opcode APPEND on a str");
        assertMentions(refused(file(p -> p.proto(2).op(']').str("k").str("v").op('s').stop())), "refused pickle opcode SETITEM on a list");
        assertMentions(refused(file(p -> p.proto(2).op(']').op('}').op('b').stop())), "refused to set the state of a list (BUILD)");
        assertMentions(refused(file(p -> p.proto(2).op(0x82).op(1).stop())), "refused pickle opcode EXT1");
        assertMentions(refused(file(p -> p.proto(5).op(0x97).stop())), "refused pickle opcode NEXT_BUFFER");
    }

    @Test
    void persistentIdsOtherThanStoragesAreRefused() {
        assertMentions(refused(file(p -> p.proto(2).mark().str("module").global("torch", "FloatStorage").str("0").str("cpu").integer(1)
                .op('t').op('Q').stop())), "refused persistent id");
        assertMentions(refused(file(p -> p.proto(2).str("anything").op('Q').stop())), "refused persistent id");
    }

    // ---- sizes that lie ---------------------------------------------------------------------------

    @Test
    void lengthsLargerThanThePickleAreRefusedBeforeAllocating() {
        // BINUNICODE declaring 2 GiB, BINBYTES8 declaring 2^62 bytes, LONG4 declaring 1 GiB of digits, in a few-byte pickle.
        assertMentions(refused(file(p -> p.proto(2).op('X').le4(Integer.MAX_VALUE).raw("abc".getBytes(StandardCharsets.US_ASCII)))),
                "declares 2147483647 bytes but only 3 remain");
        assertMentions(refused(file(p -> p.proto(4).op(0x8e).raw(le8(1L << 62)).stop())), "declares " + (1L << 62) + " bytes");
        assertMentions(refused(file(p -> p.proto(2).op(0x8b).le4(1 << 30).stop())), "declares 1073741824 bytes");
        assertMentions(refused(file(p -> p.proto(2).op('h').op(7).stop())), "memo slot 7, which was never PUT");
        assertMentions(refused(file(p -> p.proto(2).op('R').stop())), "pops an empty stack");
        assertMentions(refused(file(p -> p.proto(2).op(0xff))), "unknown opcode 0xff");
        assertMentions(refused(file(p -> p.proto(2).op('N'))), "ends without a STOP");
        // Memo entries are capped (at 2^20, far beyond real state dicts) long before memory runs out.
        assertMentions(refused(file(p -> {
            p.proto(2).op('N');
            for (int i = 0; i <= (1 << 20); i++) p.op('r').le4(i);
            p.stop();
        })), "memo entries");
    }

    @Test
    void deeplyNestedContainersAreAnErrorNotACrash() {
        // A dict keyed by a tuple nested 200,000 deep: hashing it recurses, which must not take the JVM down.
        Path f = file(p -> {
            p.proto(2).op('}').op(')');
            for (int i = 0; i < 200_000; i++) p.op(0x85);
            p.op('N').op('s').stop();
        });
        assertMentions(refused(f), "model.pt", "nests containers too deeply");
    }

    @Test
    void aStorageLargerThanItsEntryIsRefused() {
        Path f = file(p -> {
            p.proto(2);
            // numel 1000 float32 = 4000 bytes, but the entry holds 16
            TorchFileWriter.Storage s = new TorchFileWriter.Storage("0", "FloatStorage", 1000, new byte[16]);
            p.dump(Map.of("w", tensor(s, 1000))).stop();
        });
        assertMentions(refused(f), "declares storage '0' as 1000 F32 elements (4000 bytes) but its entry has only 16 bytes");
    }

    @Test
    void aViewReachingPastItsStorageIsRefusedNamingTheTensor() {
        Path f = file(p -> p.proto(2).dump(Map.of("h.0.w",
                new TorchFileWriter.Tensor(floats("0", 1, 2, 3, 4), 2, new long[] {2, 2}, new long[] {2, 1}))).stop());
        assertMentions(refused(f), "tensor 'h.0.w' reaches element 5 of storage '0', which has 4");
        Path overflow = file(p -> p.proto(2).dump(Map.of("w",
                new TorchFileWriter.Tensor(floats("0", 1, 2), 0, new long[] {Long.MAX_VALUE / 2, 4}, new long[] {4, 1}))).stop());
        assertMentions(refused(overflow), "tensor 'w'", "overflows");
        Path missing = file(p -> p.proto(2).mark().str("storage").global("torch", "FloatStorage").str("9").str("cpu").integer(1)
                .op('t').op('Q').stop());
        assertMentions(refused(missing), "names storage '9', which the archive lacks");
    }

    @Test
    void zipEntriesThatLieAboutTheirSizeAreRefused() throws IOException {
        // A zip bomb: data.pkl declares 64 bytes and inflates to 8 MB.
        Pickler big = new Pickler();
        big.proto(2).op('X').le4(8 << 20).raw(new byte[8 << 20]).stop();
        Path bomb = tmp.resolve("bomb.pt");
        TorchFileWriter.writeZip(bomb, "bomb", big.bytes(), Map.of(), true);
        TorchFileWriter.patchDeclaredSize(bomb, "bomb/data.pkl", 64);
        assertMentions(refused(bomb), "entry 'bomb/data.pkl' inflates past the 64 bytes it declares", "zip bomb");

        // A pickle entry declaring 4 GiB (past the 64 MiB cap for data.pkl) is refused before anything is inflated or allocated.
        TorchFileWriter.patchDeclaredSize(bomb, "bomb/data.pkl", 0xFFFFFFF0L);
        assertMentions(refused(bomb), "declares 4294967280 bytes, more than the");

        // A stored entry declaring more bytes than the file has.
        Path stored = file(p -> p.proto(2).dump(Map.of("w", tensor(floats("0", 1, 2), 2))).stop());
        byte[] all = Files.readAllBytes(stored);
        patchCentral(all, "model/data/0", 20, 1 << 30);
        patchCentral(all, "model/data/0", 24, 1 << 30);
        Files.write(stored, all);
        assertMentions(refused(stored), "zip entry 'model/data/0' declares 1073741824 bytes but the file has only");
    }

    @Test
    void truncatedLegacyAndForeignFilesAreRefusedClearly() throws IOException {
        Path good = file(p -> p.proto(2).dump(Map.of("w", tensor(floats("0", 1, 2), 2))).stop());
        byte[] all = Files.readAllBytes(good);
        Path truncated = tmp.resolve("truncated.pt");
        Files.write(truncated, java.util.Arrays.copyOf(all, all.length - 30));
        assertMentions(refused(truncated), "truncated.pt");

        Path legacy = tmp.resolve("legacy.pt");
        Files.write(legacy, new byte[] {(byte) 0x80, 2, (byte) 0x8a, 10, 0x6c, (byte) 0xfc, (byte) 0x9c, 0x46, (byte) 0xf9, 0x20});
        assertMentions(refused(legacy), "legacy (before 1.6) serialization format", "save it again");
        // also through the model loader, which would otherwise take a non-zip .bin for safetensors
        Path dir = Files.createDirectories(tmp.resolve("legacy-hf"));
        Files.copy(dev.jlens.testing.TestData.file("fixtures/gpt2-tiny/config.json"), dir.resolve("config.json"));
        Files.copy(legacy, dir.resolve("pytorch_model.bin"));
        var viaLoader = assertThrows(CorruptModelFileException.class, () -> HookedTransformer.fromPretrained(dir.toString()));
        assertMentions(viaLoader, "pytorch_model.bin", "legacy (before 1.6)");

        Path text = tmp.resolve("notes.bin");
        Files.writeString(text, "hello");
        assertMentions(refused(text), "is not a torch.save file");

        Path script = tmp.resolve("script.pt");
        try (var zip = new java.util.zip.ZipOutputStream(Files.newOutputStream(script))) {
            zip.putNextEntry(new java.util.zip.ZipEntry("script/constants.pkl"));
            zip.write(new byte[] {(byte) 0x80, 2, ')', '.'});
            zip.closeEntry();
        }
        assertMentions(refused(script), "TorchScript archive");
    }

    private static byte[] le8(long v) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array();
    }

    /** Overwrites a 32-bit field of a named entry's central directory record. */
    private static void patchCentral(byte[] zip, String name, int fieldOffset, int value) {
        ByteBuffer b = ByteBuffer.wrap(zip).order(ByteOrder.LITTLE_ENDIAN);
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i + 46 < zip.length; i++) {
            if (b.getInt(i) == 0x02014b50 && Short.toUnsignedInt(b.getShort(i + 28)) == n.length
                    && java.util.Arrays.equals(java.util.Arrays.copyOfRange(zip, i + 46, i + 46 + n.length), n)) {
                b.putInt(i + fieldOffset, value);
                return;
            }
        }
        throw new IllegalArgumentException(name);
    }
}
