package dev.jlens.model;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import dev.jlens.cache.CacheSpec;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * One run's view of the hook points: which user hooks fire where, what gets recorded, and which
 * arrays the forward pass may free early because nobody outside it has seen them.
 */
final class HookContext {
    private final Map<String, List<HookFn>> hooks;
    private final CacheSpec record;
    private final Map<String, INDArray> recorded = new LinkedHashMap<>();
    // Arrays a hook or the cache has seen: the user may hold them, so they are never freed here.
    private final Set<INDArray> escaped = Collections.newSetFromMap(new IdentityHashMap<>());
    private final Set<INDArray> kept = Collections.newSetFromMap(new IdentityHashMap<>());
    // Arrays this run allocated whose memory only views in the cache reach (qkv behind hook_q/k/v).
    private final List<INDArray> ownersOfKept = new ArrayList<>();

    /**
     * @param hooks  hook name → functions, in the order given
     * @param record what to record in the cache; {@code null} records nothing
     */
    HookContext(Map<String, List<HookFn>> hooks, CacheSpec record) {
        this(hooks, record, null, Map.of());
    }

    /** @param splices hook point → the module spliced in there */
    HookContext(Map<String, List<HookFn>> hooks, CacheSpec record, Map<String, Splice> splices) {
        this(hooks, record, null, splices);
    }

    private HookContext(Map<String, List<HookFn>> hooks, CacheSpec record, KvCache kv, Map<String, Splice> splices) {
        this.hooks = hooks;
        this.record = record;
        this.kv = kv;
        this.splices = splices;
    }

    private final Map<String, Splice> splices;

    /** A generation step: no hooks, nothing recorded; the tokens continue those {@code kv} holds. */
    static HookContext generating(KvCache kv) {
        return new HookContext(Map.of(), null, kv, Map.of());
    }

    private final KvCache kv;

    /** The key/value cache of a generation step, or null for a run of whole prompts. */
    KvCache kv() {
        return kv;
    }

    /** The absolute position of the first token of this run: 0, or the tokens a generation's cache holds. */
    int start() {
        return kv == null ? 0 : kv.length();
    }

    static HookContext plain() {
        return new HookContext(Map.of(), null);
    }

    /** Whether anything outside the forward pass wants this activation (for opt-in hook points). */
    boolean wants(String name) {
        return hooks.containsKey(name) || splices.containsKey(name) || (record != null && record.names().test(name));
    }

    /** Whether a user hook (not only the cache) is attached here: it may read, change or replace the activation. */
    boolean hooked(String name) {
        return hooks.containsKey(name) || splices.containsKey(name);
    }

    /** Whether the cache keeps this activation in bfloat16 (a kernel may then write it so directly). */
    boolean recordsInBf16(String name) {
        return record != null && record.patternsInBf16() && name.endsWith(".attn.hook_pattern") && record.names().test(name);
    }

    /** Passes an activation through its hook point: user hooks in order, then the cache. */
    INDArray at(String name, int layer, INDArray activation) {
        INDArray act = activation;
        List<HookFn> fns = hooks.get(name);
        if (fns != null) {
            HookPoint point = new HookPoint(name, layer);
            for (HookFn fn : fns) {
                escaped.add(act);
                INDArray replaced = fn.apply(act, point);
                if (replaced != null && replaced != act) {
                    if (!Arrays.equals(replaced.shape(), act.shape())) {
                        throw new IllegalStateException("the hook on " + name + " returned shape "
                                + Arrays.toString(replaced.shape()) + " but the activation has shape "
                                + Arrays.toString(act.shape()) + ": a replacement must have the same shape");
                    }
                    act = replaced;
                }
            }
            escaped.add(act);
        }
        if (record != null && record.names().test(name)) {
            boolean shrink = record.patternsInBf16() && name.endsWith(".attn.hook_pattern")
                    && act.dataType() != DataType.BFLOAT16;
            INDArray kept = shrink ? act.castTo(DataType.BFLOAT16) : act;
            recorded.put(name, kept);
            this.kept.add(kept);
            escaped.add(kept);
            if (!shrink) escaped.add(act);
        }
        Splice splice = splices.get(name);
        if (splice != null) {
            INDArray in = act;
            act = splice.apply(in, new Splice.Points() {
                @Override
                public INDArray at(String point, INDArray value) {
                    return HookContext.this.at(name + "." + point, layer, value);
                }

                @Override
                public boolean hooked(String point) {
                    return hooks.containsKey(name + "." + point);
                }
            });
            if (!Arrays.equals(act.shape(), in.shape())) {
                throw new IllegalStateException("the module spliced in at " + name + " returned shape " + Arrays.toString(act.shape())
                        + " for an activation of shape " + Arrays.toString(in.shape()));
            }
            escaped.add(act);
        }
        return act;
    }

    Map<String, INDArray> recorded() {
        return recorded;
    }

    /**
     * Arrays this run allocated that the cache reaches only through views (the q/k/v projection
     * behind {@code hook_q}, {@code hook_k}, {@code hook_v}): closing the cache frees them, where
     * closing a view cannot. Left to the garbage collector, their memory comes back as fresh pages
     * on the next run, at several microseconds per 4 KiB page fault.
     */
    List<INDArray> ownersOfRecordedViews() {
        return ownersOfKept;
    }

    /** The buffers of every array a hook or the cache has seen (views lead to their owner's): never freed by the arena. */
    Set<org.nd4j.linalg.api.buffer.DataBuffer> escapedOwners() {
        Set<org.nd4j.linalg.api.buffer.DataBuffer> owners = Collections.newSetFromMap(new IdentityHashMap<>());
        for (INDArray a : escaped) owners.add(Arena.owner(a));
        return owners;
    }

    /**
     * An array the arena does not free because something saw it: when the cache keeps only views of its
     * memory (hook_q/k/v of the joined projection), closing the cache must free it, since closing a view cannot.
     */
    void seenArray(INDArray owner) {
        org.nd4j.linalg.api.buffer.DataBuffer buffer = Arena.owner(owner);
        boolean keptWhole = false, keptAsView = false;
        for (INDArray k : kept) {
            if (Arena.owner(k) != buffer) continue;
            if (k.isView()) keptAsView = true; else keptWhole = true;
        }
        if (keptAsView && !keptWhole) ownersOfKept.add(owner);
    }
}
