/**
 * The data of a run: for each dataset asked for, its splits as token ids, its vocabulary, classes
 * and length. Generated sets are a pure function of the config (`dataSeed`); released ones are
 * read from the folders given.
 */
import type { LraConfig, LraTask } from './config.js';
import { majorityAccuracy, type LraExample, type LraSplits } from './tasks/examples.js';
import { encodeListOps, generateListOps, LISTOPS_VOCABULARY } from './tasks/listops.js';
import { generatePathfinder } from './tasks/pathfinder.js';
import {
  loadAanFolder,
  loadCifarFolder,
  loadImdbFolder,
  loadListOpsFolder,
  loadPathfinderFolder,
} from './tasks/released.js';

export interface LraTaskData extends LraSplits {
  readonly vocabSize: number;
  readonly classes: number;
  /** Longest sequence (per tower) the model sees. */
  readonly maxLength: number;
  readonly dual: boolean;
  /** The majority class's share of the test split scored. */
  readonly majority: number;
}

export type LraData = Partial<Record<LraTask, LraTaskData>>;

export const GENERATED = 'generated';

/** The test examples a cell scores (the first `evalExamples`, or all). */
export function scoredTest(config: LraConfig, data: LraTaskData): readonly LraExample[] {
  return config.evalExamples > 0 ? data.test.slice(0, config.evalExamples) : data.test;
}

function longest(splits: LraSplits): number {
  let n = 0;
  for (const e of [...splits.train, ...splits.test])
    n = Math.max(n, e.tokens.length, e.second?.length ?? 0);
  return n;
}

async function loadSplits(
  config: LraConfig,
  task: LraTask,
): Promise<LraSplits & { vocabSize: number; classes: number; dual: boolean }> {
  switch (task) {
    case 'listops': {
      const vocab = { vocabSize: LISTOPS_VOCABULARY.length + 1, classes: 10, dual: false };
      if (config.listops !== GENERATED)
        return {
          ...(await loadListOpsFolder(config.listops, config.listopsGrammar.maxLength)),
          ...vocab,
        };
      const encode = (count: number, stream: number) =>
        generateListOps(count, config.listopsGrammar, config.dataSeed, stream).map((e, i) => ({
          tokens: encodeListOps(e.source, `generated ListOps ${i}`),
          label: e.label,
        }));
      const g = config.listopsGrammar;
      return {
        train: encode(config.listopsTrain, 0),
        test: encode(config.listopsTest, 1),
        source: `generated ListOps (depth ≤ ${g.maxDepth}, 2–${g.maxArgs} arguments, ${g.minLength} < length < ${g.maxLength}, seed ${config.dataSeed})`,
        ...vocab,
      };
    }
    case 'pathfinder': {
      const vocab = { vocabSize: 257, classes: 2, dual: false };
      if (config.pathfinder !== GENERATED)
        return { ...(await loadPathfinderFolder(config.pathfinder)), ...vocab };
      const s = config.pathfinderSettings;
      const make = (count: number, stream: number) =>
        generatePathfinder(count, s, config.dataSeed, stream).map((e) => ({
          tokens: Int32Array.from(e.pixels, (p) => p + 1),
          label: e.label,
        }));
      return {
        train: make(config.pathfinderTrain, 0),
        test: make(config.pathfinderTest, 1),
        source: `generated Pathfinder (${s.side}×${s.side}, curves of ${s.curveLength} steps, ${s.distractors} distractor${s.distractors === 1 ? '' : 's'}, dots at ${s.dotInk}, seed ${config.dataSeed})`,
        ...vocab,
      };
    }
    case 'text':
      return {
        ...(await loadImdbFolder(config.text, config.textLength)),
        vocabSize: 257,
        classes: 2,
        dual: false,
      };
    case 'retrieval':
      return {
        ...(await loadAanFolder(config.retrieval, config.retrievalLength)),
        vocabSize: 257,
        classes: 2,
        dual: true,
      };
    case 'image':
      return { ...(await loadCifarFolder(config.image)), vocabSize: 257, classes: 10, dual: false };
  }
}

export async function loadLraData(config: LraConfig): Promise<LraData> {
  const data: LraData = {};
  for (const task of config.tasks) {
    const splits = await loadSplits(config, task);
    const partial = { ...splits, maxLength: longest(splits), majority: 0 };
    data[task] = { ...partial, majority: majorityAccuracy(scoredTest(config, partial)) };
  }
  return data;
}
