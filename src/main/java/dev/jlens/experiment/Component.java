package dev.jlens.experiment;

import dev.jlens.cache.HookNames;
import dev.jlens.model.ModelConfig;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * What the block-internals experiment saves of a block, each a TransformerLens hook point. The
 * seeds' names for them (seed 002's {@code BlockInternalsExperiment}) are accepted too.
 */
public enum Component {
    /** The block's input, the residual stream before it ({@code hook_resid_pre}; seed: block input). */
    RESID_PRE("resid_pre", "hook_resid_pre", "block_input"),
    /**
     * Every head's output side by side, {@code attn.hook_z} {@code [.., n_heads, d_head]} flattened to
     * {@code [.., n_heads·d_head]}: the input of the attention's output projection (seed: heads output).
     */
    Z("z", "attn.hook_z", "heads_output"),
    /** The attention's output projection, what attention adds to the residual stream ({@code hook_attn_out}; seed: proj output). */
    ATTN_OUT("attn_out", "hook_attn_out", "proj_output"),
    /** What the MLP adds to the residual stream ({@code hook_mlp_out}; seed: ffwd output). */
    MLP_OUT("mlp_out", "hook_mlp_out", "ffwd_output"),
    /** The block's output, the residual stream after it ({@code hook_resid_post}; seed: block output). */
    RESID_POST("resid_post", "hook_resid_post", "block_output");

    private final String shortName;
    private final String hookSuffix;
    private final String seedName;

    Component(String shortName, String hookSuffix, String seedName) {
        this.shortName = shortName;
        this.hookSuffix = hookSuffix;
        this.seedName = seedName;
    }

    /** TransformerLens's short name: {@code resid_pre}, {@code z}, {@code attn_out}, {@code mlp_out}, {@code resid_post}. */
    public String shortName() {
        return shortName;
    }

    /** The seed's name for it ({@code heads_output}, {@code proj_output}, …). */
    public String seedName() {
        return seedName;
    }

    /** The full hook name at {@code block}: {@code blocks.1.attn.hook_z}. */
    public String hookName(int block) {
        return HookNames.blockPrefix(block) + hookSuffix;
    }

    /** Values per position: {@code n_heads·d_head} for {@link #Z}, {@code d_model} for the others. */
    public int width(ModelConfig cfg) {
        return this == Z ? cfg.nHeads() * cfg.dHead() : cfg.dModel();
    }

    /** A short name, a seed name or the enum name, any case. */
    public static Component parse(String name) {
        String key = name.strip().toLowerCase(Locale.ROOT).replace('-', '_');
        for (Component c : values()) {
            if (c.shortName.equals(key) || c.seedName.equals(key) || c.name().toLowerCase(Locale.ROOT).equals(key)) return c;
        }
        throw new IllegalArgumentException("unknown component '" + name + "': use "
                + Arrays.stream(values()).map(c -> c.shortName + " (" + c.seedName + ")").collect(Collectors.joining(", ")));
    }
}
