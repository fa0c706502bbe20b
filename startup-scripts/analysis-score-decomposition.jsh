import dev.jlens.analysis.*;
// Attention-score decomposition (seed 004): a head's query·key scores split into token-token,
// token-position, position-token and position-position terms; which one moves the attention?

var terms = AttentionScoreDecomposition.of(model, "We dog eat. We dog run. We dog", 0, 0);
System.out.println(terms);                                // mean, spread and size of each term
System.out.println(terms.term("position-position"));      // one term as a heatmap
terms.savePng();                                          // the four terms, each on its own colour scale
