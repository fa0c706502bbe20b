package dev.jlens.load;

import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Collectors;

/** Picks the names a user most likely meant, for "no tensor named ..." messages. */
final class NameSuggestions {
    private NameSuggestions() {}

    /**
     * The {@code limit} names closest to {@code wanted}. Names where one is a suffix of the other come
     * first, because the usual mistake is a key prefix ({@code transformer.wte.weight} vs
     * {@code wte.weight}); then by edit distance.
     */
    static List<String> closest(String wanted, Collection<String> names, int limit) {
        record Scored(String name, boolean prefixMistake, int distance) {}
        return names.stream()
                .map(n -> new Scored(n, n.endsWith(wanted) || wanted.endsWith(n), boundedDistance(wanted, n)))
                .sorted(Comparator.comparing((Scored s) -> !s.prefixMistake()).thenComparingInt(Scored::distance))
                .limit(limit)
                .map(Scored::name)
                .collect(Collectors.toList());
    }

    /**
     * The edit distance, exact for names up to 64 characters longer than {@code wanted}; for longer ones (which
     * only a crafted file has) the distance to their start plus the rest, so that ranking the names of a file
     * costs time linear in its names' count, not in the product of their lengths.
     */
    static int boundedDistance(String wanted, String name) {
        int keep = Math.min(name.length(), wanted.length() + 64);
        return editDistance(wanted, name.substring(0, keep)) + (name.length() - keep);
    }

    /** Levenshtein distance, two rows at a time. */
    static int editDistance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) prev[j] = j;
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int substitute = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                cur[j] = Math.min(substitute, Math.min(prev[j], cur[j - 1]) + 1);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
