package dev.jlens.analysis;

import dev.jlens.compute.Metric;
import dev.jlens.compute.RowSimilarity;
import dev.jlens.model.HookedTransformer;
import dev.jlens.view.Table;
import dev.jlens.view.Token;
import dev.jlens.view.TokenText;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The corpus strings a block treats most like a prompt (seed 000's nearest neighbours): the k
 * samples whose activation at one hook is nearest the prompt's, by cosine similarity or Euclidean
 * distance, each with the tokens that follow it in the text.
 *
 * @param prompt  the prompt
 * @param hook    where the activations were taken (last token)
 * @param metric  how nearness was measured
 * @param samples how many samples were searched
 * @param matches the nearest samples, nearest first
 * @param note    empty, or what makes the comparison less than like for like (the prompt's length differs
 *                from the samples')
 */
public record SimilarStrings(String prompt, String hook, Metric metric, int samples, List<Match> matches, String note) {

    /**
     * One neighbour.
     *
     * @param row   its sample number (its row in the matrix)
     * @param text  the sample as text
     * @param value its cosine similarity or Euclidean distance to the prompt
     * @param next  what followed it in the text, most frequent first, e.g. {@code "e 12, a 3"}
     */
    public record Match(int row, @Token String text, double value, String next) {}

    /** The {@code k} samples nearest the prompt. */
    public static SimilarStrings of(HookedTransformer model, SampleActivations acts, String prompt, int k, Metric metric) {
        return of(model, acts, List.of(prompt), k, metric).get(0);
    }

    /** The {@code k} samples nearest each prompt, in one pass over the rows. */
    public static List<SimilarStrings> of(HookedTransformer model, SampleActivations acts, List<String> prompts, int k, Metric metric) {
        float[][] queries = new float[prompts.size()][];
        for (int j = 0; j < queries.length; j++) queries[j] = acts.query(model, prompts.get(j));
        List<RowSimilarity.Neighbours> found = RowSimilarity.nearest(acts.rows(), queries, k, metric);
        List<SimilarStrings> out = new ArrayList<>(queries.length);
        for (int j = 0; j < queries.length; j++) {
            RowSimilarity.Neighbours nb = found.get(j);
            List<Match> matches = new ArrayList<>(nb.size());
            for (int i = 0; i < nb.size(); i++) {
                int row = nb.rows()[i];
                matches.add(new Match(row, acts.text(row), nb.values()[i], followers(acts, row, 3)));
            }
            out.add(new SimilarStrings(prompts.get(j), acts.hook(), metric, acts.count(), List.copyOf(matches),
                    lengthNote(model, acts, prompts.get(j))));
        }
        return out;
    }

    /**
     * A prompt of another length than the samples is compared at another position of the context: its last token
     * has seen more or fewer tokens before it, which moves the activations. Say so rather than hide it.
     */
    static String lengthNote(HookedTransformer model, SampleActivations acts, String prompt) {
        long tokens = model.toTokens(prompt, false).length();
        int saved = acts.dataset().samples().length();
        return tokens == saved ? "" : String.format(Locale.ROOT, "note: the prompt is %d tokens but the saved samples are %d: its last"
                + " token sits at another position than theirs, so distances also reflect position", tokens, saved);
    }

    /** The {@code max} most frequent tokens after sample {@code row}, with counts: {@code "e 12, a 3"}. */
    static String followers(SampleActivations acts, int row, int max) {
        long[] counts = new long[acts.vocabSize()];
        acts.addNextTokens(row, counts);
        return TokenCounts.top(acts::tokenString, counts, max);
    }

    /** The rows as a table: rank, string, value, row, next tokens. */
    public String render() {
        Table t = new Table("rank", "string", metric.label(), "row", "followed by");
        for (int i = 0; i < matches.size(); i++) {
            Match m = matches.get(i);
            t.row(i + 1, "'" + TokenText.visible(m.text()) + "'", String.format(Locale.ROOT, "%.4f", m.value()), m.row(), m.next());
        }
        return String.format(Locale.ROOT, "the %d of %,d strings nearest '%s' by %s of %s (last token)%n",
                matches.size(), samples, TokenText.visible(prompt), metric.label(), hook) + t.render()
                + (note.isEmpty() ? "" : note + "\n");
    }

    @Override
    public String toString() {
        return render();
    }
}
