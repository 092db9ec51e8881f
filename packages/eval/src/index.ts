/**
 * @posenc/eval — the `posenc` CLI and its harnesses: one run engine (run folders named by their
 * settings' hash, cells of (task, method, seed) with resume, results and reports with charts)
 * and the tasks that plug into it. The language-modelling harness: corpora (State of the Union,
 * WikiText, any text file), tokenizers (bytes, a local tokenizer.json), perplexity per token in
 * nonoverlapping and sliding-window modes, rows from core's registry and the plugins' procedures.
 */
export { UsageError } from './usage-error.js';

// The run engine, shared by every task.
export * from './run/harness.js';
export * from './run/cell.js';
export * from './run/results.js';
export * from './run/options.js';
export { CellStore, type CellTiming } from './run/cell-store.js';
export { MethodUnavailableError, resolveRows, type ResolvedRow } from './run/methods.js';
export { PLUGIN_PACKAGES, loadPlugins, type PluginStatus } from './run/plugins.js';
export { configHash, canonicalJson, resultsFormat } from './run/config-hash.js';
export { summarizeSeeds, separated, type SeedSummary } from './run/stats.js';
export type { RunProgress } from './run/progress.js';
export {
  prepareBench,
  type BenchOptions,
  type PreparedBench,
  type PreparedRow,
} from './run/prepare-bench.js';
export { runBench, runCells, type BenchOutcome, type RunBenchOptions } from './run/run-bench.js';
export { runCell, type RunCellOptions } from './run/run-cell.js';
export { RunFolder, RESULTS_FILE, REPORT_MD, REPORT_HTML, RUN_FILE } from './run/run-folder.js';
export { renderReport, reportDocument } from './report/render.js';
export type { ReportSection, ReportTable, TableCell } from './report/sections.js';
export type { LineChart, ChartSeries, ReferenceLine } from './report/charts.js';
export { metricTable } from './report/metric-table.js';
export { HARNESSES, findHarness } from './harnesses/index.js';

// The language-modelling harness.
export { lmHarness } from './harnesses/lm/harness.js';
export * from './harnesses/lm/config.js';
export { LM_PRESETS } from './harnesses/lm/presets.js';
export * from './corpus/corpus.js';
export { loadCorpus, CORPUS_FORMS } from './corpus/load-corpus.js';
export { loadSotu, sotuFiles, sotuSplitOf, SOTU_SPLIT_RULE } from './corpus/sotu.js';
export { loadWikiText, wikiTextVariant, type WikiTextVariant } from './corpus/wikitext.js';
export { loadTextFile, TEXT_FILE_SPLIT } from './corpus/text-file.js';
export type { Tokenizer } from './tokenizer/tokenizer.js';
export { byteTokenizer } from './tokenizer/bytes.js';
export { loadHfTokenizer } from './tokenizer/hf-tokenizer.js';
export { loadTokenizer } from './tokenizer/load-tokenizer.js';
export * from './harnesses/lm/data/token-array.js';
export * from './harnesses/lm/data/token-stream.js';
export * from './harnesses/lm/data/eval-segments.js';
export { loadLMData, type LMData, type EvaluationInfo } from './harnesses/lm/data.js';
export * from './harnesses/lm/evaluation/windows.js';
export * from './harnesses/lm/evaluation/perplexity.js';
export { decoderScorer } from './harnesses/lm/evaluation/decoder-scorer.js';
export { evaluateWithCache, type BlockCache } from './harnesses/lm/evaluation/cached-evaluation.js';
export type { LMSession, LMSessionContext, LMRow } from './harnesses/lm/methods/session.js';
export {
  createModel,
  standardSession,
  type PositionedBatch,
} from './harnesses/lm/methods/standard-session.js';
export { lmRows } from './harnesses/lm/methods/rows.js';
export { main as posencMain } from './cli/main.js';

// The extractive question-answering harness and the official SQuAD scoring.
export { squadHarness } from './harnesses/squad/harness.js';
export type { SquadConfig } from './harnesses/squad/config.js';
export { SQUAD_PRESETS } from './harnesses/squad/presets.js';
export { scoreSquadFiles, type ScoreOutcome } from './harnesses/squad/scoring/score-files.js';
export { evaluateV1 } from './harnesses/squad/scoring/official-v1.js';
export { evaluateV2 } from './harnesses/squad/scoring/official-v2.js';
export { normalizeAnswer } from './harnesses/squad/scoring/normalize.js';
export {
  readSquadSet,
  type SquadSet,
  type SquadExample,
} from './harnesses/squad/data/squad-file.js';
