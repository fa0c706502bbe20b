package dev.jlens.analysis;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.compute.FloatRows;
import dev.jlens.compute.Metric;
import dev.jlens.data.Corpus;
import dev.jlens.data.Dataset;
import dev.jlens.data.NextTokenCounts;
import dev.jlens.data.Split;
import dev.jlens.tokenize.CharTokenizer;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

/** k-means recovers planted clusters; the summaries on the hand-made corpus of {@link SimilarStringsTest}. */
class ActivationClustersTest {

    @ParameterizedTest
    @EnumSource(Metric.class)
    void recoversWellSeparatedPlantedClusters(Metric metric) {
        // Four blobs along four axes, 10 apart, noise 0.3: each blob must be exactly one cluster.
        Random rnd = new Random(29);
        int perBlob = 250, blobs = 4, d = 12;
        float[][] rows = new float[perBlob * blobs][d];
        int[] planted = new int[rows.length];
        for (int i = 0; i < rows.length; i++) {
            planted[i] = (i * 7919) % blobs;                 // interleaved, not in blocks
            for (int j = 0; j < d; j++) rows[i][j] = (float) (0.3 * rnd.nextGaussian());
            rows[i][planted[i]] += 10;
        }
        // Fitted on a sample of 400 rows; every row is then assigned.
        ActivationClusters.Fit fit = ActivationClusters.fit(FloatRows.of(rows), blobs, metric, 1, 400, 100);
        Map<Integer, Integer> clusterOfBlob = new HashMap<>();
        for (int i = 0; i < rows.length; i++) {
            Integer before = clusterOfBlob.putIfAbsent(planted[i], fit.assignment()[i]);
            if (before != null) assertEquals(before, fit.assignment()[i], "row " + i + " of blob " + planted[i]);
        }
        assertEquals(blobs, new HashSet<>(clusterOfBlob.values()).size(), "one cluster per blob");
        assertArrayEquals(new int[] {perBlob, perBlob, perBlob, perBlob}, fit.sizes());
        for (int b = 0; b < blobs; b++) {
            float[] centre = fit.centroids()[clusterOfBlob.get(b)];
            double expected = metric == Metric.COSINE ? 1 : 10;      // unit length under cosine
            assertEquals(expected, centre[b], 0.05 * expected, "centroid of blob " + b);
        }
    }

    @Test
    void summariesNameSizesNearestStringsAndTheMostCommonNextToken() {
        // Samples of "aab aab aac": aa, ab, "b ", " a", ac. Two groups by hand: {aa, ab} near (10, 0),
        // {"b ", " a", ac} at (0, 9), (0, 10), (0, 11), whose centroid (0, 10) is " a" exactly.
        float[][] rows = {{10, 0}, {10, 1}, {0, 9}, {0, 10}, {0, 11}};
        String text = "aab aab aac";
        Corpus corpus = Corpus.of(text, "hand-made", CharTokenizer.fromText(text));
        SampleActivations acts = new SampleActivations("blocks.0.hook_mlp_out", FloatRows.of(rows),
                Dataset.uniqueSubstrings(corpus, Split.ALL, 2), NextTokenCounts.of(corpus, Split.ALL, 2));
        ActivationClusters c = ActivationClusters.of(acts, 2, Metric.EUCLIDEAN, 3);
        assertEquals(2, c.clusters().size());
        ActivationClusters.Cluster big = c.clusters().get(0), small = c.clusters().get(1);   // largest first
        assertEquals(3, big.size());
        // " a" at the centroid, then "b " and ac at distance 1 each, the lower row first.
        assertEquals(List.of(" a", "b ", "ac"), big.nearest());
        assertEquals("a", big.next());                   // "b " → a, a; " a" → a, a; ac → nothing
        assertEquals(1.0, big.nextShare(), 1e-12);
        assertEquals(2, small.size());
        assertEquals(Set.of("aa", "ab"), Set.copyOf(small.nearest()));
        // aa → b, b, c; ab → " ", " ": " " and b tie at 2 of 5; the lower id (" ") wins.
        assertEquals(" ", small.next());
        assertEquals(0.4, small.nextShare(), 1e-12);
        String table = c.render();
        assertTrue(table.contains("2 clusters (Euclidean k-means) of blocks.0.hook_mlp_out over 5 strings"), table);
        assertTrue(table.contains("'a' (100%)"), table);
    }

    @Test
    void centralMembersAreTheNearestOfEachClusterOnly() {
        int[] assignment = {0, 1, 0, 1, 0};
        ActivationClusters.Fit byDistance = new ActivationClusters.Fit(new float[2][1], assignment, new float[] {3, 1, 2, 1, 2}, new int[] {3, 2});
        assertArrayEquals(new int[][] {{2, 4}, {1, 3}}, ActivationClusters.central(byDistance, Metric.EUCLIDEAN, 2));
        ActivationClusters.Fit bySimilarity = new ActivationClusters.Fit(new float[2][1], assignment,
                new float[] {0.1f, 0.9f, 0.5f, 0.9f, 0.7f}, new int[] {3, 2});
        assertArrayEquals(new int[][] {{4, 2, 0}, {1, 3}}, ActivationClusters.central(bySimilarity, Metric.COSINE, 3));
    }

    @Test
    void theSampleIsDistinctRowsInOrder() {
        int[] s = ActivationClusters.sample(1000, 100, 5);
        assertEquals(100, s.length);
        for (int i = 1; i < s.length; i++) assertTrue(s[i - 1] < s[i]);
        assertTrue(s[0] >= 0 && s[99] < 1000);
        assertEquals(7, ActivationClusters.sample(7, 100, 5).length);
    }

    @Test
    void impossibleRequestsAreRefused() {
        FloatRows rows = FloatRows.of(new float[][] {{1, 2}, {3, 4}, {5, 6}});
        IllegalArgumentException tooMany = assertThrows(IllegalArgumentException.class,
                () -> ActivationClusters.fit(rows, 4, Metric.EUCLIDEAN, 1, 100, 10));
        assertTrue(tooMany.getMessage().contains("at most 3"), tooMany.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ActivationClusters.fit(rows, 0, Metric.EUCLIDEAN, 1, 100, 10));
    }
}
