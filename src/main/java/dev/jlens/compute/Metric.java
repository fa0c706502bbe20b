package dev.jlens.compute;

/** How near two activation vectors are. */
public enum Metric {
    /** Cosine similarity {@code q·x / (‖q‖‖x‖)}, in [−1, 1]; larger is nearer. A zero row is 0 to everything. */
    COSINE("cosine similarity"),
    /** Euclidean distance {@code ‖q − x‖}; smaller is nearer. */
    EUCLIDEAN("Euclidean distance");

    private final String label;

    Metric(String label) {
        this.label = label;
    }

    /** What a value of this metric is called in a table: "cosine similarity", "Euclidean distance". */
    public String label() {
        return label;
    }

    /** Whether value {@code a} is nearer than {@code b}. */
    public boolean nearer(double a, double b) {
        return this == COSINE ? a > b : a < b;
    }

    /** The exact value between two vectors, in double precision. */
    public double between(float[] q, float[] x) {
        double dot = 0, qq = 0, xx = 0, dd = 0;
        for (int i = 0; i < q.length; i++) {
            double a = q[i], b = x[i];
            dot += a * b;
            qq += a * a;
            xx += b * b;
            dd += (a - b) * (a - b);
        }
        if (this == EUCLIDEAN) return Math.sqrt(dd);
        return qq == 0 || xx == 0 ? 0 : dot / Math.sqrt(qq * xx);
    }
}
