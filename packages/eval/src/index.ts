/**
 * @posenc/eval — the `posenc` CLI and the language-modelling benchmark across position methods:
 * corpora (State of the Union, WikiText, any text file), tokenizers (bytes, a local
 * tokenizer.json), perplexity per token in nonoverlapping and sliding-window modes, the method
 * table (core's reference encodings and the plugins' rows), resumable runs and their reports.
 */
export { UsageError } from './usage-error.js';

export * from './corpus/corpus.js';
export { loadCorpus, CORPUS_FORMS } from './corpus/load-corpus.js';
export { loadSotu, sotuFiles, sotuSplitOf, SOTU_SPLIT_RULE } from './corpus/sotu.js';
export { loadWikiText, wikiTextVariant, type WikiTextVariant } from './corpus/wikitext.js';
export { loadTextFile, TEXT_FILE_SPLIT } from './corpus/text-file.js';

export type { Tokenizer } from './tokenizer/tokenizer.js';
export { byteTokenizer } from './tokenizer/bytes.js';
export { loadHfTokenizer } from './tokenizer/hf-tokenizer.js';
export { loadTokenizer } from './tokenizer/load-tokenizer.js';

export * from './data/token-array.js';
export * from './data/token-stream.js';
export * from './data/eval-segments.js';

export * from './lm/windows.js';
export * from './lm/perplexity.js';
export { decoderScorer } from './lm/decoder-scorer.js';
export { evaluateWithCache, type BlockCache } from './lm/cached-evaluation.js';

export * from './methods/method.js';
export { allMethods, resolveMethods, type ResolvedMethod } from './methods/table.js';
export { createModel, standardSession, type PositionedBatch } from './methods/standard-session.js';

export * from './bench/config.js';
export { PRESETS, PRESET_NAMES, type PresetSettings } from './bench/presets.js';
export type { BenchProgress } from './bench/progress.js';
export * from './bench/results.js';
export {
  prepareLMBench,
  runLMBench,
  type LMBenchOptions,
  type PreparedLMBench,
  type LMBenchOutcome,
} from './bench/lm-bench.js';
export { renderMarkdownReport } from './report/markdown-report.js';
export { renderHtmlReport } from './report/html-report.js';
export { main as posencMain } from './cli/main.js';
