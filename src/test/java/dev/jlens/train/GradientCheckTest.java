package dev.jlens.train;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.model.HookedTransformer;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The hand-written backward pass against central finite differences of the loss, on tiny models
 * with random (not lecture-initialised) weights so that every gradient is sizeable: every
 * parameter tensor, several random coordinates each, dropout on (the masks are a function of the
 * step key, so every evaluation sees the same ones).
 */
class GradientCheckTest {
    @ParameterizedTest(name = "{0} layers={1} layerNorm={2} dropout={3} d_model={4} ctx={5}")
    @CsvSource({"gpt, 2, true, 0.0, 8, 5", "gpt, 2, true, 0.25, 8, 5", "attn-only, 2, true, 0.2, 8, 5",
            "attn-only, 1, false, 0.0, 8, 5", "attn-only, 2, false, 0.3, 8, 5",
            // head size 20 and 19 positions: more than one SIMD vector per head row and per pattern row
            "gpt, 1, true, 0.2, 40, 19",
            // head size 16: a whole SIMD vector, so the kernels work on the projection rows in place
            "gpt, 1, true, 0.2, 32, 18"})
    void backwardMatchesFiniteDifferences(String kind, int layers, boolean layerNorm, double dropout, int dModel, int ctx) {
        TrainConfig c = TrainConfig.builder().kind(kind).layers(layers).dModel(dModel).heads(2).ctx(ctx).batch(2).steps(1)
                .dropout(dropout).layerNorm(layerNorm).seed(7).build();
        String chars = "abcdefg";
        HookedTransformer model = LectureModel.create(c, chars, "tiny");
        List<LectureModel.Param> params = LectureModel.params(model);
        SplittableRandom r = new SplittableRandom(11);
        for (LectureModel.Param p : params) {
            float[] v = p.value().data().asFloat();
            for (int i = 0; i < v.length; i++) v[i] = (float) (p.name().endsWith(".w") ? 1 + 0.3 * r.nextGaussian() : 0.5 * r.nextGaussian());
            p.value().data().setData(v);
        }
        TrainingBatches.Batch batch = randomBatch(r, c.batch(), c.ctx(), chars.length());
        Backprop bp = new Backprop(model, params, c.batch(), c.ctx(), dropout);
        long key = 12345;
        double loss = bp.step(batch, key);
        assertTrue(Double.isFinite(loss));

        List<String> failures = new ArrayList<>();
        int checked = 0, nearKinks = 0;
        for (LectureModel.Param p : params) {
            int checkedHere = 0;
            INDArray value = p.value();
            float[] grad = p.grad().data().asFloat();
            int n = (int) value.length();
            for (int k = 0; k < Math.min(n, 6); k++) {
                int i = r.nextInt(n);
                float orig = value.data().getFloat(i);
                double eps = 2e-3 * Math.max(1, Math.abs(orig));
                value.data().put(i, (float) (orig + eps));
                double plus = bp.loss(batch, key);
                value.data().put(i, (float) (orig - eps));
                double minus = bp.loss(batch, key);
                value.data().put(i, orig);
                double numeric = (plus - minus) / (2 * eps);
                double analytic = grad[i];
                double err = Math.abs(numeric - analytic);
                // A ReLU kink within ±eps of some pre-activation breaks the finite difference (for this
                // coordinate and everything upstream of that unit): the one-sided slopes disagree there.
                double right = (plus - loss) / eps, left = (loss - minus) / eps;
                if (Math.abs(right - left) > 2e-3 + 5e-2 * Math.max(Math.abs(right), Math.abs(left))) {
                    nearKinks++;
                    continue;
                }
                checked++;
                checkedHere++;
                if (err > 2e-3 + 3e-2 * Math.max(Math.abs(numeric), Math.abs(analytic))) {
                    failures.add(String.format("%s[%d]: analytic %.6g, numeric %.6g", p.name(), i, analytic, numeric));
                }
            }
            if (checkedHere == 0) failures.add(p.name() + ": no coordinate away from a ReLU kink");
        }
        assertTrue(nearKinks <= checked / 4, nearKinks + " coordinates near kinks, only " + checked + " checked");
        assertTrue(failures.isEmpty(), failures.size() + " of " + checked + " gradients disagree:\n" + String.join("\n", failures));
    }

    static TrainingBatches.Batch randomBatch(SplittableRandom r, int batch, int ctx, int vocab) {
        long[][] x = new long[batch][ctx];
        int[][] y = new int[batch][ctx];
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < ctx; t++) {
                x[b][t] = r.nextInt(vocab);
                y[b][t] = r.nextInt(vocab);
            }
        }
        return new TrainingBatches.Batch(x, y);
    }
}
