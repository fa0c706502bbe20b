// Seed 001 ("Getting acquainted with the model") as a jlens script, on whichever model is loaded:
//   ./jlens --model ../shared/fixtures/charlm-tiny startup-scripts/seed001-tour.jsh
// Tokens, embeddings, top-k, per-token log-probs, named parameters, the cache, and the MLP of
// block 0 recomputed by hand from the cache.

println("== the model");
println(model);
println(cfg);

// ---- Input: "What does this eat?" Tokenization
String text = "A story about Quomatarus.";      // short enough for a 32-character context
List<String> strToks = strTokens(text);
INDArray toks = tokens(text);                    // [1, pos]
long pos = toks.size(1);
println("tokens " + Arrays.toString(toks.shape()) + ": " + Arrays.toString(toks.toLongVector()));

// ---- Embedding: rows of W_E
INDArray W_E = model.W_E();                      // [d_vocab, d_model]
show(W_E);
INDArray embedded = W_E.getRows(toks.toIntVector()).reshape(1, pos, cfg.dModel());   // [1, pos, d_model]
println("embedded " + Arrays.toString(embedded.shape()) + ", its corner:");
corner(embedded)

// ---- Output: "What comes out?"
var r = run(text);                               // runWithCache; prints the tokens and the top 5
show(r.logits());                                // [1, pos, d_vocab]
topk(text, 5);

// Per-token log-probs: how likely the model found each next token of the prompt.
INDArray logProbs = LogProbs.tokenLogProbs(r.logits(), r.tokens());   // [1, pos-1]
var lpTable = new dev.jlens.view.Table("position", "token", "next", "log p(next)");
for (int i = 0; i < logProbs.size(1); i++) {
    lpTable.row(i, "'" + dev.jlens.view.TokenText.visible(strToks.get(i)) + "'",
            "'" + dev.jlens.view.TokenText.visible(strToks.get(i + 1)) + "'",
            String.format("%.4f", logProbs.getDouble(0, i)));
}
print(lpTable.render());
println(String.format("mean loss %.4f nats", model.loss(text)));

// ---- Named parameters with shapes
var ps = params();

// ---- The cache: every activation of the run with its shape
var hs = hooks();

// ---- The MLP of block 0 by hand, from the cached input of its LayerNorm output
INDArray x = cache("normalized", 0, "ln2").get(point(0), all(), all());          // [pos, d_model]
INDArray pre = x.mmul(model.W_in(0)).addRowVector(model.b_in(0));               // [pos, d_mlp]
println(String.format("max |pre by hand − cache(\"pre\", 0)| = %.2e", maxAbsDiff(pre, cache("pre", 0).get(point(0), all(), all()))));
INDArray post = cfg.actFn().apply(pre);                                          // the model's own activation (" + cfg.actFn() + ")
INDArray mlpOut = post.mmul(model.W_out(0)).addRowVector(model.b_out(0));       // [pos, d_model]
println("by hand:");
corner(mlpOut)
println("cache(\"mlp_out\", 0):");
corner(cache("mlp_out", 0).get(point(0), all(), all()))
double diff = maxAbsDiff(mlpOut, cache("mlp_out", 0).get(point(0), all(), all()));
println(String.format("max |mlp_out by hand − cache(\"mlp_out\", 0)| = %.2e", diff));
check(diff < 1e-4, "the MLP recomputed by hand differs from cache(\"mlp_out\", 0) by " + diff);
println("MLP recomputed by hand matches the cache.");
