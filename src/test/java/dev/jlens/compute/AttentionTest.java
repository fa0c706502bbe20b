package dev.jlens.compute;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The fused causal attention against plain loops in double precision. */
class AttentionTest {
    record Reference(double[][][][] scores, double[][][][] pattern, double[][][][] z) {}

    /** qkv [batch·pos, 3·heads·dHead] → scores/pattern [b][h][i][j], z [b][i][h][d]. */
    static Reference naive(float[] qkv, int batch, int pos, int heads, int dHead, double scale) {
        return naive(qkv, new Attention.Shape(batch, pos, heads, heads, dHead, scale, 0, 0));
    }

    /**
     * The definition, with grouped key/value heads (query head h reads key/value head h / (heads / kvHeads)),
     * a soft cap (cap·tanh(s / cap)) and a sliding window (keys i − j ≥ window masked).
     */
    static Reference naive(float[] qkv, Attention.Shape sh) {
        int batch = sh.batch(), pos = sh.pos(), heads = sh.heads(), dHead = sh.dHead(), width = sh.width();
        int group = heads / sh.kvHeads();
        double scale = sh.scale();
        double[][][][] s = new double[batch][heads][pos][pos], p = new double[batch][heads][pos][pos];
        double[][][][] z = new double[batch][pos][heads][dHead];
        for (int b = 0; b < batch; b++) for (int h = 0; h < heads; h++) for (int i = 0; i < pos; i++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < pos; j++) {
                if (j > i || (sh.window() > 0 && i - j >= sh.window())) { s[b][h][i][j] = Double.NEGATIVE_INFINITY; continue; }
                double dot = 0;
                for (int d = 0; d < dHead; d++) {
                    dot += (double) qkv[(b * pos + i) * width + h * dHead + d] * qkv[(b * pos + j) * width + (heads + h / group) * dHead + d];
                }
                s[b][h][i][j] = sh.softCap() > 0 ? sh.softCap() * Math.tanh(dot / scale / sh.softCap()) : dot / scale;
                max = Math.max(max, s[b][h][i][j]);
            }
            double sum = 0;
            for (int j = 0; j <= i; j++) sum += Math.exp(s[b][h][i][j] - max);
            for (int j = 0; j <= i; j++) p[b][h][i][j] = Math.exp(s[b][h][i][j] - max) / sum;
            for (int d = 0; d < dHead; d++) {
                double acc = 0;
                for (int j = 0; j <= i; j++) acc += p[b][h][i][j] * qkv[(b * pos + j) * width + (heads + sh.kvHeads() + h / group) * dHead + d];
                z[b][i][h][d] = acc;
            }
        }
        return new Reference(s, p, z);
    }

    @Test
    void matchesPlainLoopsForAwkwardShapes() {
        Random r = new Random(7);
        int[][] shapes = {{1, 1, 1, 4}, {2, 3, 3, 16}, {1, 17, 2, 64}, {2, 70, 3, 8}, {1, 5, 1, 70}, {1, 130, 2, 32}};
        for (int[] sh : shapes) {
            int batch = sh[0], pos = sh[1], heads = sh[2], dHead = sh[3];
            double scale = Math.sqrt(dHead);
            float[] qkv = new float[batch * pos * 3 * heads * dHead];
            for (int i = 0; i < qkv.length; i++) qkv[i] = (float) (r.nextGaussian() * 1.5);
            Reference want = naive(qkv, batch, pos, heads, dHead, scale);
            INDArray in = Nd4j.create(qkv, new long[] {(long) batch * pos, 3L * heads * dHead}, 'c');
            for (boolean bf16 : new boolean[] {false, true}) {
                INDArray scores = Nd4j.createUninitialized(DataType.FLOAT, batch, heads, pos, pos);
                INDArray pattern = Nd4j.createUninitialized(bf16 ? DataType.BFLOAT16 : DataType.FLOAT, batch, heads, pos, pos);
                INDArray z = Nd4j.createUninitialized(DataType.FLOAT, batch, pos, heads, dHead);
                Attention.causal(in, new Attention.Shape(batch, pos, heads, heads, dHead, scale, 0, 0), scores, pattern, z);
                String what = java.util.Arrays.toString(sh) + (bf16 ? " bf16" : "");
                for (int b = 0; b < batch; b++) for (int h = 0; h < heads; h++) for (int i = 0; i < pos; i++) for (int j = 0; j < pos; j++) {
                    double ws = want.scores()[b][h][i][j], gs = scores.getDouble(b, h, i, j);
                    if (j > i) assertEquals(Double.NEGATIVE_INFINITY, gs, what + " masked score");
                    else assertEquals(ws, gs, 1e-5 + 1e-5 * Math.abs(ws), what + " score");
                    double wp = want.pattern()[b][h][i][j], gp = pattern.getDouble(b, h, i, j);
                    assertEquals(wp, gp, bf16 ? 4e-3 * wp + 1e-30 : 2e-6, what + " pattern " + i + "," + j);
                }
                for (int b = 0; b < batch; b++) for (int i = 0; i < pos; i++) for (int h = 0; h < heads; h++) for (int d = 0; d < dHead; d++) {
                    double wz = want.z()[b][i][h][d];
                    assertEquals(wz, z.getDouble(b, i, h, d), 1e-5 + 1e-5 * Math.abs(wz), what + " z");
                }
            }
            // Without outputs for scores and pattern, z is the same.
            INDArray z2 = Nd4j.createUninitialized(DataType.FLOAT, batch, pos, heads, dHead);
            Attention.causal(in, new Attention.Shape(batch, pos, heads, heads, dHead, scale, 0, 0), null, null, z2);
            for (int b = 0; b < batch; b++) for (int i = 0; i < pos; i++) for (int h = 0; h < heads; h++) for (int d = 0; d < dHead; d++) {
                assertEquals(want.z()[b][i][h][d], z2.getDouble(b, i, h, d), 1e-5 + 1e-5 * Math.abs(want.z()[b][i][h][d]));
            }
        }
    }

    @Test
    void groupedHeadsSlidingWindowAndSoftCapMatchTheirDefinition() {
        Random r = new Random(11);
        Attention.Shape[] shapes = {
                new Attention.Shape(1, 9, 4, 2, 8, Math.sqrt(8), 0, 0),      // grouped-query attention
                new Attention.Shape(2, 20, 6, 1, 16, 4, 0, 5),               // one key/value head, window 5
                new Attention.Shape(1, 33, 2, 2, 32, 6, 50, 0),              // soft cap only (Gemma 2's 50)
                new Attention.Shape(1, 70, 8, 4, 16, 4, 2, 16)};             // all three, a cap that bites
        for (Attention.Shape sh : shapes) {
            int batch = sh.batch(), pos = sh.pos(), heads = sh.heads(), dHead = sh.dHead();
            float[] qkv = new float[batch * pos * sh.width()];
            for (int i = 0; i < qkv.length; i++) qkv[i] = (float) (r.nextGaussian() * 2);
            Reference want = naive(qkv, sh);
            INDArray in = Nd4j.create(qkv, new long[] {(long) batch * pos, sh.width()}, 'c');
            INDArray scores = Nd4j.createUninitialized(DataType.FLOAT, batch, heads, pos, pos);
            INDArray pattern = Nd4j.createUninitialized(DataType.FLOAT, batch, heads, pos, pos);
            INDArray z = Nd4j.createUninitialized(DataType.FLOAT, batch, pos, heads, dHead);
            Attention.causal(in, sh, scores, pattern, z);
            for (int b = 0; b < batch; b++) for (int h = 0; h < heads; h++) for (int i = 0; i < pos; i++) for (int j = 0; j < pos; j++) {
                double ws = want.scores()[b][h][i][j];
                if (ws == Double.NEGATIVE_INFINITY) assertEquals(ws, scores.getDouble(b, h, i, j), sh + " masked score " + i + "," + j);
                else assertEquals(ws, scores.getDouble(b, h, i, j), 1e-5 + 1e-5 * Math.abs(ws), sh + " score");
                assertEquals(want.pattern()[b][h][i][j], pattern.getDouble(b, h, i, j), 2e-6, sh + " pattern " + i + "," + j);
            }
            for (int b = 0; b < batch; b++) for (int i = 0; i < pos; i++) for (int h = 0; h < heads; h++) for (int d = 0; d < dHead; d++) {
                double wz = want.z()[b][i][h][d];
                assertEquals(wz, z.getDouble(b, i, h, d), 1e-5 + 1e-5 * Math.abs(wz), sh + " z");
            }
        }
    }

    @Test
    void bf16RoundsToNearestEvenLikeNd4j() {
        float[] values = {1f, -2.5f, 1.00390625f, Float.intBitsToFloat(0x3F818000), Float.intBitsToFloat(0x3F808001), 1e-20f, 65504f};
        INDArray cast = Nd4j.createFromArray(values).castTo(DataType.BFLOAT16).castTo(DataType.FLOAT);
        for (int i = 0; i < values.length; i++) {
            float mine = Float.intBitsToFloat(Bf16.round(values[i]) << 16);
            assertEquals(cast.getFloat(i), mine, "bf16 of " + values[i]);
        }
    }

    /**
     * A generation step against a key/value cache: the last m queries over the cached keys and values give the
     * definition's z for those positions, with grouped key/value heads, a soft cap and a sliding window.
     */
    @Test
    void aCachedStepGivesTheDefinitionsOutputForItsQueries() {
        Random r = new Random(9);
        int pos = 23, heads = 4, kvHeads = 2, dHead = 20;   // dHead: one vector and a scalar tail on 16 lanes
        for (Attention.Shape whole : new Attention.Shape[] {
                new Attention.Shape(1, pos, heads, kvHeads, dHead, Math.sqrt(dHead), 0, 0),
                new Attention.Shape(1, pos, heads, kvHeads, dHead, 3.0, 5.0, 6)}) {
            int width = whole.width(), kvWidth = kvHeads * dHead, qWidth = heads * dHead;
            float[] qkv = new float[pos * width];
            for (int i = 0; i < qkv.length; i++) qkv[i] = (float) r.nextGaussian();
            Reference want = naive(qkv, whole);
            float[] keys = new float[pos * kvWidth], values = new float[pos * kvWidth];
            for (int j = 0; j < pos; j++) {
                System.arraycopy(qkv, j * width + qWidth, keys, j * kvWidth, kvWidth);
                System.arraycopy(qkv, j * width + qWidth + kvWidth, values, j * kvWidth, kvWidth);
            }
            for (int m : new int[] {1, 3}) {
                int start = pos - m;
                float[] q = new float[m * qWidth], z = new float[m * qWidth];
                for (int i = 0; i < m; i++) System.arraycopy(qkv, (start + i) * width, q, i * qWidth, qWidth);
                Attention.Shape step = new Attention.Shape(1, m, heads, kvHeads, dHead, whole.scale(), whole.softCap(), whole.window());
                Attention.cached(q, step, start, keys, values, z);
                for (int i = 0; i < m; i++) for (int h = 0; h < heads; h++) for (int d = 0; d < dHead; d++) {
                    assertEquals(want.z()[0][start + i][h][d], z[(i * heads + h) * dHead + d], 1e-5, whole + " m=" + m + " query " + (start + i));
                }
            }
        }
    }
}
