package dev.jlens.analysis;

import dev.jlens.compute.FloatRows;
import dev.jlens.compute.Metric;
import dev.jlens.compute.RowSimilarity;
import dev.jlens.view.Table;
import dev.jlens.view.Token;
import dev.jlens.view.TokenText;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.apache.commons.math3.ml.clustering.CentroidCluster;
import org.apache.commons.math3.ml.clustering.DoublePoint;
import org.apache.commons.math3.ml.clustering.KMeansPlusPlusClusterer;
import org.apache.commons.math3.ml.distance.EuclideanDistance;
import org.apache.commons.math3.random.Well19937c;

/**
 * k-means over saved activations (seed 000 clusters them with scikit-learn's KMeans), summarised as
 * token strings: per cluster its size, the strings nearest its centroid, and the token that most
 * often follows its strings in the text.
 *
 * <p>The centroids are fitted by Apache Commons Math's k-means++ on a random sample of the rows
 * (all of them when there are few), held on the heap in double precision; every row is then assigned
 * to its nearest centroid by the blocked search ({@link RowSimilarity#nearestCentre}), which reads
 * the rows where they lie, so the matrix may be larger than the heap.
 *
 * @param hook      where the activations were taken
 * @param metric    {@link Metric#EUCLIDEAN}: plain k-means; {@link Metric#COSINE}: spherical
 *                  (rows and centroids scaled to unit length, so direction alone counts)
 * @param samples   how many rows were assigned
 * @param fittedOn  how many rows the centroids were fitted on
 * @param seed      the random seed of the sample and of k-means++
 * @param fit       the centroids, every row's cluster and the sizes
 * @param clusters  one summary per cluster, largest first
 */
public record ActivationClusters(String hook, Metric metric, int samples, int fittedOn, long seed, Fit fit, List<Cluster> clusters) {

    /** Rows the centroids are fitted on unless told otherwise: enough for stable centroids, seconds to fit. */
    public static final int DEFAULT_FIT_ROWS = 20_000;
    /** Lloyd iterations at most. */
    public static final int DEFAULT_ITERATIONS = 100;
    /** Strings shown per cluster. */
    static final int SHOWN = 4;

    /**
     * A clustering of the rows.
     *
     * @param centroids  {@code [k][d]}; unit length under cosine
     * @param assignment every row's cluster
     * @param value      every row's Euclidean distance to its centroid, or cosine similarity under cosine
     * @param sizes      rows per cluster
     */
    public record Fit(float[][] centroids, int[] assignment, float[] value, int[] sizes) {
        public int k() {
            return centroids.length;
        }
    }

    /**
     * One cluster.
     *
     * @param index        its number in {@link Fit#centroids}
     * @param size         how many samples it holds
     * @param nearest      the member strings nearest its centroid, nearest first (ties: the lower row)
     * @param next         the token that most often follows its strings ({@code null} if none follows any)
     * @param nextShare    that token's share of everything that follows them
     */
    public record Cluster(int index, int size, List<String> nearest, @Token String next, double nextShare) {}

    /** {@code k} clusters of the samples' activations, fitted on up to {@link #DEFAULT_FIT_ROWS} rows. */
    public static ActivationClusters of(SampleActivations acts, int k, Metric metric, long seed) {
        return of(acts, k, metric, seed, DEFAULT_FIT_ROWS, DEFAULT_ITERATIONS);
    }

    public static ActivationClusters of(SampleActivations acts, int k, Metric metric, long seed, int fitRows, int iterations) {
        Fit fit = fit(acts.rows(), k, metric, seed, fitRows, iterations);
        int n = acts.count();
        long[][] next = new long[k][acts.vocabSize()];
        for (int i = 0; i < n; i++) acts.addNextTokens(i, next[fit.assignment()[i]]);
        int[][] central = central(fit, metric, SHOWN);
        List<Cluster> clusters = new ArrayList<>(k);
        for (int c = 0; c < k; c++) {
            List<String> shown = new ArrayList<>();
            for (int row : central[c]) shown.add(acts.text(row));
            int top = TokenCounts.mostFrequent(next[c]);
            long total = TokenCounts.total(next[c]);
            clusters.add(new Cluster(c, fit.sizes()[c], List.copyOf(shown), top < 0 ? null : acts.tokenString(top),
                    top < 0 ? 0 : (double) next[c][top] / total));
        }
        clusters.sort(Comparator.comparingInt(Cluster::size).reversed().thenComparingInt(Cluster::index));
        return new ActivationClusters(acts.hook(), metric, n, Math.min(n, fitRows), seed, fit, List.copyOf(clusters));
    }

    /**
     * Per cluster, the {@code m} members nearest its centroid, nearest first (ties: the lower row):
     * one pass over the assignment, a short sorted list per cluster.
     */
    static int[][] central(Fit fit, Metric metric, int m) {
        int k = fit.k();
        int[][] rows = new int[k][m];
        float[][] dist = new float[k][m];
        int[] size = new int[k];
        // As distances: a cosine similarity s counts as −s, so that smaller is nearer in both.
        float sign = metric == Metric.COSINE ? -1 : 1;
        for (int i = 0; i < fit.assignment().length; i++) {
            int c = fit.assignment()[i], n = size[c];
            float d = sign * fit.value()[i];
            if (n == m && d >= dist[c][m - 1]) continue;        // rows come in order, so an equal one is later
            int at = n == m ? m - 1 : n;
            while (at > 0 && dist[c][at - 1] > d) {
                dist[c][at] = dist[c][at - 1];
                rows[c][at] = rows[c][at - 1];
                at--;
            }
            dist[c][at] = d;
            rows[c][at] = i;
            if (n < m) size[c]++;
        }
        int[][] out = new int[k][];
        for (int c = 0; c < k; c++) out[c] = Arrays.copyOf(rows[c], size[c]);
        return out;
    }

    /**
     * k-means of an {@code [N, d]} matrix: k-means++ and Lloyd's iterations (Commons Math) on a random
     * sample of {@code fitRows} rows, then every row assigned to its nearest centroid.
     */
    public static Fit fit(FloatRows rows, int k, Metric metric, long seed, int fitRows, int iterations) {
        int n = rows.rows();
        if (k < 1) throw new IllegalArgumentException("k must be at least 1, got " + k);
        if (fitRows < k) throw new IllegalArgumentException("fitting " + k + " clusters needs at least " + k + " rows, got " + fitRows);
        if (k > n) throw new IllegalArgumentException(k + " clusters of " + n + " rows: ask for at most " + n);
        if (iterations < 1) throw new IllegalArgumentException("iterations must be at least 1, got " + iterations);
        List<DoublePoint> points = new ArrayList<>();
        for (int i : sample(n, fitRows, seed)) {
            float[] r = rows.row(i);
            double scale = metric == Metric.COSINE ? 1 / norm(r) : 1;
            double[] p = new double[r.length];
            for (int j = 0; j < r.length; j++) p[j] = r[j] * scale;
            if (Double.isFinite(scale)) points.add(new DoublePoint(p));   // a zero row has no direction
        }
        if (points.size() < k) throw new IllegalArgumentException("only " + points.size() + " usable rows for " + k + " clusters");
        KMeansPlusPlusClusterer<DoublePoint> kmeans =
                new KMeansPlusPlusClusterer<>(k, iterations, new EuclideanDistance(), new Well19937c(seed));
        List<CentroidCluster<DoublePoint>> found = kmeans.cluster(points);
        float[][] centroids = new float[k][];
        for (int c = 0; c < k; c++) {
            double[] p = found.get(c).getCenter().getPoint();
            double scale = metric == Metric.COSINE ? 1 / norm(p) : 1;
            centroids[c] = new float[p.length];
            for (int j = 0; j < p.length; j++) centroids[c][j] = (float) (p[j] * scale);
        }
        RowSimilarity.Assignment a = RowSimilarity.nearestCentre(rows, centroids, metric);
        int[] sizes = new int[k];
        for (int c : a.centre()) sizes[c]++;
        return new Fit(centroids, a.centre(), a.value(), sizes);
    }

    /** {@code m} distinct row numbers drawn at random (all rows when {@code m ≥ n}), ascending for sequential reads. */
    static int[] sample(int n, int m, long seed) {
        if (m >= n) {
            int[] all = new int[n];
            Arrays.setAll(all, i -> i);
            return all;
        }
        // Floyd's algorithm: m draws, no n-sized array.
        java.util.Set<Integer> chosen = new java.util.HashSet<>();
        Random rnd = new Random(seed);
        for (int j = n - m; j < n; j++) {
            int t = rnd.nextInt(j + 1);
            if (!chosen.add(t)) chosen.add(j);
        }
        return chosen.stream().mapToInt(Integer::intValue).sorted().toArray();
    }

    private static double norm(float[] v) {
        double s = 0;
        for (float x : v) s += (double) x * x;
        return Math.sqrt(s);
    }

    private static double norm(double[] v) {
        double s = 0;
        for (double x : v) s += x * x;
        return Math.sqrt(s);
    }

    /** The table: cluster, size, strings nearest the centroid, the most common next token and its share. */
    public String render() {
        Table t = new Table("cluster", "size", "strings nearest the centroid", "most common next token");
        for (Cluster c : clusters) {
            List<String> shown = c.nearest().stream().map(s -> "'" + TokenText.visible(s) + "'").toList();
            t.row(c.index(), c.size(), String.join("  ", shown),
                    c.next() == null ? "—" : String.format(Locale.ROOT, "'%s' (%.0f%%)", TokenText.visible(c.next()), 100 * c.nextShare()));
        }
        return String.format(Locale.ROOT, "%d clusters (%s k-means) of %s over %,d strings, fitted on %,d, seed %d%n",
                fit.k(), metric == Metric.COSINE ? "spherical" : "Euclidean", hook, samples, fittedOn, seed) + t.render();
    }

    @Override
    public String toString() {
        return render();
    }
}
