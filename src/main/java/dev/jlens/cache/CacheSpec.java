package dev.jlens.cache;

import java.util.function.Predicate;

/**
 * What a run records and how.
 *
 * @param names          which hook points to record
 * @param patternsInBf16 store {@code attn.hook_pattern} in bfloat16: the largest activations of a
 *                       long prompt take half the memory, at about 3 significant digits (the forward
 *                       pass itself still uses the float32 pattern)
 */
public record CacheSpec(Predicate<String> names, boolean patternsInBf16) {
    /**
     * Every hook point except {@code attn.hook_result}, which is n_heads times the size of the
     * attention output and is computed only when asked for by name (TransformerLens's
     * {@code use_attn_result}).
     */
    public static CacheSpec all() {
        return new CacheSpec(name -> !name.endsWith(".attn.hook_result"), false);
    }

    /** Only these names: full names, short names for every layer, or globs (see {@link NameFilter}). */
    public static CacheSpec only(String... names) {
        return new CacheSpec(NameFilter.of(names), false);
    }

    /** The hook points whose full names pass {@code names}: {@code CacheSpec.where(n -> n.startsWith("blocks.3."))}. */
    public static CacheSpec where(Predicate<String> names) {
        return new CacheSpec(java.util.Objects.requireNonNull(names, "names predicate"), false);
    }

    public CacheSpec withPatternsInBf16() {
        return new CacheSpec(names, true);
    }
}
