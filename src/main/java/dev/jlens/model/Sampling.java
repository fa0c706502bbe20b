package dev.jlens.model;

/**
 * How {@code generate} picks each next token.
 *
 * @param temperature 0 for greedy (arg-max); otherwise logits are divided by it before sampling
 * @param topK        sample only among the k most likely tokens; 0 for the whole vocabulary
 * @param topP        nucleus sampling: only among the most likely tokens whose probabilities (after temperature
 *                    and top-k) first add up to at least p; 1 for no limit
 * @param seed        the random stream; the same seed gives the same text on every run and machine
 * @param stopAtEos   stop when the model emits its end-of-text token (models without one never stop early)
 */
public record Sampling(double temperature, int topK, double topP, long seed, boolean stopAtEos) {
    public Sampling {
        if (!(temperature >= 0)) throw new IllegalArgumentException("temperature must be ≥ 0, got " + temperature);
        if (topK < 0) throw new IllegalArgumentException("topK must be ≥ 0 (0 = no limit), got " + topK);
        if (!(topP > 0 && topP <= 1)) throw new IllegalArgumentException("topP must be in (0, 1] (1 = no limit), got " + topP);
    }

    public Sampling(double temperature, int topK, long seed, boolean stopAtEos) {
        this(temperature, topK, 1.0, seed, stopAtEos);
    }

    public static Sampling greedy() {
        return new Sampling(0, 0, 0, false);
    }

    /** Sampling from the full softmax at temperature 1, as seed 000's {@code generate} does. */
    public static Sampling seeded(long seed) {
        return new Sampling(1.0, 0, seed, false);
    }

    public Sampling withTemperature(double t) {
        return new Sampling(t, topK, topP, seed, stopAtEos);
    }

    public Sampling withTopK(int k) {
        return new Sampling(temperature, k, topP, seed, stopAtEos);
    }

    public Sampling withTopP(double p) {
        return new Sampling(temperature, topK, p, seed, stopAtEos);
    }

    public Sampling stoppingAtEos() {
        return new Sampling(temperature, topK, topP, seed, true);
    }

    public boolean isGreedy() {
        return temperature == 0;
    }
}
