/** The LRA harness's command-line options, and the checks of a config. */
import { parseDecimal, parseInteger } from '../../run/numbers.js';
import { choiceOption, integerOption, textOption, type OptionSpec } from '../../run/options.js';
import { UsageError } from '../../usage-error.js';
import { LRA_TASKS, type LraConfig, type LraTask, type TaskPlan } from './config.js';
import { perDatasetOption } from './per-dataset-option.js';

/** What a released-data folder option shows when no folder is given. */
const NONE = '(none)';

/** Sets a field of one dataset's plan. */
function withPlan(c: LraConfig, task: LraTask, field: keyof TaskPlan, value: number): LraConfig {
  return { ...c, plans: { ...c.plans, [task]: { ...c.plans[task], [field]: value } } };
}

export const LRA_OPTIONS: readonly OptionSpec<LraConfig>[] = [
  textOption({
    flag: 'tasks',
    value: 'a,b',
    help: `datasets to run: ${LRA_TASKS.join(', ')}`,
    get: (c) => c.tasks.join(','),
    set: (c, text) => {
      const tasks = text.split(',').map((t) => t.trim());
      for (const t of tasks)
        if (!LRA_TASKS.includes(t as LraTask))
          throw new UsageError(
            `--tasks: '${t}' is not a dataset; expected some of ${LRA_TASKS.join(', ')}`,
          );
      if (new Set(tasks).size !== tasks.length)
        throw new UsageError(`--tasks: ${text} lists a dataset twice`);
      return { ...c, tasks: tasks as LraTask[] };
    },
  }),
  textOption({
    flag: 'listops',
    value: 'generated|DIR',
    help: 'ListOps: our generator, or a folder with basic_{train,test}.tsv',
    get: (c) => c.listops,
    set: (c, v) => ({ ...c, listops: v }),
  }),
  textOption({
    flag: 'pathfinder',
    value: 'generated|DIR',
    help: 'Pathfinder: our generator, or a released curv_contour_length_14 folder',
    get: (c) => c.pathfinder,
    set: (c, v) => ({ ...c, pathfinder: v }),
  }),
  textOption({
    flag: 'text',
    value: 'DIR',
    help: 'Text: the aclImdb folder (train/, test/ with pos/, neg/)',
    get: (c) => c.text || NONE,
    set: (c, v) => ({ ...c, text: v === NONE ? '' : v }),
  }),
  textOption({
    flag: 'retrieval',
    value: 'DIR',
    help: 'Retrieval: the folder of new_aan_pairs.{train,test}.tsv',
    get: (c) => c.retrieval || NONE,
    set: (c, v) => ({ ...c, retrieval: v === NONE ? '' : v }),
  }),
  textOption({
    flag: 'image',
    value: 'DIR',
    help: 'Image: the cifar-10-batches-bin folder',
    get: (c) => c.image || NONE,
    set: (c, v) => ({ ...c, image: v === NONE ? '' : v }),
  }),
  perDatasetOption({
    flag: 'steps',
    help: 'training steps',
    tasks: LRA_TASKS,
    parse: (what, text) => parseInteger(what, text, { min: 1, max: 10_000_000 }),
    get: (c, t) => c.plans[t].steps,
    set: (c, t, v) => withPlan(c, t, 'steps', v),
  }),
  perDatasetOption({
    flag: 'batch',
    help: 'batch size',
    tasks: LRA_TASKS,
    parse: (what, text) => parseInteger(what, text, { min: 1, max: 4096 }),
    get: (c, t) => c.plans[t].batch,
    set: (c, t, v) => withPlan(c, t, 'batch', v),
  }),
  perDatasetOption({
    flag: 'lr',
    help: 'peak learning rate',
    tasks: LRA_TASKS,
    parse: (what, text) => parseDecimal(what, text, { greaterThan: 0, max: 1 }),
    get: (c, t) => c.plans[t].lr,
    set: (c, t, v) => withPlan(c, t, 'lr', v),
  }),
  integerOption({
    flag: 'eval-examples',
    help: 'test examples scored per dataset (0 = all)',
    min: 0,
    max: 10_000_000,
    get: (c) => c.evalExamples,
    set: (c, v) => ({ ...c, evalExamples: v }),
  }),
  perDatasetOption({
    flag: 'train-examples',
    help: 'generated training examples',
    tasks: ['listops', 'pathfinder'],
    parse: (what, text) => parseInteger(what, text, { min: 10, max: 10_000_000 }),
    get: (c, t) => (t === 'listops' ? c.listopsTrain : c.pathfinderTrain),
    set: (c, t, v) => (t === 'listops' ? { ...c, listopsTrain: v } : { ...c, pathfinderTrain: v }),
  }),
  choiceOption({
    flag: 'text-length',
    help: "Text's byte limit: LRA's config (1000) or the paper's title (4000)",
    values: ['1000', '4000'],
    get: (c) => String(c.textLength) as '1000' | '4000',
    set: (c, v) => ({ ...c, textLength: Number(v) }),
  }),
];

/** The folders a run's datasets need, resolved; a missing one names the flag. */
export function checkLraConfig(c: LraConfig): void {
  if (c.tasks.length === 0) throw new UsageError('--tasks is empty; name at least one dataset');
  const needs: [LraTask, keyof LraConfig][] = [
    ['text', 'text'],
    ['retrieval', 'retrieval'],
    ['image', 'image'],
  ];
  for (const [task, field] of needs)
    if (c.tasks.includes(task) && !c[field])
      throw new UsageError(
        `--${field}: the ${task} dataset is released data; give its folder with --${field} DIR (nothing is downloaded)`,
      );
  for (const t of c.tasks) {
    const p = c.plans[t];
    if (p.modelDim % p.heads !== 0)
      throw new UsageError(`${t}: modelDim ${p.modelDim} is not divisible by ${p.heads} heads`);
  }
}
