package dev.jlens.analysis;

import dev.jlens.model.LogProbs;
import dev.jlens.view.TokenText;
import dev.jlens.model.HookedTransformer;
import dev.jlens.view.Table;
import dev.jlens.view.Bars;
import dev.jlens.view.ChartFigure;
import dev.jlens.view.LineChart;
import dev.jlens.view.PngCharts;
import dev.jlens.view.TerminalStyle;
import java.awt.image.BufferedImage;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * How surprised the model is by each token of a prompt (seed 001's line chart): the
 * log-probability it gave every token given the tokens before it.
 *
 * @param tokens   the predicted tokens (the prompt from its second token on)
 * @param logProbs {@code log p(token | before)}, one per predicted token
 */
public record TokenLogProbs(List<String> tokens, double[] logProbs) implements ChartFigure {

    public static TokenLogProbs of(HookedTransformer model, String prompt) {
        return of(model, model.toTokens(prompt));
    }

    public static TokenLogProbs of(HookedTransformer model, INDArray tokens) {
        return of(model, Prompts.logitsOnly(model, tokens));
    }

    /** The log-probability of each token of a one-prompt run given the ones before. */
    public static TokenLogProbs of(HookedTransformer model, dev.jlens.model.Run run) {
        INDArray toks = Prompts.tokens(run);
        INDArray lp = LogProbs.tokenLogProbs(Prompts.logits(run), toks);     // [1, pos-1]
        List<String> strs = Prompts.strs(model, toks);
        return new TokenLogProbs(strs.subList(1, strs.size()), lp.reshape(lp.length()).castTo(
                org.nd4j.linalg.api.buffer.DataType.DOUBLE).toDoubleVector());
    }

    /** Mean negative log-probability: the prompt's loss. */
    public double loss() {
        double s = 0;
        for (double v : logProbs) s -= v;
        return s / logProbs.length;
    }

    public LineChart chart() {
        return new LineChart("Log-probability of each token given the ones before (loss " + String.format("%.3f", loss()) + ")",
                "token", "log p(token)", TokenText.visible(tokens), List.of(new LineChart.Series("log p", logProbs)));
    }

    @Override
    public String toText(TerminalStyle style) {
        Table t = new Table("token", "log p", "p", "");
        double min = 0;
        for (double v : logProbs) min = Math.min(min, v);
        for (int i = 0; i < logProbs.length; i++) {
            t.row(TokenText.visible(tokens.get(i)), logProbs[i], Math.exp(logProbs[i]), Bars.bar(min == 0 ? 0 : logProbs[i] / min, 20));
        }
        return "log p per token " + Bars.sparkline(logProbs) + String.format("  (loss %.4f)%n", loss()) + t;
    }

    @Override
    public BufferedImage image() {
        return PngCharts.lineImage(chart());
    }

    @Override
    public String figureName() {
        return "token-log-probs";
    }

    @Override
    public String toString() {
        return toText();
    }
}
