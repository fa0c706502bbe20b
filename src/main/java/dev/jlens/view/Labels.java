package dev.jlens.view;

/** Label text fitted to a cell: widths, cutting, padding and numbers. */
public final class Labels {
    private Labels() {}

    /**
     * A label safe to lay out: newline, tab and carriage return as the marks {@link TokenText} uses
     * ({@code ⏎ ⇥ ␍}), other control characters as {@code \u0000}-style escapes; spaces stay spaces. Which
     * labels are tokens is the analysis's business: it passes them through {@link TokenText#visible} (the one
     * way a token is shown), so a plain label such as {@code "layer 3"} is never dotted.
     */
    public static String printable(String label) {
        if (label == null) return "";
        StringBuilder sb = new StringBuilder(label.length());
        label.codePoints().forEach(cp -> {
            switch (cp) {
                case '\n' -> sb.append('⏎');
                case '\t' -> sb.append('⇥');
                case '\r' -> sb.append('␍');
                default -> {
                    if (Character.isISOControl(cp)) sb.append(String.format("\\u%04x", cp));
                    else sb.appendCodePoint(cp);
                }
            }
        });
        return sb.toString();
    }

    /** Display width in terminal cells: one per code point (jlens does not measure wide CJK glyphs). */
    public static int width(String s) {
        return s.codePointCount(0, s.length());
    }

    /** The first {@code width} code points of {@code s}, with {@code …} when cut. */
    public static String fit(String s, int width) {
        if (width <= 0) return "";
        if (width(s) <= width) return s;
        if (width == 1) return "…";
        int end = s.offsetByCodePoints(0, width - 1);
        return s.substring(0, end) + "…";
    }

    /** {@code s} broken at spaces into lines of at most {@code width} (a longer word is cut), each ending in a newline. */
    public static String wrap(String s, int width) {
        StringBuilder out = new StringBuilder(), line = new StringBuilder();
        for (String word : s.split(" ")) {
            if (line.length() > 0 && width(line.toString()) + 1 + width(word) > width) {
                out.append(line).append('\n');
                line.setLength(0);
            }
            if (line.length() > 0) line.append(' ');
            line.append(fit(word, width));
        }
        return out.append(line).append('\n').toString();
    }

    /** {@code s} padded with spaces to {@code width} on the right (left when {@code right}). */
    public static String pad(String s, int width, boolean right) {
        String f = fit(s, width);
        String spaces = " ".repeat(Math.max(0, width - width(f)));
        return right ? spaces + f : f + spaces;
    }

    /** {@code s} centred in {@code width}. */
    public static String centre(String s, int width) {
        String f = fit(s, width);
        int gap = Math.max(0, width - width(f));
        return " ".repeat(gap / 2) + f + " ".repeat(gap - gap / 2);
    }

    /** A number in at most ~7 characters: 0.931, -12.4, 3.1e-05. */
    public static String number(double v) {
        if (Double.isNaN(v)) return "nan";
        if (Double.isInfinite(v)) return v > 0 ? "inf" : "-inf";
        double a = Math.abs(v);
        if (a == 0) return "0";
        if (a >= 1e5 || a < 1e-3) return String.format("%.2g", v);
        if (a >= 100) return String.format("%.0f", v);
        if (a >= 10) return String.format("%.1f", v);
        if (a >= 1) return String.format("%.2f", v);
        return String.format("%.3f", v);
    }
}
