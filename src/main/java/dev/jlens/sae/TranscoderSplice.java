package dev.jlens.sae;

import dev.jlens.model.Splice;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A transcoder in a run: it reads one hook point (an MLP's input) and writes another (its output), so it is two
 * splices that share the features of one forward pass. The input side passes the activation on unchanged and exposes
 * {@code hook_sae_input}, {@code hook_sae_acts_pre}, {@code hook_sae_acts_post} under the input hook; the output side
 * replaces the MLP's output by the reconstruction (or, with the error term, keeps it exact) under the output hook.
 */
final class TranscoderSplice {
    static final List<String> INPUT_POINTS = List.of("hook_sae_input", "hook_sae_acts_pre", "hook_sae_acts_post");
    static final List<String> OUTPUT_POINTS = List.of("hook_sae_recons", "hook_sae_error", "hook_sae_output");

    private final SAE sae;
    private INDArray input, cleanInput, features, cleanFeatures;
    private boolean featuresHooked;

    TranscoderSplice(SAE sae) {
        this.sae = sae;
    }

    List<Splice> splices() {
        return List.of(new Reader(), new Writer());
    }

    private final class Reader implements Splice {
        @Override
        public String hookName() {
            return sae.cfg().hookName();
        }

        @Override
        public List<String> pointNames() {
            return INPUT_POINTS;
        }

        @Override
        public INDArray apply(INDArray x, Points points) {
            int d = sae.cfg().dIn();
            INDArray rows = x.reshape('c', x.length() / d, d);
            input = points.at("hook_sae_input", rows.dup());
            INDArray pre = points.at("hook_sae_acts_pre", sae.encodePre(input));
            features = points.at("hook_sae_acts_post", sae.activate(pre.dup('c')));
            featuresHooked = points.hooked("hook_sae_input") || points.hooked("hook_sae_acts_pre") || points.hooked("hook_sae_acts_post");
            cleanFeatures = featuresHooked ? sae.activate(sae.encodePre(rows)) : features;
            cleanInput = featuresHooked ? rows.dup() : input;
            return x;
        }
    }

    private final class Writer implements Splice {
        @Override
        public String hookName() {
            return sae.cfg().outputHookName();
        }

        @Override
        public List<String> pointNames() {
            return OUTPUT_POINTS;
        }

        @Override
        public INDArray apply(INDArray out, Points points) {
            if (features == null) throw new IllegalStateException("the transcoder's output hook " + hookName() + " came before its input hook");
            int d = sae.cfg().dOut();
            INDArray actual = out.reshape('c', out.length() / d, d);
            INDArray recons = points.at("hook_sae_recons", decode(features, input));
            INDArray result = recons;
            if (sae.usesErrorTerm()) {
                INDArray clean = featuresHooked || points.hooked("hook_sae_recons") ? decode(cleanFeatures, cleanInput) : recons;
                INDArray error = actual.sub(clean);
                INDArray seen = points.at("hook_sae_error", error);
                if (seen != error) result = recons.add(seen);
                else result = recons == clean ? actual : actual.add(recons.sub(clean));
            }
            result = points.at("hook_sae_output", result);
            features = null;
            return result.reshape('c', out.shape());
        }

        private INDArray decode(INDArray f, INDArray in) {
            INDArray r = f.mmul(sae.W_dec()).addiRowVector(sae.b_dec());
            if (sae.W_skip() != null) r.addi(in.mmul(sae.W_skip()));
            return r;
        }
    }
}
