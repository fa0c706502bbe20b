package dev.jlens.load;

import dev.jlens.model.HookedTransformer;
import dev.jlens.model.Pretrained;

/** {@link ModelLoader} as the {@link Pretrained} service behind {@code HookedTransformer.fromPretrained}. */
public final class PretrainedLoader implements Pretrained {
    @Override
    public HookedTransformer load(String pathOrName) {
        return ModelLoader.load(pathOrName);
    }
}
