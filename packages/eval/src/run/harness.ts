/**
 * The contract between the shared run engine and a task's harness. A harness
 * (`src/harnesses/<task>/`) says what is specific to its task — settings and presets, data with
 * an embedded default, the method rows that apply, the model each builds, how a step trains, how
 * a trained model is evaluated, the metrics and the report's sections — and the engine does the
 * rest the same way for every task: the run folder and its config hash, the lock, cells of
 * (method, seed) with per-cell resume, atomic writes, progress, the results envelope and the
 * Markdown and HTML reports.
 *
 * Everything a cell needs is derived from the run's config, the method's name and the seed, so a
 * process that was given only those (a queue worker on another machine) runs the same cell.
 */
import type { ScheduleOptions, StepContext, TrainBatch, tf } from '@posenc/core';
import type { CellStore } from './cell-store.js';
import type { CellRecord, BenchResults } from './results.js';
import type { OptionSpec } from './options.js';
import type { ReferenceLine } from '../report/charts.js';
import type { ReportSection } from '../report/sections.js';

/** A figure a cell reports: tables aggregate it over seeds, per method. */
export interface MetricSpec {
  /** Key in `CellRecord.metrics`, e.g. `nonoverlapping@64`. */
  readonly key: string;
  /** Short column title, e.g. `64 (= L)`. */
  readonly title: string;
  /** What the number is, e.g. `perplexity per token`, `% top-1`. */
  readonly unit: string;
  readonly higherIsBetter: boolean;
}

export interface Preset<C> {
  /** What it is for and how long it takes here, for `--help`. */
  readonly description: string;
  readonly config: C;
  /** Method rows it runs; `all` for every available one. */
  readonly methods: readonly string[];
  /** Seeds it runs (default [0]). */
  readonly seeds?: readonly number[];
}

/** The presets every task has, besides any of its own. */
export const REQUIRED_PRESETS = ['quick', 'default', 'paper'] as const;

/** One method's model and training procedure for one cell. */
export interface TrainingSession<B extends TrainBatch = TrainBatch> {
  /** Every trained parameter by its stable name (the checkpoint keys). */
  parameters(): Record<string, tf.Variable>;
  /** Core's `train` contract: a pure function of (step, micro), so a resumed cell sees the same data. */
  batchAt(step: number, micro: number): B;
  loss(batch: B, context: StepContext): tf.Scalar;
  /** What the procedure does differently, for the report. */
  readonly notes: readonly string[];
  dispose(): void;
}

/** What a row's factory gets: everything is a function of the run's config and the cell's seed. */
export interface SessionContext<C, D> {
  readonly config: C;
  readonly data: D;
  readonly seed: number;
}

export type SessionFactory<C, D, S> = (context: SessionContext<C, D>) => S;

/** A row of a task's tables: a position method, possibly with a training procedure of its own. */
export interface MethodRow<C, D, S> {
  /** Row name: `alibi`, `rope+chunk0.25`, `shortformer`. */
  readonly name: string;
  readonly description: string;
  /** Citation of the paper, or `—`. */
  readonly paper: string;
  /** npm package that implements it. */
  readonly package: string;
  /**
   * Imports what the row needs and checks it is there; throws `MethodUnavailableError` with the
   * reason when its package or an export is missing.
   */
  prepare(): Promise<SessionFactory<C, D, S>>;
  /** A reason the run's settings do not suit the row (checked before anything is written). */
  checkConfig?(config: C): string | undefined;
}

/** Optimizer settings of a cell: core's trainer runs them (AdamW, schedule, clipping). */
export interface TrainingPlan {
  steps: number;
  lr: number;
  weightDecay: number;
  schedule: ScheduleOptions;
  clipNorm?: number;
  /** What one step consumes, for the throughput figure: `tokens`, `images`. */
  unit: string;
  /** Units per optimizer step. */
  unitsPerStep: number;
}

/** What `evaluate` returns: the headline figures and whatever details the task's report needs. */
export interface Evaluation {
  metrics: Record<string, number>;
  details: Record<string, unknown>;
  /** Wall time of evaluation, summed over the processes that ran parts of it. */
  wallMs: number;
}

export interface EvaluateContext<C, D> {
  readonly config: C;
  readonly data: D;
  readonly seed: number;
  /** Keeps finished parts of an evaluation, so an interrupted cell does not redo them. */
  readonly store: CellStore;
  /** One line per finished part, shown as progress. */
  report(line: string): void;
}

/** Facts of the loaded data that the results and reports carry (corpus sizes, class counts). */
export type DataFacts = Record<string, unknown>;

export interface Harness<
  C extends object = object,
  D = unknown,
  S extends TrainingSession = TrainingSession,
> {
  /** `lm`, `image`, `lra`, `squad`: the CLI's `posenc bench <task>`. */
  readonly task: string;
  readonly title: string;
  /** One line for `posenc --help`. */
  readonly summary: string;
  /** Version of this task's results (`posenc-bench/<task>/<version>`); bumped when figures change meaning. */
  readonly version: number;
  readonly presets: Readonly<Record<string, Preset<C>>>;
  /** The task's own options (the engine adds --preset, --methods, --seeds, --out, …). */
  readonly options: readonly OptionSpec<C>[];
  /** Paragraphs for `posenc bench <task> --help`, after the option list. */
  readonly helpNotes?: readonly string[];

  /**
   * Checks the settings and makes them absolute (paths resolved against `baseDir`); throws
   * `UsageError` naming the option, the value and what is allowed. Writes nothing.
   */
  resolveConfig(config: C, baseDir: string): Promise<C>;
  /** Readable run-folder name: `lm-sotu-bytes-L64`; the engine appends the config hash. */
  runName(config: C): string;

  methods(): Promise<readonly MethodRow<C, D, S>[]>;
  /** Loads the data a cell needs; a pure function of the config, cached per process by the engine. */
  loadData(config: C): Promise<D>;
  /** Bytes the largest cell needs at its peak, to refuse settings that cannot fit in memory. */
  estimateMemory?(config: C, data: D): number;
  dataFacts(config: C, data: D): DataFacts;
  /** What the user should know about the data (a file that looks binary): printed and reported. */
  warnings?(config: C, data: D): string[];
  /**
   * Files written into the run folder before its cells, name → contents: a data set the task
   * generated, so other tools (an official scorer) can read what the run used.
   */
  runFiles?(config: C, data: D): Record<string, string>;

  training(config: C, data: D): TrainingPlan;
  evaluate(session: S, context: EvaluateContext<C, D>): Promise<Evaluation>;
  /** The metrics of a run's tables, in column order. */
  metrics(config: C): readonly MetricSpec[];
  /**
   * The task's sections of report.md and report.html, from the run's results; the shared
   * sections (training, methods, what did not run, the run) follow them.
   */
  report(results: BenchResults<C>): readonly ReportSection[];
  /** Lines of the shared "Run" section that describe the task's data, model and protocol. */
  runFacts(results: BenchResults<C>): string[];
  /** Reference lines of the training-loss chart (the loss of a model without context). */
  lossReferences?(results: BenchResults<C>): ReferenceLine[];
  /** One line after a cell: its headline figures. */
  summarize?(record: CellRecord): string;
}

/** Any harness, whatever its config, data and session types. */
export type AnyHarness = Harness<any, any, any>;
