package dev.jlens.analysis;

import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.eigen.Eigen;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * A low-rank matrix {@code A·B} kept as its two factors (TransformerLens's {@code FactoredMatrix}):
 * a head's QK circuit {@code W_Q·W_Kᵀ} or OV circuit {@code W_V·W_O} is {@code d_model × d_model}
 * but only rank {@code d_head}, and the full OV circuit {@code W_E·W_V·W_O·W_U} is
 * {@code d_vocab × d_vocab} — 10 GB for GPT-2 if multiplied out. Everything here works through
 * the inner dimension instead: products stay factored, the norm and eigenvalues come from
 * {@code k×k} matrices, and the SVD from thin QRs of the factors plus the SVD of a {@code k×k} core.
 *
 * <pre>{@code
 * FactoredMatrix ov = Circuits.ov(model, 1, 4);          // [d_model, d_model], inner d_head
 * ov.frobeniusNorm();  ov.svd().s();  ov.eigenvalues();
 * Circuits.fullOv(model, 1, 4).corner(5);                // [5, 5] of W_E·OV·W_U
 * }</pre>
 */
public final class FactoredMatrix {
    private final INDArray a;   // [m, k]
    private final INDArray b;   // [k, n]

    /** {@code a [m, k]} times {@code b [k, n]}. */
    public FactoredMatrix(INDArray a, INDArray b) {
        if (a.rank() != 2 || b.rank() != 2 || a.size(1) != b.size(0)) {
            throw new IllegalArgumentException("FactoredMatrix needs A [m, k] and B [k, n], got " + Arrays.toString(a.shape())
                    + " and " + Arrays.toString(b.shape()));
        }
        this.a = a.castTo(DataType.FLOAT);
        this.b = b.castTo(DataType.FLOAT);
    }

    public INDArray A() {
        return a;
    }

    public INDArray B() {
        return b;
    }

    public long rows() {
        return a.size(0);
    }

    public long cols() {
        return b.size(1);
    }

    /** The inner dimension k: an upper bound on the rank. */
    public long inner() {
        return a.size(1);
    }

    /** The full {@code [m, n]} product (beware: d_vocab² for full circuits). */
    public INDArray AB() {
        return a.mmul(b);
    }

    /** {@code B·A [k, k]}, which has the same non-zero eigenvalues as {@code A·B}; needs a square product. */
    public INDArray BA() {
        if (rows() != cols()) throw new IllegalStateException("B·A needs a square product, this is " + rows() + "×" + cols());
        return b.mmul(a);
    }

    /** {@code (A·B)ᵀ = Bᵀ·Aᵀ}. */
    public FactoredMatrix T() {
        return new FactoredMatrix(b.transpose().dup('c'), a.transpose().dup('c'));
    }

    /** {@code A·B·right}, kept factored as {@code A · (B·right)}. */
    public FactoredMatrix times(INDArray right) {
        return new FactoredMatrix(a, b.mmul(right));
    }

    /** {@code left·A·B}, kept factored as {@code (left·A) · B}. */
    public FactoredMatrix leftTimes(INDArray left) {
        return new FactoredMatrix(left.mmul(a), b);
    }

    /** {@code (A·B)·(C·D)}, keeping the smaller of the two inner dimensions. */
    public FactoredMatrix times(FactoredMatrix other) {
        if (cols() != other.rows()) {
            throw new IllegalArgumentException("cannot multiply " + rows() + "×" + cols() + " by " + other.rows() + "×" + other.cols());
        }
        INDArray middle = b.mmul(other.a);                                   // [k1, k2]
        return inner() <= other.inner()
                ? new FactoredMatrix(a, middle.mmul(other.b))
                : new FactoredMatrix(a.mmul(middle), other.b);
    }

    /**
     * {@code ‖A·B‖_F = √(Σ (AᵀA) ⊙ (BBᵀ))}: two {@code k×k} Gram matrices instead of the product.
     */
    public double frobeniusNorm() {
        double[][] g = LinAlg.toDouble(a.transpose().mmul(a)), h = LinAlg.toDouble(b.mmul(b.transpose()));
        double s = 0;
        for (int i = 0; i < g.length; i++) for (int j = 0; j < g.length; j++) s += g[i][j] * h[i][j];
        return Math.sqrt(Math.max(0, s));
    }

    /** The top-left {@code n×n} block of {@code A·B} ({@code utils.get_corner}), from n rows of A and n columns of B. */
    public INDArray corner(int n) {
        long r = Math.min(n, rows()), c = Math.min(n, cols());
        return a.get(NDArrayIndex.interval(0, r), NDArrayIndex.all()).mmul(b.get(NDArrayIndex.all(), NDArrayIndex.interval(0, c)));
    }

    /**
     * The singular value decomposition {@code A·B = U·diag(S)·Vᵀ}, with {@code r = min(m, k, n)}
     * singular values. Computed as {@code A = Q_A·R_A}, {@code Bᵀ = Q_B·R_B}, so
     * {@code A·B = Q_A·(R_A·R_Bᵀ)·Q_Bᵀ}; the small core {@code R_A·R_Bᵀ} is decomposed by
     * Commons Math and its singular vectors rotated back by {@code Q_A} and {@code Q_B}.
     * Columns of U for zero singular values are zero.
     */
    public Svd svd() {
        LinAlg.Qr qa = LinAlg.qr(LinAlg.toDouble(a));                       // Q_A [m, ra], R_A [ra, k]
        LinAlg.Qr qb = LinAlg.qr(LinAlg.toDouble(b.transpose()));           // Q_B [n, rb], R_B [rb, k]
        double[][] core = LinAlg.mul(qa.r(), LinAlg.transpose(qb.r()));     // [ra, rb]
        LinAlg.Svd s = LinAlg.svd(core);
        INDArray u = LinAlg.toFloat(LinAlg.mul(qa.q(), s.u()));
        INDArray v = LinAlg.toFloat(LinAlg.mul(qb.q(), s.v()));
        return new Svd(u, s.s(), v);
    }

    /**
     * The singular value decomposition of a factored matrix.
     *
     * @param U [m, r], orthonormal columns (zero columns where S is 0)
     * @param S the r singular values, largest first
     * @param V [n, r]: {@code A·B = U·diag(S)·Vᵀ}
     */
    public record Svd(INDArray U, double[] S, INDArray V) {
        /** {@code U·diag(S)·Vᵀ}, for checking. */
        public INDArray reconstruct() {
            return U.mulRowVector(Nd4j.createFromArray(S).castTo(DataType.FLOAT)).mmul(V.transpose());
        }
    }

    /**
     * The eigenvalues of {@code A·B} that can be non-zero: those of {@code B·A} ({@code k×k}),
     * largest magnitude first. Needs a square product (QK and OV circuits are).
     */
    public Eigenvalues eigenvalues() {
        INDArray ba = BA().castTo(DataType.DOUBLE).dup('c');
        INDArray[] eig = Eigen.eig(ba);                              // [k, 2]: real and imaginary parts
        double[][] ri = LinAlg.toDouble(eig[0]);
        Arrays.sort(ri, (x, y) -> Double.compare(Math.hypot(y[0], y[1]), Math.hypot(x[0], x[1])));
        double[] re = new double[ri.length], im = new double[ri.length];
        for (int i = 0; i < ri.length; i++) {
            re[i] = ri[i][0];
            im[i] = ri[i][1];
        }
        return new Eigenvalues(re, im);
    }

    /**
     * Complex eigenvalues {@code re[i] + i·im[i]}, largest magnitude first.
     *
     * @param re real parts
     * @param im imaginary parts
     */
    public record Eigenvalues(double[] re, double[] im) {
        /**
         * {@code Σ Re λ / Σ |λ|} (Elhage et al.'s summary of an OV circuit): near 1 when the
         * circuit copies (positive eigenvalues), near -1 when it suppresses what it reads.
         */
        public double positivity() {
            double s = 0, a = 0;
            for (int i = 0; i < re.length; i++) {
                s += re[i];
                a += Math.hypot(re[i], im[i]);
            }
            return a == 0 ? 0 : s / a;
        }

        @Override
        public String toString() {
            StringBuilder sb = new StringBuilder("[");
            for (int i = 0; i < re.length; i++) {
                if (i > 0) sb.append(", ");
                sb.append(String.format("%.4g", re[i]));
                if (im[i] != 0) sb.append(im[i] > 0 ? "+" : "-").append(String.format("%.4gi", Math.abs(im[i])));
            }
            return sb.append(']').toString();
        }
    }

    @Override
    public String toString() {
        return "FactoredMatrix " + rows() + "×" + cols() + " (inner " + inner() + "), ‖·‖_F = " + String.format("%.4g", frobeniusNorm());
    }
}
