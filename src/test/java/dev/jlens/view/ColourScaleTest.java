package dev.jlens.view;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class ColourScaleTest {
    static void assertNearWhite(int rgb) {
        for (int shift : new int[] {16, 8, 0}) assertTrue((rgb >> shift & 0xff) >= 0xf0, String.format("#%06x is not white", rgb));
    }

    /** The scale a heatmap gets when none is given. */
    static ColourScale defaultScale(double[][] v) {
        return new Heatmap("t", List.of("a", "b"), List.of("x", "y"), null, v, null, null, "value").scale();
    }

    /** Signed data by default gets a diverging map centred on zero: 0 is white, ±max |v| the two ends (blue, red). */
    @Test
    void signedDataIsDivergingByDefault() {
        ColourScale s = defaultScale(new double[][] {{-3, 1}, {0.5, 2}});
        assertEquals(-3, s.min());
        assertEquals(3, s.max());
        assertNearWhite(s.rgb(0));
        assertEquals(0xb2182b, s.rgb(3));   // the diverging palette's red end
        assertEquals(0x2166ac, s.rgb(-3));  // its blue end
    }

    /** Data that is never negative keeps the sequential map over its own range. */
    @Test
    void unsignedDataIsSequential() {
        ColourScale s = defaultScale(new double[][] {{0.5, 2}, {Double.NaN, 4}});
        assertEquals(Palette.VIRIDIS, s.palette());
        assertEquals(0.5, s.min());
        assertEquals(4, s.max());
    }

    /** Only negative values are still signed: zero stays white, so "all below zero" reads as such. */
    @Test
    void negativeDataIsDiverging() {
        ColourScale s = defaultScale(new double[][] {{-4, -1}, {-2, -3}});
        assertEquals(Palette.BLUE_WHITE_RED, s.palette());
        assertNearWhite(s.rgb(0));
        assertEquals(0x2166ac, s.rgb(-4));
    }
}
