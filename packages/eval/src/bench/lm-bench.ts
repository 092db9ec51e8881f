/**
 * `posenc bench lm` as a library: `prepareLMBench` checks everything and loads the data without
 * writing a file (every mistake is a UsageError), `runLMBench` trains and evaluates each method
 * that is not done yet, then writes `results.json`, `report.md` and `report.html`.
 */
import { cpus } from 'node:os';
import { resolve } from 'node:path';
import { initEngine, unigramEntropy } from '@posenc/core';
import type { Corpus } from '../corpus/corpus.js';
import { loadCorpus } from '../corpus/load-corpus.js';
import { evalSegments } from '../data/eval-segments.js';
import { tokenizeSplit, type TokenStream } from '../data/token-stream.js';
import type { TokenArray } from '../data/token-array.js';
import { readJsonIfExists, writeFileAtomic, writeJsonAtomic } from '../io/atomic.js';
import type { LMMethod, MethodContext, MethodFactory } from '../methods/method.js';
import { allMethods, resolveMethods } from '../methods/table.js';
import { renderHtmlReport } from '../report/html-report.js';
import { renderMarkdownReport } from '../report/markdown-report.js';
import { loadTokenizer } from '../tokenizer/load-tokenizer.js';
import type { Tokenizer } from '../tokenizer/tokenizer.js';
import { UsageError } from '../usage-error.js';
import { configHash, CONFIG_FORMAT, defaultRunName, type BenchConfig } from './config.js';
import { silentProgress, type BenchProgress } from './progress.js';
import {
  RESULTS_FORMAT,
  type BenchResults,
  type EvaluationInfo,
  type FailedMethod,
  type MethodRecord,
  type UnavailableMethod,
} from './results.js';
import { REPORT_HTML, REPORT_MD, RESULTS_FILE, RunFolder, type RunRecord } from './run-folder.js';
import { runMethod } from './run-method.js';
import { validateConfig } from './validate.js';
import { packageVersions } from './versions.js';

export interface LMBenchOptions {
  /** `corpus` and `tokenizer` may be relative to `baseDir`. */
  config: BenchConfig;
  /** Method names, or ['all'] for every available method. */
  methods: readonly string[];
  /**
   * True when the user named the methods: an unavailable one is then an error. Otherwise (a
   * preset's list) it is skipped and listed in the report with its reason.
   */
  methodsExplicit: boolean;
  /** Run folder; default `results/<run name>` under `baseDir`. */
  out?: string;
  /** Where relative paths start: the directory the command was run in. */
  baseDir: string;
  /** The command line, recorded in the results. */
  command: string;
  checkpointEvery?: number;
  /** Bound on batch × length per evaluation forward pass. */
  maxBatchTokens?: number;
}

export interface PreparedLMBench {
  config: BenchConfig;
  configHash: string;
  runName: string;
  folder: RunFolder;
  existingRun?: RunRecord;
  command: string;
  methods: { method: LMMethod; factory: MethodFactory }[];
  unavailable: UnavailableMethod[];
  corpus: Corpus;
  tokenizer: Tokenizer;
  train: TokenStream;
  evalStream: TokenStream;
  segments: TokenArray[];
  evaluation: EvaluationInfo;
  trainUnigramEntropy: number;
  checkpointEvery: number;
  maxBatchTokens: number;
}

export const DEFAULT_MAX_BATCH_TOKENS = 4096;

/** Everything that can be checked before a file is written; throws UsageError on a mistake. */
export async function prepareLMBench(options: LMBenchOptions): Promise<PreparedLMBench> {
  validateConfig(options.config);
  const corpus = loadCorpus(options.config.corpus, options.baseDir);
  const tokenizer = await loadTokenizer(options.config.tokenizer, options.baseDir);
  const config: BenchConfig = {
    ...options.config,
    corpus: corpus.spec,
    tokenizer: tokenizer.spec,
    evalLengths: [...new Set(options.config.evalLengths)].sort((a, b) => a - b),
  };
  const hash = configHash(config);
  const runName = defaultRunName(config);
  const folder = new RunFolder(resolve(options.baseDir, options.out ?? `results/${runName}`));
  const existingRun = await folder.check(hash);

  const { methods, unavailable } = await chooseMethods(
    options.methods,
    options.methodsExplicit,
    config,
  );

  const train = await tokenizeSplit(corpus.splits.train, tokenizer);
  const evalStream = await tokenizeSplit(corpus.splits[config.evalSplit], tokenizer);
  const longest = config.evalLengths[config.evalLengths.length - 1]!;
  for (const [what, stream, needed] of [
    ['training', train, Math.max(config.trainLength, longest) + 1],
    [config.evalSplit, evalStream, longest + 1],
  ] as const)
    if (stream.tokens.length < needed)
      throw new UsageError(
        `--corpus ${options.config.corpus}: the ${what} split has ${stream.tokens.length} tokens, fewer than the ${needed} the lengths need (--train-len ${config.trainLength}, longest of --eval-lens ${longest})`,
      );
  const segments = evalSegments(evalStream.tokens, {
    maxTokens: config.evalTokens,
    longestLength: longest,
  });
  const wholeSplit = segments.length === 1 && segments[0]!.length === evalStream.tokens.length;
  const evaluation: EvaluationInfo = {
    split: config.evalSplit,
    targets: segments.reduce((n, s) => n + s.length - 1, 0),
    segments: segments.length,
    segmentTargets: segments[0]!.length - 1,
    wholeSplit,
    ...(wholeSplit && evalStream.words !== undefined && { words: evalStream.words }),
  };
  return {
    config,
    configHash: hash,
    runName,
    folder,
    ...(existingRun && { existingRun }),
    command: options.command,
    methods,
    unavailable,
    corpus,
    tokenizer,
    train,
    evalStream,
    segments,
    evaluation,
    trainUnigramEntropy: unigramEntropy(train.tokens),
    checkpointEvery: options.checkpointEvery ?? Math.max(1, Math.ceil(config.steps / 10)),
    maxBatchTokens: options.maxBatchTokens ?? DEFAULT_MAX_BATCH_TOKENS,
  };
}

async function chooseMethods(
  names: readonly string[],
  explicit: boolean,
  config: BenchConfig,
): Promise<{
  methods: { method: LMMethod; factory: MethodFactory }[];
  unavailable: UnavailableMethod[];
}> {
  const known = allMethods();
  const wanted: LMMethod[] = [];
  for (const name of names) {
    if (name === 'all') {
      wanted.push(...known.filter((m) => !wanted.includes(m)));
      continue;
    }
    const method = known.find((m) => m.name === name);
    if (!method)
      throw new UsageError(
        `--methods: unknown method '${name}'; known: ${known.map((m) => m.name).join(', ')} (or all)`,
      );
    if (wanted.includes(method)) throw new UsageError(`--methods: '${name}' is listed twice`);
    wanted.push(method);
  }
  if (wanted.length === 0)
    throw new UsageError('--methods is empty; name at least one method (posenc list shows them)');
  const methods: { method: LMMethod; factory: MethodFactory }[] = [];
  const unavailable: UnavailableMethod[] = [];
  const strict = explicit && !names.includes('all');
  for (const resolved of await resolveMethods(wanted)) {
    const { method } = resolved;
    if (!resolved.available) {
      if (strict)
        throw new UsageError(`--methods: ${method.name} is unavailable: ${resolved.reason}`);
      unavailable.push({ method: method.name, package: method.package, reason: resolved.reason });
      continue;
    }
    const problem = method.checkConfig?.(config);
    if (problem) {
      if (strict) throw new UsageError(problem);
      unavailable.push({ method: method.name, package: method.package, reason: problem });
      continue;
    }
    methods.push({ method, factory: resolved.factory });
  }
  if (methods.length === 0)
    throw new UsageError(
      `no method can run: ${unavailable.map((u) => `${u.method}: ${u.reason}`).join('; ')}`,
    );
  return { methods, unavailable };
}

export interface LMBenchOutcome {
  results: BenchResults;
  folder: string;
  /** Methods found done from an earlier process. */
  skipped: string[];
  failed: FailedMethod[];
}

export interface RunLMBenchOptions {
  progress?: BenchProgress;
  signal?: AbortSignal;
}

export async function runLMBench(
  prepared: PreparedLMBench,
  options: RunLMBenchOptions = {},
): Promise<LMBenchOutcome> {
  const started = performance.now();
  const progress = options.progress ?? silentProgress;
  const { config, folder } = prepared;
  if (!prepared.existingRun)
    await folder.writeRun({
      format: CONFIG_FORMAT,
      configHash: prepared.configHash,
      config,
      createdAt: new Date().toISOString(),
      command: prepared.command,
    });
  const engine = await initEngine();
  progress.runStarted({
    folder: folder.dir,
    methods: prepared.methods.map((m) => m.method.name),
    engine: engine.engine,
  });

  const context: MethodContext = {
    trainTokens: prepared.train.tokens,
    vocabSize: prepared.tokenizer.vocabSize,
    trainLength: config.trainLength,
    longestEvalLength: config.evalLengths[config.evalLengths.length - 1]!,
    batch: config.batch,
    steps: config.steps,
    seed: config.seed,
    model: config.model,
  };
  const records: MethodRecord[] = [];
  const skipped: string[] = [];
  const failed: FailedMethod[] = [];
  for (const [index, { method, factory }] of prepared.methods.entries()) {
    const done = await readJsonIfExists<MethodRecord>(folder.resultFile(method.name));
    if (done) {
      records.push(withWordPerplexity(done, prepared.evaluation.words));
      skipped.push(method.name);
      progress.methodSkipped(method.name, 'done in an earlier run');
      continue;
    }
    if (options.signal?.aborted) break;
    try {
      const record = await runMethod({
        method,
        factory,
        context,
        config,
        folder,
        segments: prepared.segments,
        progress,
        index,
        total: prepared.methods.length,
        checkpointEvery: prepared.checkpointEvery,
        maxBatchTokens: prepared.maxBatchTokens,
        ...(options.signal && { signal: options.signal }),
      });
      if (record) records.push(withWordPerplexity(record, prepared.evaluation.words));
    } catch (e) {
      const error = e instanceof Error ? e.message : String(e);
      failed.push({ method: method.name, error });
      progress.methodFailed(method.name, error);
    }
  }

  const results: BenchResults = {
    format: RESULTS_FORMAT,
    run: prepared.runName,
    command: prepared.command,
    config,
    configHash: prepared.configHash,
    methods: records,
    failed,
    unavailable: prepared.unavailable,
    corpus: {
      spec: prepared.corpus.spec,
      description: prepared.corpus.description,
      splits: {
        train: {
          description: prepared.corpus.splits.train.description,
          tokens: prepared.train.tokens.length,
        },
        [config.evalSplit]: {
          description: prepared.corpus.splits[config.evalSplit].description,
          tokens: prepared.evalStream.tokens.length,
        },
      },
      trainUnigramEntropy: prepared.trainUnigramEntropy,
    },
    tokenizer: {
      spec: prepared.tokenizer.spec,
      description: prepared.tokenizer.description,
      vocabSize: prepared.tokenizer.vocabSize,
    },
    evaluation: prepared.evaluation,
    engine: { engine: engine.engine, backend: engine.backend },
    versions: packageVersions(),
    machine: {
      platform: process.platform,
      arch: process.arch,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      node: process.version,
    },
    process: {
      wallMs: performance.now() - started,
      peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
    },
    writtenAt: new Date().toISOString(),
  };
  await writeJsonAtomic(folder.file(RESULTS_FILE), results);
  await writeFileAtomic(folder.file(REPORT_MD), renderMarkdownReport(results));
  await writeFileAtomic(folder.file(REPORT_HTML), await renderHtmlReport(results));
  return { results, folder: folder.dir, skipped, failed };
}

/** WikiText `.tokens` evaluated whole: the standard per-word perplexity beside the per-token one. */
function withWordPerplexity(record: MethodRecord, words: number | undefined): MethodRecord {
  if (words === undefined) return record;
  return {
    ...record,
    evaluations: record.evaluations.map((e) => ({ ...e, wordPerplexity: Math.exp(e.nll / words) })),
  };
}
