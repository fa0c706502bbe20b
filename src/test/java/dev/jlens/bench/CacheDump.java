package dev.jlens.bench;

import dev.jlens.cache.CacheSpec;
import dev.jlens.load.SafeTensors;
import dev.jlens.model.HookedTransformer;
import dev.jlens.model.Run;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.stream.Collectors;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * One {@code runWithCache} with the full cache on seeded random token ids, written as a safetensors
 * file (every hook point under its TransformerLens name, and {@code logits}; float32; the ids in the
 * metadata as {@code "ids"}), so that a benchmark's peer can show that it computes the same activations
 * on the very model being benchmarked ({@code bench/forward_llama_torch.py --against-jlens FILE}).
 *
 * <pre>bench/run CacheDump --model DIR --out FILE [--tokens 24] [--seed 7]</pre>
 */
public final class CacheDump {
    public static void main(String[] args) {
        String model = null;
        String out = null;
        int tokens = 24;
        long seed = 7;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--model" -> model = args[++i];
                case "--out" -> out = args[++i];
                case "--tokens" -> tokens = Integer.parseInt(args[++i]);
                case "--seed" -> seed = Long.parseLong(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        if (model == null || out == null) {
            throw new IllegalArgumentException("usage: bench/run CacheDump --model DIR --out FILE [--tokens 24] [--seed 7]");
        }
        HookedTransformer m = HookedTransformer.fromPretrained(model);
        long[] ids = new Random(seed).longs(tokens, 0, m.cfg().dVocab()).toArray();
        Run r = m.runWithCache(Nd4j.createFromArray(new long[][] {ids}), CacheSpec.all());
        Map<String, INDArray> tensors = new LinkedHashMap<>();
        r.cache().asMap().forEach((name, a) -> tensors.put(name, a.castTo(DataType.FLOAT)));
        tensors.put("logits", r.logits().castTo(DataType.FLOAT));
        String idList = Arrays.stream(ids).mapToObj(Long::toString).collect(Collectors.joining(","));
        SafeTensors.write(Path.of(out), tensors, Map.of("ids", idList, "model", model));
        System.err.printf("CacheDump: %s, %d tokens: %d hook points and logits in %s%n", model, tokens,
                tensors.size() - 1, out);
    }
}
