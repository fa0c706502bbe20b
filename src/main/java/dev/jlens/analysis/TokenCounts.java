package dev.jlens.analysis;

import dev.jlens.view.TokenText;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.IntFunction;

/** Next-token counts over the vocabulary ({@code long[d_vocab]}) read as distributions and labels. */
final class TokenCounts {
    private TokenCounts() {}

    static long total(long[] counts) {
        long n = 0;
        for (long c : counts) n += c;
        return n;
    }

    /** The counts as probabilities; {@code null} when there are none. */
    static double[] distribution(long[] counts) {
        long n = total(counts);
        if (n == 0) return null;
        double[] p = new double[counts.length];
        for (int i = 0; i < p.length; i++) p[i] = (double) counts[i] / n;
        return p;
    }

    /** The most frequent token (the lower id on a tie), or −1 when all counts are 0. */
    static int mostFrequent(long[] counts) {
        int best = -1;
        for (int i = 0; i < counts.length; i++) if (counts[i] > 0 && (best < 0 || counts[i] > counts[best])) best = i;
        return best;
    }

    /** The {@code max} most frequent tokens with their counts, {@code "e 12, a 3"}; {@code "—"} when none. */
    static String top(IntFunction<String> token, long[] counts, int max) {
        float[] asFloats = new float[counts.length];
        for (int i = 0; i < counts.length; i++) asFloats[i] = counts[i];
        List<String> parts = new ArrayList<>();
        for (int id : Distributions.topK(asFloats, max)) {
            if (counts[id] == 0) break;
            parts.add(TokenText.visible(token.apply(id)) + " " + counts[id]);
        }
        return parts.isEmpty() ? "—" : String.join(", ", parts);
    }

    /** The {@code max} most likely tokens with their probabilities, {@code "e 0.41, a 0.22"}. */
    static String top(IntFunction<String> token, double[] probs, int max) {
        float[] asFloats = new float[probs.length];
        for (int i = 0; i < probs.length; i++) asFloats[i] = (float) probs[i];
        List<String> parts = new ArrayList<>();
        for (int id : Distributions.topK(asFloats, max)) {
            if (probs[id] == 0) break;
            parts.add(TokenText.visible(token.apply(id)) + String.format(Locale.ROOT, " %.2f", probs[id]));
        }
        return parts.isEmpty() ? "—" : String.join(", ", parts);
    }
}
