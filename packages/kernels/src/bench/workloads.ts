/**
 * The benchmark workloads, built from core's own modules so the figures are those of real
 * posenc code. `bench/pytorch_bench.py` builds the same computations
 * in PyTorch (same shapes, same math: tanh-GELU, pre-LN, causal mask added after the 1/√D
 * scaling, sum of the output as the loss, AdamW with core's defaults).
 *
 * Every engine benchmarked here (wasm, cpu, kernels) runs its kernels synchronously, so a step
 * has computed every gradient when it returns. Gradients are not read back: PyTorch leaves them
 * in `.grad`, and copying megabytes out of the wasm heap would time the copy, not the math.
 */
import {
  AdamW,
  createEncoding,
  DecoderLM,
  MODEL_PARAMETER_SCOPES,
  randomWindows,
  sequencePositions,
  Trainer,
  attendSoftmax,
  tf,
  TransformerLayer,
  type AttentionContext,
  type Parameters,
  type PositionEncoding,
  type QKV,
} from '@posenc/core';

export interface WorkloadSizes {
  batch: number;
  heads: number;
  length: number;
  headDim: number;
  /** Workload 3: model width and FFN width. */
  modelDim: number;
  ffnDim: number;
  /** Workload 4: the LM. */
  lmBatch: number;
  lmDim: number;
  lmLayers: number;
  lmHeads: number;
  vocab: number;
  /** Workload 5: the model `posenc bench lm` trains at the paper-comparison size. */
  harness: { batch: number; length: number; modelDim: number; layers: number; heads: number };
}

/** The sizes named in the issue. */
export const ISSUE_SIZES: WorkloadSizes = {
  batch: 8,
  heads: 8,
  length: 256,
  headDim: 64,
  modelDim: 512,
  ffnDim: 2048,
  lmBatch: 16,
  lmDim: 256,
  lmLayers: 4,
  lmHeads: 4,
  vocab: 256,
  harness: { batch: 16, length: 128, modelDim: 128, layers: 4, heads: 4 },
};

export interface WorkloadRun {
  /** One timed repetition; returns (or resolves) when every result is computed. */
  step(): void | Promise<void>;
  dispose(): void;
}

export interface Workload {
  id: 'attention' | 'rotary_attention' | 'transformer_layer' | 'lm_train_step' | 'harness_lm_step';
  title: string;
  setup(sizes: WorkloadSizes, seed?: number): WorkloadRun | Promise<WorkloadRun>;
  /** Tokens one step trains on, for the language models (reported as tokens/s). */
  tokens?(sizes: WorkloadSizes): number;
}

function attentionContext(
  b: number,
  n: number,
  heads: number,
  headDim: number,
): { ctx: AttentionContext; dispose(): void } {
  const positions = sequencePositions(b, n);
  const ctx: AttentionContext = {
    queryPositions: positions,
    keyPositions: positions,
    heads,
    headDim,
    causal: true,
    layer: 0,
    kind: 'softmax',
    training: true,
  };
  return { ctx, dispose: () => positions.ids.dispose() };
}

// A specifier in a variable: @posenc/kernels does not depend on the plugin; the bench imports
// it where it is installed (the monorepo), to time the rotation users of `rope` get.
const ROFORMER = '@posenc/roformer';

/** The `rope` encoding (RoFormer's defaults: interleaved pairs, θ = 10000) from its plugin. */
async function ropeEncoding(s: WorkloadSizes): Promise<PositionEncoding> {
  try {
    await import(ROFORMER);
  } catch (e) {
    throw new Error(
      `workload rotary_attention needs ${ROFORMER}, which did not load: ${String(e).split('\n')[0]}`,
    );
  }
  const rope = createEncoding({ name: 'rope' });
  rope.build?.({
    layers: 1,
    heads: s.heads,
    headDim: s.headDim,
    modelDim: s.heads * s.headDim,
    maxPositions: s.length,
    seed: 1,
    scopes: MODEL_PARAMETER_SCOPES,
  });
  return rope;
}

/**
 * Causal attention forward and backward; with `rope`, through core's `attendSoftmax` as
 * MultiHeadAttention calls it: on this engine the rotation fused into the attention kernels
 * (`PosencRotaryAttention`), on the others the `rope` encoding's `queryKey` hook with
 * @posenc/roformer's own rotation kernel.
 */
function attentionWorkload(withRope: boolean): Workload['setup'] {
  return async (s, seed = 1) => {
    const shape: [number, number, number, number] = [s.batch, s.heads, s.length, s.headDim];
    const [q, k, v] = [0, 1, 2].map((i) =>
      tf.randomNormal(shape, 0, 1, 'float32', seed + i),
    ) as tf.Tensor4D[];
    const { ctx, dispose } = attentionContext(s.batch, s.length, s.heads, s.headDim);
    const encodings = withRope ? [await ropeEncoding(s)] : [];
    const loss = (qq: tf.Tensor, kk: tf.Tensor, vv: tf.Tensor): tf.Scalar => {
      const qkv: QKV = { q: qq as tf.Tensor4D, k: kk as tf.Tensor4D, v: vv as tf.Tensor4D };
      return tf.sum(attendSoftmax(qkv, { encodings, ctx }).output);
    };
    const grads = tf.grads(loss);
    return {
      step() {
        tf.tidy(() => {
          grads([q!, k!, v!]);
        });
      },
      dispose() {
        tf.dispose([q!, k!, v!]);
        for (const e of encodings) e.dispose?.();
        dispose();
      },
    };
  };
}

function disposeAll(params: Parameters): void {
  for (const v of Object.values(params)) v.dispose();
}

const transformerLayer: Workload['setup'] = (s, seed = 1) => {
  const layer = new TransformerLayer({
    layer: 0,
    modelDim: s.modelDim,
    heads: s.heads,
    ffnDim: s.ffnDim,
    norm: 'pre',
    attention: 'softmax',
    seed,
  });
  const params = layer.parameters();
  const x = tf.randomNormal(
    [s.batch, s.length, s.modelDim],
    0,
    1,
    'float32',
    seed + 7,
  ) as tf.Tensor3D;
  const positions = sequencePositions(s.batch, s.length);
  const vars = Object.values(params);
  return {
    step() {
      tf.tidy(() => {
        tf.variableGrads(
          () =>
            tf.sum(
              layer.apply(x, { positions, encodings: [], causal: true, training: true }).output,
            ),
          vars,
        );
      });
    },
    dispose() {
      disposeAll(params);
      tf.dispose([x, positions.ids]);
    },
  };
};

const lmTrainStep: Workload['setup'] = (s, seed = 1) => {
  const lm = new DecoderLM(
    {
      vocabSize: s.vocab,
      modelDim: s.lmDim,
      layers: s.lmLayers,
      heads: s.lmHeads,
      maxPositions: s.length,
      seed,
    },
    [],
  );
  const params = lm.parameters();
  const optimizer = new AdamW({ lr: 1e-3 });
  const tokens = tf.randomUniform(
    [s.lmBatch, s.length + 1],
    0,
    s.vocab,
    'int32',
    seed + 3,
  ) as tf.Tensor2D;
  const inputs = tokens.slice([0, 0], [s.lmBatch, s.length]) as tf.Tensor2D;
  const targets = tokens.slice([0, 1], [s.lmBatch, s.length]) as tf.Tensor2D;
  const vars = Object.values(params);
  const nameOf = new Map(Object.entries(params).map(([name, v]) => [v.name, name]));
  return {
    step() {
      tf.tidy(() => {
        const { value, grads } = tf.variableGrads(
          () => lm.loss(inputs, targets, { training: true }),
          vars,
        );
        const byName: Record<string, tf.Tensor> = {};
        for (const [varName, g] of Object.entries(grads)) byName[nameOf.get(varName)!] = g;
        optimizer.applyGradients(params, byName);
        // The loss is read, as a training loop reads it for its log.
        value.dataSync();
      });
    },
    dispose() {
      optimizer.dispose();
      lm.dispose();
      tf.dispose([tokens, inputs, targets]);
    },
  };
};

/** Bytes of synthetic text the harness workload draws its windows from. */
const HARNESS_TEXT_BYTES = 1 << 20;

/**
 * One optimizer step of `posenc bench lm` as the harness runs it: core's `Trainer` (AdamW with
 * weight decay 0.01, cosine schedule, gradient clipping to norm 1, the loss read back) on
 * random byte windows, the decoder with FFN 4·d, tied embeddings and no position encoding.
 */
const harnessLmStep: Workload['setup'] = async (s, seed = 1) => {
  const h = s.harness;
  const lm = new DecoderLM(
    {
      vocabSize: s.vocab,
      modelDim: h.modelDim,
      layers: h.layers,
      heads: h.heads,
      ffnDim: 4 * h.modelDim,
      maxPositions: h.length,
      seed,
    },
    [],
  );
  const text = new Uint8Array(HARNESS_TEXT_BYTES);
  for (let i = 0, x = seed; i < text.length; i++)
    text[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
  const trainer = await Trainer.create({
    parameters: lm.parameters(),
    steps: Number.MAX_SAFE_INTEGER,
    optimizer: { lr: 3e-3, weightDecay: 0.01 },
    schedule: { kind: 'cosine', warmupSteps: 30, minLrRatio: 0.1, totalSteps: 300 },
    clipNorm: 1,
    batchAt: (step) => randomWindows(text, h.batch, h.length, seed, step),
    loss: (b) => lm.loss(b.inputs, b.targets),
  });
  return {
    async step() {
      await trainer.runStep();
    },
    dispose() {
      trainer.dispose();
      lm.dispose();
    },
  };
};

export const WORKLOADS: readonly Workload[] = [
  {
    id: 'attention',
    title: '1. softmax attention fwd+bwd (B=8 H=8 N=256 D=64, causal)',
    setup: attentionWorkload(false),
  },
  {
    id: 'rotary_attention',
    title: '2. + RoPE on q and k (the rope encoding of @posenc/roformer)',
    setup: attentionWorkload(true),
  },
  {
    id: 'transformer_layer',
    title: '3. pre-LN layer fwd+bwd (d=512, 8 heads, FFN 2048, B=8, N=256)',
    setup: transformerLayer,
  },
  {
    id: 'lm_train_step',
    title: '4. LM train step, AdamW (4 layers, d=256, B=16, N=256)',
    setup: lmTrainStep,
    tokens: (s) => s.lmBatch * s.length,
  },
  {
    id: 'harness_lm_step',
    title: '5. posenc bench lm step (4 layers, d=128, 4 heads, B=16, L=128, bytes)',
    setup: harnessLmStep,
    tokens: (s) => s.harness.batch * s.harness.length,
  },
];
