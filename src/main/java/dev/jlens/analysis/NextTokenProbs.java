package dev.jlens.analysis;

import dev.jlens.view.TokenText;
import dev.jlens.model.HookedTransformer;
import dev.jlens.model.Run;
import dev.jlens.view.BarChart;
import dev.jlens.view.ChartFigure;
import dev.jlens.view.PngCharts;
import dev.jlens.view.TerminalStyle;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * The most likely next tokens after a prompt, with their probabilities (seed 000's bar chart of
 * all 65 characters; for GPT-2, the top k).
 *
 * @param prompt the prompt's tokens
 * @param ids    the k most likely next tokens, most likely first
 * @param tokens their text
 * @param probs  their probabilities
 */
public record NextTokenProbs(List<String> prompt, int[] ids, List<String> tokens, double[] probs) implements ChartFigure {

    /** The {@code k} most likely tokens after the prompt's last position. */
    public static NextTokenProbs of(HookedTransformer model, String prompt, int k) {
        return of(model, model.toTokens(prompt), k);
    }

    public static NextTokenProbs of(HookedTransformer model, INDArray tokens, int k) {
        return of(model, Prompts.logitsOnly(model, tokens), k);
    }

    /** The {@code k} most likely tokens after the last position of a run. */
    public static NextTokenProbs of(HookedTransformer model, Run run, int k) {
        INDArray toks = Prompts.tokens(run);
        INDArray logits = Prompts.logits(run).slice(0);                                   // [pos, d_vocab]
        INDArray last = logits.getRow(logits.size(0) - 1).reshape(1, logits.size(1));
        float[] p = Transforms.exp(Distributions.logProbs(last), false).toFloatVector();
        int[] top = Distributions.topK(p, k);
        List<String> names = new ArrayList<>();
        double[] probs = new double[top.length];
        for (int i = 0; i < top.length; i++) {
            names.add(Prompts.str(model, top[i]));
            probs[i] = p[top[i]];
        }
        return new NextTokenProbs(Prompts.strs(model, toks), top, names, probs);
    }

    public BarChart chart() {
        return new BarChart("Next-token probabilities after '" + TokenText.visible(String.join("", prompt)) + "'", TokenText.visible(tokens), probs, "probability");
    }

    @Override
    public String toText(TerminalStyle style) {
        return chart().toText(style);
    }

    @Override
    public BufferedImage image() {
        return PngCharts.barsImage(chart());
    }

    @Override
    public String figureName() {
        return "next-token-probs";
    }

    @Override
    public String toString() {
        return toText();
    }
}
