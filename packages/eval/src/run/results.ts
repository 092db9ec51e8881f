/**
 * The shape of `results.json` (the envelope every task shares) and of each cell's record. A
 * cell's `metrics` are the figures the tables aggregate over seeds; `details` is what the task's
 * own report sections need (an LM's evaluations per mode and length).
 */
import type { DataFacts } from './harness.js';

export interface TrainingRecord {
  steps: number;
  /** Mean loss of every step (nats per unit of the task's loss). */
  lossHistory: number[];
  /** Mean loss of the last 10% of the steps. */
  finalLoss: number;
  /** Wall time of training summed over the processes that ran it. */
  wallMs: number;
  /** Steps a resumed process continued from (empty when it ran in one go). */
  resumedFrom: number[];
  parameters: number;
  /** What a step consumes: `tokens`, `images`. */
  unit: string;
  /** Units trained on in all. */
  units: number;
  unitsPerSecond: number;
}

export interface CellRecord {
  task: string;
  method: string;
  seed: number;
  description: string;
  paper: string;
  package: string;
  /** What the method's procedure does differently. */
  notes: string[];
  training: TrainingRecord;
  /** Headline figures by metric key (`MetricSpec.key`). */
  metrics: Record<string, number>;
  details: Record<string, unknown>;
  evalWallMs: number;
  finishedAt: string;
}

export interface FailedCell {
  method: string;
  seed: number;
  error: string;
}

export interface UnavailableMethod {
  method: string;
  package: string;
  reason: string;
}

export interface BenchResults<C = unknown> {
  /** `posenc-bench/<task>/<version>` */
  format: string;
  task: string;
  run: string;
  command: string;
  config: C;
  configHash: string;
  methods: string[];
  seeds: number[];
  /** One record per finished (method, seed), in table order. */
  cells: CellRecord[];
  failed: FailedCell[];
  unavailable: UnavailableMethod[];
  /** What the harness warned about the data. */
  warnings: string[];
  /** The task's facts of its data (corpus, tokenizer, evaluation split …). */
  data: DataFacts;
  engine: { engine: string; backend: string };
  versions: Record<string, string>;
  machine: { platform: string; arch: string; cpus: number; cpuModel: string; node: string };
  /** This process: wall time and peak resident memory. */
  process: { wallMs: number; peakRssMB: number };
  writtenAt: string;
}
