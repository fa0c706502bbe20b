package dev.jlens.cache;

import java.util.List;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * Which hook points a run records, written the way researchers name them: a full name
 * ({@code blocks.3.attn.hook_pattern}), a short name that means every layer's hook of that kind
 * ({@code pattern}, {@code resid_post}, {@code q}), or a glob ({@code blocks.1.*}, {@code *.ln2.*}).
 */
public record NameFilter(List<String> patterns) implements Predicate<String> {
    public NameFilter {
        patterns = List.copyOf(patterns);
        if (patterns.isEmpty()) throw new IllegalArgumentException("a name filter needs at least one name");
    }

    public static NameFilter of(String... patterns) {
        return new NameFilter(List.of(patterns));
    }

    @Override
    public boolean test(String fullName) {
        for (String p : patterns) if (matches(p, fullName)) return true;
        return false;
    }

    private static boolean matches(String pattern, String fullName) {
        if (pattern.contains("*")) {
            String regex = Pattern.quote(pattern).replace("*", "\\E.*\\Q");
            return fullName.matches(regex);
        }
        if (pattern.contains(".") || pattern.startsWith("hook_")) return pattern.equals(fullName);
        // A short name: what get_act_name would build for it at any layer.
        String tail = HookNames.resolve(pattern, 0, null, Integer.MAX_VALUE).substring(HookNames.blockPrefix(0).length());
        return fullName.endsWith("." + tail) || fullName.equals("hook_" + pattern);
    }

    @Override
    public String toString() {
        return String.join(", ", patterns);
    }
}
