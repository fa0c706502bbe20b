package dev.jlens.train;

import dev.jlens.sae.SaeConfig;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * One SAE training run's settings ({@code jlens train-sae}'s options).
 *
 * @param activation      RELU (L1 penalty {@code l1}) or TOPK (keeps {@code k} features per token, no penalty)
 * @param l1              SAELens's {@code l1_coefficient}; ignored for TopK
 * @param lr              Adam's learning rate, constant (β = 0.9, 0.999, no weight decay: SAELens's defaults)
 * @param deadWindowTokens a feature is dead when it fired on none of the last this many training tokens
 * @param checkpointEvery write a resumable checkpoint every this many steps (and at the end)
 * @param logEvery        without a terminal, a progress line every this many steps
 * @param out             the SAE's folder (SAELens's files, checkpoints/, README.md); null: keep it in memory only
 * @param resume          continue the run in {@code out} from its newest checkpoint
 */
public record SaeTrainConfig(SaeConfig.Activation activation, int dSae, int k, double l1, double lr, int steps, int batchSize,
                             long seed, long deadWindowTokens, int checkpointEvery, int logEvery, String hookName, String modelName,
                             Path out, boolean resume) {
    public SaeTrainConfig {
        Objects.requireNonNull(activation, "architecture");
        Objects.requireNonNull(hookName, "hook");
        if (activation != SaeConfig.Activation.RELU && activation != SaeConfig.Activation.TOPK) {
            throw new IllegalArgumentException("--architecture must be relu or topk, got " + activation.name().toLowerCase(Locale.ROOT));
        }
        positive("--d-sae", dSae);
        positive("--steps", steps);
        positive("--batch-size", batchSize);
        positive("--checkpoint-every", checkpointEvery);
        positive("--log-every", logEvery);
        if (activation == SaeConfig.Activation.TOPK && (k < 1 || k > dSae)) {
            throw new IllegalArgumentException("--k must be 1.." + dSae + " (--d-sae) for a topk SAE, got " + k);
        }
        if (!(l1 >= 0) || Double.isInfinite(l1)) throw new IllegalArgumentException("--l1 must be a number ≥ 0, got " + l1);
        if (!(lr > 0) || Double.isInfinite(lr)) throw new IllegalArgumentException("--lr must be a number > 0, got " + lr);
        if (deadWindowTokens < 1) throw new IllegalArgumentException("--dead-window must be at least 1 token, got " + deadWindowTokens);
        if (resume && out == null) throw new IllegalArgumentException("--resume needs --out: the folder whose run it continues");
    }

    private static void positive(String option, int v) {
        if (v < 1) throw new IllegalArgumentException(option + " must be at least 1, got " + v);
    }

    /** The same run, recording {@code name} as the model the activations come from. */
    public SaeTrainConfig withModelName(String name) {
        return new SaeTrainConfig(activation, dSae, k, l1, lr, steps, batchSize, seed, deadWindowTokens, checkpointEvery, logEvery, hookName,
                name, out, resume);
    }

    /** The SAE this run trains on activations of width {@code dIn}. */
    SaeConfig saeConfig(int dIn) {
        return new SaeConfig(activation, activation == SaeConfig.Activation.TOPK ? k : 0, dIn, dSae, dIn, hookName, null, true,
                SaeConfig.InputNorm.NONE, out == null ? "jlens train-sae" : out.toString());
    }

    /**
     * What a resumed run must share with the run it continues (all but the step count, the logging and the folder),
     * in a fixed order, as checkpoints save it.
     */
    Map<String, Object> identity() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("architecture", activation.name().toLowerCase(Locale.ROOT));
        m.put("d_sae", dSae);
        m.put("k", activation == SaeConfig.Activation.TOPK ? k : 0);
        m.put("l1_coefficient", activation == SaeConfig.Activation.TOPK ? 0.0 : l1);
        m.put("lr", lr);
        m.put("batch_size", batchSize);
        m.put("seed", seed);
        m.put("hook_name", hookName);
        return m;
    }
}
