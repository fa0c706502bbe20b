package dev.jlens.model;

import java.util.ServiceLoader;

/**
 * What {@link HookedTransformer#fromPretrained} asks to turn a path or a Hugging Face name into a model.
 * The loaders ({@code dev.jlens.load}) build on this package, so this package reaches them through
 * Java's {@link ServiceLoader} ({@code META-INF/services/dev.jlens.model.Pretrained}) instead of a
 * compile-time arrow back up.
 */
public interface Pretrained {
    HookedTransformer load(String pathOrName);

    /** The loader on the class path. */
    static Pretrained loader() {
        return Holder.LOADER;
    }

    /** Found once, on first use. */
    final class Holder {
        private Holder() {}

        static final Pretrained LOADER = ServiceLoader.load(Pretrained.class, Pretrained.class.getClassLoader()).findFirst()
                .orElseThrow(() -> new IllegalStateException("no model loader on the class path (dev.jlens.load is missing)"));
    }
}
