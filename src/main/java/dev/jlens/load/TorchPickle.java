package dev.jlens.load;

import dev.jlens.load.Unpickler.Bytes;
import dev.jlens.load.Unpickler.Refused;
import dev.jlens.load.Unpickler.Tuple;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What a {@code torch.save} pickle may ask for, and nothing more: the rule set of
 * {@code torch.load(weights_only=True)}, narrowed to what state dicts and training checkpoints hold.
 *
 * <p>Allowed globals: {@code collections.OrderedDict}, {@code torch._utils._rebuild_tensor_v2},
 * {@code torch._utils._rebuild_parameter} (and {@code _with_state}), the storage types
 * ({@code torch.FloatStorage}, {@code HalfStorage}, {@code BFloat16Storage}, {@code DoubleStorage},
 * {@code LongStorage}, {@code IntStorage}, {@code ShortStorage}, {@code CharStorage},
 * {@code ByteStorage}, {@code BoolStorage}) as persistent-id tags only, the torch dtypes as plain
 * values, {@code torch.Size}, {@code torch.device}, {@code _codecs.encode} (how protocol 2 spells a
 * bytes object) and {@code set}/{@code frozenset} (from {@code builtins} or, as protocol 2 names it,
 * {@code __builtin__}). Anything else is refused when the pickle
 * names it, before anything could be called. Tensors are not read here: a {@link TensorRef} says where
 * the bytes are, and only the tensors a loader asks for are ever decoded.
 */
final class TorchPickle implements Unpickler.Policy {
    static final String WHY = "jlens loads only tensors and state dicts (like torch.load(weights_only=True))";
    static final String REMEDY = "if you trust this file, re-save its state_dict with torch.save(model.state_dict(), …)"
            + " or convert it to safetensors";

    /** What an allowed global is for. */
    enum Role { ORDERED_DICT, REBUILD_TENSOR_V2, REBUILD_PARAMETER, REBUILD_PARAMETER_WITH_STATE, SIZE, DEVICE,
        CODECS_ENCODE, SET, STORAGE_TYPE, DTYPE }

    /** An allowed global, as the pickle named it. {@code dtype} is set for storage types. */
    record Global(String module, String name, Role role, DType dtype) {
        String qualifiedName() {
            return module + "." + name;
        }

        @Override
        public String toString() {
            return qualifiedName();
        }
    }

    /** A storage in the archive: {@code archive/data/<key>}, {@code numel} elements of {@code dtype}. */
    record StorageRef(String key, DType dtype, String location, long numel) {}

    /**
     * A tensor as {@code _rebuild_tensor_v2} describes it: a strided view of a storage. Not yet read.
     *
     * @param offset element offset into the storage
     */
    record TensorRef(StorageRef storage, long offset, long[] shape, long[] stride) {
        TensorRef {
            shape = shape.clone();
            stride = stride.clone();
        }

        @Override
        public long[] shape() {
            return shape.clone();
        }

        @Override
        public long[] stride() {
            return stride.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof TensorRef t && storage.equals(t.storage) && offset == t.offset
                    && Arrays.equals(shape, t.shape) && Arrays.equals(stride, t.stride);
        }

        @Override
        public int hashCode() {
            return Objects.hash(storage, offset, Arrays.hashCode(shape), Arrays.hashCode(stride));
        }

        int rank() {
            return shape.length;
        }

        @Override
        public String toString() {
            return "tensor" + Arrays.toString(shape) + " " + storage.dtype() + " of storage " + Unpickler.render(storage.key(), 40);
        }
    }

    /** Looks a storage up in the archive and checks it is there and large enough. */
    interface Storages {
        StorageRef find(String key, DType dtype, String location, long numel);
    }

    /** Far beyond any weight; bounds what one tensor's description costs to check and print. */
    static final int MAX_RANK = 64;

    private static final Map<String, Global> ALLOWED = new HashMap<>();

    static {
        allow("collections", "OrderedDict", Role.ORDERED_DICT, null);
        allow("torch._utils", "_rebuild_tensor_v2", Role.REBUILD_TENSOR_V2, null);
        allow("torch._utils", "_rebuild_parameter", Role.REBUILD_PARAMETER, null);
        allow("torch._utils", "_rebuild_parameter_with_state", Role.REBUILD_PARAMETER_WITH_STATE, null);
        allow("torch", "Size", Role.SIZE, null);
        allow("torch", "device", Role.DEVICE, null);
        allow("_codecs", "encode", Role.CODECS_ENCODE, null);
        for (String builtins : List.of("builtins", "__builtin__")) {   // protocol 2 writes Python 2's module name
            allow(builtins, "set", Role.SET, null);
            allow(builtins, "frozenset", Role.SET, null);
        }
        Object[][] storages = {{"FloatStorage", DType.F32}, {"HalfStorage", DType.F16}, {"BFloat16Storage", DType.BF16},
            {"DoubleStorage", DType.F64}, {"LongStorage", DType.I64}, {"IntStorage", DType.I32}, {"ShortStorage", DType.I16},
            {"CharStorage", DType.I8}, {"ByteStorage", DType.U8}, {"BoolStorage", DType.BOOL}};
        for (Object[] s : storages) allow("torch", (String) s[0], Role.STORAGE_TYPE, (DType) s[1]);
        for (String d : List.of("float32", "float", "float16", "half", "bfloat16", "float64", "double", "int64", "long",
                "int32", "int", "int16", "short", "int8", "uint8", "bool")) {
            allow("torch", d, Role.DTYPE, null);
        }
    }

    private static void allow(String module, String name, Role role, DType dtype) {
        ALLOWED.put(module + "." + name, new Global(module, name, role, dtype));
    }

    private final Storages storages;

    TorchPickle(Storages storages) {
        this.storages = storages;
    }

    @Override
    public Object global(String module, String name) {
        Global g = ALLOWED.get(module + "." + name);
        if (g == null) throw new Refused("refused pickle global " + Unpickler.render(module + "." + name, 120) + ": " + WHY, REMEDY);
        return g;
    }

    @Override
    public Object call(Object callable, List<Object> args) {
        if (!(callable instanceof Global g)) {
            throw new Refused("refused to call " + Unpickler.describe(callable) + " from the pickle: " + WHY, REMEDY);
        }
        return switch (g.role()) {
            case ORDERED_DICT -> orderedDict(args);
            case REBUILD_TENSOR_V2 -> rebuildTensor(args);
            case REBUILD_PARAMETER, REBUILD_PARAMETER_WITH_STATE -> {
                // (data, requires_grad, backward_hooks[, state]): a Parameter is its data for reading weights.
                if (args.isEmpty() || !(args.get(0) instanceof TensorRef t)) throw malformedCall(g, args);
                yield t;
            }
            case SIZE -> args.size() == 1 && args.get(0) instanceof Tuple t ? t : throwing(malformedCall(g, args));
            case DEVICE -> args.isEmpty() || !(args.get(0) instanceof String s) ? throwing(malformedCall(g, args))
                    : args.size() > 1 ? s + ":" + args.get(1) : s;
            case CODECS_ENCODE -> codecsEncode(g, args);
            case SET -> args.isEmpty() ? new LinkedHashSet<>()
                    : args.get(0) instanceof List<?> items ? setOf(items) : throwing(malformedCall(g, args));
            case STORAGE_TYPE, DTYPE -> throw new Refused("refused to call pickle global '" + g.qualifiedName()
                    + "', which a state dict only names: " + WHY, REMEDY);
        };
    }

    @Override
    public Object newObject(Object cls, List<Object> args) {
        if (cls instanceof Global g && g.role() == Role.ORDERED_DICT) return new LinkedHashMap<>();
        if (cls instanceof Global g && g.role() == Role.SET) return new LinkedHashSet<>();
        throw new Refused("refused to create an instance of " + Unpickler.describe(cls) + " (NEWOBJ): " + WHY, REMEDY);
    }

    @Override
    public Object build(Object instance, Object state) {
        // torch sets attributes this way: an OrderedDict's _metadata (module versions), a tensor's extra state.
        // Neither matters for reading weights, and nothing is called to apply them.
        if (instance instanceof Map<?, ?> || instance instanceof TensorRef) return instance;
        throw new Refused("refused to set the state of " + Unpickler.describe(instance) + " (BUILD): " + WHY, REMEDY);
    }

    @Override
    public Object persistentLoad(Object pid) {
        // torch.save's persistent id: ('storage', storage_type, key, location, numel).
        if (pid instanceof Tuple t && t.size() == 5 && "storage".equals(t.get(0))
                && t.get(1) instanceof Global g && g.role() == Role.STORAGE_TYPE
                && t.get(2) instanceof String key && t.get(3) instanceof String location
                && t.get(4) instanceof Long numel && numel >= 0) {
            return storages.find(key, g.dtype(), location, numel);
        }
        throw new Refused("refused persistent id " + abbreviate(pid) + ": jlens reads only torch.save's"
                + " ('storage', <type>, key, location, numel) storages", REMEDY);
    }

    private static Map<Object, Object> orderedDict(List<Object> args) {
        Map<Object, Object> map = new LinkedHashMap<>();
        if (args.isEmpty()) return map;
        if (args.size() == 1 && args.get(0) instanceof Map<?, ?> m) {
            map.putAll(m);
            return map;
        }
        if (args.size() == 1 && args.get(0) instanceof List<?> pairs) {
            for (Object p : pairs) {
                List<?> kv = p instanceof Tuple t ? t.items() : p instanceof List<?> l ? l : null;
                if (kv == null || kv.size() != 2) throw new Refused("malformed pickle: OrderedDict item " + abbreviate(p) + " is not a pair", REMEDY);
                Unpickler.requireKey(kv.get(0));
                map.put(kv.get(0), kv.get(1));
            }
            return map;
        }
        throw new Refused("malformed pickle: OrderedDict called with " + abbreviate(args), REMEDY);
    }

    /** {@code set(items)}: Python's rules for set members. */
    private static LinkedHashSet<Object> setOf(List<?> items) {
        LinkedHashSet<Object> set = new LinkedHashSet<>();
        for (Object o : items) {
            Unpickler.requireKey(o);
            set.add(o);
        }
        return set;
    }

    /** {@code _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])}. */
    private static TensorRef rebuildTensor(List<Object> args) {
        if (args.size() < 4 || args.size() > 7 || !(args.get(0) instanceof StorageRef storage)
                || !(args.get(1) instanceof Long offset) || !(args.get(2) instanceof Tuple size) || !(args.get(3) instanceof Tuple stride)) {
            throw new Refused("malformed pickle: _rebuild_tensor_v2 called with " + abbreviate(args),
                    "the file is corrupt or was not written by torch.save; re-save it");
        }
        if (size.size() > MAX_RANK || stride.size() != size.size()) {
            throw new Refused("malformed pickle: a tensor has size " + abbreviate(size) + " (" + size.size() + " dimensions) but stride "
                    + abbreviate(stride) + " (" + stride.size() + ")" + (size.size() > MAX_RANK ? "; jlens reads at most " + MAX_RANK
                    + " dimensions" : ""), "the file is corrupt or crafted; re-save it with torch.save");
        }
        long[] shape = longs(size, "size"), strides = longs(stride, "stride");
        return new TensorRef(storage, offset, shape, strides);
    }

    private static long[] longs(Tuple t, String what) {
        long[] out = new long[t.size()];
        for (int i = 0; i < out.length; i++) {
            if (!(t.get(i) instanceof Long v)) throw new Refused("malformed pickle: tensor " + what + " " + abbreviate(t) + " is not integers", "the file is corrupt; re-save it");
            out[i] = v;
        }
        return out;
    }

    /** {@code _codecs.encode(text, 'latin1')}: how protocol 2 writes Python 3 bytes. */
    private static Bytes codecsEncode(Global g, List<Object> args) {
        if (args.size() == 2 && args.get(0) instanceof String text && args.get(1) instanceof String enc
                && (enc.equalsIgnoreCase("latin1") || enc.equalsIgnoreCase("latin-1"))) {
            return new Bytes(text.getBytes(StandardCharsets.ISO_8859_1));
        }
        throw malformedCall(g, args);
    }

    private static Refused malformedCall(Global g, List<Object> args) {
        return new Refused("malformed pickle: " + g.qualifiedName() + " called with " + abbreviate(args),
                "the file is corrupt or was not written by torch.save; re-save it");
    }

    private static <T> T throwing(Refused r) {
        throw r;
    }

    private static String abbreviate(Object o) {
        return Unpickler.render(o, 120);
    }
}
