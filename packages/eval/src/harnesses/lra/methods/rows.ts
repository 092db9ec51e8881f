/**
 * The method rows: every dataset of the run × every method below, named `<dataset>.<method>`.
 * A method is an attention kind, a feature map and a list of encodings from core's registry (core:
 * sinusoidal, learned; roformer: rope; spe-linear: spe, fft-rpe); a row whose encoding is not
 * registered (its plugin is missing) is unavailable with the reason.
 */
import {
  createEncoding,
  getEncodingDefinition,
  type EncodingConfig,
  type FeatureMap,
} from '@posenc/core';
import { MethodUnavailableError } from '../../../run/methods.js';
import { loadPlugins } from '../../../run/plugins.js';
import type { MethodRow } from '../../../run/harness.js';
import { LRA_TASKS, type LraConfig, type LraTask, type TaskPlan } from '../config.js';
import type { LraData } from '../data.js';
import { lraSession, type LraSession } from './session.js';

export interface LraMethod {
  readonly name: string;
  readonly description: string;
  readonly paper: string;
  readonly package: string;
  readonly attention: 'softmax' | 'linear';
  readonly featureMap: FeatureMap | 'favor+';
  /** The encodings' configs for a dataset's plan (SPE's R and taps follow the LRA settings). */
  encodings(plan: TaskPlan): EncodingConfig[];
}

const LINEAR = 'relu+eps' as const;

export const LRA_METHODS: readonly LraMethod[] = [
  {
    name: 'softmax',
    description: 'softmax attention, no position information',
    paper: 'Vaswani et al. 2017',
    package: '@posenc/core',
    attention: 'softmax',
    featureMap: LINEAR,
    encodings: () => [],
  },
  {
    name: 'softmax+sinusoidal',
    description: 'softmax attention, sinusoids added to the embeddings',
    paper: 'Vaswani et al. 2017',
    package: '@posenc/core',
    attention: 'softmax',
    featureMap: LINEAR,
    // LRA's AddPositionEmbs adds unit sinusoids (interleaved sin/cos) to N(0, 1) embeddings;
    // core's default scale of 0.02 is for embeddings at 0.02.
    encodings: () => [{ name: 'sinusoidal', scale: 1 }],
  },
  {
    name: 'softmax+learned',
    description: 'softmax attention, a learned position table (LRA Transformer)',
    paper: 'Tay et al. 2021',
    package: '@posenc/core',
    attention: 'softmax',
    featureMap: LINEAR,
    encodings: () => [{ name: 'learned' }],
  },
  {
    name: 'softmax+rope',
    description: 'softmax attention with RoPE',
    paper: 'Su et al. 2021',
    package: '@posenc/roformer',
    attention: 'softmax',
    featureMap: LINEAR,
    encodings: () => [{ name: 'rope' }],
  },
  {
    name: 'linear',
    description: 'linear attention, φ = ReLU + 10⁻³ (LRA Linear Transformer row), no positions',
    paper: 'Katharopoulos et al. 2020',
    package: '@posenc/core',
    attention: 'linear',
    featureMap: LINEAR,
    encodings: () => [],
  },
  {
    name: 'linear+learned',
    description: 'linear attention with a learned position table',
    paper: 'Tay et al. 2021',
    package: '@posenc/core',
    attention: 'linear',
    featureMap: LINEAR,
    encodings: () => [{ name: 'learned' }],
  },
  {
    name: 'linear+rope',
    description: 'linear attention with RoPE on the numerator (RoFormer Eq. 19)',
    paper: 'Su et al. 2021',
    package: '@posenc/roformer',
    attention: 'linear',
    featureMap: LINEAR,
    encodings: () => [{ name: 'rope' }],
  },
  {
    name: 'linear+spe-sine',
    description: 'linear attention with gated sineSPE (K = 10)',
    paper: 'Liutkus et al. 2021',
    package: '@posenc/spe-linear',
    attention: 'linear',
    featureMap: LINEAR,
    encodings: (p) => [{ name: 'spe', kind: 'sine', realizations: p.speRealizations }],
  },
  {
    name: 'linear+spe-sine-ungated',
    description: 'linear attention with sineSPE, no gate',
    paper: 'Liutkus et al. 2021',
    package: '@posenc/spe-linear',
    attention: 'linear',
    featureMap: LINEAR,
    encodings: (p) => [
      { name: 'spe', kind: 'sine', gated: false, realizations: p.speRealizations },
    ],
  },
  {
    name: 'linear+spe-conv',
    description: 'linear attention with gated convSPE, shared by the layers',
    paper: 'Liutkus et al. 2021',
    package: '@posenc/spe-linear',
    attention: 'linear',
    featureMap: LINEAR,
    encodings: (p) => [
      { name: 'spe', kind: 'conv', realizations: p.speRealizations, kernelSize: p.speKernel },
    ],
  },
  {
    name: 'linear+fft-rpe',
    description: 'linear attention with a relative bias c = exp(b) applied by FFT (±128, clipped)',
    paper: 'Luo et al. 2021',
    package: '@posenc/spe-linear',
    attention: 'linear',
    featureMap: LINEAR,
    encodings: () => [{ name: 'fft-rpe' }],
  },
  {
    name: 'performer',
    description: 'Performer: FAVOR+ random features, no positions',
    paper: 'Choromanski et al. 2021',
    package: '@posenc/core',
    attention: 'linear',
    featureMap: 'favor+',
    encodings: () => [],
  },
  {
    name: 'performer+spe-sine',
    description: 'Performer with gated sineSPE',
    paper: 'Liutkus et al. 2021',
    package: '@posenc/spe-linear',
    attention: 'linear',
    featureMap: 'favor+',
    encodings: (p) => [{ name: 'spe', kind: 'sine', realizations: p.speRealizations }],
  },
];

export type LraRow = MethodRow<LraConfig, LraData, LraSession>;

function row(task: LraTask, method: LraMethod): LraRow {
  const name = `${task}.${method.name}`;
  return {
    name,
    description: `${method.description} (${task})`,
    paper: method.paper,
    package: method.package,
    // A run trains the rows of the datasets it loads; a preset's other rows are listed as not run.
    checkConfig: (config) =>
      config.tasks.includes(task)
        ? undefined
        : `${name}: the ${task} dataset is not in --tasks (${config.tasks.join(', ')})`,
    prepare: async () => {
      await loadPlugins();
      for (const config of method.encodings({ speRealizations: 2, speKernel: 2 } as TaskPlan))
        try {
          getEncodingDefinition(config.name);
          createEncoding(config).dispose?.();
        } catch (e) {
          throw new MethodUnavailableError(
            name,
            `${method.package}: ${(e as Error).message.split('\n')[0]}`,
          );
        }
      return (context) => lraSession(context, task, method);
    },
  };
}

/** Every dataset's rows. */
export async function lraRows(): Promise<LraRow[]> {
  return LRA_TASKS.flatMap((task) => LRA_METHODS.map((m) => row(task, m)));
}
