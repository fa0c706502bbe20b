package dev.jlens.model;

import java.util.Objects;
import java.util.function.Predicate;

/**
 * A function attached to hook points for the length of one run. Where it fires is one of: a full name;
 * TransformerLens's short name at a layer; a short name or glob meaning every hook point it matches; or a
 * predicate over full names (TransformerLens's {@code fwd_hooks=[(lambda name: …, fn)]}).
 *
 * <p>Hooks never outlive the run they were passed to, also when the run throws, so a forgotten
 * ablation cannot leak into the next experiment (a classic TransformerLens pitfall with
 * {@code add_hook}).
 *
 * @param name  the full name, short name or glob; for a predicate hook a description of it, for messages
 * @param layer the layer a short name is taken at, or {@code null}
 * @param where the predicate over full hook names, or {@code null} when {@code name} says where
 */
public record Hook(String name, Integer layer, Predicate<String> where, HookFn fn) {
    public Hook {
        Objects.requireNonNull(name, "hook name");
        Objects.requireNonNull(fn, "hook function");
        if (where != null && layer != null) throw new IllegalArgumentException("a predicate hook takes no layer");
    }

    /** A hook by full name, or by a short name or glob that it fires at every match of. */
    public Hook(String name, HookFn fn) {
        this(name, null, null, fn);
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
        return new Hook(shortName, layer, null, fn);
    }

    /**
     * Fires at every hook point whose full name passes {@code names}:
     * {@code hook(name -> name.endsWith("hook_z") && !name.startsWith("blocks.0."), fn)}. A predicate that
     * passes no hook point of the model is refused when the run starts, as a misspelt name is.
     */
    public static Hook hook(Predicate<String> names, HookFn fn) {
        return new Hook("hook points passing a predicate", null, Objects.requireNonNull(names, "hook predicate"), fn);
    }
}
