package dev.jlens.data;

import dev.jlens.tokenize.Tokenizer;
import dev.jlens.view.TokenText;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * Seed 000's {@code SubstringFrequencyAnalysis}: for a few substrings of one length, which tokens
 * followed each in the corpus and how often, and the same pooled over all of them (normalised to
 * frequencies). Prints as the seed's {@code print_summary}, with whitespace made visible.
 *
 * @param substrings   the substrings, as given
 * @param topTokens    per substring, every token that followed it, most frequent first (counts)
 * @param cumulative   {@code [vocab]} counts summed over the substrings
 * @param topCumulative every token of the pooled counts, most frequent first, as a fraction of the total
 */
public record SubstringFrequencyAnalysis(List<String> substrings, List<List<TokenFrequency>> topTokens,
                                         long[] cumulative, List<TokenFrequency> topCumulative) {

    /** One token and how often it followed: a count, or a fraction for pooled frequencies. */
    public record TokenFrequency(int id, @dev.jlens.view.Token String token, double frequency) {}

    public SubstringFrequencyAnalysis {
        substrings = List.copyOf(substrings);
        topTokens = List.copyOf(topTokens);
        topCumulative = List.copyOf(topCumulative);
        cumulative = cumulative.clone();
    }

    /**
     * @throws IllegalArgumentException when no substring is given, or one is not exactly
     *                                  {@code counts.prefixLength()} tokens
     */
    public static SubstringFrequencyAnalysis of(List<String> substrings, NextTokenCounts counts, Tokenizer tokenizer) {
        if (substrings.isEmpty()) throw new IllegalArgumentException("give at least one substring to analyse");
        long[] cumulative = new long[counts.vocabSize()];
        List<List<TokenFrequency>> perSubstring = new ArrayList<>();
        for (String s : substrings) {
            int[] ids = tokenizer.encode(s);
            if (ids.length != counts.prefixLength()) {
                throw new IllegalArgumentException("'" + TokenText.visible(s) + "' is " + ids.length + " tokens, but these"
                        + " counts are for prefixes of " + counts.prefixLength() + " tokens");
            }
            int[] c = counts.counts(ids);
            long[] asLong = new long[c.length];
            for (int t = 0; t < c.length; t++) {
                asLong[t] = c[t];
                cumulative[t] += c[t];
            }
            perSubstring.add(nonZeroDescending(asLong, 1.0, tokenizer));
        }
        long total = 0;
        for (long c : cumulative) total += c;
        List<TokenFrequency> pooled = total == 0 ? List.of() : nonZeroDescending(cumulative, 1.0 / total, tokenizer);
        return new SubstringFrequencyAnalysis(substrings, perSubstring, cumulative, pooled);
    }

    /** Seed 000's {@code top_nonzero_tokens}: every non-zero entry, largest first (ties: lower id first). */
    private static List<TokenFrequency> nonZeroDescending(long[] counts, double scale, Tokenizer tokenizer) {
        List<TokenFrequency> out = new ArrayList<>();
        for (int t = 0; t < counts.length; t++) {
            if (counts[t] != 0) out.add(new TokenFrequency(t, tokenizer.tokenString(t), counts[t] * scale));
        }
        out.sort(Comparator.comparingDouble(TokenFrequency::frequency).reversed().thenComparingInt(TokenFrequency::id));
        return out;
    }

    /** The pooled counts as frequencies summing to 1 ({@code [vocab]}); all zeros when no substring occurred. */
    public double[] cumulativeFrequencies() {
        long total = 0;
        for (long c : cumulative) total += c;
        double[] f = new double[cumulative.length];
        if (total == 0) return f;
        for (int t = 0; t < f.length; t++) f[t] = (double) cumulative[t] / total;
        return f;
    }

    /** The seed's {@code print_summary}, with whitespace shown as · and ⏎. */
    public String summary() {
        StringBuilder sb = new StringBuilder("Substrings: ");
        for (int i = 0; i < substrings.size(); i++) sb.append(i > 0 ? ", " : "").append(quoted(substrings.get(i)));
        sb.append("\nTop tokens for each substring:\n");
        int width = 0;
        for (String s : substrings) width = Math.max(width, quoted(s).length());
        for (int i = 0; i < substrings.size(); i++) {
            sb.append(String.format(Locale.ROOT, "%" + width + "s: ", quoted(substrings.get(i))));
            List<TokenFrequency> top = topTokens.get(i);
            if (top.isEmpty()) sb.append("(never occurs with a next token)");
            for (int j = 0; j < top.size(); j++) {
                TokenFrequency f = top.get(j);
                sb.append(j > 0 ? ", " : "").append(String.format(Locale.ROOT, "%4s (%4d)", quoted(f.token()), (long) f.frequency()));
            }
            sb.append('\n');
        }
        sb.append("Cumulative top tokens:\n");
        for (int j = 0; j < topCumulative.size(); j++) {
            TokenFrequency f = topCumulative.get(j);
            sb.append(j > 0 ? ", " : "").append(String.format(Locale.ROOT, "%4s (%.2f)", quoted(f.token()), f.frequency()));
        }
        return sb.append('\n').toString();
    }

    private static String quoted(String s) {
        return "'" + TokenText.visible(s).replace("'", "\\'") + "'";
    }

    @Override
    public String toString() {
        return summary();
    }
}
