// Seed 003 (ML4G's "GPT-2 interpretability: logit lens"), step by step in jlens, on the GPT-2-shaped fixture
// (random weights: the words are noise, the machinery is the same as on gpt2):
//   ./jlens --model src/test/data/fixtures/gpt2-tiny startup-scripts/seed003-logit-lens.jsh
// The notebook hooks each block's output, decodes it through ln_f and the embedding matrix, prints the argmax
// text per layer, then plots with transformer_utils. Here the cache holds every block's output already.

var ids = model.toTokens("Happy birthday to You, happy", false);   // GPT-2's tokenizer.encode: no BOS
var r = model.runWithCache(ids);

// Decode: ln_f, then the unembedding (tied to wte), argmax per position, as text.
for (int layer = 0; layer < cfg.nLayers(); layer++) {
    INDArray out = r.cache().get("resid_post", layer);                 // [1, pos, d_model]
    INDArray logits = Unembed.logits(model, out);                     // [1, pos, d_vocab]
    INDArray best = Nd4j.argMax(logits, 2);                           // [1, pos]
    System.out.println("layer " + layer + ": " + model.toText(best));
}

// The last layer's argmax is the model's own greedy prediction at each position.
check(model.toText(Nd4j.argMax(r.logits(), 2)).equals(model.toText(Nd4j.argMax(Unembed.logits(model, r.cache().get("resid_post", -1)), 2))),
      "the last layer decoded by hand is not the model's prediction");
System.out.println("the last layer decoded by hand is the model's own prediction");

// _plot_logit_lens: the same as one analysis, with probabilities, ranks or KL as colour.
var lens = LogitLens.of(model, r, false);
System.out.println(lens);
System.out.println(lens.colouredBy(LogitLens.Colour.RANK));
