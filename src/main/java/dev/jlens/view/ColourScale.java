package dev.jlens.view;

/**
 * How a value becomes a colour: the value range, linear or logarithmic, and the palette.
 *
 * @param min     the value drawn at the palette's start
 * @param max     the value drawn at its end
 * @param log     map {@code log(v)} linearly (ranks, probabilities spanning decades); needs {@code min > 0}
 * @param palette the colours
 */
public record ColourScale(double min, double max, boolean log, Palette palette) {
    public ColourScale {
        if (!(max >= min)) throw new IllegalArgumentException("colour scale needs min ≤ max, got " + min + " and " + max);
        if (log && !(min > 0)) throw new IllegalArgumentException("a log colour scale needs min > 0, got " + min);
    }

    /** Probabilities and attention weights: 0 → 1, viridis. */
    public static ColourScale unit() {
        return new ColourScale(0, 1, false, Palette.VIRIDIS);
    }

    /**
     * The default for values with no natural range: {@link #diverging} when any is negative (attributions, patching
     * effects, score terms: signed quantities, where zero means "no effect" and must look neutral, even when this
     * prompt happens to give only negative ones), else {@link #sequential}. The one place that choice is made.
     */
    public static ColourScale of(double[][] values) {
        double[] r = finiteRange(values);
        return r != null && r[0] < 0 ? diverging(values) : sequential(values);
    }

    /** The values' own range, viridis. */
    public static ColourScale sequential(double[][] values) {
        double[] r = range(values);
        return new ColourScale(r[0], r[1], false, Palette.VIRIDIS);
    }

    /** Symmetric around zero (±max |v|), blue → white → red, so zero is always white. */
    public static ColourScale diverging(double[][] values) {
        double[] r = range(values);
        double m = Math.max(Math.abs(r[0]), Math.abs(r[1]));
        if (m == 0) m = 1;
        return new ColourScale(-m, m, false, Palette.BLUE_WHITE_RED);
    }

    /** Logarithmic from {@code min} to {@code max}, viridis. */
    public static ColourScale log(double min, double max) {
        return new ColourScale(min, max, true, Palette.VIRIDIS);
    }

    public ColourScale withPalette(Palette p) {
        return new ColourScale(min, max, log, p);
    }

    /** Where {@code v} falls on the palette, in [0, 1] (NaN stays NaN). */
    public double position(double v) {
        if (Double.isNaN(v)) return Double.NaN;
        double a = min, b = max, x = v;
        if (log) {
            a = Math.log(min);
            b = Math.log(max);
            x = Math.log(Math.max(v, min));
        }
        if (b == a) return 0.5;
        return Math.max(0, Math.min(1, (x - a) / (b - a)));
    }

    public int rgb(double v) {
        return palette.rgb(position(v));
    }

    /** Finite minimum and maximum of the values; {0, 1} when there are none. */
    static double[] range(double[][] values) {
        double[] r = finiteRange(values);
        if (r == null) return new double[] {0, 1};
        if (r[0] == r[1]) return new double[] {r[0] - 0.5, r[1] + 0.5};
        return r;
    }

    /** Finite minimum and maximum of the values, or null when there are none. */
    private static double[] finiteRange(double[][] values) {
        double lo = Double.POSITIVE_INFINITY, hi = Double.NEGATIVE_INFINITY;
        for (double[] row : values) {
            for (double v : row) {
                if (!Double.isFinite(v)) continue;
                lo = Math.min(lo, v);
                hi = Math.max(hi, v);
            }
        }
        return lo > hi ? null : new double[] {lo, hi};
    }
}
