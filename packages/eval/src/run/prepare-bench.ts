/**
 * Everything that can be checked before a run writes a file: the engine, the settings, the run
 * folder (another run's, unwritable, impossible), the method rows and their availability, the
 * data, the memory the settings need. Every mistake is a UsageError, so the CLI exits with
 * code 2 and one line, and nothing is left behind.
 */
import { basename, resolve } from 'node:path';
import { initEngine, parseEngineName, type EngineChoice } from '@posenc/core';
import { checkWritableFolder } from '../io/folder.js';
import { UsageError } from '../usage-error.js';
import { METHOD_NAME } from './cell.js';
import { configHash, resultsFormat } from './config-hash.js';
import type { AnyHarness, MethodRow, SessionFactory, TrainingSession } from './harness.js';
import { checkMemory } from './memory.js';
import { resolveRows } from './methods.js';
import type { UnavailableMethod } from './results.js';
import { RunFolder, type RunRecord } from './run-folder.js';

export interface BenchOptions<C> {
  harness: AnyHarness;
  /** The preset's config with the flags applied; paths may be relative to `baseDir`. */
  config: C;
  /** Row names, or ['all'] for every available row. */
  methods: readonly string[];
  /**
   * True when the user named the methods: an unavailable one is then an error. Otherwise (a
   * preset's list) it is skipped and listed in the report with its reason.
   */
  methodsExplicit: boolean;
  seeds: readonly number[];
  /** Run folder; default `results/<run name>` under `baseDir`. */
  out?: string;
  /** Where relative paths start: the directory the command was run in. */
  baseDir: string;
  /** The command line, recorded in the results. */
  command: string;
  checkpointEvery?: number;
}

export interface PreparedRow<C, D> {
  row: MethodRow<C, D, TrainingSession>;
  factory: SessionFactory<C, D, TrainingSession>;
}

export interface PreparedBench<C = unknown, D = unknown> {
  harness: AnyHarness;
  config: C;
  format: string;
  configHash: string;
  runName: string;
  folder: RunFolder;
  existingRun?: RunRecord;
  command: string;
  rows: PreparedRow<C, D>[];
  unavailable: UnavailableMethod[];
  seeds: number[];
  data: D;
  checkpointEvery: number;
  engine: EngineChoice;
  /** The harness's warnings about the data. */
  warnings: string[];
  /** Lines for the user that preparing produced (the engine's choice). */
  notes: string[];
}

const SEED_MAX = 0xffffffff;

const dataCache = new Map<string, Promise<unknown>>();

/** The harness's data for a config, loaded once per process (every cell of a run shares it). */
export function loadDataOnce<C, D>(
  harness: AnyHarness,
  format: string,
  hash: string,
  config: C,
): Promise<D> {
  const key = `${format}:${hash}`;
  let data = dataCache.get(key);
  if (!data) {
    data = harness.loadData(config);
    dataCache.set(key, data);
    data.catch(() => dataCache.delete(key));
  }
  return data as Promise<D>;
}

/** A POSENC_BACKEND that names no engine, as a usage error (checked first: it costs nothing). */
export function checkEngineName(): void {
  const env = process.env['POSENC_BACKEND'];
  try {
    if (env) parseEngineName(env);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/**
 * The engine named by POSENC_BACKEND (or chosen), as a usage error when it cannot start. Its
 * one-line account (which engines were skipped and why) goes to `log`.
 */
export async function startEngine(log?: (line: string) => void): Promise<EngineChoice> {
  checkEngineName();
  try {
    return await initEngine(log ? { log } : {});
  } catch (e) {
    throw new UsageError((e as Error).message.split('\n')[0]!);
  }
}

function checkSeeds(seeds: readonly number[]): number[] {
  if (seeds.length === 0) throw new UsageError('--seeds is empty; give at least one seed');
  for (const s of seeds)
    if (!Number.isInteger(s) || s < 0 || s > SEED_MAX)
      throw new UsageError(
        `--seeds: entry ${s} is not allowed; expected an integer from 0 to ${SEED_MAX}`,
      );
  const duplicate = seeds.find((s, i) => seeds.indexOf(s) !== i);
  if (duplicate !== undefined) throw new UsageError(`--seeds: ${duplicate} is listed twice`);
  return [...seeds];
}

async function chooseRows<C, D>(
  harness: AnyHarness,
  names: readonly string[],
  explicit: boolean,
  config: C,
): Promise<{ rows: PreparedRow<C, D>[]; unavailable: UnavailableMethod[] }> {
  const known = (await harness.methods()) as MethodRow<C, D, TrainingSession>[];
  for (const row of known)
    if (!METHOD_NAME.test(row.name))
      throw new Error(`method row '${row.name}' of ${row.package} is not a valid folder name`);
  const wanted: MethodRow<C, D, TrainingSession>[] = [];
  for (const name of names) {
    if (name === 'all') {
      wanted.push(...known.filter((m) => !wanted.includes(m)));
      continue;
    }
    const row = known.find((m) => m.name === name);
    if (!row)
      throw new UsageError(
        `--methods: unknown method '${name}'; known: ${known.map((m) => m.name).join(', ')} (or all)`,
      );
    if (wanted.includes(row)) throw new UsageError(`--methods: '${name}' is listed twice`);
    wanted.push(row);
  }
  if (wanted.length === 0)
    throw new UsageError('--methods is empty; name at least one method (posenc list shows them)');
  const rows: PreparedRow<C, D>[] = [];
  const unavailable: UnavailableMethod[] = [];
  const strict = explicit && !names.includes('all');
  for (const resolved of await resolveRows(wanted)) {
    const { row } = resolved;
    if (!resolved.available) {
      if (strict) throw new UsageError(`--methods: ${row.name} is unavailable: ${resolved.reason}`);
      unavailable.push({ method: row.name, package: row.package, reason: resolved.reason });
      continue;
    }
    const problem = row.checkConfig?.(config);
    if (problem) {
      if (strict) throw new UsageError(problem);
      unavailable.push({ method: row.name, package: row.package, reason: problem });
      continue;
    }
    rows.push({ row, factory: resolved.factory });
  }
  if (rows.length === 0)
    throw new UsageError(
      `no method can run: ${unavailable.map((u) => `${u.method}: ${u.reason}`).join('; ')}`,
    );
  return { rows, unavailable };
}

export async function prepareBench<C extends object, D>(
  options: BenchOptions<C>,
): Promise<PreparedBench<C, D>> {
  const { harness } = options;
  checkEngineName();
  const seeds = checkSeeds(options.seeds);
  const config = (await harness.resolveConfig(options.config, options.baseDir)) as C;
  const format = resultsFormat(harness.task, harness.version);
  const hash = configHash(format, config);
  const defaultName = `${harness.runName(config)}-${hash}`;
  const dir = resolve(options.baseDir, options.out ?? `results/${defaultName}`);
  const folder = new RunFolder(
    dir,
    options.out !== undefined ? `--out ${options.out}` : `the run folder ${dir}`,
  );
  await checkWritableFolder(dir, folder.what);
  const existingRun = await folder.check(format, hash);
  const { rows, unavailable } = await chooseRows<C, D>(
    harness,
    options.methods,
    options.methodsExplicit,
    config,
  );
  const data = await loadDataOnce<C, D>(harness, format, hash, config);
  // Started after the cheap checks; its line is printed when the run starts, so a refusal below
  // is the only line a mistake prints.
  const notes: string[] = [];
  const engine = await startEngine((line) => notes.push(line));
  const estimate = harness.estimateMemory?.(config, data);
  if (estimate !== undefined) checkMemory(estimate, engine.engine, 'these settings');
  const steps = harness.training(config, data).steps;
  return {
    harness,
    config,
    format,
    configHash: hash,
    runName: options.out !== undefined ? basename(dir) : defaultName,
    folder,
    ...(existingRun && { existingRun }),
    command: options.command,
    rows,
    unavailable,
    seeds,
    data,
    checkpointEvery: options.checkpointEvery ?? Math.max(1, Math.ceil(steps / 10)),
    engine,
    warnings: harness.warnings?.(config, data) ?? [],
    notes,
  };
}
