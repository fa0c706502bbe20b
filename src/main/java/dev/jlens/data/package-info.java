/**
 * Corpora for dataset-scale experiments: a text file read with a model's tokenizer, its
 * train/validation split, and the samples an experiment runs through the model.
 *
 * <ul>
 *   <li>{@link dev.jlens.data.Corpus}: a UTF-8 text file as token ids, with its SHA-256 (so results
 *       can say which text they came from); {@link dev.jlens.data.Split}: first 90% train, last 10% val.</li>
 *   <li>{@link dev.jlens.data.Samples}: what an experiment runs — {@link dev.jlens.data.SlidingWindows}
 *       (seed 002's {@code DataBatcher}: windows of a length every {@code stride} tokens) or
 *       {@link dev.jlens.data.UniqueSubstrings} (seed 000's {@code all_unique_substrings}: every distinct
 *       length-n run of tokens, in order of first occurrence); {@link dev.jlens.data.Dataset} ties samples
 *       to their corpus and split.</li>
 *   <li>{@link dev.jlens.data.NextTokenCounts}: prefix → how often each token follows it in the corpus
 *       (seed 000's {@code build_next_token_map}), stored sparsely;
 *       {@link dev.jlens.data.SubstringFrequencyAnalysis}: seed 000's summary of those counts for a few
 *       substrings.</li>
 * </ul>
 *
 * <p>Everything works on token ids, so it holds for GPT-2's BPE as for char models; for a char model a
 * "substring of length n" is exactly n characters, as in the seeds.
 */
package dev.jlens.data;
