// Seed 000's similar strings on the shipped char model: which corpus strings does block 1's MLP treat
// like a prompt, and do the characters that follow them explain the model's prediction?
// First save the activations of the 858,923 distinct 10-character substrings (about 9 minutes, 1.35 GB):
//   ./jlens experiment block-internals --data ../shared/data/tinyshakespeare/input.txt --block 1 \
//       --samples substrings --split all --components attn_out,mlp_out --out results/s10-block1
// then in the console: runScript("startup-scripts/seed000-similar-strings.jsh")
var acts = savedActivations("results/s10-block1", "blocks.1.hook_mlp_out");
var near = similarStrings(acts, "ROMEO: Wha", 10);
var sweep = nextTokenSweep(acts, "ROMEO: Wha");
var fixed = nextTokenSweep(acts, "ROMEO: Wha", COSINE, 0.99, 0.98, 0.95, 0.9, 0.8, 0.7);
var byDistance = similarStrings(acts, "ROMEO: Wha", 5, EUCLIDEAN);
var groups = clusters(acts, 12);
