package dev.jlens.cache;

import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The activations one run recorded, by full hook name, in the order the forward pass produced them.
 *
 * <p>Read them by full name ({@code get("blocks.1.attn.hook_pattern")}) or with TransformerLens's
 * shorthand ({@code get("pattern", 1)}, {@code get("normalized", 0, "ln2")}, negative layers from the
 * end). A name that is not a hook point fails with the closest names; a hook point this run did not
 * record fails saying so.
 */
public final class ActivationCache {
    private final Map<String, INDArray> activations;
    private final int nLayers;
    private final List<String> hookPoints;
    private final List<INDArray> ownersOfViews;

    /**
     * @param activations full name → activation, in forward order
     * @param nLayers     the model's layer count (for negative layers and range checks)
     * @param hookPoints  every hook name the model has (for suggestions and "not recorded" errors)
     */
    public ActivationCache(Map<String, INDArray> activations, int nLayers, List<String> hookPoints) {
        this(activations, nLayers, hookPoints, List.of());
    }

    /**
     * @param ownersOfViews arrays the run allocated whose memory some activations are views of;
     *                      {@link #close} frees them with the rest
     */
    public ActivationCache(Map<String, INDArray> activations, int nLayers, List<String> hookPoints,
                           List<INDArray> ownersOfViews) {
        this.activations = Collections.unmodifiableMap(new LinkedHashMap<>(activations));
        this.nLayers = nLayers;
        this.hookPoints = List.copyOf(hookPoints);
        this.ownersOfViews = List.copyOf(ownersOfViews);
    }

    /** By full name ({@code blocks.0.hook_resid_post}) or layer-free shorthand ({@code embed}, {@code normalized}). */
    public INDArray get(String name) {
        return lookup(HookNames.resolve(name, null, null, nLayers));
    }

    /** {@code get("pattern", 5)} = {@code get("blocks.5.attn.hook_pattern")}; {@code layer} may be negative. */
    public INDArray get(String name, int layer) {
        return lookup(HookNames.resolve(name, layer, null, nLayers));
    }

    /** {@code get("normalized", 0, "ln2")} = {@code get("blocks.0.ln2.hook_normalized")}. */
    public INDArray get(String name, int layer, String sublayer) {
        return lookup(HookNames.resolve(name, layer, sublayer, nLayers));
    }

    private INDArray lookup(String full) {
        INDArray a = activations.get(full);
        if (a != null) return a;
        if (hookPoints.contains(full)) {
            throw new IllegalArgumentException("'" + full + "' is a hook point of this model, but this run did not"
                    + " record it: run with a cache filter that includes it"
                    + (full.endsWith("hook_result") ? " (per-head results are only computed when asked for)" : ""));
        }
        throw HookNames.unknown(full, activations.isEmpty() ? hookPoints : activations.keySet());
    }

    public boolean contains(String fullName) {
        return activations.containsKey(fullName);
    }

    /** The recorded names in forward order. */
    public List<String> keys() {
        return List.copyOf(activations.keySet());
    }

    /** Name → activation, read-only, in forward order. */
    public Map<String, INDArray> asMap() {
        return activations;
    }

    public Map<String, long[]> shapes() {
        Map<String, long[]> m = new LinkedHashMap<>();
        activations.forEach((k, v) -> m.put(k, v.shape()));
        return m;
    }

    public int size() {
        return activations.size();
    }

    public int nLayers() {
        return nLayers;
    }

    /**
     * The same activations without their batch axis ({@code [1, pos, …]} → {@code [pos, …]}, views, no copy):
     * TransformerLens's {@code remove_batch_dim}. Only for a run of one prompt.
     */
    public ActivationCache removeBatchDim() {
        Map<String, INDArray> out = new LinkedHashMap<>();
        for (Map.Entry<String, INDArray> e : activations.entrySet()) {
            INDArray a = e.getValue();
            if (a.rank() == 0 || a.size(0) != 1) {
                throw new IllegalStateException("removeBatchDim: " + e.getKey() + " has a batch of " + (a.rank() == 0 ? 0 : a.size(0))
                        + ", not 1: only a run of one prompt has a batch axis to remove");
            }
            long[] shape = Arrays.copyOfRange(a.shape(), 1, a.rank());
            out.put(e.getKey(), a.reshape(a.ordering(), shape));
        }
        return new ActivationCache(out, nLayers, hookPoints, ownersOfViews);
    }

    /**
     * Bytes of activation data the cache holds. Activations that are views of one buffer (q, k and
     * v are views of one projection) are counted by the elements they show, which adds up to the
     * buffer they share.
     */
    public long sizeInBytes() {
        long total = 0;
        for (INDArray a : activations.values()) total += a.length() * a.dataType().width();
        return total;
    }

    /**
     * Frees the native memory of every activation now instead of at the next garbage collection;
     * the cache and every array read from it are unusable afterwards.
     */
    public void close() {
        Set<INDArray> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        for (INDArray a : activations.values()) {
            INDArray owner = a.isView() ? null : a;
            if (owner != null && seen.add(owner) && owner.closeable()) owner.close();
        }
        for (INDArray owner : ownersOfViews) {
            if (seen.add(owner) && owner.closeable()) owner.close();
        }
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("ActivationCache with ").append(activations.size())
                .append(" activations, ").append(sizeInBytes() / 1024).append(" KiB:");
        activations.forEach((k, v) -> sb.append("\n  ").append(k).append(' ').append(Arrays.toString(v.shape())));
        return sb.toString();
    }
}
