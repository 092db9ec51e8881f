/**
 * The LRA harness's settings. A run trains every method row on each dataset asked for; rows are
 * named `<dataset>.<method>` (`listops.linear+spe-sine`), and each dataset has its own model and
 * optimizer plan — the LRA configurations (`--model lra`) or a small one for this machine.
 */
import type { ListOpsGrammar } from './tasks/listops.js';
import type { PathfinderSettings } from './tasks/pathfinder.js';

export const LRA_TASKS = ['listops', 'text', 'retrieval', 'image', 'pathfinder'] as const;
export type LraTask = (typeof LRA_TASKS)[number];

export const TASK_TITLES: Record<LraTask, string> = {
  listops: 'ListOps',
  text: 'Text',
  retrieval: 'Retrieval',
  image: 'Image',
  pathfinder: 'Pathfinder',
};

/** A dataset's model and optimizer plan. */
export interface TaskPlan {
  readonly modelDim: number;
  readonly heads: number;
  readonly layers: number;
  readonly ffnDim: number;
  /** Hidden width of the classifier MLP. */
  readonly mlpDim: number;
  readonly pooling: 'cls' | 'mean';
  readonly dropout: number;
  readonly steps: number;
  readonly batch: number;
  readonly lr: number;
  readonly warmupSteps: number;
  readonly weightDecay: number;
  /** SPE realisations R (LRA: 64, CIFAR-10: 32) and convSPE taps. */
  readonly speRealizations: number;
  readonly speKernel: number;
  /** FAVOR+ random features (LRA's default 256). */
  readonly randomFeatures: number;
}

export interface LraConfig {
  readonly tasks: readonly LraTask[];
  /** `generated` or a folder of the released TSVs. */
  readonly listops: string;
  /** `generated` or a released curv_contour_length_14 folder. */
  readonly pathfinder: string;
  /** Folders of the released data (required when the task is run). */
  readonly text: string;
  readonly retrieval: string;
  readonly image: string;
  readonly listopsGrammar: ListOpsGrammar;
  readonly listopsTrain: number;
  readonly listopsTest: number;
  readonly pathfinderSettings: PathfinderSettings;
  readonly pathfinderTrain: number;
  readonly pathfinderTest: number;
  /** Byte-level Text is cut at this many bytes: LRA's config says 1000 (the paper's title says 4K). */
  readonly textLength: number;
  /** Per document of a Retrieval pair (LRA: 4000). */
  readonly retrievalLength: number;
  readonly plans: Readonly<Record<LraTask, TaskPlan>>;
  /** Test examples scored per dataset (0 = all). */
  readonly evalExamples: number;
  /** Seed of the generated datasets (the same for every method and seed). */
  readonly dataSeed: number;
}

/** `listops.linear+spe-sine` → its dataset and method. */
export function splitRowName(row: string): { task: LraTask; method: string } {
  const dot = row.indexOf('.');
  const task = row.slice(0, dot) as LraTask;
  if (dot < 0 || !LRA_TASKS.includes(task))
    throw new Error(`LRA row '${row}' does not start with a dataset (${LRA_TASKS.join(', ')})`);
  return { task, method: row.slice(dot + 1) };
}
