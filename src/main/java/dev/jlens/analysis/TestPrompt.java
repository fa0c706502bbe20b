package dev.jlens.analysis;

import static org.nd4j.linalg.indexing.NDArrayIndex.all;
import static org.nd4j.linalg.indexing.NDArrayIndex.point;

import dev.jlens.model.HookedTransformer;
import dev.jlens.view.Token;
import dev.jlens.view.TokenText;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * How the model does on a known answer, as TransformerLens's {@code utils.test_prompt}: the prompt and the
 * answer are run together, and at each answer token the model's rank, logit and probability for it, with
 * its top {@code k} tokens there.
 *
 * @param promptTokens the prompt's tokens (BOS first when the model uses one)
 * @param answers      one entry per token of the answer
 */
public record TestPrompt(List<String> promptTokens, List<Answer> answers) {

    /** One answer token: where the model ranks it (0: its first choice, as TransformerLens counts), and what it ranks first. */
    public record Answer(@Token String token, int rank, double logit, double probability, List<String> top, double[] topLogits,
                         double[] topProbabilities) {}

    /** {@code answer} is tokenized as it follows the prompt (a leading space is the caller's: {@code " Mary"}). */
    public static TestPrompt of(HookedTransformer model, String prompt, String answer, int k) {
        INDArray p = model.toTokens(prompt);
        INDArray a = model.toTokens(answer, false);
        if (a.length() == 0) throw new IllegalArgumentException("the answer '" + answer + "' has no tokens");
        long np = p.length(), na = a.length();
        long[] ids = new long[(int) (np + na)];
        System.arraycopy(p.toLongVector(), 0, ids, 0, (int) np);
        System.arraycopy(a.toLongVector(), 0, ids, (int) np, (int) na);
        INDArray logits = model.forward(Nd4j.createFromArray(new long[][] {ids}));           // [1, pos, d_vocab]
        List<Answer> answers = new ArrayList<>();
        for (int i = 0; i < na; i++) {
            int pos = (int) (np + i - 1), id = (int) ids[(int) np + i];
            float[] row = logits.get(point(0), point(pos), all()).toFloatVector();
            double max = Double.NEGATIVE_INFINITY, sum = 0;
            for (float v : row) max = Math.max(max, v);
            for (float v : row) sum += Math.exp(v - max);
            int[] best = Distributions.topK(row, k);
            double[] bl = new double[best.length], bp = new double[best.length];
            List<String> names = new ArrayList<>();
            for (int r = 0; r < best.length; r++) {
                bl[r] = row[best[r]];
                bp[r] = Math.exp(row[best[r]] - max) / sum;
                names.add(model.tokenText(best[r]));
            }
            answers.add(new Answer(model.tokenText(id), Distributions.rank(row, id) - 1, row[id], Math.exp(row[id] - max) / sum, names, bl, bp));
        }
        return new TestPrompt(model.toStrTokens(p), answers);
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("Tokenized prompt: ").append(TokenText.list(promptTokens)).append('\n');
        sb.append("Tokenized answer: ").append(TokenText.list(answers.stream().map(Answer::token).toList())).append('\n');
        for (Answer a : answers) {
            sb.append(String.format(Locale.ROOT, "Performance on answer token %s: rank %d, logit %.2f, prob %.2f%%%n",
                    "'" + TokenText.visible(a.token()) + "'", a.rank(), a.logit(), 100 * a.probability()));
            for (int r = 0; r < a.top().size(); r++) {
                sb.append(String.format(Locale.ROOT, "  top %d: logit %6.2f  prob %6.2f%%  '%s'%n", r, a.topLogits()[r],
                        100 * a.topProbabilities()[r], TokenText.visible(a.top().get(r))));
            }
        }
        return sb.toString().stripTrailing();
    }

    /** Ranks of the answer tokens, in order. */
    public int[] ranks() {
        return answers.stream().mapToInt(Answer::rank).toArray();
    }

}
