package dev.jlens.train;

import dev.jlens.cli.Progress;
import dev.jlens.load.AtomicFiles;
import dev.jlens.sae.Reconstruction;
import dev.jlens.sae.SaeConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Locale;

/** {@code README.md} beside a trained SAE: what it reads, how well it reconstructs, and the command that made it. */
final class SaeCard {
    private SaeCard() {}

    /** Writes the card into the run's folder; returns its path. */
    /** @param measuredOn what the figures were measured on ("val tokens", "training rows") */
    static Path write(SaeTrainResult r, SaeTrainConfig c, Reconstruction figures, String measuredOn, String source, String command) {
        Path file = r.out().resolve("README.md");
        try {
            AtomicFiles.write(file, text(r, c, figures, measuredOn, source, command).getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("the SAE is saved, but its card " + file + " was not written: " + e.getMessage(), e);
        }
        return file;
    }

    static String text(SaeTrainResult r, SaeTrainConfig c, Reconstruction f, String measuredOn, String source, String command) {
        SaeConfig s = r.sae().cfg();
        StringBuilder b = new StringBuilder();
        b.append("# SAE: ").append(s.hookName()).append(" of ").append(c.modelName()).append("\n\n");
        b.append(String.format(Locale.ROOT, "A %s sparse autoencoder, %d → %d features%s, trained by `jlens train-sae` on %s.%n"
                        + "SAELens's format: `SAE.load(Path.of(\"%s\"))` in jlens, `SAE.load_from_disk` in SAELens.%n%n",
                s.activation() == SaeConfig.Activation.TOPK ? "TopK (k = " + s.k() + ")" : "ReLU (L1 " + c.l1() + ")", s.dIn(), s.dSae(),
                s.activation() == SaeConfig.Activation.TOPK ? "" : ", decoder rows of unit norm", source, r.out()));
        b.append("| figure | value |\n|---|---|\n");
        String on = String.format(Locale.ROOT, " (%,d %s)", f.tokens(), measuredOn);
        row(b, "explained variance" + on, "%.4f", f.explainedVariance());
        row(b, "MSE per element" + on, "%.5f", f.mse());
        row(b, "L0, features active per token" + on, "%.1f", f.l0());
        row(b, "features never active" + on, "%d of %d", f.deadFeatures(), f.dSae());
        if (!Double.isNaN(f.ceClean())) {
            row(b, "CE loss, clean", "%.4f", f.ceClean());
            row(b, "CE loss, SAE spliced in", "%.4f", f.ceSpliced());
            row(b, "CE loss, hook zero-ablated", "%.4f", f.ceZeroAblated());
            row(b, "CE loss recovered, (zero − spliced) / (zero − clean)", "%.4f", f.ceLossRecovered());
        }
        row(b, String.format(Locale.ROOT, "dead features (none active in the last %,d training tokens)", c.deadWindowTokens()), "%d of %d",
                r.deadFeatures(), s.dSae());
        row(b, "training", "%s steps × %s rows, %s wall time (this session)", String.format(Locale.ROOT, "%,d", r.step()),
                String.format(Locale.ROOT, "%,d", c.batchSize()), Progress.duration(r.seconds()));
        b.append(String.format(Locale.ROOT, "%nSettings: Adam lr %s (β 0.9, 0.999, constant), seed %d%s.%n%n", c.lr(), c.seed(),
                s.activation() == SaeConfig.Activation.TOPK ? "" : ", L1 coefficient " + c.l1()));
        b.append("Reproduce (from the repository root; on the same CPU and thread count the SAE's files come out byte for byte the same):\n\n```\n").append(command).append("\n```\n");
        return b.toString();
    }

    private static void row(StringBuilder b, String name, String format, Object... values) {
        b.append("| ").append(name).append(" | ").append(String.format(Locale.ROOT, format, values)).append(" |\n");
    }
}
