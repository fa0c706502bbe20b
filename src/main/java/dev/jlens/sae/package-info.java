/**
 * Sparse autoencoders and transcoders (SAELens's semantics): read the community's releases (SAELens folders, Gemma
 * Scope's {@code params.npz}/{@code params.safetensors}, EleutherAI's sparsify), encode and decode activations, and
 * splice them into runs as hook points ({@code blocks.8.hook_resid_pre.hook_sae_acts_post}) through
 * {@link dev.jlens.model.Splice}, so hooks, caching, steering and completion work on features as on any activation.
 * {@link dev.jlens.sae.SAE#save} writes SAELens's folder (what {@code jlens train-sae} ships), and
 * {@link dev.jlens.sae.Reconstruction} measures how well an SAE stands in for its hook point (explained variance, L0,
 * CE loss recovered).
 */
package dev.jlens.sae;
