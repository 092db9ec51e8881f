/**
 * Attention with iRPE against the official `RPEAttention` (microsoft/Cream): every attention case
 * of `golden/irpe`, built from its own settings, its tables loaded by their official names under
 * the layer's scope; probabilities and outputs within 1e-4.
 */
import {
  gridPositions,
  MODEL_PARAMETER_SCOPES,
  scopedName,
  softmaxAttention,
  tf,
} from '@posenc/core';
import {
  attentionContext,
  disposeAttentionContext,
  expectClose,
  goldenCaseFiles,
  goldenEntry,
  goldenTensor,
  goldenValues,
  onCpuWithoutLeaks,
  readGoldenCase,
} from '@posenc/core/testing';
import { describe, expect, it } from 'vitest';
import { IrpeEncoding } from './irpe-encoding.js';
import { checkIrpeConfig, irpeSchema, type IrpeConfig } from './irpe-config.js';
import { parseConfig } from '@posenc/core';

onCpuWithoutLeaks();

const FOLDER = 'irpe';

interface AttentionCaseConfig {
  method: IrpeConfig['method'];
  mode: IrpeConfig['mode'];
  rpe_on: IrpeConfig['on'];
  shared_head: boolean;
  skip: number;
  height: number;
  width: number;
  heads: number;
  head_dim: number;
  ratio: number;
}

const TOLERANCE = { atol: 1e-4 };

describe('attention with iRPE equals the official RPEAttention', () => {
  const cases = goldenCaseFiles(FOLDER).filter((f) => f.startsWith('attention_'));
  it('has cases', () => expect(cases.length).toBeGreaterThan(0));
  for (const file of cases)
    it(file, async () => {
      const golden = await readGoldenCase(FOLDER, file);
      const c = golden.config as unknown as AttentionCaseConfig;
      const config = checkIrpeConfig(
        parseConfig('irpe', irpeSchema, {
          method: c.method,
          mode: c.mode,
          on: c.rpe_on,
          sharedHead: c.shared_head,
          ratio: c.ratio,
        }),
      );
      const encoding = new IrpeEncoding(config);
      encoding.build({
        layers: 1,
        heads: c.heads,
        headDim: c.head_dim,
        modelDim: c.heads * c.head_dim,
        maxPositions: c.skip + c.height * c.width,
        grid: { height: c.height, width: c.width, skip: c.skip },
        seed: 0,
        scopes: MODEL_PARAMETER_SCOPES,
      });
      const parameters = encoding.parameters();
      const tableNames = [...golden.entries.keys()].filter((n) => n.startsWith('rpe_'));
      expect(Object.keys(parameters).sort()).toEqual(
        tableNames.map((n) => scopedName(MODEL_PARAMETER_SCOPES.attention(0), n)).sort(),
      );
      for (const name of tableNames) {
        const variable = parameters[scopedName(MODEL_PARAMETER_SCOPES.attention(0), name)]!;
        const value = goldenTensor(goldenEntry(golden, name));
        expect(variable.shape).toEqual(value.shape);
        variable.assign(value);
        value.dispose();
      }
      const [q, k, v] = ['q', 'k', 'v'].map((n) =>
        goldenTensor(goldenEntry(golden, n)),
      ) as tf.Tensor4D[];
      const ctx = attentionContext({
        queries: gridPositions(q!.shape[0], c.height, c.width, c.skip),
        heads: c.heads,
        headDim: c.head_dim,
      });
      const { output, probs } = softmaxAttention(q!, k!, v!, {
        encodings: [encoding],
        ctx,
        returnProbs: true,
      });
      expectClose(
        probs!,
        goldenValues(goldenEntry(golden, 'expected_attn')),
        TOLERANCE,
        'attention',
      );
      expectClose(output, goldenValues(goldenEntry(golden, 'expected_out')), TOLERANCE, 'output');
      tf.dispose([q!, k!, v!, output, probs!]);
      disposeAttentionContext(ctx);
      encoding.dispose();
    });
});
