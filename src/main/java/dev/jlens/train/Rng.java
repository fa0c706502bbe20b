package dev.jlens.train;

import java.util.SplittableRandom;

/**
 * Counter-based randomness: every random number of a run is a pure function of (seed, stream,
 * step, index). Nothing carries over from one step to the next, so the whole RNG state of a run
 * is its seed and its step counter: a resumed run draws exactly the batches and dropout masks the
 * uninterrupted run would have drawn, and initialisation does not depend on how often anything
 * else was sampled.
 */
final class Rng {
    static final long INIT = 1, BATCH = 2, DROPOUT = 3, EVAL = 4, WINDOWS = 5, SHUFFLE = 6;

    private Rng() {}

    /** SplitMix64's finaliser: a bijective 64-bit mix with full avalanche. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    /** A key for one stream of one step, e.g. {@code key(seed, DROPOUT, step, site)}. */
    static long key(long seed, long... parts) {
        long k = mix(seed ^ 0x6a09e667f3bcc909L);
        for (long p : parts) k = mix(k + 0x9e3779b97f4a7c15L + p);
        return k;
    }

    /** A generator for sequential draws within one keyed stream (batch offsets, initial weights). */
    static SplittableRandom stream(long seed, long... parts) {
        return new SplittableRandom(key(seed, parts));
    }

    /** The {@code i}-th 64 random bits of the stream {@code key}. */
    static long bits(long key, long i) {
        return mix(key + i * 0x9e3779b97f4a7c15L);
    }
}
