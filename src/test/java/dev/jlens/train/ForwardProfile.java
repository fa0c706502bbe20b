package dev.jlens.train;

import dev.jlens.model.HookedTransformer;
import java.nio.file.Path;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Forward-pass variants at the training shape: plain, with the training cache, with cache and dropout (not a test). */
class ForwardProfile {
    public static void main(String[] a) {
        int reps = a.length > 0 ? Integer.parseInt(a[0]) : 4;
        TrainConfig c = TrainConfig.builder().data(Path.of("../shared/data/tinyshakespeare/input.txt")).build();
        TrainingBatches corpus = TrainingBatches.read(c.data());
        HookedTransformer model = LectureModel.create(c, corpus.chars(), "profile");
        List<LectureModel.Param> params = LectureModel.params(model);
        Backprop noDrop = new Backprop(model, params, c.batch(), c.ctx(), 0.0);
        Backprop drop = new Backprop(model, params, c.batch(), c.ctx(), 0.1);
        TrainingBatches.Batch b = corpus.sample(false, c.batch(), c.ctx(), Rng.stream(1, 1));
        INDArray x = Nd4j.createFromArray(b.x());
        for (int r = 0; r < reps; r++) {
            long t0 = System.nanoTime(), c0 = StepProfile.cpuNanos();
            model.forward(x).close();
            long t1 = System.nanoTime(), c1 = StepProfile.cpuNanos();
            noDrop.loss(b, 1);
            long t2 = System.nanoTime(), c2 = StepProfile.cpuNanos();
            drop.loss(b, 1);
            long t3 = System.nanoTime(), c3 = StepProfile.cpuNanos();
            noDrop.step(b, 1);
            String s1 = noDrop.timings();
            drop.step(b, 1);
            System.out.printf("plain forward %.0f ms (cpu %.0f) | + dropout hooks %.0f ms (cpu %.0f) [loss w/o dropout %.0f ms cpu %.0f] | step w/o dropout: %s | step with: %s%n",
                    (t1 - t0) / 1e6, (c1 - c0) / 1e6, (t3 - t2) / 1e6, (c3 - c2) / 1e6, (t2 - t1) / 1e6, (c2 - c1) / 1e6, s1, drop.timings());
        }
    }
}
