package dev.jlens.sae;

import dev.jlens.model.Hook;
import dev.jlens.model.Splice;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * A sparse autoencoder (or transcoder) with SAELens's semantics:
 * <pre>
 *   x'   = norm(x) − b_dec               (b_dec only when apply_b_dec_to_input)
 *   pre  = x'·W_enc + b_enc              hook_sae_acts_pre    [.., d_sae]
 *   f    = act(pre)                       hook_sae_acts_post   (ReLU, JumpReLU or TopK)
 *   x̂    = denorm(f·W_dec + b_dec)       hook_sae_recons      (+ x·W_skip for a skip transcoder)
 * </pre>
 * Spliced into a run ({@link #runWithCache}, or {@link dev.jlens.model.HookedTransformer#run} with {@link #splices()})
 * it replaces its hook point's activation by the reconstruction, or, {@link #withErrorTerm() with the error term},
 * leaves the run exact while features can still be read, ablated and steered.
 *
 * <pre>{@code
 * var sae = SAE.load(Path.of("artifacts/shakespeare-char/saes/blocks.2.hook_resid_pre"));
 * var f = sae.encode(run.cache().get("resid_pre", 2));              // [1, pos, d_sae]
 * model.run(tokens, List.of(sae.feature(12).times(0)), CacheSpec.all(), true, sae.withErrorTerm().splices());
 * }</pre>
 */
public final class SAE implements Splice {
    private final SaeConfig cfg;
    private final INDArray wEnc, bEnc, wDec, bDec, threshold, wSkip;
    private final boolean errorTerm;

    /**
     * @param threshold JumpReLU's per-feature threshold {@code [d_sae]}, else {@code null}
     * @param wSkip     a skip transcoder's {@code [d_in, d_out]}, else {@code null}
     */
    public SAE(SaeConfig cfg, INDArray wEnc, INDArray bEnc, INDArray wDec, INDArray bDec, INDArray threshold, INDArray wSkip) {
        this(cfg, wEnc, bEnc, wDec, bDec, threshold, wSkip, false);
    }

    private SAE(SaeConfig cfg, INDArray wEnc, INDArray bEnc, INDArray wDec, INDArray bDec, INDArray threshold, INDArray wSkip,
                boolean errorTerm) {
        this.cfg = Objects.requireNonNull(cfg, "config");
        String src = cfg.source();
        this.wEnc = shaped(src, "W_enc", wEnc, cfg.dIn(), cfg.dSae());
        this.bEnc = shaped(src, "b_enc", bEnc, cfg.dSae());
        this.wDec = shaped(src, "W_dec", wDec, cfg.dSae(), cfg.dOut());
        this.bDec = shaped(src, "b_dec", bDec, cfg.dOut());
        if (cfg.activation() == SaeConfig.Activation.JUMPRELU && threshold == null) {
            throw new IllegalArgumentException(src + ": a JumpReLU SAE needs 'threshold' [d_sae]; the file has none");
        }
        this.threshold = threshold == null ? null : shaped(src, "threshold", threshold, cfg.dSae());
        this.wSkip = wSkip == null ? null : shaped(src, "W_skip", wSkip, cfg.dIn(), cfg.dOut());
        if (cfg.transcoder() && cfg.applyBDecToInput()) {
            throw new IllegalArgumentException(src + ": a transcoder's b_dec belongs to its output; apply_b_dec_to_input must be false");
        }
        this.errorTerm = errorTerm;
    }

    private static INDArray shaped(String src, String name, INDArray a, long... shape) {
        Objects.requireNonNull(a, name);
        if (!Arrays.equals(a.shape(), shape)) {
            throw new IllegalArgumentException(src + ": '" + name + "' has shape " + Arrays.toString(a.shape()) + " but the SAE needs "
                    + Arrays.toString(shape) + " (from d_in, d_sae, d_out); the weights and the config do not belong together");
        }
        return a.dataType() == DataType.FLOAT ? a : a.castTo(DataType.FLOAT);
    }

    // ------------------------------------------------------------------ loading

    /** An SAE from a folder or file: SAELens, sparsify or Gemma Scope, told apart by the files (see {@link SaeFiles}). */
    public static SAE load(Path folderOrFile) {
        return SaeFiles.load(folderOrFile, null);
    }

    /** As {@link #load(Path)}, reading at {@code hookName} where the files do not say (Gemma Scope, sparsify). */
    public static SAE load(Path folderOrFile, String hookName) {
        return SaeFiles.load(folderOrFile, hookName);
    }

    /**
     * Saves it as SAELens does ({@code cfg.json} + {@code sae_weights.safetensors}, float32), each file replaced
     * atomically; the same SAE gives the same bytes. ReLU and TopK SAEs (what jlens trains).
     *
     * @param modelName the model it reads, for SAELens's {@code model_name}; null when unknown
     */
    public void save(Path folder, String modelName) {
        SaeWriter.save(this, folder, modelName);
    }

    /** {@link #save(Path, String)} without a model name. */
    public void save(Path folder) {
        save(folder, null);
    }

    /** An SAE of a release SAELens knows, by its id there: {@code fromPretrained("gpt2-small-res-jb", "blocks.8.hook_resid_pre")}. */
    public static SAE fromPretrained(String release, String id) {
        return SaeReleases.load(release, id);
    }

    // ------------------------------------------------------------------ what it computes

    public SaeConfig cfg() {
        return cfg;
    }

    /** {@code [d_in, d_sae]}. */
    public INDArray W_enc() {
        return wEnc;
    }

    public INDArray b_enc() {
        return bEnc;
    }

    /** {@code [d_sae, d_out]}: row {@code i} is feature {@code i}'s direction. */
    public INDArray W_dec() {
        return wDec;
    }

    public INDArray b_dec() {
        return bDec;
    }

    /** JumpReLU's thresholds {@code [d_sae]}, or {@code null}. */
    public INDArray threshold() {
        return threshold;
    }

    public INDArray W_skip() {
        return wSkip;
    }

    /** Feature activations of {@code x} {@code [.., d_in]} (or {@code [.., n_heads, d_head]} for hook_z): {@code [.., d_sae]}. */
    public INDArray encode(INDArray x) {
        Rows in = rows(x);
        INDArray pre = encodePre(normalised(in.matrix).matrix);
        return in.back(activate(pre), cfg.dSae());
    }

    /** The reconstruction of feature activations {@code f} {@code [.., d_sae]}: {@code [.., d_out]}; no skip term, no denormalisation. */
    public INDArray decode(INDArray f) {
        long[] shape = f.shape();
        if (shape[shape.length - 1] != cfg.dSae()) {
            throw new IllegalArgumentException("decode takes feature activations [.., " + cfg.dSae() + "], got " + Arrays.toString(shape));
        }
        INDArray m = f.reshape('c', f.length() / cfg.dSae(), cfg.dSae()).castTo(DataType.FLOAT);
        INDArray out = m.mmul(wDec).addiRowVector(bDec);
        long[] outShape = shape.clone();
        outShape[outShape.length - 1] = cfg.dOut();
        return out.reshape('c', outShape);
    }

    /** {@code decode(encode(x))} with the input's normalisation undone and a transcoder's skip term: what a splice puts in. */
    public INDArray forward(INDArray x) {
        Rows in = rows(x);
        Normalised n = normalised(in.matrix);
        INDArray recons = reconstruct(activate(encodePre(n.matrix)), in.matrix, n);
        return cfg.transcoder() ? recons.reshape('c', outShape(x)) : in.back(recons, cfg.dIn());
    }

    /** The pre-activations of normalised input rows {@code [n, d_in]}: {@code [n, d_sae]}. */
    INDArray encodePre(INDArray rows) {
        INDArray in = cfg.applyBDecToInput() ? rows.subRowVector(bDec) : rows;
        return in.mmul(wEnc).addiRowVector(bEnc);
    }

    /** The activation function, in place on {@code pre} {@code [n, d_sae]}; returns it. */
    INDArray activate(INDArray pre) {
        switch (cfg.activation()) {
            case RELU -> Transforms.relu(pre, false);
            case JUMPRELU -> {
                FloatBuffer v = pre.data().asNioFloat();
                float[] t = threshold.toFloatVector();
                int d = cfg.dSae();
                long n = pre.length();
                for (int i = 0; i < n; i++) {
                    float x = v.get(i);
                    if (!(x > t[i % d]) || x <= 0) v.put(i, 0f);
                }
            }
            case TOPK -> TopK.keepLargest(pre, cfg.k());
        }
        return pre;
    }

    /** Features {@code f} {@code [n, d_sae]} back to the hook's space, with normalisation undone and the skip term added. */
    private INDArray reconstruct(INDArray f, INDArray inputRows, Normalised n) {
        INDArray out = f.mmul(wDec).addiRowVector(bDec);
        n.restore(out);
        if (wSkip != null) out.addi(inputRows.mmul(wSkip));
        return out;
    }

    // ------------------------------------------------------------------ shapes and normalisation

    /** The input as rows {@code [n, d_in]} and the way back to its leading shape. */
    private record Rows(INDArray matrix, long[] lead) {
        INDArray back(INDArray m, long width) {
            long[] s = Arrays.copyOf(lead, lead.length + 1);
            s[lead.length] = width;
            return m.reshape('c', s);
        }
    }

    private Rows rows(INDArray x) {
        long[] s = x.shape();
        int tail = cfg.readsZ() && s.length >= 2 && s[s.length - 1] * s[s.length - 2] == cfg.dIn() && s[s.length - 1] != cfg.dIn() ? 2 : 1;
        long width = 1;
        for (int i = s.length - tail; i < s.length; i++) width *= s[i];
        if (s.length < tail || width != cfg.dIn()) {
            throw new IllegalArgumentException("the SAE at " + cfg.hookName() + " reads [.., " + cfg.dIn() + "]"
                    + (cfg.readsZ() ? " (or [.., n_heads, d_head])" : "") + ", got " + Arrays.toString(s));
        }
        long[] lead = Arrays.copyOf(s, s.length - tail);
        INDArray m = x.castTo(DataType.FLOAT).reshape('c', x.length() / cfg.dIn(), cfg.dIn());
        return new Rows(m, lead);
    }

    private long[] outShape(INDArray x) {
        long[] s = x.shape();
        long[] out = Arrays.copyOf(s, s.length);
        out[out.length - 1] = cfg.dOut();
        return out;
    }

    /** Normalised rows and how to restore an output. */
    private record Normalised(INDArray matrix, INDArray scale, INDArray mean) {
        void restore(INDArray out) {
            if (scale != null) out.muliColumnVector(scale);
            if (mean != null) out.addiColumnVector(mean);
        }
    }

    private Normalised normalised(INDArray rows) {
        return switch (cfg.inputNorm()) {
            case NONE -> new Normalised(rows, null, null);
            case CONSTANT_NORM_RESCALE -> {
                INDArray norm = rows.norm2(1).reshape(rows.size(0), 1).divi(Math.sqrt(cfg.dIn()));   // ‖x‖/√d
                yield new Normalised(rows.divColumnVector(norm), norm, null);
            }
            case LAYER_NORM -> {
                INDArray mean = rows.mean(1).reshape(rows.size(0), 1);
                INDArray centred = rows.subColumnVector(mean);
                INDArray std = Transforms.sqrt(centred.mul(centred).mean(1).reshape(rows.size(0), 1).addi(1e-5), false);
                yield new Normalised(centred.diviColumnVector(std), std, mean);
            }
        };
    }

    // ------------------------------------------------------------------ spliced into a run

    /** The hook points it adds under its hook point, as SAELens names them. */
    public static final List<String> POINTS = List.of("hook_sae_input", "hook_sae_acts_pre", "hook_sae_acts_post", "hook_sae_recons",
            "hook_sae_error", "hook_sae_output");

    /**
     * The same SAE spliced in with SAELens's error term: the output is {@code recons + (x − clean recons)}, so the run is
     * exactly the plain run unless a hook changes features or the reconstruction, whose change then flows on.
     */
    public SAE withErrorTerm() {
        return errorTerm ? this : new SAE(cfg, wEnc, bEnc, wDec, bDec, threshold, wSkip, true);
    }

    /** The same SAE replacing its hook point by the reconstruction (the default). */
    public SAE withoutErrorTerm() {
        return errorTerm ? new SAE(cfg, wEnc, bEnc, wDec, bDec, threshold, wSkip, false) : this;
    }

    public boolean usesErrorTerm() {
        return errorTerm;
    }

    /** What to pass to {@link dev.jlens.model.HookedTransformer#run(INDArray, List, dev.jlens.cache.CacheSpec, boolean, List)}. */
    public List<Splice> splices() {
        return cfg.transcoder() ? new TranscoderSplice(this).splices() : List.of(this);
    }

    @Override
    public String hookName() {
        return cfg.hookName();
    }

    /** A hook point's full name under the SAE: {@code name("hook_sae_acts_post")} = {@code blocks.8.hook_resid_pre.hook_sae_acts_post}. */
    public String name(String point) {
        if (!POINTS.contains(point)) throw new IllegalArgumentException("no SAE hook point '" + point + "'; they are " + POINTS);
        return (cfg.transcoder() && TranscoderSplice.OUTPUT_POINTS.contains(point) ? cfg.outputHookName() : cfg.hookName()) + "." + point;
    }

    @Override
    public List<String> pointNames() {
        return POINTS;
    }

    @Override
    public INDArray apply(INDArray x, Points points) {
        Rows in = rows(x);
        INDArray input = points.at("hook_sae_input", in.back(in.matrix, cfg.dIn()));
        Rows hooked = rows(input);
        Normalised n = normalised(hooked.matrix);
        INDArray pre = points.at("hook_sae_acts_pre", in.back(encodePre(n.matrix), cfg.dSae()));
        INDArray post = points.at("hook_sae_acts_post", activate(pre.dup('c')));
        INDArray features = post.reshape('c', post.length() / cfg.dSae(), cfg.dSae());
        INDArray recons = points.at("hook_sae_recons", in.back(reconstruct(features, hooked.matrix, n), cfg.dIn()));
        INDArray out = recons;
        if (errorTerm) {
            boolean anyHook = points.hooked("hook_sae_input") || points.hooked("hook_sae_acts_pre") || points.hooked("hook_sae_acts_post")
                    || points.hooked("hook_sae_recons");
            INDArray clean = anyHook ? in.back(forwardRows(in.matrix), cfg.dIn()) : recons;
            INDArray xAsRecons = in.back(in.matrix, cfg.dIn());
            INDArray error = xAsRecons.sub(clean);
            INDArray seen = points.at("hook_sae_error", error);
            if (seen != error) out = recons.add(seen);
            // x + (recons − clean), not recons + (x − clean): bit for bit the plain run when nothing was changed.
            else out = recons == clean ? xAsRecons : xAsRecons.add(recons.sub(clean));
        }
        out = points.at("hook_sae_output", out);
        return out.reshape('c', x.shape());
    }

    /** {@link #forward} on rows {@code [n, d_in]} without hooks: the clean reconstruction. */
    private INDArray forwardRows(INDArray rows) {
        Normalised n = normalised(rows);
        return reconstruct(activate(encodePre(n.matrix)), rows, n);
    }

    // ------------------------------------------------------------------ interventions on features

    /** A handle on one feature for hooks: {@code sae.feature(12).times(0)} ablates it, {@code .steer(8)} adds its direction. */
    public Feature feature(int index) {
        if (index < 0 || index >= cfg.dSae()) throw new IndexOutOfBoundsException("feature " + index + " of " + cfg.dSae());
        return new Feature(this, index);
    }

    /** One feature of an SAE, as hooks that change it. */
    public record Feature(SAE sae, int index) {
        /** Scales the feature's activation: {@code times(0)} ablates it (on {@code hook_sae_acts_post}; splice the SAE in). */
        public Hook times(double factor) {
            int i = index;
            int d = sae.cfg.dSae();
            return Hook.hook(sae.name("hook_sae_acts_post"), (act, h) -> {
                act.reshape('c', act.length() / d, d).getColumn(i).muli(factor);
                return null;
            });
        }

        /** Sets the feature's activation at every position. */
        public Hook set(double value) {
            int i = index;
            int d = sae.cfg.dSae();
            return Hook.hook(sae.name("hook_sae_acts_post"), (act, h) -> {
                act.reshape('c', act.length() / d, d).getColumn(i).assign(value);
                return null;
            });
        }

        /** Adds {@code coefficient · W_dec[i]} at the SAE's hook point at every position: steering, no splice needed. */
        public Hook steer(double coefficient) {
            String at = sae.cfg.transcoder() ? sae.cfg.outputHookName() : sae.cfg.hookName();
            INDArray direction = direction().mul(coefficient);
            long width = direction.length();
            return Hook.hook(at, (act, h) -> {
                act.reshape('c', act.length() / width, width).addiRowVector(direction);
                return null;
            });
        }

        /** Its decoder direction {@code W_dec[i]} {@code [d_out]}. */
        public INDArray direction() {
            return sae.wDec.getRow(index).dup();
        }
    }

    // ------------------------------------------------------------------ a run with it

    /** Runs {@code tokens} with this SAE spliced in, recording everything (its hook points too). */
    public dev.jlens.model.Run runWithCache(dev.jlens.model.HookedTransformer model, INDArray tokens, Hook... hooks) {
        return model.run(tokens, List.of(hooks), dev.jlens.cache.CacheSpec.all(), true, splices());
    }

    @Override
    public String toString() {
        return "SAE[" + cfg.architecture() + (cfg.activation() == SaeConfig.Activation.TOPK ? " k=" + cfg.k() : "") + ", " + cfg.hookName()
                + (cfg.transcoder() ? " → " + cfg.outputHookName() : "") + ", d_in " + cfg.dIn() + ", d_sae " + cfg.dSae()
                + (errorTerm ? ", with error term" : "") + ", from " + cfg.source() + "]";
    }
}
