package dev.jlens.analysis;

import dev.jlens.cache.HookNames;
import dev.jlens.cache.ActivationCache;
import dev.jlens.model.ModelConfig;
import java.util.ArrayList;
import java.util.List;

/**
 * The points along the residual stream at which the logit lens and block-internals analyses read
 * the model: the embedding, optionally each block's state after attention ({@code resid_mid}), and
 * each block's output ({@code resid_post}).
 */
final class ResidualStages {
    private ResidualStages() {}

    /** One reading point: a label for plots and the hook whose activation it is. */
    record Stage(String label, String hook) {}

    /**
     * @param afterAttention also read after each attention sub-block; attention-only blocks have no
     *                       separate state there (their output is the state after attention)
     */
    static List<Stage> of(ModelConfig cfg, boolean afterAttention) {
        List<Stage> out = new ArrayList<>();
        out.add(new Stage("embed", HookNames.block(0, "hook_resid_pre")));
        boolean mid = afterAttention && !cfg.attnOnly() && !cfg.arch().parallel();   // a parallel block has no state after attention alone
        for (int l = 0; l < cfg.nLayers(); l++) {
            if (mid) {
                out.add(new Stage("L" + l + " +attn", HookNames.block(l, "hook_resid_mid")));
                out.add(new Stage("L" + l + " +mlp", HookNames.block(l, "hook_resid_post")));
            } else {
                out.add(new Stage("L" + l, HookNames.block(l, "hook_resid_post")));
            }
        }
        return out;
    }

    static String[] hooks(List<Stage> stages) {
        return stages.stream().map(Stage::hook).toArray(String[]::new);
    }

    static List<String> labels(List<Stage> stages) {
        return stages.stream().map(Stage::label).toList();
    }

    /** {@code [pos, d_model]} of one stage from a one-prompt cache. */
    static org.nd4j.linalg.api.ndarray.INDArray read(ActivationCache cache, Stage s) {
        return Prompts.first(cache.get(s.hook()));
    }
}
