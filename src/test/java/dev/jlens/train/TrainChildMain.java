package dev.jlens.train;

/**
 * A child program for {@link ReproducibleTrainingTest}: {@code jlens train ARGS…} with a pause after
 * each file of a checkpoint, so that a test can kill it (kill -9) part-way.
 */
public final class TrainChildMain {
    private TrainChildMain() {}

    public static void main(String[] args) {
        Checkpoints.afterSnapshotFile = name -> {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        };
        TrainCommand.main(args);
    }
}
