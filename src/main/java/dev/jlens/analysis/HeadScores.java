package dev.jlens.analysis;

import dev.jlens.view.Table;
import dev.jlens.view.ColourScale;
import dev.jlens.view.Heatmap;
import dev.jlens.view.HeatmapFigure;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * One number per attention head, {@code [layer][head]}: a detector's score, a composition score's
 * row, an ablation's effect.
 *
 * @param what   what the number measures ("previous-token score")
 * @param scores {@code [layer][head]}
 */
public record HeadScores(String what, double[][] scores) implements HeatmapFigure {

    public double get(int layer, int head) {
        return scores[layer][head];
    }

    /** The {@code n} highest-scoring heads as {@code "L1H3"}, best first. */
    public List<String> top(int n) {
        List<int[]> all = new ArrayList<>();
        for (int l = 0; l < scores.length; l++) for (int h = 0; h < scores[l].length; h++) all.add(new int[] {l, h});
        all.sort(Comparator.comparingDouble((int[] lh) -> -scores[lh[0]][lh[1]]));
        return all.subList(0, Math.min(n, all.size())).stream().map(lh -> "L" + lh[0] + "H" + lh[1]).toList();
    }

    /**
     * The heads scoring at least {@code threshold}, highest first, each with its score ({@code L1H3 (0.65)}), or,
     * when none does, says so and names the highest: a label is only given to heads that earn it.
     */
    public String above(double threshold) {
        List<String> out = new ArrayList<>();
        for (String name : top(Integer.MAX_VALUE)) {
            double v = score(name);
            if (v < threshold) break;
            out.add(String.format(java.util.Locale.ROOT, "%s (%.2f)", name, v));
        }
        if (!out.isEmpty()) return String.join(", ", out);
        String best = top(1).isEmpty() ? "-" : top(1).get(0);
        return String.format(java.util.Locale.ROOT, "none at %.2f or above (highest: %s at %.3f)", threshold, best, score(best));
    }

    private double score(String name) {
        if (!name.startsWith("L")) return Double.NaN;
        int l = Integer.parseInt(name.substring(1, name.indexOf('H'))), h = Integer.parseInt(name.substring(name.indexOf('H') + 1));
        return scores[l][h];
    }

    /** Every head, sorted by score, highest first. */
    public Table table() {
        Table t = new Table("head", what);
        for (String name : top(Integer.MAX_VALUE)) {
            int l = Integer.parseInt(name.substring(1, name.indexOf('H'))), h = Integer.parseInt(name.substring(name.indexOf('H') + 1));
            t.row(name, scores[l][h]);
        }
        return t;
    }

    @Override
    public Heatmap heatmap() {
        List<String> rows = new ArrayList<>(), cols = new ArrayList<>();
        for (int l = 0; l < scores.length; l++) rows.add("L" + l);
        for (int h = 0; h < (scores.length == 0 ? 0 : scores[0].length); h++) cols.add("H" + h);
        boolean unit = true;
        for (double[] r : scores) {
            for (double v : r) if (v < 0 || v > 1) unit = false;
        }
        ColourScale scale = unit ? ColourScale.unit() : ColourScale.of(scores);
        return new Heatmap(what + " per head", rows, cols, null, scores, null, scale, what);
    }

    @Override
    public String figureName() {
        return what.replaceAll("[^A-Za-z0-9]+", "-");
    }

    @Override
    public String toString() {
        return toText();
    }
}
