package dev.jlens.compute;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Random;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A child program for {@link KernelDeterminismTest}: the forward pass's row kernels (LayerNorm, GELU,
 * causal attention with its softmax) on fixed inputs, once in a cold JVM (interpreted), then again
 * after enough calls for the JIT to have compiled them; prints the SHA-256 of every output bit both times.
 */
public final class KernelBitsMain {
    private KernelBitsMain() {}

    public static void main(String[] args) throws Exception {
        int warmups = Integer.parseInt(args[0]);
        System.out.println("cold " + digest());
        for (int i = 0; i < warmups; i++) digest();
        System.out.println("warm " + digest());
    }

    static INDArray random(Random r, double std, long... shape) {
        int n = 1;
        for (long s : shape) n *= (int) s;
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (r.nextGaussian() * std);
        return Nd4j.create(v, shape, 'c');
    }

    /** Every kernel's outputs on the same inputs, hashed. */
    static String digest() throws Exception {
        Random r = new Random(7);
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        // 67 = 4 full 16-lane vectors plus a tail: both the vector loop and the scalar tail run.
        INDArray x = random(r, 3, 5, 67), w = random(r, 1, 67), b = random(r, 1, 67);
        INDArray scale = Nd4j.createUninitialized(DataType.FLOAT, 5, 1), ln = Nd4j.createUninitialized(DataType.FLOAT, 5, 67);
        Rows.layerNorm(x, w, b, 1e-5, scale, ln);
        add(sha, scale);
        add(sha, ln);
        INDArray pre = random(r, 3, 300), gelu = Nd4j.createUninitialized(DataType.FLOAT, 300);
        Rows.geluNew(pre, gelu);
        add(sha, gelu);
        int batch = 1, pos = 37, heads = 2, dHead = 16;
        INDArray qkv = random(r, 2, (long) batch * pos, 3L * heads * dHead);
        INDArray scores = Nd4j.createUninitialized(DataType.FLOAT, batch, heads, pos, pos);
        INDArray pattern = Nd4j.createUninitialized(DataType.FLOAT, batch, heads, pos, pos);
        INDArray z = Nd4j.createUninitialized(DataType.FLOAT, (long) batch * pos, (long) heads * dHead);
        Attention.causal(qkv, new Attention.Shape(batch, pos, heads, heads, dHead, Math.sqrt(dHead), 0, 0), scores, pattern, z);
        add(sha, pattern);
        add(sha, z);
        return HexFormat.of().formatHex(sha.digest());
    }

    private static void add(MessageDigest sha, INDArray a) {
        float[] v = a.dup('c').data().asFloat();
        ByteBuffer buf = ByteBuffer.allocate(4 * v.length);
        for (float f : v) buf.putInt(Float.floatToRawIntBits(f));
        sha.update(buf.array());
    }
}
