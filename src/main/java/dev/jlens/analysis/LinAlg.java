package dev.jlens.analysis;

import org.apache.commons.math3.linear.MatrixUtils;
import org.apache.commons.math3.linear.SingularValueDecomposition;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The dense linear algebra {@link FactoredMatrix} needs, in double precision on Java arrays.
 *
 * <p>The factored SVD needs a thin QR of each factor and the SVD of a small {@code k×k} core
 * (k = d_head). The core's SVD is Commons Math's. The QR stays ours: a factor can have a vocabulary
 * of rows, Commons Math's {@code QRDecomposition} builds the full {@code m×m} Q (50,257² doubles,
 * 20 GB, for GPT-2's), and its thin SVD, the other way to get an orthonormal basis, took 21 s for
 * a [50257, 64]·[64, 50257] product against 1.7 s with this QR (same machine, same load, one run
 * each). ND4J's {@code svd} op (1.0.0-M2.1) is slower still and wrong for wide inputs
 * (reconstruction error 167 on a 64×768 input of norm 56).
 */
final class LinAlg {
    private LinAlg() {}

    /** A 2-D array's rows, copied in one bulk read (ND4J's toDoubleMatrix reads row by row: 2.7 s for 50257×64). */
    static double[][] toDouble(INDArray a) {
        int rows = (int) a.size(0), cols = (int) a.size(1);
        double[] flat = a.castTo(DataType.DOUBLE).dup('c').data().asDouble();
        double[][] out = new double[rows][];
        for (int i = 0; i < rows; i++) out[i] = java.util.Arrays.copyOfRange(flat, i * cols, (i + 1) * cols);
        return out;
    }

    /** A 2-D float array's rows, copied in one bulk read. */
    static float[][] toFloat2d(INDArray a) {
        int rows = (int) a.size(0), cols = (int) a.size(1);
        float[] flat = a.castTo(DataType.FLOAT).dup('c').data().asFloat();
        float[][] out = new float[rows][];
        for (int i = 0; i < rows; i++) out[i] = java.util.Arrays.copyOfRange(flat, i * cols, (i + 1) * cols);
        return out;
    }

    static INDArray toFloat(double[][] a) {
        int rows = a.length, cols = a[0].length;
        float[] flat = new float[rows * cols];
        for (int i = 0; i < rows; i++) for (int j = 0; j < cols; j++) flat[i * cols + j] = (float) a[i][j];
        return Nd4j.create(flat, new long[] {rows, cols}, 'c');
    }

    /** Thin QR: {@code a [m, n] = Q [m, r] · R [r, n]} with {@code r = min(m, n)}, Q orthonormal columns. */
    record Qr(double[][] q, double[][] r) {}

    static Qr qr(double[][] a) {
        int m = a.length, n = a[0].length, r = Math.min(m, n);
        // Column-major working copy: every reflector works down whole columns, so they are contiguous.
        double[][] col = new double[n][m];
        for (int i = 0; i < m; i++) for (int c = 0; c < n; c++) col[c][i] = a[i][c];
        double[][] vs = new double[r][];
        for (int j = 0; j < r; j++) {
            // Householder reflector H = I − 2vvᵀ (v unit, on rows j..m-1) that zeroes column j below the diagonal.
            double[] x = col[j];
            double norm = 0;
            for (int i = j; i < m; i++) norm += x[i] * x[i];
            norm = Math.sqrt(norm);
            double[] v = new double[m - j];
            vs[j] = v;
            if (norm == 0) continue;                          // a zero column: nothing to reflect
            double alpha = x[j] > 0 ? -norm : norm;
            for (int i = j; i < m; i++) v[i - j] = x[i];
            v[0] -= alpha;
            double vnorm = 0;
            for (double e : v) vnorm += e * e;
            if (vnorm == 0) continue;
            double inv = 1 / Math.sqrt(vnorm);
            for (int i = 0; i < v.length; i++) v[i] *= inv;
            for (int c = j; c < n; c++) reflect(v, col[c], j);
        }
        double[][] rr = new double[r][n];
        for (int i = 0; i < r; i++) for (int c = i; c < n; c++) rr[i][c] = col[c][i];
        // Q = H_0 … H_{r−1} applied to the first r columns of the identity, last reflector first.
        double[][] qcol = new double[r][m];
        for (int c = 0; c < r; c++) {
            qcol[c][c] = 1;
            for (int j = Math.min(c, r - 1); j >= 0; j--) reflect(vs[j], qcol[c], j);
        }
        double[][] q = new double[m][r];
        for (int c = 0; c < r; c++) for (int i = 0; i < m; i++) q[i][c] = qcol[c][i];
        return new Qr(q, rr);
    }

    /** {@code y ← (I − 2vvᵀ)·y} on rows {@code from..}, {@code v} a unit vector over those rows. */
    private static void reflect(double[] v, double[] y, int from) {
        double dot = 0;
        for (int i = 0; i < v.length; i++) dot += v[i] * y[from + i];
        if (dot == 0) return;
        dot *= 2;
        for (int i = 0; i < v.length; i++) y[from + i] -= dot * v[i];
    }

    /** {@code a [p, q] = U [p, r] · diag(s) · Vᵀ} ({@code V [q, r]}, r = min(p, q)), s descending. */
    record Svd(double[][] u, double[] s, double[][] v) {}

    /**
     * Commons Math's SVD, for the small cores it gets ({@code k×k}, k = d_head). Columns of U and V
     * belonging to zero singular values are zeroed: they span nothing of {@code a}.
     */
    static Svd svd(double[][] a) {
        SingularValueDecomposition d = new SingularValueDecomposition(MatrixUtils.createRealMatrix(a));
        double[] s = d.getSingularValues();
        return new Svd(zeroColumns(d.getU().getData(), s), s, zeroColumns(d.getV().getData(), s));
    }

    private static double[][] zeroColumns(double[][] m, double[] s) {
        for (double[] row : m) for (int c = 0; c < row.length; c++) if (!(s[c] > 0)) row[c] = 0;
        return m;
    }

    static double[][] transpose(double[][] a) {
        double[][] t = new double[a[0].length][a.length];
        for (int i = 0; i < a.length; i++) for (int j = 0; j < a[0].length; j++) t[j][i] = a[i][j];
        return t;
    }

    /** {@code a [m, k] · b [k, n]}. */
    static double[][] mul(double[][] a, double[][] b) {
        int m = a.length, k = b.length, n = b[0].length;
        double[][] out = new double[m][n];
        for (int i = 0; i < m; i++) {
            double[] row = out[i];
            for (int x = 0; x < k; x++) {
                double f = a[i][x];
                if (f == 0) continue;
                double[] br = b[x];
                for (int j = 0; j < n; j++) row[j] += f * br[j];
            }
        }
        return out;
    }
}
