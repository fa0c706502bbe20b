package dev.jlens.sae;

import dev.jlens.cache.CacheSpec;
import dev.jlens.model.Hook;
import dev.jlens.model.HookedTransformer;
import dev.jlens.model.LogProbs;
import java.util.List;
import java.util.Locale;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * How well an SAE stands in for its hook point on some tokens, SAELens's evaluation figures:
 * <ul>
 *   <li>{@code mse}: mean squared error per element of the reconstruction {@code x̂ = sae.forward(x)};</li>
 *   <li>{@code explainedVariance}: {@code 1 − Σ‖x − x̂‖² / Σ‖x − x̄‖²} over all tokens ({@code x̄} their mean);</li>
 *   <li>{@code l0}: features active per token, on average;</li>
 *   <li>next-token cross-entropy of the clean run, of the run with the reconstruction spliced in, and of the run with
 *       the hook point's activation zeroed; {@link #ceLossRecovered()} puts the spliced one on that scale.</li>
 * </ul>
 * Without a model ({@link #ofRows}) the cross-entropy figures are NaN.
 *
 * @param tokens       tokens (rows of activations) measured
 * @param aliveFeatures features that fired on at least one of them
 */
public record Reconstruction(long tokens, double mse, double explainedVariance, double l0, int aliveFeatures, int dSae,
                             double ceClean, double ceSpliced, double ceZeroAblated) {

    /** Sequences per forward pass: bounds the cache and the logits in memory. */
    private static final int CHUNK = 16;

    /** {@code (CE_zero − CE_spliced) / (CE_zero − CE_clean)}: 1 when splicing costs nothing, 0 when it is as bad as zeroing. */
    public double ceLossRecovered() {
        return (ceZeroAblated - ceSpliced) / (ceZeroAblated - ceClean);
    }

    /** Features that never fired on these tokens. */
    public int deadFeatures() {
        return dSae - aliveFeatures;
    }

    /** The figures on {@code tokens} {@code [batch, pos]} (all rows of one length), in chunks of {@value #CHUNK} rows. */
    public static Reconstruction of(HookedTransformer model, SAE sae, INDArray tokens) {
        String hook = sae.hookName();
        if (tokens.rank() != 2) throw new IllegalArgumentException("Reconstruction.of takes tokens [batch, pos], got rank " + tokens.rank());
        long batch = tokens.size(0);
        Sums sums = new Sums(sae.cfg().dSae());
        double clean = 0, spliced = 0, zero = 0;
        long predictions = 0;
        Hook zeroed = new Hook(hook, (a, h) -> Nd4j.zerosLike(a));
        for (long from = 0; from < batch; from += CHUNK) {
            INDArray chunk = tokens.get(NDArrayIndex.interval(from, Math.min(batch, from + CHUNK)), NDArrayIndex.all()).dup('c');
            var run = model.run(chunk, List.of(), CacheSpec.only(hook), true);
            INDArray x = run.cache().get(hook);
            sums.add(sae, x.reshape('c', x.length() / sae.cfg().dIn(), sae.cfg().dIn()));
            long n = chunk.size(0) * (chunk.size(1) - 1);
            clean += n * LogProbs.meanLoss(LogProbs.tokenLogProbs(run.logits(), chunk));
            spliced += n * LogProbs.meanLoss(LogProbs.tokenLogProbs(model.run(chunk, List.of(), null, true,
                    sae.withoutErrorTerm().splices()).logits(), chunk));
            zero += n * LogProbs.meanLoss(LogProbs.tokenLogProbs(model.run(chunk, List.of(zeroed), null, true).logits(), chunk));
            predictions += n;
        }
        return sums.figures(clean / predictions, spliced / predictions, zero / predictions);
    }

    /** The reconstruction figures of activation rows {@code [n, d_in]} alone; the cross-entropy figures are NaN. */
    public static Reconstruction ofRows(SAE sae, INDArray rows) {
        Sums sums = new Sums(sae.cfg().dSae());
        long n = rows.size(0);
        for (long from = 0; from < n; from += 4096) {
            sums.add(sae, rows.get(NDArrayIndex.interval(from, Math.min(n, from + 4096))));
        }
        return sums.figures(Double.NaN, Double.NaN, Double.NaN);
    }

    /**
     * Running sums over chunks, in double: squared error, the activations' sum and sum of squares (for the variance
     * about their mean), active features.
     */
    private static final class Sums {
        final boolean[] fired;
        double squaredError, sumSquares, active;
        double[] sum;
        long tokens, width;

        Sums(int dSae) {
            fired = new boolean[dSae];
        }

        void add(SAE sae, INDArray x) {
            INDArray rows = x.castTo(DataType.FLOAT).dup('c');
            INDArray f = sae.encode(rows);
            INDArray err = sae.forward(rows).subi(rows);
            squaredError += err.mul(err).sumNumber().doubleValue();
            int d = (int) rows.size(1);
            if (sum == null) sum = new double[d];
            float[] v = rows.data().asFloat();
            for (int i = 0; i < v.length; i++) {
                sum[i % d] += v[i];
                sumSquares += (double) v[i] * v[i];
            }
            float[] a = f.data().asFloat();
            int dSae = fired.length;
            for (int i = 0; i < a.length; i++) {
                if (a[i] != 0) {
                    active++;
                    fired[i % dSae] = true;
                }
            }
            tokens += rows.size(0);
            width = d;
        }

        Reconstruction figures(double clean, double spliced, double zero) {
            double meanSquares = 0;   // Σ_tokens ‖x̄‖²: the part of Σ‖x‖² that the mean accounts for
            for (double s : sum) meanSquares += s * s / tokens;
            double variance = sumSquares - meanSquares;
            int alive = 0;
            for (boolean b : fired) if (b) alive++;
            return new Reconstruction(tokens, squaredError / (tokens * width), 1 - squaredError / variance, active / tokens, alive,
                    fired.length, clean, spliced, zero);
        }
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "Reconstruction[%,d tokens: explained variance %.4f, MSE %.5f, L0 %.1f, dead %d/%d,"
                        + " CE clean %.4f / spliced %.4f / zero-ablated %.4f, CE loss recovered %.4f]", tokens, explainedVariance, mse, l0,
                deadFeatures(), dSae, ceClean, ceSpliced, ceZeroAblated, ceLossRecovered());
    }
}
