// Seed 004 ("copying, shift-1 and induction heads" in a 2-layer attention-only model), in jlens, on the shipped
// attention-only model:
//   ./jlens --model artifacts/attn-only-2l startup-scripts/seed004-attention-only.jsh
String sentence = "We dog eat. We dog run. We dog";

// compute_attention_terms: a head's scores split into token-token, token-position, position-token and
// position-position terms (the notebook prints mean, variance and the top-left 10×10 of each).
var terms = AttentionScoreDecomposition.of(model, sentence, 0, 0);
System.out.println(terms);
System.out.println(terms.term("position-position"));

// Which heads attend to the previous token, to earlier copies, to what followed them (induction)?
var heads = HeadDetector.detect(model);
System.out.println(heads);

// virtual_head: layer-0 head 0's OV feeding layer-1 head 0, on the sentence, decoded to tokens.
System.out.println(VirtualHead.topTokens(model, sentence, 0, 0, 1, 0, 3));

// Induction on repeated text: the attention of the model's induction head on a repeated passage.
var repeated = "We dog eat ice cream. We dog eat ice cream.";
System.out.println(AttentionPatterns.of(model, repeated, 1));
