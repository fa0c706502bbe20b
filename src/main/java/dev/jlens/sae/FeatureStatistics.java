package dev.jlens.sae;

import java.util.List;

/**
 * What a corpus run found about an SAE's features (computed by {@code experiment.FeatureContextsExperiment}, shown by
 * {@code analysis.FeatureDashboard}): where each fired most, how often, and how strongly.
 */
public interface FeatureStatistics {
    /** The hook the SAE reads. */
    String hookName();

    /**
     * Feature {@code f}'s top contexts, largest first, each {@code before}/{@code after} tokens around its max.
     */
    List<TopContext> top(int f, int before, int after);

    /** A sample's token ids, as run. */
    int[] sampleTokens(int sample);

    /** Counts of feature {@code f}'s positive activations per bin of {@link #binEdges()}. */
    long[] histogram(int f);

    /** The lower edges of the histogram's bins. */
    double[] binEdges();

    /** The fraction of tokens on which feature {@code f} fired. */
    double density(int f);

    /**
     * One place a feature fired: its activation there, the sample and position, and the sample's tokens around it.
     *
     * @param maxIndex where the max is within {@code tokenIds}
     */
    record TopContext(int feature, float value, int sample, int position, int[] tokenIds, int maxIndex) {}
}
