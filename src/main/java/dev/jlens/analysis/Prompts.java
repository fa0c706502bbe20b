package dev.jlens.analysis;

import dev.jlens.model.HookedTransformer;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;

/** The one-prompt conventions every analysis shares: ids, token strings, dropping the batch axis. */
final class Prompts {
    private Prompts() {}

    /** The ids of a {@code [pos]} or {@code [1, pos]} token array; a batch of several prompts is refused. */
    static long[] ids(INDArray tokens) {
        if (tokens.rank() == 2 && tokens.size(0) != 1) {
            throw new IllegalArgumentException("this analysis takes one prompt, [1, pos], got a batch of " + tokens.size(0));
        }
        if (tokens.rank() > 2) throw new IllegalArgumentException("tokens must be [pos] or [1, pos]");
        return tokens.reshape(tokens.length()).toLongVector();
    }

    /** {@code [1, pos]} for {@code [pos]} or {@code [1, pos]}. */
    static INDArray batchOfOne(INDArray tokens) {
        long[] ids = ids(tokens);
        return org.nd4j.linalg.factory.Nd4j.createFromArray(new long[][] {ids});
    }

    /**
     * The tokens {@code [1, pos]} of a one-prompt run. A batch is refused rather than read at its first row: an
     * analysis of one prompt silently showing row 0 of several would be a wrong answer.
     */
    static INDArray tokens(dev.jlens.model.Run run) {
        long rows = run.tokens().size(0);
        if (rows != 1) {
            throw new IllegalArgumentException("this analysis reads one prompt, but the run is a batch of " + rows
                    + " prompts: run the prompt on its own (runWithCache(\"…\"))");
        }
        return run.tokens();
    }

    /** A plain forward pass of one prompt as a run with logits and no cache: what the logit-only analyses read. */
    static dev.jlens.model.Run logitsOnly(HookedTransformer model, INDArray tokens) {
        INDArray toks = batchOfOne(tokens);
        return new dev.jlens.model.Run(toks, new int[] {(int) toks.length()}, model.forward(toks), null);
    }

    /** The logits of a run that computed them. */
    static INDArray logits(dev.jlens.model.Run run) {
        if (run.logits() == null) {
            throw new IllegalArgumentException("this run stopped before the logits (a cache-only run): run it with logits,"
                    + " as runWithCache(prompt) does");
        }
        return run.logits();
    }

    /** Each token's text; ids when the model has no tokenizer. */
    static List<String> strs(HookedTransformer model, INDArray tokens) {
        try {
            return model.toStrTokens(batchOfOne(tokens));
        } catch (IllegalStateException noTokenizer) {
            return java.util.Arrays.stream(ids(tokens)).mapToObj(id -> "#" + id).toList();
        }
    }

    /** The text of one token id (or {@code #id} without a tokenizer). */
    static String str(HookedTransformer model, long id) {
        return model.tokenText(id);
    }

    /** {@code a[0]}: an activation of a one-prompt run without its batch axis (a view). */
    static INDArray first(INDArray a) {
        return a.slice(0);
    }
}
