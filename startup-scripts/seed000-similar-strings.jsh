// Seed 000's similar strings on the shipped char model: which corpus strings does block 1's MLP treat
// like a prompt, and do the characters that follow them explain the model's prediction?
//   ./jlens startup-scripts/seed000-similar-strings.jsh        (or runScript(…) in the console)
// It reads the activations of results/s10-block1 when that folder is there: all 858,923 distinct
// 10-character substrings of TinyShakespeare (about 9 minutes, 1.35 GB), made by
//   ./jlens experiment block-internals --data tinyshakespeare --block 1 \
//       --samples substrings --split all --components attn_out,mlp_out --out results/s10-block1
// Without it, it saves the validation split's distinct substrings itself first (about a minute, 75 MB; kept in
// results/s10-block1-val, so the next run only opens it).
import dev.jlens.experiment.*;
import dev.jlens.data.*;

var resultsDir = java.nio.file.Path.of(System.getenv().getOrDefault("JLENS_RESULTS", "results"));   // where results folders live
BlockInternalsResults results;
if (java.nio.file.Files.isDirectory(resultsDir.resolve("s10-block1"))) {
    results = openResults(resultsDir.resolve("s10-block1").toString());
} else {
    System.out.println("no results/s10-block1: saving block 1's MLP output for the val split's distinct 10-character substrings");
    var beside = java.nio.file.Path.of("../shared/data/tinyshakespeare/input.txt");   // the development checkout's copy
    var text = Corpus.read(java.nio.file.Files.exists(beside) ? beside : TinyShakespeare.file(), model.tokenizer());
    var exp = BlockInternalsExperiment.of(model, Dataset.uniqueSubstrings(text, Split.VAL, 10), 1).withComponents(Component.MLP_OUT);
    results = exp.run(resultsDir.resolve("s10-block1-val"), RunOptions.defaults().withOutput(System.out, false));
}
var acts = savedActivations(results, "blocks.1.hook_mlp_out");
var near = similarStrings(acts, "ROMEO: Wha", 10);
var sweep = nextTokenSweep(acts, "ROMEO: Wha");
var fixed = nextTokenSweep(acts, "ROMEO: Wha", COSINE, 0.99, 0.98, 0.95, 0.9, 0.8, 0.7);
var byDistance = similarStrings(acts, "ROMEO: Wha", 5, EUCLIDEAN);
var groups = clusters(acts, 12);
