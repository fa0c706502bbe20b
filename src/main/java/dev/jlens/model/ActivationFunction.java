package dev.jlens.model;

import dev.jlens.compute.Rows;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Erf;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/** The MLP non-linearity, named as TransformerLens names it in {@code cfg.act_fn}. */
public enum ActivationFunction {
    /** GPT-2's tanh approximation, {@code 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))}. */
    GELU_NEW("gelu_new"),
    /** The exact erf GELU (PyTorch {@code nn.GELU()}). */
    GELU("gelu"),
    /** Karpathy's lecture model ({@code nn.ReLU}). */
    RELU("relu"),
    /** {@code x·σ(x)} (SiLU, "swish"): the gate of Llama's and Qwen's SwiGLU. */
    SILU("silu");

    private final String tlName;

    ActivationFunction(String tlName) {
        this.tlName = tlName;
    }

    public String tlName() {
        return tlName;
    }

    public static ActivationFunction fromName(String name) {
        for (ActivationFunction f : values()) {
            if (f.tlName.equalsIgnoreCase(name) || f.name().equalsIgnoreCase(name)) return f;
        }
        // HF spells the tanh approximation several ways.
        if (name.equalsIgnoreCase("gelu_pytorch_tanh") || name.equalsIgnoreCase("gelu_fast")) return GELU_NEW;
        if (name.equalsIgnoreCase("swish")) return SILU;
        throw new IllegalArgumentException("unknown activation function '" + name + "': jlens supports " + supportedNames());
    }

    /** The names {@link #fromName} knows, for messages. */
    public static String supportedNames() {
        return "gelu_new (also gelu_pytorch_tanh, gelu_fast), gelu, relu and silu (swish)";
    }

    /** Returns a new array; {@code pre} is left untouched because the cache may hold it. */
    public INDArray apply(INDArray pre) {
        return switch (this) {
            case RELU -> Transforms.relu(pre, true);
            case SILU -> Transforms.sigmoid(pre, true).muli(pre);
            case GELU -> {
                // 0.5·x·(1 + erf(x/√2)); ND4J's own gelu ops are approximations (see DESIGN.md).
                INDArray t = pre.mul(1.0 / Math.sqrt(2.0));
                Nd4j.exec(new Erf(t, t));
                yield t.addi(1.0).muli(pre).muli(0.5);
            }
            case GELU_NEW -> {
                // One pass: x·σ(2·√(2/π)·(x + 0.044715·x³)), which equals the tanh form.
                INDArray out = Nd4j.createUninitialized(DataType.FLOAT, pre.shape());
                Rows.geluNew(pre, out);
                yield out;
            }
        };
    }
}
