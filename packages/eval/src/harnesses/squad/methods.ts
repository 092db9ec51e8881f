/**
 * The rows of the SQuAD task: the text position methods that apply to a bidirectional encoder,
 * each a configuration of an encoding registered with core's registry (roformer's `rope` once
 * the plugins are loaded), all on the same encoder and procedure. A row whose package is missing
 * is listed as unavailable with the reason. With `--init` of an HF RoFormer checkpoint, the
 * `rope` row runs roformer's RoFormer model loaded from it and the other rows do not apply.
 */
import { createEncoding, listEncodings, type EncodingConfig } from '@posenc/core';
import type { RoFormer as RoFormerClass, RoFormerOptions } from '@posenc/roformer';
import { MethodUnavailableError } from '../../run/methods.js';
import type { MethodRow } from '../../run/harness.js';
import { loadPlugins } from '../../run/plugins.js';
import type { SquadConfig } from './config.js';
import type { SquadData } from './data.js';
import { initKind } from './model/init-checkpoint.js';
import { createEncoderModel, spanSession, type SquadSession } from './model/session.js';

export type SquadRow = MethodRow<SquadConfig, SquadData, SquadSession>;

interface RowSpec {
  name: string;
  description: string;
  config: EncodingConfig;
}

const ROWS: RowSpec[] = [
  {
    name: 'none',
    description: 'no position information (a bag of tokens)',
    config: { name: 'none' },
  },
  {
    name: 'learned',
    description: 'learned absolute position embeddings (BERT)',
    config: { name: 'learned' },
  },
  {
    name: 'sinusoidal',
    description: 'fixed sinusoidal absolute embeddings (Vaswani et al.)',
    config: { name: 'sinusoidal' },
  },
  {
    name: 'shaw',
    description: 'Shaw et al. relative representations on the keys, clip 16',
    config: { name: 'shaw', keys: true, values: false },
  },
  {
    name: 'shaw+values',
    description: 'Shaw et al. relative representations on keys and values, clip 16',
    config: { name: 'shaw', keys: true, values: true },
  },
  {
    name: 'relative_key_query',
    description: 'Huang et al. 2020 Method 4: key-query relative embeddings',
    config: { name: 'relative_key_query' },
  },
  { name: 't5', description: 'T5 relative bias buckets, bidirectional', config: { name: 't5' } },
  {
    name: 'alibi',
    description: 'ALiBi, symmetric −slope·|j − i| for encoders',
    config: { name: 'alibi', variant: 'symmetric' },
  },
  { name: 'rope', description: 'rotary position embedding (RoFormer)', config: { name: 'rope' } },
];

type RoFormerModule = {
  RoFormer: typeof RoFormerClass;
  fromHFConfig(hf: Record<string, unknown>, mlmHead?: boolean): RoFormerOptions;
  assignHFRoFormerWeights: typeof import('@posenc/roformer').assignHFRoFormerWeights;
};

function row(spec: RowSpec, roformer: RoFormerModule | undefined): SquadRow {
  const definition = listEncodings().find((d) => d.name === spec.config.name);
  return {
    name: spec.name,
    description: spec.description,
    paper: definition?.paper ?? '—',
    // A plugin that did not load registered nothing; its row is then unavailable (prepare says why).
    package: definition?.package ?? '@posenc/roformer',
    checkConfig(config) {
      if (config.init && initKind(config.init) === 'roformer' && spec.name !== 'rope')
        return `--init ${config.init} is a RoFormer checkpoint (RoPE); only the rope row starts from it`;
      return undefined;
    },
    prepare: async () => {
      try {
        createEncoding(spec.config).dispose?.();
      } catch (e) {
        throw new MethodUnavailableError(
          spec.name,
          `${JSON.stringify(spec.config)}: ${(e as Error).message}`,
        );
      }
      return (context) => {
        const init = context.data.init;
        if (init?.kind !== 'roformer')
          return spanSession(
            context,
            createEncoderModel(context, [createEncoding(spec.config)]),
            context.config.model.modelDim,
          );
        if (!roformer)
          throw new MethodUnavailableError(spec.name, '@posenc/roformer is not installed');
        const model = new roformer.RoFormer({
          ...roformer.fromHFConfig(init.hfConfig!, false),
          seed: context.seed,
        });
        const vocab = model.config.vocabSize;
        if (vocab < context.data.tokenizer.vocabSize) {
          model.dispose();
          throw new Error(
            `--init ${init.dir}: the checkpoint's vocabulary has ${vocab} ids, the tokenizer ${context.data.tokenizer.spec} ${context.data.tokenizer.vocabSize}`,
          );
        }
        const report = roformer.assignHFRoFormerWeights(model, init.tensors, {
          ignoreUnexpected: true,
        });
        return spanSession(context, model, model.config.hiddenSize, [
          `RoFormer loaded from ${init.file} through @posenc/roformer (${report.loaded.length} HF tensors; skipped ${report.skipped.length}), span head new`,
        ]);
      };
    },
  };
}

export async function squadRows(): Promise<SquadRow[]> {
  const plugins = await loadPlugins();
  const roformer = plugins.find((p) => p.package === '@posenc/roformer')?.module as
    RoFormerModule | undefined;
  return ROWS.map((spec) => row(spec, roformer));
}
