package dev.jlens.load;

import static dev.jlens.load.TorchFileWriter.floats;
import static dev.jlens.load.TorchFileWriter.tensor;
import static org.junit.jupiter.api.Assertions.assertEquals;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.Timeout.ThreadMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile PyTorch files: pickles that ask for code, sizes that lie, and tiny files that would take
 * exponential time or gigabytes (issue 13, {@link HostileTorchFiles}). Each must be refused with a
 * message naming what was refused, before anything runs or is allocated.
 *
 * <p>The {@code @Timeout}s are guards, not timing assertions: on code without the budgets these tests
 * hash or print 2^60-step graphs, and a guard makes them fail instead of hanging the build.
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

        // A pickle entry declaring 4 GiB (past the 64 MiB cap for data.pkl, and past what its compressed bytes can
        // hold) is refused before anything is inflated or allocated.
        TorchFileWriter.patchDeclaredSize(bomb, "bomb/data.pkl", 0xFFFFFFF0L);
        assertMentions(refused(bomb), "'bomb/data.pkl' declares 4294967280 bytes");

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

    // ---- tiny files that would hang or exhaust the machine (issue 13) -------------------------------

    private Path hostile(String name) {
        for (HostileTorchFiles.Case c : HostileTorchFiles.all()) {
            if (c.name().equals(name)) return c.write().apply(tmp);
        }
        throw new IllegalArgumentException(name);
    }

    /** A message a person can read: every value in it rendered short, whatever the file put there. */
    private static void assertShort(Exception e) {
        assertTrue(e.getMessage().length() < 1000, "a message of " + e.getMessage().length() + " chars: "
                + e.getMessage().substring(0, Math.min(300, e.getMessage().length())));
    }

    @Test
    @Timeout(value = 30, threadMode = ThreadMode.SEPARATE_THREAD)
    void unhashableKeysAreRefusedAsPythonRefusesThem() {
        // Python: TypeError: unhashable type: 'list'. Hashing this 60-level shared graph would take 2^60 steps.
        assertMentions(refused(hostile("list-key")), "list-key.pt", "unhashable type: 'list'");
        assertMentions(refused(hostile("set-member")), "unhashable type: 'list'");
        assertMentions(refused(file(p -> HostileTorchFiles.sharedGraph(p.proto(4).op(0x8f).mark(), false).op(0x90).stop())),
                "unhashable type: 'list'");                                    // EMPTY_SET + ADDITEMS
        assertMentions(refused(file(p -> HostileTorchFiles.sharedGraph(p.proto(2).global("builtins", "set").op(']').mark(), false)
                .op('e').op(0x85).op('R').stop())), "unhashable type: 'list'"); // set([graph])
        assertMentions(refused(file(p -> HostileTorchFiles.sharedGraph(p.proto(2).global("collections", "OrderedDict").op(']').mark(), false)
                .op('N').op(0x86).op('e').op(0x85).op('R').stop())), "unhashable type: 'list'"); // OrderedDict([(graph, None)])
        assertMentions(refused(file(p -> p.proto(2).op('}').op('}').op('N').op('s').stop())), "unhashable type: 'dict'");
        assertMentions(refused(file(p -> p.proto(2).mark().mark().op(']').op('N').op('t').op('N').op('d').stop())),
                "unhashable type: 'list'");                                    // a tuple holding a list, as a DICT key
        // Tuples are hashable, but a key standing for 2^61 values is not a key a checkpoint has.
        assertMentions(refused(hostile("tuple-key")), "tuple-key.pt", "dict key", "more than");
        // Small tuple keys, as checkpoints do have, still read.
        Path fine = file(p -> p.proto(2).dump(Map.of("model", Map.of("w", tensor(floats("0", 1, 2), 2)),
                "extra", Map.of(TorchFileWriter.Tuple.of(1L, "a", TorchFileWriter.Tuple.of(2L)), 3L))).stop());
        assertEquals(List.of("w"), List.copyOf(TorchFiles.readStateDict(fine).keySet()));
    }

    @Test
    @Timeout(value = 30, threadMode = ThreadMode.SEPARATE_THREAD)
    void hugeIntegersAreRefusedWithoutParsingOrPrintingThem() {
        // 4 MB of digits: BigInteger parses them in quadratic time. Python refuses more than 4300 (int_max_str_digits).
        assertMentions(refused(hostile("int-digits")), "int-digits.pt", "4194304 digits", "4300");
        // 30 MB LONG4 as a persistent id: the refusal would print all 72 million digits.
        var long4 = refused(hostile("long4-message"));
        assertMentions(long4, "long4-message.pt", "31457280 bytes");
        assertShort(long4);
        // Python's own limit still reads: an int of 4300 digits in a checkpoint.
        Path fine = file(p -> HostileTorchFiles.hugeIntLine(p.proto(2).op('}').mark().str("model")
                .dump(Map.of("w", tensor(floats("0", 1, 2), 2))).str("n"), 4300).op('u').stop());
        assertEquals(1, TorchFiles.readStateDict(fine).size());
    }

    @Test
    @Timeout(value = 30, threadMode = ThreadMode.SEPARATE_THREAD)
    void valuesRenderedIntoMessagesAreTruncated() {
        // A 60-level shared list graph as a persistent id: printed in full it is 2^60 brackets.
        var graph = refused(hostile("graph-message"));
        assertMentions(graph, "graph-message.pt", "refused persistent id [[[[");
        assertShort(graph);
        // A tensor name of a million characters in a refusal about that tensor.
        String longName = "h." + "x".repeat(1 << 20);
        var name = refused(file(p -> p.proto(2).dump(Map.of(longName,
                new TorchFileWriter.Tensor(floats("0", 1, 2, 3, 4), 2, new long[] {2, 2}, new long[] {2, 1}))).stop()));
        assertMentions(name, "tensor 'h.xxx", "reaches element 5 of storage '0'");
        assertShort(name);
        // A checkpoint without a state dict, its keys each 100,000 characters long.
        Map<String, Object> keys = new LinkedHashMap<>();
        for (int i = 0; i < 12; i++) keys.put(i + "y".repeat(100_000), (long) i);
        var noStateDict = refused(file(p -> p.proto(2).dump(keys).stop()));
        assertMentions(noStateDict, "holds no state dict");
        assertShort(noStateDict);
        // A storage key of a million characters the archive lacks.
        var storage = refused(file(p -> p.proto(2).mark().str("storage").global("torch", "FloatStorage").str("k".repeat(1 << 20))
                .str("cpu").integer(1).op('t').op('Q').stop()));
        assertMentions(storage, "names storage 'kkk");
        assertShort(storage);
    }

    @Test
    @Timeout(value = 30, threadMode = ThreadMode.SEPARATE_THREAD)
    void aModelArgsCycleIsAClearRefusalNotAStackOverflow() {
        // model_args['n_layer'] = [model_args]: printing it recursed until StackOverflowError, shown as "…: null".
        Path ckpt = hostile("model-args-cycle");
        var e = assertThrows(CorruptModelFileException.class, () -> ModelLoader.load(ckpt));
        assertMentions(e, "ckpt.pt", "model_args: 'n_layer' is [{", "a positive integer");
        assertShort(e);
    }

    @Test
    void viewsWithMoreElementsThanTheirStorageAreRefused() {
        // A stride-0 view declaring 4,194,304 elements of a one-float storage: copied out, 16 MB from 4 bytes
        // (the GPT-2 folder of HostileTorchFiles makes 4.7 GB of such views).
        var zero = refused(file(p -> p.proto(2).dump(Map.of("w", HostileTorchFiles.zeroStride(floats("0", 1), 4_194_304))).stop()));
        assertMentions(zero, "tensor 'w'", "4194304 elements", "storage '0' holds 1", "contiguous()");
        // Rows overlapping in a storage too small for them: 9 elements out of 4.
        var overlap = refused(file(p -> p.proto(2).dump(Map.of("w",
                new TorchFileWriter.Tensor(floats("0", 1, 2, 3, 4), 0, new long[] {3, 3}, new long[] {1, 1}))).stop()));
        assertMentions(overlap, "tensor 'w'", "9 elements", "storage '0' holds 4");
        // Where the storage really holds the data, such views read as PyTorch shows them: an expanded row
        // (position_ids in Hugging Face checkpoints are arange(n).expand(1, -1)) and overlapping windows.
        Map<String, Object> sd = new LinkedHashMap<>();
        TorchFileWriter.Storage s = floats("0", 1, 2, 3, 4);
        sd.put("expanded", new TorchFileWriter.Tensor(s, 0, new long[] {1, 4}, new long[] {0, 1}));
        sd.put("windows", new TorchFileWriter.Tensor(s, 0, new long[] {2, 2}, new long[] {1, 1}));
        Path ok = tmp.resolve("views.pt");
        TorchFileWriter.save(ok, sd);
        var t = TorchFiles.readStateDict(ok);
        assertEquals(org.nd4j.linalg.factory.Nd4j.createFromArray(new float[][] {{1, 2, 3, 4}}), t.get("expanded"));
        assertEquals(org.nd4j.linalg.factory.Nd4j.createFromArray(new float[][] {{1, 2}, {2, 3}}), t.get("windows"));
    }

    @Test
    void viewsThatOverlapOneStorageAgainAndAgainAreRefused() {
        // One real 1 MB storage under 12 names at different offsets: each view is copied out, 12 MB from 1 MB;
        // with a model's worth of names (nanoGPT's n_layer comes from the pickle) it would be any number of GB.
        int n = 1 << 18;
        TorchFileWriter.Storage s = floats("0", new float[n]);
        Map<String, Object> sd = new LinkedHashMap<>();
        for (int i = 0; i < 12; i++) sd.put("h." + i + ".w", new TorchFileWriter.Tensor(s, i, new long[] {n - 12}, new long[] {1}));
        Path f = tmp.resolve("overlaps.pt");
        TorchFileWriter.save(f, sd);
        assertMentions(refused(f), "overlaps.pt", "tensor 'h.", "its view overlaps others again and again");
    }

    @Test
    void aDeflatedEntryDeclaringMoreThanItsBytesCanHoldIsRefusedBeforeAllocating() {
        // 1.9 GB declared over a few dozen compressed bytes: deflate expands at most 1032-fold.
        var e = refused(hostile("deflated-1.9GB"));
        assertMentions(e, "deflated-storage.pt", "'deflated-storage/data/0' declares 1900000000 bytes", "compressed bytes");
    }

    @Test
    @Timeout(value = 120, threadMode = ThreadMode.SEPARATE_THREAD)
    void whatAPickleMayBuildAndRunIsBudgeted() {
        // OrderedDict(d) copies d: 2,000 copies of a 65,536-entry dict from a 400 KB pickle.
        assertMentions(refused(hostile("dict-copies")), "dict-copies.pt", "more than 64 MB");
        // 20 million opcodes that build nothing.
        assertMentions(refused(hostile("opcodes")), "opcodes.pt", "more than 16777216 opcodes");
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
