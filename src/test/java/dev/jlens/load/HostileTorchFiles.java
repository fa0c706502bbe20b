package dev.jlens.load;

import dev.jlens.load.TorchFileWriter.Pickler;
import dev.jlens.load.TorchFileWriter.Storage;
import dev.jlens.load.TorchFileWriter.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The small hostile model files of issue 13 (item 2: tiny files that hang or exhaust the machine; item 3:
 * paths that are not regular files), written on demand so that nothing hostile is committed. The tests
 * ({@link TorchSecurityTest}, {@link NonRegularFilesTest}) and the benchmark {@code bench/hostile} use the
 * same files.
 *
 * <p>As a command (what {@code bench/hostile} runs, one fresh JVM per file):
 * {@code write DIR} writes every case into DIR and prints {@code name<TAB>path} per case;
 * {@code load PATH} loads PATH as {@code ./jlens --model PATH} would and prints one line: {@code refused <ms> <message>}
 * (exit 1) or {@code loaded <ms> <model>} (exit 0).
 */
final class HostileTorchFiles {
    private HostileTorchFiles() {}

    /** One hostile case: writes its file (or folder) into a folder and returns the path to load. */
    record Case(String name, String what, Function<Path, Path> write) {}

    /** Levels of the shared graphs: 2^60 paths through 61 objects. */
    static final int LEVELS = 60;

    static List<Case> all() {
        return List.of(
                new Case("list-key", "a dict key that is a shared 60-level list graph (hashing it: 2^60 steps)",
                        dir -> pickleFile(dir, "list-key.pt", p -> sharedGraph(p.proto(2).op('}'), false).op('N').op('s').stop(), false)),
                new Case("set-member", "a frozenset whose member is the same graph",
                        dir -> pickleFile(dir, "set-member.pt", p -> sharedGraph(p.proto(4).mark(), false).op(0x91).stop(), false)),
                new Case("tuple-key", "a dict key that is a shared 60-level tuple graph (hashable in Python, 2^60 steps there too)",
                        dir -> pickleFile(dir, "tuple-key.pt", p -> sharedGraph(p.proto(2).op('}'), true).op('N').op('s').stop(), false)),
                new Case("int-digits", "an INT opcode with 4 MB of digits, deflated",
                        dir -> pickleFile(dir, "int-digits.pt", p -> hugeIntLine(p.proto(2), 4 << 20).stop(), true)),
                new Case("long4-message", "a 30 MB LONG4 as a persistent id, which the refusal renders",
                        dir -> pickleFile(dir, "long4-message.pt", p -> hugeLong4(p.proto(2), 30 << 20).op('Q').stop(), true)),
                new Case("graph-message", "a shared 60-level list graph as a persistent id, which the refusal renders",
                        dir -> pickleFile(dir, "graph-message.pt", p -> sharedGraph(p.proto(2), false).op('Q').stop(), false)),
                new Case("model-args-cycle", "a nanoGPT checkpoint whose model_args['n_layer'] is [model_args]",
                        HostileTorchFiles::modelArgsCycle),
                new Case("stride0-dmlp", "a GPT-2 folder with n_inner 4,194,304 and every tensor a stride-0 view of one float",
                        HostileTorchFiles::strideZeroGpt2),
                new Case("deflated-1.9GB", "a deflated storage entry declaring 1.9 GB",
                        dir -> deflatedStorageDeclaring(dir, 1_900_000_000L)),
                new Case("dict-copies", "OrderedDict(d) 2,000 times over one 65,536-entry dict",
                        dir -> pickleFile(dir, "dict-copies.pt", p -> dictCopies(p.proto(2), 1 << 16, 2000).stop(), true)),
                new Case("opcodes", "20 million NONE/POP opcodes",
                        dir -> pickleFile(dir, "opcodes.pt", p -> noneAndPop(p.proto(2), 10_000_000).op('N').stop(), true)),
                new Case("fifo", "config.json and model.safetensors beside it, the weights a FIFO (named pipe)",
                        HostileTorchFiles::fifoModel),
                new Case("dev-zero", "model.safetensors a symbolic link to /dev/zero",
                        dir -> deviceModel(dir, Path.of("/dev/zero"))),
                new Case("symlink-loop", "a model path that is a symbolic link to itself",
                        HostileTorchFiles::symlinkLoop));
    }

    // ---- pickles ----------------------------------------------------------------------------------

    /** A torch.save-shaped file around a raw pickle (no storages). */
    static Path pickleFile(Path dir, String name, java.util.function.Consumer<Pickler> body, boolean deflate) {
        Pickler p = new Pickler();
        body.accept(p);
        Path f = dir.resolve(name);
        TorchFileWriter.writeZip(f, name.replace(".pt", ""), p.bytes(), p.storages, deflate);
        return f;
    }

    /**
     * Pushes a graph of {@link #LEVELS} levels where each level is a list (or tuple) holding the level below
     * twice: 61 objects, 2^60 paths from the top. Memo slots 0..LEVELS are used.
     */
    static Pickler sharedGraph(Pickler p, boolean tuples) {
        p.op(tuples ? ')' : ']').op('q').op(0).op('0');
        for (int k = 1; k <= LEVELS; k++) {
            if (tuples) p.op('h').op(k - 1).op('h').op(k - 1).op(0x86);          // TUPLE2
            else p.op(']').mark().op('h').op(k - 1).op('h').op(k - 1).op('e');   // EMPTY_LIST, APPENDS
            p.op('q').op(k).op('0');
        }
        return p.op('h').op(LEVELS);
    }

    /** INT with {@code digits} decimal digits: Java's BigInteger parses those in quadratic time. */
    static Pickler hugeIntLine(Pickler p, int digits) {
        byte[] line = new byte[digits + 1];
        Arrays.fill(line, (byte) '7');
        line[digits] = '\n';
        return p.op('I').raw(line);
    }

    /** LONG4 of {@code bytes} bytes (not a power of ten, so printing it is real work). */
    static Pickler hugeLong4(Pickler p, int bytes) {
        byte[] v = new byte[bytes];
        Arrays.fill(v, (byte) 0x55);
        return p.op(0x8b).le4(bytes).raw(v);
    }

    /** A dict of {@code entries} ints, then {@code copies} × OrderedDict(that dict), each popped. */
    static Pickler dictCopies(Pickler p, int entries, int copies) {
        p.op('}').op('q').op(0).mark();
        for (int i = 0; i < entries; i++) p.integer(100_000 + i).op('N');
        p.op('u').op('0');
        p.global("collections", "OrderedDict").op('q').op(1).op('0');
        for (int i = 0; i < copies; i++) p.op('h').op(1).op('h').op(0).op(0x85).op('R').op('0');   // OrderedDict((d,)), popped
        return p.op('N');
    }

    static Pickler noneAndPop(Pickler p, int pairs) {
        byte[] ops = new byte[2 * pairs];
        for (int i = 0; i < ops.length; i += 2) {
            ops[i] = 'N';
            ops[i + 1] = '0';
        }
        return p.raw(ops);
    }

    // ---- checkpoints ------------------------------------------------------------------------------

    /** nanoGPT's layout, {'model': {'w': tensor}, 'model_args': args} with args['n_layer'] = [args]. */
    static Path modelArgsCycle(Path dir) {
        Path out = mkdirs(dir.resolve("model-args-cycle"));
        return pickleFile(out, "ckpt.pt", p -> {
            p.proto(2).op('}').mark();
            p.str("model").dump(Map.of("w", TorchFileWriter.tensor(TorchFileWriter.floats("0", 1, 2), 2)));
            p.str("model_args").op('}').op('q').op(200)
                    .mark().str("n_layer").op(']').mark().op('h').op(200).op('e').op('u');
            p.op('u').stop();
        }, false);
    }

    /**
     * A Hugging Face GPT-2 folder (d_model 128, one layer, d_mlp 4,194,304) whose weights are all stride-0
     * views of a one-float storage: a few KB that expand to gigabytes when each view is copied out.
     */
    static Path strideZeroGpt2(Path dir) {
        Path out = mkdirs(dir.resolve("stride0-dmlp"));
        int d = 128, vocab = 50257, ctx = 128, mlp = 4_194_304;
        Storage one = TorchFileWriter.floats("0", 0.5f);
        Map<String, Object> sd = new LinkedHashMap<>();
        sd.put("wte.weight", zeroStride(one, vocab, d));
        sd.put("wpe.weight", zeroStride(one, ctx, d));
        String h = "h.0.";
        sd.put(h + "ln_1.weight", zeroStride(one, d));
        sd.put(h + "ln_1.bias", zeroStride(one, d));
        sd.put(h + "attn.c_attn.weight", zeroStride(one, d, 3 * d));
        sd.put(h + "attn.c_attn.bias", zeroStride(one, 3 * d));
        sd.put(h + "attn.c_proj.weight", zeroStride(one, d, d));
        sd.put(h + "attn.c_proj.bias", zeroStride(one, d));
        sd.put(h + "ln_2.weight", zeroStride(one, d));
        sd.put(h + "ln_2.bias", zeroStride(one, d));
        sd.put(h + "mlp.c_fc.weight", zeroStride(one, d, mlp));
        sd.put(h + "mlp.c_fc.bias", zeroStride(one, mlp));
        sd.put(h + "mlp.c_proj.weight", zeroStride(one, mlp, d));
        sd.put(h + "mlp.c_proj.bias", zeroStride(one, d));
        sd.put("ln_f.weight", zeroStride(one, d));
        sd.put("ln_f.bias", zeroStride(one, d));
        TorchFileWriter.save(out.resolve("pytorch_model.bin"), new TorchFileWriter.OrderedDict(sd));
        write(out.resolve("config.json"), "{\"model_type\": \"gpt2\", \"n_embd\": " + d + ", \"n_head\": 4, \"n_layer\": 1,"
                + " \"n_positions\": " + ctx + ", \"vocab_size\": " + vocab + ", \"n_inner\": " + mlp + "}");
        Path tokenizer = Path.of("src/test/data/fixtures/gpt2-tiny");
        for (String f : List.of("vocab.json", "merges.txt")) {
            try {
                if (Files.exists(tokenizer.resolve(f))) Files.copy(tokenizer.resolve(f), out.resolve(f));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return out;
    }

    static Tensor zeroStride(Storage s, long... shape) {
        return new Tensor(s, 0, shape, new long[shape.length]);
    }

    /** A state dict {'w': 4 floats} whose storage entry is deflated and declares {@code declared} bytes. */
    static Path deflatedStorageDeclaring(Path dir, long declared) {
        Pickler p = new Pickler();
        Storage s = new Storage("0", "FloatStorage", declared / 4, new byte[16]);
        p.proto(2).dump(Map.of("w", TorchFileWriter.tensor(s, 4))).stop();
        Path f = dir.resolve("deflated-storage.pt");
        TorchFileWriter.writeZip(f, "deflated-storage", p.bytes(), p.storages, true);
        try {
            TorchFileWriter.patchDeclaredSize(f, "deflated-storage/data/0", declared);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return f;
    }

    // ---- paths that are not regular files -----------------------------------------------------------

    /** Whether {@code mkfifo} can make a FIFO here (it cannot on some file systems and platforms). */
    static boolean mkfifo(Path p) {
        try {
            Process proc = new ProcessBuilder("mkfifo", p.toString()).redirectErrorStream(true).start();
            return proc.waitFor() == 0 && Files.exists(p);
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** A GPT-2-tiny folder (config.json) whose model.safetensors is a FIFO; null where no FIFO can be made. */
    static Path fifoModel(Path dir) {
        Path out = mkdirs(dir.resolve("fifo"));
        copyConfig(out);
        return mkfifo(out.resolve("model.safetensors")) ? out : null;
    }

    /** A GPT-2-tiny folder whose model.safetensors is a symbolic link to a device. */
    static Path deviceModel(Path dir, Path device) {
        Path out = mkdirs(dir.resolve("device"));
        copyConfig(out);
        try {
            Files.createSymbolicLink(out.resolve("model.safetensors"), device);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    static Path symlinkLoop(Path dir) {
        Path loop = dir.resolve("loop");
        try {
            Files.createSymbolicLink(loop, loop.getFileName());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return loop;
    }

    private static void copyConfig(Path dir) {
        write(dir.resolve("config.json"), "{\"model_type\": \"gpt2\", \"n_embd\": 64, \"n_head\": 4, \"n_layer\": 2,"
                + " \"n_positions\": 128, \"vocab_size\": 50257}");
    }

    private static Path mkdirs(Path dir) {
        try {
            return Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void write(Path file, String text) {
        try {
            Files.writeString(file, text, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ---- the command bench/hostile runs ------------------------------------------------------------

    public static void main(String[] args) throws IOException {
        if (args.length == 2 && args[0].equals("write")) {
            Path dir = Files.createDirectories(Path.of(args[1]));
            for (Case c : all()) {
                Path p = c.write().apply(Files.createDirectories(dir.resolve(c.name())));
                if (p != null) System.out.println(c.name() + "\t" + p + "\t" + c.what());
                else System.err.println(c.name() + ": skipped (this system cannot make it)");
            }
            return;
        }
        if (args.length == 2 && args[0].equals("load")) {
            long start = System.nanoTime();
            try {
                var model = ModelLoader.load(args[1]);
                System.out.println("loaded " + (System.nanoTime() - start) / 1_000_000 + " " + model);
            } catch (Throwable t) {   // the point is to see what escapes, Errors included
                String m = String.valueOf(t.getMessage());
                System.out.println("refused " + (System.nanoTime() - start) / 1_000_000 + " " + t.getClass().getSimpleName() + ": "
                        + (m.length() > 2000 ? m.substring(0, 2000) + "… (" + m.length() + " chars)" : m));
                System.exit(1);
            }
            return;
        }
        System.err.println("usage: HostileTorchFiles write DIR | load PATH");
        System.exit(2);
    }
}
