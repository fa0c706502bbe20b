package dev.jlens.compute;

import static org.nd4j.linalg.indexing.NDArrayIndex.all;
import static org.nd4j.linalg.indexing.NDArrayIndex.interval;
import static org.nd4j.linalg.indexing.NDArrayIndex.point;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.custom.SoftMax;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * The forward pass's numerical steps behind one interface, in two implementations: {@link #REFERENCE}, each
 * step written out with ND4J's whole-array operations in the order of the paper's equations, and
 * {@link #FAST}, the fused Vector API kernels ({@link Rows}, {@link RmsNorm}, {@link Attention}, {@link Gemm})
 * that the forward pass uses. Each fast kernel is tested against its reference ({@code KernelsTest}), and
 * {@code -Djlens.kernels=reference} runs whole models on the reference: when a result looks wrong, that
 * tells a kernel's bug from the model's.
 */
public sealed interface Kernels permits Kernels.Fast, Kernels.Reference {
    Kernels FAST = new Fast();
    Kernels REFERENCE = new Reference();

    /** {@link #FAST}, or {@link #REFERENCE} under {@code -Djlens.kernels=reference}. */
    static Kernels chosen() {
        return "reference".equals(System.getProperty("jlens.kernels")) ? REFERENCE : FAST;
    }

    /**
     * TransformerLens's LayerNorm of each row of {@code x [n, d]}: {@code c = x − mean(x)},
     * {@code scale = √(mean(c²) + eps)} into {@code scaleOut} ({@code n} floats), {@code out = c / scale · w + b}.
     */
    void layerNorm(INDArray x, INDArray weight, INDArray bias, double eps, INDArray scaleOut, INDArray out);

    /** RMSNorm of each row: {@code scale = √(mean(x²) + eps)}, {@code out = x / scale · w} (or {@code · (1 + w)}, Gemma). */
    void rmsNorm(INDArray x, INDArray weight, boolean plusOne, double eps, INDArray scaleOut, INDArray out);

    /** Causal attention of all heads; arguments as {@link Attention#causal}. */
    void attention(INDArray qkv, Attention.Shape shape, INDArray scoresOut, INDArray patternOut, INDArray z);

    /**
     * {@code out = x · w + bias} ({@code bias} may be null) for activations {@code x [m, k]} and weights
     * {@code w [k, n]}, float32 or bfloat16, row-major or the transposed view of a row-major {@code [n, k]}
     * (a Hugging Face {@code Linear}, the tied unembedding). {@code packed} is the fast kernels' copy of
     * {@code w} ({@link Gemm#pack} or {@link Gemm#packRows}) or null; the reference ignores it.
     */
    void linear(INDArray x, INDArray w, Object packed, INDArray bias, INDArray out);

    /** The Vector API kernels. */
    final class Fast implements Kernels {
        /**
         * Activations with at least this many rows go to ND4J's gemm (OpenBLAS) instead of {@link Gemm}.
         * Off by default: on one core OpenBLAS is about 10% faster from ~512 rows on, but it splits the
         * work evenly between its OpenMP threads, so on a machine shared with other work the product waits
         * for the slowest core, while {@link Gemm} hands out small pieces as cores come free.
         * {@code -Djlens.nd4jGemmRows=512} for a machine of one's own.
         */
        static final int ND4J_GEMM_ROWS = Integer.getInteger("jlens.nd4jGemmRows", Integer.MAX_VALUE);

        private Fast() {}

        @Override
        public void layerNorm(INDArray x, INDArray weight, INDArray bias, double eps, INDArray scaleOut, INDArray out) {
            Rows.layerNorm(x, weight, bias, eps, scaleOut, out);
        }

        @Override
        public void rmsNorm(INDArray x, INDArray weight, boolean plusOne, double eps, INDArray scaleOut, INDArray out) {
            RmsNorm.apply(x, weight, plusOne, eps, scaleOut, out);
        }

        @Override
        public void attention(INDArray qkv, Attention.Shape shape, INDArray scoresOut, INDArray patternOut, INDArray z) {
            Attention.causal(qkv, shape, scoresOut, patternOut, z);
        }

        @Override
        public void linear(INDArray x, INDArray w, Object packed, INDArray bias, INDArray out) {
            boolean bf16 = w.dataType() == DataType.BFLOAT16, ownKernel = bf16 || x.size(0) < ND4J_GEMM_ROWS;
            if (packed instanceof Gemm.Packed p && x.size(0) < ND4J_GEMM_ROWS) {
                Gemm.linear(x, p, bias, out);
            } else if (packed instanceof Gemm.PackedRows p && x.size(0) < ND4J_GEMM_ROWS) {
                Gemm.linearTransposed(x, p, bias, out);
            } else if (Layouts.isRowMajor(w) && ownKernel) {
                Gemm.linear(x, w, bias, out);
            } else if (w.rank() == 2 && Layouts.isRowMajor(w.transpose()) && ownKernel) {
                Gemm.linearTransposed(x, w.transpose(), bias, out);
            } else {
                REFERENCE.linear(x, w, null, bias, out);
            }
        }
    }

    /** Each step on whole arrays with ND4J's operations, as the equations read. */
    final class Reference implements Kernels {
        private Reference() {}

        @Override
        public void layerNorm(INDArray x, INDArray weight, INDArray bias, double eps, INDArray scaleOut, INDArray out) {
            long d = x.size(x.rank() - 1), n = x.length() / d;
            INDArray rows = x.reshape('c', n, d);
            INDArray centred = rows.subColumnVector(rows.mean(1).reshape(n, 1));
            INDArray scale = Transforms.sqrt(centred.mul(centred).mean(1).addi(eps), false).reshape(n, 1);
            scaleOut.assign(scale.reshape(scaleOut.shape()));
            out.assign(centred.diviColumnVector(scale).muliRowVector(weight).addiRowVector(bias).reshape(out.shape()));
        }

        @Override
        public void rmsNorm(INDArray x, INDArray weight, boolean plusOne, double eps, INDArray scaleOut, INDArray out) {
            long d = x.size(x.rank() - 1), n = x.length() / d;
            INDArray rows = x.reshape('c', n, d).dup('c');
            INDArray scale = Transforms.sqrt(rows.mul(rows).mean(1).addi(eps), false).reshape(n, 1);
            scaleOut.assign(scale.reshape(scaleOut.shape()));
            out.assign(rows.diviColumnVector(scale).muliRowVector(plusOne ? weight.add(1f) : weight).reshape(out.shape()));
        }

        @Override
        public void attention(INDArray qkv, Attention.Shape sh, INDArray scoresOut, INDArray patternOut, INDArray z) {
            int b = sh.batch(), pos = sh.pos(), h = sh.heads(), kv = sh.kvHeads(), dh = sh.dHead(), group = h / kv;
            long qw = (long) h * dh, kw = (long) kv * dh;
            INDArray rows = qkv.reshape('c', (long) b * pos, sh.width());
            INDArray q = rows.get(all(), interval(0, qw)).dup('c').reshape(b, pos, h, dh).permute(0, 2, 1, 3);       // [b, h, pos, dh]
            INDArray k = rows.get(all(), interval(qw, qw + kw)).dup('c').reshape(b, pos, kv, dh).permute(0, 2, 1, 3); // [b, kv, pos, dh]
            INDArray v = rows.get(all(), interval(qw + kw, qw + 2 * kw)).dup('c').reshape(b, pos, kv, dh).permute(0, 2, 1, 3);
            INDArray kh = Nd4j.create(DataType.FLOAT, b, h, pos, dh), vh = Nd4j.create(DataType.FLOAT, b, h, pos, dh);
            for (int head = 0; head < h; head++) {                              // each key/value head serves `group` query heads
                kh.get(all(), point(head), all(), all()).assign(k.get(all(), point(head / group), all(), all()));
                vh.get(all(), point(head), all(), all()).assign(v.get(all(), point(head / group), all(), all()));
            }
            INDArray scores = Nd4j.matmul(q.dup('c'), kh.permute(0, 1, 3, 2).dup('c')).divi(sh.scale());   // [b, h, query, key]
            if (sh.softCap() > 0) scores.divi(sh.softCap()).assign(Transforms.tanh(scores, true)).muli(sh.softCap());
            float[] mask = new float[pos * pos];                                // −∞ on later keys and outside the window
            for (int i = 0; i < pos; i++) {
                for (int j = 0; j < pos; j++) {
                    if (j > i || (sh.window() > 0 && i - j >= sh.window())) mask[i * pos + j] = Float.NEGATIVE_INFINITY;
                }
            }
            scores.reshape('c', (long) b * h, (long) pos * pos).addiRowVector(Nd4j.create(mask, new long[] {(long) pos * pos}, 'c'));
            INDArray pattern = Nd4j.create(DataType.FLOAT, scores.shape());
            Nd4j.exec(new SoftMax(scores, pattern, 3));
            if (scoresOut != null) scoresOut.assign(scores);
            if (patternOut != null) patternOut.assign(patternOut.dataType() == DataType.FLOAT ? pattern : pattern.castTo(patternOut.dataType()));
            INDArray zh = Nd4j.matmul(pattern, vh);                              // [b, h, pos, dh]
            z.assign(zh.permute(0, 2, 1, 3).dup('c').reshape(z.shape()));
        }

        @Override
        public void linear(INDArray x, INDArray w, Object packed, INDArray bias, INDArray out) {
            INDArray w32 = w.dataType() == DataType.FLOAT ? w : w.castTo(DataType.FLOAT);
            Nd4j.gemm(x, w32, out, false, false, 1.0, 0.0);
            if (bias != null) out.addiRowVector(bias);
        }
    }
}
