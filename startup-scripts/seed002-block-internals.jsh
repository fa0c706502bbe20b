// Seed 002's block-internals experiment on the shipped char model: run 3-character windows of TinyShakespeare's
// validation split through block 0 and save, for every character, the heads' output (z, the input of the
// attention's projection), the projection's output (attn_out) and the feed-forward output (mlp_out).
//   ./jlens startup-scripts/seed002-block-internals.jsh        (or runScript(…) in the console)
// The same experiment from the shell, resumable, with a progress bar:
//   ./jlens experiment block-internals --data tinyshakespeare --split val --samples windows --length 3 --stride 96 \
//       --block 0 --components z,attn_out,mlp_out --batch-size 64 --out results/seed002-block0
// Results folders go under $JLENS_RESULTS (default results/); a second run opens them instead of recomputing.
import dev.jlens.experiment.*;
import dev.jlens.data.*;
import dev.jlens.view.*;
import java.nio.file.*;

var resultsDir = Path.of(System.getenv().getOrDefault("JLENS_RESULTS", "results"));
var beside = Path.of("../shared/data/tinyshakespeare/input.txt");   // the development checkout's copy
var text = Corpus.read(Files.exists(beside) ? beside : TinyShakespeare.file(), model.tokenizer());
var parts = List.of(Component.Z, Component.ATTN_OUT, Component.MLP_OUT);

// The notebook's test: the val split's first 2·64·3 + 12·3 tokens as 3-token windows, 64 to a batch, so two full
// batches and one of 12, each output [samples, 3, n_embd].
var valTokens = text.tokens(Split.VAL);
var head = Corpus.of(text.text(Arrays.copyOfRange(valTokens, 0, 2 * 64 * 3 + 12 * 3)), "the val split's first 420 tokens", model.tokenizer());
var test = BlockInternalsExperiment.of(model, Dataset.windows(head, Split.ALL, 3, 3), 0).withComponents(parts.toArray(Component[]::new)).withBatchSize(64).run(
        resultsDir.resolve("seed002-test"), RunOptions.defaults().withOutput(System.out, false));
var shapes = new Table("batch", "inputs", "z (heads output)", "attn_out (proj output)", "mlp_out (ffwd output)");
var inputs = test.batches(Component.Z, 0);
for (int b = 0; b < inputs.size(); b++) {
    var row = new ArrayList<Object>(List.of(b));
    long samples = inputs.get(b).size(0) / 3;
    row.add(Arrays.toString(new long[] {samples, 3}));
    for (var c : parts) row.add(Arrays.toString(test.batches(c, 0).get(b).reshape(samples, 3, -1).shape()));
    shapes.row(row.toArray());
}
println(shapes);
var expected = List.of(64L, 64L, 12L);
for (int b = 0; b < 3; b++) check(inputs.get(b).size(0) == 3 * expected.get(b), "batch " + b + " holds " + inputs.get(b).size(0) / 3 + " samples, not " + expected.get(b));

// The experiment itself: the whole val split, a 3-token window every 96 tokens.
var results = BlockInternalsExperiment.of(model, windows(text, "val", 3, 96), 0).withComponents(parts.toArray(Component[]::new)).withBatchSize(64).run(
        resultsDir.resolve("seed002-block0"), RunOptions.defaults().withOutput(System.out, false));
println(results);

// raw_results: each saved row is a prefix of its window (the substring the block has seen) and its three vectors.
var z = results.matrix(Component.Z, 0);
var attn = results.matrix(Component.ATTN_OUT, 0);
var mlp = results.matrix(Component.MLP_OUT, 0);
var rows = new Table("row", "substring", "|z|", "|attn_out|", "|mlp_out|");
for (long r = 0; r < 9; r++) {
    int[] ids = Arrays.copyOf(results.sampleTokens(results.sampleOfRow(r)), results.positionOfRow(r) + 1);
    rows.row(r, TokenText.visible(text.text(ids)), z.getRow(r).norm2Number().doubleValue(), attn.getRow(r).norm2Number().doubleValue(),
            mlp.getRow(r).norm2Number().doubleValue());
}
println(rows);

// What was saved is what the model computes: sample 1 run again with the cache.
int[] sample = results.sampleTokens(1);
var again = model.runWithCache(Nd4j.createFromArray(new long[][] {Arrays.stream(sample).asLongStream().toArray()}));
double d = maxAbsDiff(again.cache().get("mlp_out", 0).get(point(0), all(), all()), mlp.get(interval(3, 6), all()));
System.out.printf("max |saved mlp_out − a fresh run's cache| over sample 1 = %.2e%n", d);
check(d < 1e-5, "the saved activations differ from a fresh run");
System.out.println("Saved activations match a fresh run.");
