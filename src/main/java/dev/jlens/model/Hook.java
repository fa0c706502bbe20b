package dev.jlens.model;

import java.util.Objects;

/**
 * A function attached to named hook points for the length of one run: one full name, TransformerLens's
 * short name at a layer, or a short name or glob meaning every hook point it matches.
 *
 * <p>Hooks never outlive the run they were passed to, also when the run throws, so a forgotten
 * ablation cannot leak into the next experiment (a classic TransformerLens pitfall with
 * {@code add_hook}).
 */
public record Hook(String name, Integer layer, HookFn fn) {
    public Hook {
        Objects.requireNonNull(name, "hook name");
        Objects.requireNonNull(fn, "hook function");
    }

    /** A hook by full name, or by a short name or glob that it fires at every match of. */
    public Hook(String name, HookFn fn) {
        this(name, null, fn);
    }

    /**
     * {@code hook("blocks.0.hook_resid_post", (act, h) -> act.muli(0))}; a short name or a glob fires at every
     * hook point it matches: {@code hook("pattern", fn)} at every layer's pattern, {@code hook("blocks.*.attn.hook_z", fn)}.
     */
    public static Hook hook(String name, HookFn fn) {
        return new Hook(name, fn);
    }

    /** TransformerLens's short name at one layer: {@code hook("pattern", 1, fn)} is {@code blocks.1.attn.hook_pattern}; -1 the last. */
    public static Hook hook(String shortName, int layer, HookFn fn) {
        return new Hook(shortName, layer, fn);
    }
}
