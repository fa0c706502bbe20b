package dev.jlens.compute;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.load.SafeTensors;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The blocked search against a brute-force search in double precision written here, independently. */
class RowSimilarityTest {

    private static float[][] gaussian(Random rnd, int n, int d) {
        float[][] x = new float[n][d];
        for (float[] row : x) for (int j = 0; j < d; j++) row[j] = (float) rnd.nextGaussian();
        return x;
    }

    /** Every row's exact value to q, then sorted nearest first, ties to the lower row. */
    private static int[] bruteForce(float[][] rows, float[] q, Metric metric, int k, double[] valuesOut) {
        double[] v = new double[rows.length];
        for (int i = 0; i < rows.length; i++) {
            double dot = 0, qq = 0, xx = 0, dd = 0;
            for (int j = 0; j < q.length; j++) {
                dot += (double) q[j] * rows[i][j];
                qq += (double) q[j] * q[j];
                xx += (double) rows[i][j] * rows[i][j];
                double diff = (double) q[j] - rows[i][j];
                dd += diff * diff;
            }
            v[i] = metric == Metric.COSINE ? (xx == 0 ? 0 : dot / Math.sqrt(qq) / Math.sqrt(xx)) : Math.sqrt(dd);
        }
        Comparator<Integer> nearestFirst = metric == Metric.COSINE
                ? Comparator.<Integer>comparingDouble(i -> -v[i]) : Comparator.comparingDouble(i -> v[i]);
        int[] order = IntStream.range(0, rows.length).boxed().sorted(nearestFirst.thenComparing(i -> i))
                .limit(k).mapToInt(Integer::intValue).toArray();
        if (valuesOut != null) for (int i = 0; i < order.length; i++) valuesOut[i] = v[order[i]];
        return order;
    }

    private static void assertMatchesBruteForce(float[][] rows, FloatRows data, float[][] queries, int k, Metric metric) {
        List<RowSimilarity.Neighbours> got = RowSimilarity.nearest(data, queries, k, metric);
        assertEquals(queries.length, got.size());
        for (int j = 0; j < queries.length; j++) {
            int kk = Math.min(k, rows.length);
            double[] want = new double[kk];
            int[] wantRows = bruteForce(rows, queries[j], metric, kk, want);
            assertArrayEquals(wantRows, got.get(j).rows(), "query " + j + " by " + metric);
            assertArrayEquals(want, got.get(j).values(), 1e-9, "query " + j + " by " + metric);
        }
    }

    @ParameterizedTest
    @EnumSource(Metric.class)
    void matchesBruteForceOnRandomData(Metric metric) {
        Random rnd = new Random(7);
        // d = 37: not a multiple of the vector length; 1,300 rows: several blocks and a ragged last one;
        // 1 to 4 queries: dot products per row; 5 and 50: the micro-kernel, one panel and more than one
        // (48 queries each).
        float[][] rows = gaussian(rnd, 1300, 37);
        FloatRows data = FloatRows.of(rows);
        for (int q : new int[] {1, 2, 4, 5, 50}) {
            for (int k : new int[] {1, 10, 100}) assertMatchesBruteForce(rows, data, gaussian(rnd, q, 37), k, metric);
        }
    }

    @ParameterizedTest
    @EnumSource(Metric.class)
    void queriesTakenFromTheRowsFindThemselvesFirst(Metric metric) {
        Random rnd = new Random(3);
        float[][] rows = gaussian(rnd, 700, 192);
        float[][] queries = {rows[0], rows[345], rows[699]};
        List<RowSimilarity.Neighbours> got = RowSimilarity.nearest(FloatRows.of(rows), queries, 3, metric);
        int[] self = {0, 345, 699};
        for (int j = 0; j < 3; j++) {
            assertEquals(self[j], got.get(j).rows()[0]);
            assertEquals(metric == Metric.COSINE ? 1.0 : 0.0, got.get(j).values()[0], 1e-6);
        }
    }

    @ParameterizedTest
    @EnumSource(Metric.class)
    void tiesGoToTheLowerRow(Metric metric) {
        Random rnd = new Random(11);
        float[][] rows = gaussian(rnd, 900, 24);
        float[] q = rows[10].clone();
        // Four copies of one vector, scattered over blocks; the first k must be them, in row order.
        for (int i : new int[] {700, 10, 512, 3}) rows[i] = q.clone();
        FloatRows data = FloatRows.of(rows);
        RowSimilarity.Neighbours got = RowSimilarity.nearest(data, new float[][] {q}, 3, metric).get(0);
        assertArrayEquals(new int[] {3, 10, 512}, got.rows());
        assertMatchesBruteForce(rows, data, new float[][] {q, rows[5]}, 6, metric);
    }

    @Test
    void aZeroRowHasCosineZeroAndAnEuclideanDistanceOfTheQuerysLength() {
        float[][] rows = {{0, 0, 0}, {1, 0, 0}, {-1, 0, 0}};
        float[] q = {0, 3, 4};
        RowSimilarity.Neighbours cos = RowSimilarity.nearest(FloatRows.of(rows), new float[][] {q}, 3, Metric.COSINE).get(0);
        assertArrayEquals(new int[] {0, 1, 2}, cos.rows());                      // all 0: row order
        assertArrayEquals(new double[] {0, 0, 0}, cos.values(), 1e-12);
        RowSimilarity.Neighbours euc = RowSimilarity.nearest(FloatRows.of(rows), new float[][] {q}, 1, Metric.EUCLIDEAN).get(0);
        assertEquals(0, euc.rows()[0]);
        assertEquals(5.0, euc.values()[0], 1e-12);
    }

    @Test
    void kBeyondTheRowCountReturnsEveryRow() {
        float[][] rows = gaussian(new Random(5), 9, 8);
        RowSimilarity.Neighbours got = RowSimilarity.nearest(FloatRows.of(rows), new float[][] {rows[4]}, 50, Metric.EUCLIDEAN).get(0);
        assertEquals(9, got.size());
        assertMatchesBruteForce(rows, FloatRows.of(rows), new float[][] {rows[4]}, 50, Metric.EUCLIDEAN);
    }

    @ParameterizedTest
    @EnumSource(Metric.class)
    void valuesOfEveryRowMatchTheDefinition(Metric metric) {
        Random rnd = new Random(13);
        float[][] rows = gaussian(rnd, 1100, 50);
        float[] q = gaussian(rnd, 1, 50)[0];
        float[] got = RowSimilarity.values(FloatRows.of(rows), q, metric);
        assertEquals(rows.length, got.length);
        for (int i = 0; i < rows.length; i++) {
            double[] v = new double[rows.length];
            bruteForce(new float[][] {rows[i]}, q, metric, 1, v);
            assertEquals(v[0], got[i], 1e-4 * Math.max(1, Math.abs(v[0])), "row " + i);
        }
    }

    @ParameterizedTest
    @EnumSource(Metric.class)
    void nearestCentreMatchesBruteForce(Metric metric) {
        Random rnd = new Random(17);
        float[][] rows = gaussian(rnd, 1500, 20);
        float[][] centres = gaussian(rnd, 60, 20);   // more than one panel of centres
        RowSimilarity.Assignment got = RowSimilarity.nearestCentre(FloatRows.of(rows), centres, metric);
        for (int i = 0; i < rows.length; i++) {
            double[] value = new double[1];
            assertEquals(bruteForce(centres, rows[i], metric, 1, value)[0], got.centre()[i], "row " + i);
            assertEquals(value[0], got.value()[i], 1e-4 * Math.max(1, Math.abs(value[0])), "row " + i);
        }
    }

    @Test
    void chunksReadAsOneMatrix() {
        Random rnd = new Random(19);
        float[][] rows = gaussian(rnd, 1234, 16);
        List<INDArray> chunks = new ArrayList<>();
        int[] sizes = {100, 513, 1, 620};                 // boundaries inside and across blocks
        for (int c = 0, from = 0; c < sizes.length; from += sizes[c++]) {
            chunks.add(Nd4j.create(Arrays.copyOfRange(rows, from, from + sizes[c])));
        }
        FloatRows data = FloatRows.of(chunks);
        assertEquals(1234, data.rows());
        assertArrayEquals(rows[613], data.row(613));
        for (Metric m : Metric.values()) assertMatchesBruteForce(rows, data, gaussian(rnd, 4, 16), 20, m);
    }

    @Test
    void aMemoryMappedMatrixOfManyBlocks(@TempDir Path dir) {
        Random rnd = new Random(23);
        int n = 3 * RowSimilarity.BLOCK + 77;
        float[][] rows = gaussian(rnd, n, 40);
        Path file = dir.resolve("acts.safetensors");
        SafeTensors.write(file, Map.of("acts", Nd4j.create(rows)), null);
        try (SafeTensors st = SafeTensors.open(file)) {
            INDArray mapped = st.get("acts");                     // zero-copy: the file's pages
            FloatRows data = FloatRows.of(mapped);
            assertEquals(n, data.rows());
            for (Metric m : Metric.values()) assertMatchesBruteForce(rows, data, gaussian(rnd, 3, 40), 15, m);
        }
        assertTrue(Files.exists(file));
    }

    @Test
    void badInputIsRefusedWithWhatToDo() {
        FloatRows data = FloatRows.of(new float[][] {{1, 2}, {3, 4}});
        IllegalArgumentException wide = assertThrows(IllegalArgumentException.class,
                () -> RowSimilarity.nearest(data, new float[][] {{1, 2, 3}}, 1, Metric.COSINE));
        assertTrue(wide.getMessage().contains("3 values but the rows have 2"), wide.getMessage());
        IllegalArgumentException zero = assertThrows(IllegalArgumentException.class,
                () -> RowSimilarity.nearest(data, new float[][] {{0, 0}}, 1, Metric.COSINE));
        assertTrue(zero.getMessage().contains("EUCLIDEAN"), zero.getMessage());
        assertThrows(IllegalArgumentException.class, () -> RowSimilarity.nearest(data, new float[][] {{1, 0}}, 0, Metric.COSINE));
        FloatRows broken = FloatRows.of(new float[][] {{1, 2}, {Float.NaN, 4}});
        IllegalArgumentException nan = assertThrows(IllegalArgumentException.class,
                () -> RowSimilarity.nearest(broken, new float[][] {{1, 0}}, 1, Metric.EUCLIDEAN));
        assertTrue(nan.getMessage().contains("row 1"), nan.getMessage());
        IllegalArgumentException rank3 = assertThrows(IllegalArgumentException.class,
                () -> FloatRows.of(Nd4j.create(DataType.FLOAT, 2, 3, 4)));
        assertTrue(rank3.getMessage().contains("[rows, d]"), rank3.getMessage());
    }
}
