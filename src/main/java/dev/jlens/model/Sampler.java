package dev.jlens.model;

import java.util.SplittableRandom;

/** Picks the next token from one position's logits. */
final class Sampler {
    private Sampler() {}

    static int pick(float[] logits, Sampling sampling, SplittableRandom random) {
        if (sampling.isGreedy()) return argmax(logits);
        int n = logits.length;
        float cutoff = Float.NEGATIVE_INFINITY;
        if (sampling.topK() > 0 && sampling.topK() < n) cutoff = kthLargest(logits, sampling.topK());
        double max = Double.NEGATIVE_INFINITY;
        for (float l : logits) max = Math.max(max, l);
        double[] weights = new double[n];
        double total = 0;
        for (int i = 0; i < n; i++) {
            if (logits[i] < cutoff) continue;
            weights[i] = Math.exp((logits[i] - max) / sampling.temperature());
            total += weights[i];
        }
        if (sampling.topP() < 1) total = nucleus(weights, total, sampling.topP());
        double r = random.nextDouble() * total;
        for (int i = 0; i < n; i++) {
            r -= weights[i];
            if (r < 0) return i;
        }
        // Rounding left a sliver of r: the last token with any weight takes it.
        for (int i = n - 1; i >= 0; i--) if (weights[i] > 0) return i;
        return argmax(logits);
    }

    /**
     * Keeps the most likely tokens whose weights first reach {@code p} of {@code total} (ties broken by the lower
     * id, so the same seed picks the same token), zeroes the rest; returns the new total.
     */
    static double nucleus(double[] weights, double total, double p) {
        Integer[] order = new Integer[weights.length];
        for (int i = 0; i < order.length; i++) order[i] = i;
        java.util.Arrays.sort(order, (a, b) -> weights[a] != weights[b] ? Double.compare(weights[b], weights[a]) : Integer.compare(a, b));
        double kept = 0;
        int i = 0;
        for (; i < order.length && weights[order[i]] > 0; i++) {
            kept += weights[order[i]];
            if (kept >= p * total) {
                i++;
                break;
            }
        }
        for (; i < order.length; i++) weights[order[i]] = 0;
        return kept;
    }

    static int argmax(float[] values) {
        int best = 0;
        for (int i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
        return best;
    }

    /** The k-th largest value, by a size-k min-heap (a 50257-wide row costs well under a millisecond). */
    static float kthLargest(float[] values, int k) {
        java.util.PriorityQueue<Float> heap = new java.util.PriorityQueue<>(k);
        for (float v : values) {
            if (heap.size() < k) heap.add(v);
            else if (v > heap.peek()) {
                heap.poll();
                heap.add(v);
            }
        }
        return heap.peek();
    }
}
