package dev.jlens.model;

import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A module spliced into a run at one hook point, with hook points of its own: a sparse autoencoder that replaces
 * the residual stream by its reconstruction (SAELens's {@code HookedSAETransformer}). Its points are named under the
 * hook point it sits at ({@code blocks.8.hook_resid_pre.hook_sae_acts_post}), so hooks, the cache, filters and
 * completion reach them as they reach every other activation.
 *
 * <p>At its hook point the activation first passes the point's own hooks and cache (what the model computed), then
 * the splice, whose output the forward pass goes on with.
 */
public interface Splice {
    /** The model's hook point it sits at: {@code blocks.8.hook_resid_pre}. */
    String hookName();

    /** Its own hook points, in the order they fire, without the prefix: {@code hook_sae_input}, … */
    List<String> pointNames();

    /**
     * What the forward pass continues with, given what reached the hook point.
     *
     * @param points passes each intermediate value through its hook point (hooks, then the cache)
     */
    INDArray apply(INDArray activation, Points points);

    /** The splice's view of its own hook points in the current run. */
    interface Points {
        /** Passes {@code activation} through the point named {@code point} (without prefix); returns what hooks left. */
        INDArray at(String point, INDArray activation);

        /** Whether a user hook may change the value at {@code point} (the splice may then need a clean copy). */
        boolean hooked(String point);
    }
}
