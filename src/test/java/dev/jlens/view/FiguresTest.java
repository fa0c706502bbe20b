package dev.jlens.view;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.analysis.Ablation;
import dev.jlens.analysis.ActivationPatching;
import dev.jlens.analysis.AttentionPatterns;
import dev.jlens.analysis.AttentionScoreDecomposition;
import dev.jlens.analysis.BlockInternals;
import dev.jlens.analysis.Composition;
import dev.jlens.analysis.DirectLogitAttribution;
import dev.jlens.analysis.HeadDetector;
import dev.jlens.analysis.LogitLens;
import dev.jlens.analysis.NextTokenProbs;
import dev.jlens.analysis.TokenLogProbs;
import dev.jlens.model.HookedTransformer;
import dev.jlens.testing.HandBuiltModels;
import dev.jlens.testing.TestData;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

/**
 * Every analysis saves a PNG that a viewer can open: the file decodes, has a sensible size and is
 * not blank. Figures go to {@code target/jlens-figures} (kept, for looking at them after a run).
 */
class FiguresTest {
    static final Path OUT = Path.of("target", "jlens-figures");

    static void assertPicture(Path file, int minWidth, int minHeight) throws IOException {
        assertTrue(Files.size(file) > 1000, file + " is too small to be a figure");
        BufferedImage img = ImageIO.read(file.toFile());
        assertTrue(img.getWidth() >= minWidth && img.getHeight() >= minHeight, file + " is " + img.getWidth() + "×" + img.getHeight());
        java.util.Set<Integer> colours = new java.util.HashSet<>();
        for (int y = 0; y < img.getHeight(); y += 3) for (int x = 0; x < img.getWidth(); x += 3) colours.add(img.getRGB(x, y));
        assertTrue(colours.size() > 8, file + " looks blank: " + colours.size() + " colours");
    }

    @Test
    void charModelFigures() throws IOException {
        HookedTransformer model = HookedTransformer.fromPretrained(TestData.file("fixtures/charlm-tiny").toString());
        String prompt = "ROMEO: O, she doth teach";
        assertPicture(LogitLens.of(model, prompt, true).savePng(OUT.resolve("logit-lens.png")), 300, 150);
        assertPicture(LogitLens.of(model, prompt).colouredBy(LogitLens.Colour.RANK).savePng(OUT.resolve("logit-lens-rank.png")), 300, 100);
        assertPicture(BlockInternals.of(model, "ROMEO:").savePng(OUT.resolve("block-internals.png")), 600, 150);
        assertPicture(TokenLogProbs.of(model, prompt).savePng(OUT.resolve("token-log-probs.png")), 300, 200);
        assertPicture(NextTokenProbs.of(model, "ROMEO:", 65).savePng(OUT.resolve("next-token-65.png")), 600, 200);
        assertPicture(AttentionPatterns.of(model, prompt, 0).head(1).savePng(OUT.resolve("attention-L0H1.png")), 200, 200);
        assertPicture(AttentionScoreDecomposition.of(model, "First Citizen:", 0, 0).savePng(OUT.resolve("score-terms.png")), 300, 300);
        assertPicture(Ablation.blocks(model, prompt, Ablation.Mode.ZERO).savePng(OUT.resolve("ablation-blocks.png")), 150, 80);
        assertPicture(Ablation.head(model, prompt, 0, 0, Ablation.Mode.MEAN).savePng(OUT.resolve("ablation-head.png")), 300, 200);
    }

    @Test
    void gpt2Figures() throws IOException {
        HookedTransformer model = HookedTransformer.fromPretrained(TestData.file("fixtures/gpt2-tiny").toString());
        String clean = "When John and Mary went to the shops, John gave the bag to";
        String corrupted = "When John and Mary went to the shops, Mary gave the bag to";
        assertPicture(ActivationPatching.residPre(model, clean, corrupted, " Mary", " John").savePng(OUT.resolve("patching-resid.png")), 300, 80);
        assertPicture(ActivationPatching.heads(model, clean, corrupted, " Mary", " John").savePng(OUT.resolve("patching-heads.png")), 150, 60);
        assertPicture(DirectLogitAttribution.of(model, clean, " Mary", " John").savePng(OUT.resolve("dla.png")), 300, 200);
        assertPicture(HeadDetector.detect(model).savePng(OUT.resolve("head-detectors.png")), 150, 100);
        assertPicture(Composition.all(model, Composition.Kind.K).savePng(OUT.resolve("k-composition.png")), 150, 100);
        assertPicture(LogitLens.of(model, clean).colouredBy(LogitLens.Colour.KL).savePng(OUT.resolve("logit-lens-gpt2-kl.png")), 300, 100);
    }

    @Test
    void handBuiltInductionFigures() throws IOException {
        HookedTransformer model = HandBuiltModels.inductionCircuit();
        assertPicture(HeadDetector.detect(model).savePng(OUT.resolve("head-detectors-hand-built.png")), 150, 80);
        assertPicture(AttentionPatterns.of(model, "abcdefgabcdefg", 1).head(0).savePng(OUT.resolve("induction-pattern.png")), 200, 200);
    }
}
