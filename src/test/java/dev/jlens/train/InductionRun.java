package dev.jlens.train;

import java.nio.file.Path;

/** A short attention-only run on a text with induction scores along the way (not a test): args dModel heads steps [layerNorm] [lr]. */
class InductionRun {
    public static void main(String[] a) {
        int d = Integer.parseInt(a[0]), heads = Integer.parseInt(a[1]), steps = Integer.parseInt(a[2]);
        boolean ln = a.length <= 3 || Boolean.parseBoolean(a[3]);
        double lr = a.length > 4 ? Double.parseDouble(a[4]) : 1e-3;
        TrainConfig c = TrainConfig.builder().data(Path.of(System.getProperty("data", "../shared/data/tinyshakespeare/input.txt"))).kind(ModelKind.ATTN_ONLY)
                .layers(2).dModel(d).heads(heads).ctx(128).batch(32).steps(steps).dropout(0).lr(lr).layerNorm(ln)
                .evalEvery(100).evalBatches(5).logEvery(100).build();
        Trainer t = new Trainer(c, System.out, false);
        dev.jlens.model.HookedTransformer[] model = new dev.jlens.model.HookedTransformer[1];
        TrainResult r = t.onStep((step, loss, rate, s) -> {
            if (step % 100 == 0 && model[0] != null) {
                System.out.printf("step %d: best induction %.3f%n", step, best(model[0]));
            }
        }).run(modelCapture(c, model));
        System.out.println(dev.jlens.analysis.HeadDetector.induction(r.model(), 50, 8, 0));
    }

    static double best(dev.jlens.model.HookedTransformer m) {
        double best = 0;
        for (double[] row : dev.jlens.analysis.HeadDetector.induction(m, 50, 8, 0).scores()) for (double v : row) best = Math.max(best, v);
        return best;
    }

    /** Reads the corpus and arranges for the trained model to be visible to the listener. */
    static TrainingBatches modelCapture(TrainConfig c, dev.jlens.model.HookedTransformer[] holder) {
        TrainingBatches corpus = TrainingBatches.read(c.data());
        holder[0] = null;
        Trainer.modelCreated = m -> holder[0] = m;
        return corpus;
    }
}
