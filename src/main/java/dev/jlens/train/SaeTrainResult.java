package dev.jlens.train;

import dev.jlens.sae.SAE;
import java.nio.file.Path;

/**
 * How an SAE training run ended.
 *
 * @param completed     whether it reached its last step (false: stopped, resumable from {@code out})
 * @param deadFeatures  features that fired on none of the last {@code --dead-window} tokens
 * @param mse           the last batch's MSE term (summed over the width, averaged over the batch)
 * @param l0            the last batch's active features per token
 * @param seconds       this session's wall time
 */
public record SaeTrainResult(SAE sae, boolean completed, int step, int deadFeatures, double mse, double l0, double seconds, Path out) {}
