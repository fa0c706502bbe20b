// The shipped model read through its shipped SAE (artifacts/shakespeare-char/saes/blocks.2.hook_resid_pre, card in its
// README.md): how well it reconstructs, which features fire on a prompt, and one feature's dashboard with the corpus
// contexts that make it fire most.
//   ./jlens startup-scripts/sae-features.jsh        (or runScript(…) in the console)
// The contexts come from a feature-contexts run over the first 16,384 tokens of TinyShakespeare's val split, kept under
// $JLENS_RESULTS (default results/); the whole split: ./jlens experiment feature-contexts --sae … --data tinyshakespeare
import dev.jlens.experiment.*;
import dev.jlens.data.*;
import java.nio.file.*;

var sae = loadSae("artifacts/shakespeare-char/saes/blocks.2.hook_resid_pre");
var prompt = "ROMEO:\nBut soft, what light through yonder window breaks?";
reconstruction(sae, prompt);
runWithSaes(prompt, sae.withErrorTerm());
var acts = cache("blocks.2.hook_resid_pre.hook_sae_acts_post");          // [1, pos, 768]
int top = Nd4j.argMax(acts.get(point(0), point(acts.size(1) - 1), all())).getInt(0);
System.out.println("the strongest feature at the last token: " + top);

var resultsDir = Path.of(System.getenv().getOrDefault("JLENS_RESULTS", "results"));
var beside = Path.of("../shared/data/tinyshakespeare/input.txt");
var text = Corpus.read(Files.exists(beside) ? beside : TinyShakespeare.file(), model.tokenizer());
var val = text.tokens(Split.VAL);
var head = Corpus.of(text.text(Arrays.copyOfRange(val, 0, 16_384)), "the val split's first 16,384 tokens", model.tokenizer());
var contexts = FeatureContextsExperiment.of(model, sae, Dataset.windows(head, Split.ALL, 128, 128)).withTopK(8).run(resultsDir.resolve("sae-features-val16k"), RunOptions.defaults().withOutput(System.out, false));
println(contexts);
var dashboard = feature(sae, top, contexts);
println(dashboard);
dashboard.savePng();
