package dev.jlens.load;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * A pickle interpreter (protocols 0 to 5) that never imports or calls anything itself: every global
 * a pickle names, every call ({@code REDUCE}, {@code NEWOBJ}, {@code INST}, {@code OBJ}), every
 * {@code BUILD} and every persistent id goes to a {@link Policy}, which either answers with a plain
 * Java value or refuses. Opcodes that reach Python machinery no policy could vet (the extension
 * registry, out-of-band buffers) are refused outright.
 *
 * <p>Python values become: {@code None} → null, bool → {@link Boolean}, int → {@link Long} (or
 * {@link BigInteger} when it does not fit), float → {@link Double}, str → {@link String}, bytes →
 * {@link Bytes}, tuple → {@link Tuple}, list → {@link ArrayList}, dict → {@link LinkedHashMap} (in
 * insertion order, like Python), set → {@link LinkedHashSet}. Whatever the policy returns for globals
 * and calls is kept as it is.
 *
 * <p>Every length in the stream is checked against the bytes that remain before anything is
 * allocated, so a pickle that declares a 4 GiB string in a 100-byte file is refused, not obeyed. And
 * since a few KB of pickle can describe exponentially much (memo references share values across levels,
 * {@code OrderedDict(d)} copies d), what a pickle may make us do is budgeted, each limit far beyond any
 * state dict or training checkpoint: {@link #MAX_OPCODES} opcodes, {@link #MAX_INT_DIGITS} digits per
 * number, {@link #MAX_DEPTH} levels of nested tuples, {@link #MAX_MEMO} memo entries and
 * {@link #MAX_MATERIALISED} bytes of values built in all. Dict keys and set members must be hashable as
 * in Python (no lists, dicts or sets) and small ({@link #MAX_KEY_VALUES}), so hashing is cheap; values
 * are rendered into messages only through {@link #render}, which stops at a length.
 */
final class Unpickler {
    /**
     * A Python tuple. Its hash, its size counted with nested tuples expanded, its nesting depth and
     * whether Python could hash it are fixed when it is made (tuples are immutable): a tuple that shares
     * its items across levels stands for exponentially many values, and neither hashing nor comparing
     * may walk them.
     */
    static final class Tuple {
        private final List<Object> items;
        private final int hash;
        /** Values it stands for, nested tuples expanded, saturating at {@link Long#MAX_VALUE}. */
        final long weight;
        final int depth;
        /** False when it holds (at any depth) a list, dict or set, which Python cannot hash. */
        final boolean hashable;

        Tuple(List<Object> items) {
            // Not List.copyOf: tuples hold None, and that rejects nulls.
            this.items = Collections.unmodifiableList(new ArrayList<>(items));
            long w = 1;
            int d = 0, h = 1;
            boolean ok = true;
            for (Object o : this.items) {
                if (o instanceof Tuple t) {
                    w = w > Long.MAX_VALUE - t.weight ? Long.MAX_VALUE : w + t.weight;
                    d = Math.max(d, t.depth);
                    ok &= t.hashable;
                    h = 31 * h + t.hash;
                } else {
                    w = w == Long.MAX_VALUE ? w : w + 1;
                    ok &= !(o instanceof List || o instanceof Map || o instanceof Set);
                    h = 31 * h + (ok ? Objects.hashCode(o) : 0);
                }
            }
            this.weight = w;
            this.depth = d + 1;
            this.hashable = ok;
            this.hash = h;
        }

        List<Object> items() {
            return items;
        }

        Object get(int i) {
            return items.get(i);
        }

        int size() {
            return items.size();
        }

        @Override
        public boolean equals(Object o) {
            return o == this || o instanceof Tuple t && t.hash == hash && t.weight == weight && t.items.equals(items);
        }

        @Override
        public int hashCode() {
            return hash;
        }

        @Override
        public String toString() {
            return render(this, 200);
        }
    }

    /** Python {@code bytes}. */
    record Bytes(byte[] data) {
        @Override
        public String toString() {
            return "b<" + data.length + " bytes>";
        }
    }

    /** What the unpickler asks before it creates anything that is not a plain value. */
    interface Policy {
        /** The value a {@code GLOBAL module name} stands for; throws to refuse. */
        Object global(String module, String name);

        /** Calls an object that {@link #global} returned ({@code REDUCE}, {@code INST}, {@code OBJ}); throws to refuse. */
        Object call(Object callable, List<Object> args);

        /** {@code cls.__new__(cls, *args)} for {@code NEWOBJ}; throws to refuse. */
        Object newObject(Object cls, List<Object> args);

        /** Applies {@code BUILD}'s state to an object and returns it; throws to refuse. */
        Object build(Object instance, Object state);

        /** Resolves a persistent id ({@code BINPERSID}); throws to refuse. */
        Object persistentLoad(Object pid);
    }

    /** A pickle the unpickler will not run, or cannot parse; the message is the problem, without the file. */
    static final class Refused extends RuntimeException {
        final String remedy;

        Refused(String problem, String remedy) {
            super(problem);
            this.remedy = remedy;
        }
    }

    private static final int HIGHEST_PROTOCOL = 5;
    /** Real state dicts memoise a few entries per tensor; this bounds what a crafted pickle can make us hold. */
    static final int MAX_MEMO = 1 << 20;
    /**
     * A state dict runs about 40 opcodes per tensor (charlm-tiny's model.pt: 84 tensors, 3,401 opcodes), so
     * GPT-2 XL's some 28,000; a training checkpoint with optimizer state, a few times that.
     */
    static final int MAX_OPCODES = 1 << 24;
    /** Python's own limit on the digits of an int it parses from text ({@code sys.get_int_max_str_digits()}). */
    static final int MAX_INT_DIGITS = 4300;
    /** The bytes of a binary int (LONG1, LONG4) that hold as much as {@link #MAX_INT_DIGITS} digits. */
    static final int MAX_INT_BYTES = 1786;
    /** Tuples nest a level or two in checkpoints (shapes, Adam's betas). */
    static final int MAX_DEPTH = 100;
    /** Values in one dict key or set member, nested tuples expanded: keys are names and numbers in practice. */
    static final int MAX_KEY_VALUES = 1000;
    /**
     * Values built in all, estimated in bytes (strings and bytes at their length, each stack or container slot
     * as a reference, each dict entry as a hash-map node): a state dict pickle builds a few hundred KB.
     */
    static final long MAX_MATERIALISED = 64L << 20;
    private static final int SLOT = 8, ENTRY = 48, OBJECT = 32;

    private final byte[] in;
    private int pos;
    private final Policy policy;
    private final ArrayList<Object> stack = new ArrayList<>();
    private final IntStack marks = new IntStack();
    private final Map<Long, Object> memo = new HashMap<>();
    private long opcodes, materialised;

    private Unpickler(byte[] in, Policy policy) {
        this.in = in;
        this.policy = policy;
    }

    /**
     * Runs a pickle and returns the object it builds.
     *
     * @param file  for messages
     * @param entry what part of the file the pickle is, for messages ({@code archive/data.pkl})
     * @throws CorruptModelFileException when the policy refuses something or the pickle is malformed
     */
    static Object load(byte[] pickle, Policy policy, Path file, String entry) {
        Unpickler u = new Unpickler(pickle, policy);
        try {
            return u.run();
        } catch (Refused e) {
            throw new CorruptModelFileException(file, null, e.getMessage(), e.remedy, e);
        } catch (StackOverflowError e) {
            throw new CorruptModelFileException(file, entry + " nests containers too deeply to be a state dict",
                    "the file is corrupt or crafted; do not use it");
        } catch (OutOfMemoryError e) {
            throw CorruptModelFileException.of(file, e);
        } catch (RuntimeException e) {
            if (e instanceof CorruptModelFileException) throw e;
            throw new CorruptModelFileException(file, null, entry + " is a malformed pickle at byte " + u.pos + " ("
                    + e.getClass().getSimpleName() + ": " + abbreviate(String.valueOf(e.getMessage())) + ")",
                    "the file is corrupt; re-download or re-save it", e);
        }
    }

    private static Refused malformed(String what) {
        return new Refused("malformed pickle: " + what, "the file is corrupt or truncated; re-download or re-save it");
    }

    private static Refused beyondBudget(String what) {
        return new Refused("refused pickle: " + what + " (far beyond any state dict or checkpoint)",
                "the file is corrupt or crafted; do not use it");
    }

    /** Counts {@code bytes} more of built values against {@link #MAX_MATERIALISED}, before they are built. */
    private void charge(long bytes) {
        materialised += bytes;
        if (materialised > MAX_MATERIALISED) {
            throw beyondBudget("it would build more than " + (MAX_MATERIALISED >> 20) + " MB of values");
        }
    }

    /** Charges for a value just made (a call's result, a new container) and returns it. */
    private Object made(Object o) {
        charge(cost(o));
        return o;
    }

    /** A shallow estimate of a value's memory, never walking into it. */
    private static long cost(Object o) {
        if (o instanceof String s) return OBJECT + 2L * s.length();
        if (o instanceof Bytes b) return OBJECT + b.data().length;
        if (o instanceof Tuple t) return OBJECT + (long) SLOT * t.size();
        if (o instanceof List<?> l) return OBJECT + (long) SLOT * l.size();
        if (o instanceof Map<?, ?> m) return OBJECT + (long) ENTRY * m.size();
        if (o instanceof Set<?> st) return OBJECT + (long) ENTRY * st.size();
        if (o instanceof BigInteger b) return OBJECT + b.bitLength() / 8;
        if (o instanceof TorchPickle.TensorRef t) return OBJECT + 16L * t.rank();
        return OBJECT;
    }

    /**
     * Refuses what Python would refuse as a dict key or set member (lists, dicts, sets, and tuples holding them)
     * and tuples standing for more than {@link #MAX_KEY_VALUES} values, so hashing and comparing keys stays cheap.
     */
    static void requireKey(Object key) {
        String type = key instanceof List ? "list" : key instanceof Map ? "dict" : key instanceof Set ? "set" : null;
        if (type == null && key instanceof Tuple t && !t.hashable) type = "list";   // the tuple holds a list, dict or set
        if (type != null) {
            throw new Refused("refused a dict key or set member that is " + (key instanceof Tuple ? "a tuple holding a " + type
                    : "a " + type) + " (unhashable type: '" + type + "', as Python says)", "the file is corrupt or crafted; do not use it");
        }
        if (key instanceof Tuple t && t.weight > MAX_KEY_VALUES) {
            throw beyondBudget("a dict key or set member is a tuple of more than " + MAX_KEY_VALUES + " values (nested tuples counted in full)");
        }
    }

    private Object run() {
        while (true) {
            if (pos >= in.length) throw malformed("it ends without a STOP opcode");
            if (++opcodes > MAX_OPCODES) throw beyondBudget("it runs more than " + MAX_OPCODES + " opcodes");
            int at = pos;
            int op = in[pos++] & 0xFF;
            switch (op) {
                case 0x80 -> { // PROTO
                    int v = u1();
                    if (v > HIGHEST_PROTOCOL) throw malformed("protocol " + v + " is newer than 5 (byte " + at + ")");
                }
                case 0x95 -> { // FRAME: a length hint for buffered readers; the bytes follow inline
                    long n = u8();
                    if (n > remaining()) throw malformed("a frame of " + n + " bytes runs past the end");
                }
                case '.' -> { // STOP
                    return pop();
                }
                case '(' -> marks.push(stack.size());
                case '0' -> { // POP (or, at a mark, drop the mark)
                    if (!marks.isEmpty() && marks.peek() == stack.size()) marks.pop();
                    else pop();
                }
                case '1' -> popMark(); // POP_MARK
                case '2' -> push(peek()); // DUP
                case 'N' -> push(null);
                case 0x88 -> push(Boolean.TRUE);
                case 0x89 -> push(Boolean.FALSE);
                case 'I' -> push(parseIntLine(line()));
                case 'J' -> push((long) s4());
                case 'K' -> push((long) u1());
                case 'M' -> push((long) u2());
                case 'L' -> push(parseLongLine(line()));
                case 0x8a -> push(twosComplement(bytes(u1())));
                case 0x8b -> push(twosComplement(bytes(intLength(lengthS4()))));
                case 'F' -> push(parseFloat(line()));
                case 'G' -> push(ByteBuffer.wrap(bytes(8)).order(ByteOrder.BIG_ENDIAN).getDouble());
                case 'S' -> push(unquote(line()));
                case 'T' -> push(new String(bytes(lengthS4()), StandardCharsets.ISO_8859_1));
                case 'U' -> push(new String(bytes(u1()), StandardCharsets.ISO_8859_1));
                case 'V' -> push(rawUnicodeEscape(line()));
                case 'X' -> push(utf8(bytes(lengthU4())));
                case 0x8c -> push(utf8(bytes(u1())));
                case 0x8d -> push(utf8(bytes(length8())));
                case 'B' -> push(new Bytes(bytes(lengthU4())));
                case 'C' -> push(new Bytes(bytes(u1())));
                case 0x8e, 0x96 -> push(new Bytes(bytes(length8()))); // BINBYTES8, BYTEARRAY8
                case ')' -> push(tuple(List.of()));
                case 0x85 -> push(tupleOf(1));
                case 0x86 -> push(tupleOf(2));
                case 0x87 -> push(tupleOf(3));
                case 't' -> push(tuple(popMark()));
                case ']' -> push(made(new ArrayList<>()));
                case 'l' -> push(made(new ArrayList<>(popMark())));
                case '}' -> push(made(new LinkedHashMap<>()));
                case 'd' -> push(putPairs(made(new LinkedHashMap<>()), popMark()));
                case 0x8f -> push(made(new LinkedHashSet<>()));
                case 0x91 -> push(addAll(made(new LinkedHashSet<>()), popMark())); // FROZENSET
                case 'a' -> { // APPEND
                    Object v = pop();
                    charge(SLOT);
                    target(List.class, "APPEND").add(v);
                }
                case 'e' -> { // APPENDS
                    List<Object> items = popMark();
                    charge((long) SLOT * items.size());
                    target(List.class, "APPENDS").addAll(items);
                }
                case 's' -> { // SETITEM
                    Object v = pop(), k = pop();
                    requireKey(k);
                    charge(ENTRY);
                    target(Map.class, "SETITEM").put(k, v);
                }
                case 'u' -> { // SETITEMS
                    List<Object> items = popMark();
                    putPairs(target(Map.class, "SETITEMS"), items);
                }
                case 0x90 -> { // ADDITEMS
                    List<Object> items = popMark();
                    addAll(target(Set.class, "ADDITEMS"), items);
                }
                case 'g' -> push(memoGet(parseLong(line(), "GET")));
                case 'h' -> push(memoGet(u1()));
                case 'j' -> push(memoGet(Integer.toUnsignedLong(s4())));
                case 'p' -> memoPut(parseLong(line(), "PUT"));
                case 'q' -> memoPut(u1());
                case 'r' -> memoPut(Integer.toUnsignedLong(s4()));
                case 0x94 -> memoPut(memo.size()); // MEMOIZE
                case 'c' -> { // GLOBAL
                    String module = line(), name = line();
                    push(policy.global(module, name));
                }
                case 0x93 -> { // STACK_GLOBAL
                    Object name = pop(), module = pop();
                    if (!(module instanceof String m) || !(name instanceof String n)) throw malformed("STACK_GLOBAL needs two strings");
                    push(policy.global(m, n));
                }
                case 'R' -> { // REDUCE
                    Object args = pop(), callable = pop();
                    if (!(args instanceof Tuple t)) throw malformed("REDUCE arguments are not a tuple");
                    push(made(policy.call(callable, t.items())));
                }
                case 0x81 -> { // NEWOBJ
                    Object args = pop(), cls = pop();
                    if (!(args instanceof Tuple t)) throw malformed("NEWOBJ arguments are not a tuple");
                    push(made(policy.newObject(cls, t.items())));
                }
                case 0x92 -> { // NEWOBJ_EX
                    Object kwargs = pop(), args = pop(), cls = pop();
                    if (!(args instanceof Tuple t) || !(kwargs instanceof Map<?, ?> kw)) throw malformed("NEWOBJ_EX needs a tuple and a dict");
                    if (!kw.isEmpty()) throw new Refused("refused NEWOBJ_EX with keyword arguments " + render(kw.keySet(), 120), TorchPickle.REMEDY);
                    push(made(policy.newObject(cls, t.items())));
                }
                case 'i' -> { // INST: module and name inline, arguments since the mark
                    String module = line(), name = line();
                    Object cls = policy.global(module, name);
                    push(made(policy.call(cls, popMark())));
                }
                case 'o' -> { // OBJ: class and arguments since the mark
                    List<Object> items = popMark();
                    if (items.isEmpty()) throw malformed("OBJ without a class");
                    push(made(policy.call(items.get(0), items.subList(1, items.size()))));
                }
                case 'b' -> { // BUILD
                    Object state = pop();
                    Object inst = pop();
                    push(policy.build(inst, state));
                }
                case 'Q' -> push(made(policy.persistentLoad(pop()))); // BINPERSID
                case 'P' -> push(made(policy.persistentLoad(line()))); // PERSID
                case 0x82, 0x83, 0x84 -> throw new Refused("refused pickle opcode EXT" + (op == 0x82 ? 1 : op == 0x83 ? 2 : 4)
                        + " (byte " + at + "): the extension registry can name any Python object", TorchPickle.REMEDY);
                case 0x97 -> throw new Refused("refused pickle opcode NEXT_BUFFER (byte " + at + "): out-of-band buffers are not part of a saved file",
                        TorchPickle.REMEDY);
                case 0x98 -> { } // READONLY_BUFFER: marks the buffer on top read-only; nothing to do
                default -> throw malformed("unknown opcode 0x" + Integer.toHexString(op) + " at byte " + at);
            }
        }
    }

    // ---- the stack ------------------------------------------------------------------------------

    private void push(Object o) {
        charge(SLOT);
        stack.add(o);
    }

    private Object pop() {
        int floor = marks.isEmpty() ? 0 : marks.peek();
        if (stack.size() <= floor) throw malformed("an opcode pops an empty stack");
        return stack.remove(stack.size() - 1);
    }

    private Object peek() {
        int floor = marks.isEmpty() ? 0 : marks.peek();
        if (stack.size() <= floor) throw malformed("an opcode reads an empty stack");
        return stack.get(stack.size() - 1);
    }

    private List<Object> popMark() {
        if (marks.isEmpty()) throw malformed("an opcode needs a MARK that is not there");
        int from = marks.pop();
        List<Object> sub = stack.subList(from, stack.size());
        List<Object> items = new ArrayList<>(sub);
        sub.clear();
        return items;
    }

    private Tuple tupleOf(int n) {
        Object[] items = new Object[n];
        for (int i = n - 1; i >= 0; i--) items[i] = pop();
        return tuple(Arrays.asList(items));
    }

    private Tuple tuple(List<Object> items) {
        charge(OBJECT + (long) SLOT * items.size());
        Tuple t = new Tuple(items);
        if (t.depth > MAX_DEPTH) {
            throw new Refused("the pickle nests containers too deeply to be a state dict (tuples more than " + MAX_DEPTH + " levels deep)",
                    "the file is corrupt or crafted; do not use it");
        }
        return t;
    }

    /** The container an APPEND/SETITEM/ADDITEMS works on: only Python's own list, dict and set, never an object's method. */
    @SuppressWarnings("unchecked")
    private <T> T target(Class<T> kind, String opcode) {
        Object t = peek();
        if (!kind.isInstance(t)) {
            throw new Refused("refused pickle opcode " + opcode + " on " + describe(t) + ": only lists, dicts and sets take it",
                    TorchPickle.REMEDY);
        }
        return (T) t;
    }

    @SuppressWarnings("unchecked")
    private Map<Object, Object> putPairs(Object target, List<Object> items) {
        Map<Object, Object> map = (Map<Object, Object>) target;
        if (items.size() % 2 != 0) throw malformed("a dict has an odd number of keys and values");
        charge((long) ENTRY * items.size() / 2);
        for (int i = 0; i < items.size(); i += 2) {
            requireKey(items.get(i));
            map.put(items.get(i), items.get(i + 1));
        }
        return map;
    }

    @SuppressWarnings("unchecked")
    private Set<Object> addAll(Object target, List<Object> items) {
        Set<Object> set = (Set<Object>) target;
        charge((long) ENTRY * items.size());
        for (Object o : items) {
            requireKey(o);
            set.add(o);
        }
        return set;
    }

    private void memoPut(long index) {
        Object top = peek();
        if (memo.size() >= MAX_MEMO && !memo.containsKey(index)) {
            throw malformed("more than " + MAX_MEMO + " memo entries, far beyond any state dict");
        }
        charge(ENTRY);
        memo.put(index, top);
    }

    private Object memoGet(long index) {
        if (!memo.containsKey(index)) throw malformed("GET of memo slot " + index + ", which was never PUT");
        return memo.get(index);
    }

    /** A value as a Python user would name it, for messages; never recurses into containers. */
    static String describe(Object o) {
        if (o == null) return "None";
        if (o instanceof TorchPickle.Global g) return "global '" + g.qualifiedName() + "'";
        if (o instanceof String) return "a str";
        if (o instanceof Boolean) return "a bool";
        if (o instanceof Long || o instanceof BigInteger) return "an int";
        if (o instanceof Double) return "a float";
        if (o instanceof Bytes) return "a bytes object";
        if (o instanceof Tuple) return "a tuple";
        if (o instanceof List) return "a list";
        if (o instanceof Map) return "a dict";
        if (o instanceof Set) return "a set";
        if (o instanceof TorchPickle.TensorRef) return "a tensor";
        if (o instanceof TorchPickle.StorageRef) return "a storage";
        return "a " + o.getClass().getSimpleName();
    }

    // ---- reading the stream ---------------------------------------------------------------------

    private long remaining() {
        return in.length - pos;
    }

    private byte[] bytes(long n) {
        if (n < 0 || n > remaining()) {
            throw malformed("a value declares " + n + " bytes but only " + remaining() + " remain in the pickle");
        }
        charge(OBJECT + n);
        byte[] b = Arrays.copyOfRange(in, pos, pos + (int) n);
        pos += (int) n;
        return b;
    }

    private int u1() {
        if (remaining() < 1) throw malformed("it ends inside an opcode");
        return in[pos++] & 0xFF;
    }

    private int u2() {
        return u1() | u1() << 8;
    }

    private int s4() {
        return u1() | u1() << 8 | u1() << 16 | u1() << 24;
    }

    private long u8() {
        long lo = Integer.toUnsignedLong(s4()), hi = Integer.toUnsignedLong(s4());
        return lo | hi << 32;
    }

    private long lengthS4() {
        int n = s4();
        if (n < 0) throw malformed("a negative length " + n);
        return n;
    }

    private long lengthU4() {
        return Integer.toUnsignedLong(s4());
    }

    /** A LONG4's byte count, refused past {@link #MAX_INT_BYTES} before anything is read (past the pickle's end, by {@link #bytes}). */
    private long intLength(long n) {
        if (n > MAX_INT_BYTES && n <= remaining()) {
            throw beyondBudget("an integer of " + n + " bytes (LONG4), more than the " + MAX_INT_BYTES + " that hold the "
                    + MAX_INT_DIGITS + " digits Python itself parses");
        }
        return n;
    }

    private long length8() {
        long n = u8();
        if (n < 0) throw malformed("a length beyond 2^63");
        return n;
    }

    /** A protocol-0 argument: the bytes up to the next newline, as latin-1 (they are ASCII in practice). */
    private String line() {
        for (int i = pos; i < in.length; i++) {
            if (in[i] == '\n') {
                String s = new String(in, pos, i - pos, StandardCharsets.ISO_8859_1);
                pos = i + 1;
                return s;
            }
        }
        throw malformed("a text argument runs past the end without a newline");
    }

    private static String utf8(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    private static Object twosComplement(byte[] littleEndian) {
        if (littleEndian.length == 0) return 0L;
        byte[] big = new byte[littleEndian.length];
        for (int i = 0; i < big.length; i++) big[i] = littleEndian[big.length - 1 - i];
        return normalize(new BigInteger(big));
    }

    private static Object normalize(BigInteger v) {
        return v.bitLength() < 64 ? (Object) v.longValue() : v;
    }

    private static Object parseIntLine(String s) {
        if (s.equals("00")) return Boolean.FALSE;
        if (s.equals("01")) return Boolean.TRUE;
        return parseLongLine(s);
    }

    private static Object parseLongLine(String s) {
        String digits = s.endsWith("L") ? s.substring(0, s.length() - 1) : s;
        // BigInteger parses text in quadratic time: count first, as Python does.
        if (digits.length() > MAX_INT_DIGITS + 2) {   // a sign and surrounding spaces aside
            throw beyondBudget("an integer of " + digits.length() + " digits, more than the " + MAX_INT_DIGITS + " Python itself parses");
        }
        try {
            return normalize(new BigInteger(digits.strip()));
        } catch (NumberFormatException e) {
            throw malformed("'" + abbreviate(s) + "' is not an integer");
        }
    }

    private static long parseLong(String s, String opcode) {
        try {
            return Long.parseLong(s.strip());
        } catch (NumberFormatException e) {
            throw malformed(opcode + " with index '" + abbreviate(s) + "'");
        }
    }

    private static double parseFloat(String s) {
        switch (s.strip()) {
            case "inf": return Double.POSITIVE_INFINITY;
            case "-inf": return Double.NEGATIVE_INFINITY;
            case "nan": return Double.NaN;
            default:
                try {
                    return Double.parseDouble(s.strip());
                } catch (NumberFormatException e) {
                    throw malformed("'" + abbreviate(s) + "' is not a float");
                }
        }
    }

    /** Protocol 0's STRING argument: a Python 2 repr, quoted, with backslash escapes. */
    private static String unquote(String s) {
        if (s.length() < 2 || s.charAt(0) != s.charAt(s.length() - 1) || (s.charAt(0) != '\'' && s.charAt(0) != '"')) {
            throw malformed("STRING argument " + abbreviate(s) + " is not quoted");
        }
        String body = s.substring(1, s.length() - 1);
        StringBuilder out = new StringBuilder(body.length());
        for (int i = 0; i < body.length(); i++) {
            char c = body.charAt(i);
            if (c != '\\' || i + 1 == body.length()) {
                out.append(c);
                continue;
            }
            char e = body.charAt(++i);
            switch (e) {
                case 'n' -> out.append('\n');
                case 't' -> out.append('\t');
                case 'r' -> out.append('\r');
                case 'x' -> {
                    if (i + 3 > body.length()) throw malformed("a \\x escape is cut off");
                    out.append((char) Integer.parseInt(body.substring(i + 1, i + 3), 16));
                    i += 2;
                }
                default -> out.append(e);
            }
        }
        return out.toString();
    }

    /** Protocol 0's UNICODE argument: latin-1 with {@code \\uXXXX} and {@code \\UXXXXXXXX} escapes. */
    private static String rawUnicodeEscape(String s) {
        StringBuilder out = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 1 < s.length() && (s.charAt(i + 1) == 'u' || s.charAt(i + 1) == 'U')) {
                int digits = s.charAt(i + 1) == 'u' ? 4 : 8;
                if (i + 2 + digits > s.length()) throw malformed("a unicode escape is cut off");
                out.appendCodePoint(Integer.parseInt(s.substring(i + 2, i + 2 + digits), 16));
                i += 1 + digits;
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    private static String abbreviate(String s) {
        return s.length() <= 40 ? s : s.substring(0, 40) + "…";
    }

    /** How deep {@link #render} looks into containers. */
    private static final int RENDER_DEPTH = 6;

    /**
     * A value as Python would print it, cut at about {@code maxChars} characters: the only way a value from
     * a pickle goes into a message. It looks {@value #RENDER_DEPTH} levels deep at most and stops as soon as
     * the text is long enough, so shared or cyclic containers and huge strings and numbers cost no more than
     * the text they give.
     */
    static String render(Object o, int maxChars) {
        StringBuilder sb = new StringBuilder();
        render(o, sb, maxChars, 0);
        return sb.length() <= maxChars ? sb.toString() : sb.substring(0, maxChars) + "…";
    }

    private static void render(Object o, StringBuilder sb, int max, int depth) {
        if (sb.length() > max) return;
        if (o == null) sb.append("None");
        else if (o instanceof Boolean b) sb.append(b ? "True" : "False");
        else if (o instanceof String s) sb.append('\'').append(s, 0, Math.min(s.length(), max - sb.length() + 1)).append('\'');
        else if (o instanceof BigInteger b && b.bitLength() > 4 * max) sb.append("<an int of ").append(b.bitLength()).append(" bits>");
        else if (o instanceof Number || o instanceof Bytes || o instanceof TorchPickle.Global) sb.append(o);
        else if (o instanceof TorchPickle.TensorRef t) sb.append(t);
        else if (o instanceof TorchPickle.StorageRef s) sb.append("storage ").append(render(s.key(), 40));
        else if (o instanceof Tuple t) items(t.items(), "(", t.size() == 1 ? ",)" : ")", sb, max, depth);
        else if (o instanceof List<?> l) items(l, "[", "]", sb, max, depth);
        else if (o instanceof Set<?> st) items(st, st.isEmpty() ? "set(" : "{", st.isEmpty() ? ")" : "}", sb, max, depth);
        else if (o instanceof Map<?, ?> m) {
            if (depth >= RENDER_DEPTH && !m.isEmpty()) {
                sb.append("{…}");
                return;
            }
            sb.append('{');
            String sep = "";
            for (var e : m.entrySet()) {
                if (sb.length() > max) break;
                sb.append(sep);
                render(e.getKey(), sb, max, depth + 1);
                sb.append(": ");
                render(e.getValue(), sb, max, depth + 1);
                sep = ", ";
            }
            sb.append('}');
        } else sb.append(describe(o));
    }

    private static void items(Iterable<?> items, String open, String close, StringBuilder sb, int max, int depth) {
        boolean empty = !items.iterator().hasNext();
        if (depth >= RENDER_DEPTH && !empty) {
            sb.append(open).append('…').append(close);
            return;
        }
        sb.append(open);
        String sep = "";
        for (Object o : items) {
            if (sb.length() > max) break;
            sb.append(sep);
            render(o, sb, max, depth + 1);
            sep = ", ";
        }
        sb.append(close);
    }

    /** A growable int stack for the marks. */
    private static final class IntStack {
        private int[] items = new int[16];
        private int size;

        void push(int v) {
            if (size == items.length) items = Arrays.copyOf(items, size * 2);
            items[size++] = v;
        }

        int pop() {
            return items[--size];
        }

        int peek() {
            return items[size - 1];
        }

        boolean isEmpty() {
            return size == 0;
        }
    }
}
