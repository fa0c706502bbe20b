package dev.jlens.load;

import dev.jlens.model.ActivationFunction;
import dev.jlens.model.HookedTransformer;
import dev.jlens.model.ModelConfig;
import dev.jlens.model.Normalization;
import dev.jlens.model.Weights;
import dev.jlens.tokenize.CharTokenizer;
import dev.jlens.tokenize.Tokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * nanoGPT's training checkpoints ({@code out/ckpt.pt} from karpathy/nanoGPT's {@code train.py}): a
 * dict with {@code model_args} (n_layer, n_head, n_embd, block_size, bias, vocab_size), the model's
 * state dict under {@code model} (keys carry {@code _orig_mod.} when the model was compiled), and
 * optimizer state, counters and the training config, which are parsed safely and skipped.
 *
 * <p>The architecture is GPT-2's with {@code nn.Linear} weights ({@code [out, in]}), the exact erf
 * GELU ({@code nn.GELU()}), LayerNorm eps 1e-5, biases only when {@code bias=True}, and the unembedding
 * tied to the token embedding. Like nanoGPT's {@code sample.py}, nothing is prepended to prompts.
 *
 * <p>The tokenizer is what lies beside the checkpoint: {@code meta.pkl} (nanoGPT's character-level
 * datasets, its {@code itos}), else GPT-2's tokenizer files ({@code vocab.json} + {@code merges.txt} or
 * {@code tokenizer.json}); without either the model takes token ids only.
 */
final class NanoGptLoader {
    private NanoGptLoader() {}

    /** Whether an unpickled checkpoint has nanoGPT's layout. */
    static boolean isNanoGpt(Object root) {
        return root instanceof Map<?, ?> m && m.get("model_args") instanceof Map<?, ?> && m.get("model") instanceof Map<?, ?>;
    }

    static HookedTransformer load(Path file) {
        try (TorchCheckpoint checkpoint = TorchCheckpoint.open(file)) {
            if (!isNanoGpt(checkpoint.root())) {
                throw new CorruptModelFileException(file, "is not a nanoGPT checkpoint (no 'model_args' and 'model' entries)"
                        + " and has no config.json beside it", "put the model's config.json beside it, or pass a folder with one");
            }
            Map<?, ?> args = (Map<?, ?>) ((Map<?, ?>) checkpoint.root()).get("model_args");
            ConfigFields c = ConfigFields.ofMap(args, "model_args");
            int layers, heads, d, nCtx, vocab;
            boolean bias;
            try {
                layers = c.positiveInt("n_layer");
                heads = c.positiveInt("n_head");
                d = c.positiveInt("n_embd");
                nCtx = c.positiveInt("block_size");
                vocab = c.positiveInt("vocab_size");
                bias = c.bool("bias", true);
                c.divisible("n_embd", d, "n_head", heads);
            } catch (IllegalArgumentException e) {
                // model_args live inside the checkpoint: a bad one is a broken file, refused as the loaders refuse theirs.
                throw new CorruptModelFileException(file, e.getMessage(), "the checkpoint is incomplete; save it with nanoGPT's train.py");
            }
            Path dir = file.toAbsolutePath().getParent();
            ModelConfig cfg = new ModelConfig(dir.getFileName().toString(), "nanogpt", layers, d, heads, d / heads, 4 * d, vocab, nCtx,
                    ActivationFunction.GELU, Normalization.LN, 1e-5, Math.sqrt(d / heads), false, false);
            // model_args first: a broken size is named before the state dict is looked at.
            TensorSource weights = TensorSource.of(checkpoint, TorchFiles.stateDictOf(checkpoint.root(), file));
            StateDict sd = new StateDict(weights, "transformer.", "a nanoGPT checkpoint with these model_args");
            Weights w = Gpt2Loader.weights(cfg, sd, Gpt2Loader.Layout.LINEAR, !bias);
            return HookedTransformer.owning(cfg, w, tokenizerBeside(dir, vocab), sd.weightFiles());
        }
    }

    private static Tokenizer tokenizerBeside(Path dir, int vocab) {
        Path meta = dir.resolve("meta.pkl");
        if (Files.exists(meta)) return charTokenizer(meta);
        return Gpt2Loader.findGpt2Tokenizer(dir).filter(t -> t.vocabSize() <= vocab).orElse(null);
    }

    /** nanoGPT's {@code meta.pkl}: {@code {'vocab_size': n, 'itos': {0: '\n', …}, 'stoi': {…}}}, read under the same rules. */
    static Tokenizer charTokenizer(Path meta) {
        byte[] bytes;
        RegularFiles.require(meta);
        try {
            if (Files.size(meta) > 64L << 20) throw new CorruptModelFileException(meta, "is over 64 MB, too large for a vocabulary", "");
            bytes = Files.readAllBytes(meta);
        } catch (IOException e) {
            throw new UncheckedIOException(meta + ": cannot read (" + e.getMessage() + ")", e);
        }
        TorchPickle noStorages = new TorchPickle((key, dtype, location, numel) -> {
            throw new Unpickler.Refused("meta.pkl names a tensor storage, which a vocabulary does not hold", TorchPickle.REMEDY);
        });
        Object root = Unpickler.load(bytes, noStorages, meta, "meta.pkl");
        if (!(root instanceof Map<?, ?> m) || !(m.get("itos") instanceof Map<?, ?> itos)) {
            throw new CorruptModelFileException(meta, "has no 'itos' dict", "expected nanoGPT's meta.pkl from data/<dataset>/prepare.py");
        }
        StringBuilder chars = new StringBuilder();
        for (long id = 0; id < itos.size(); id++) {
            if (!(itos.get(id) instanceof String s) || s.length() != 1) {
                throw new CorruptModelFileException(meta, "itos[" + id + "] is " + Unpickler.render(itos.get(id), 120) + ", not one character",
                        "expected nanoGPT's character-level meta.pkl");
            }
            chars.append(s);
        }
        return new CharTokenizer(chars.toString());
    }
}
