/**
 * Vision Transformer (Dosovitskiy et al. 2021; the DeiT recipe of Touvron et al. 2021): images
 * cut into non-overlapping patches, each flattened and projected linearly, an optional class
 * token in front, pre-LN layers, a final norm and a linear classifier. Patches carry 2D grid
 * positions, so a 2D method (iRPE, axial RoPE) sees rows and columns.
 */
import { tf } from '../engine/tf.js';
import type { PositionEncoding } from '../encoding/position-encoding.js';
import { gridPositions } from '../positions/positions.js';
import { ConfigError } from '../config/schema.js';
import { normalParameter, seedFor } from '../nn/init.js';
import {
  collectParameters,
  disposeParameters,
  LayerNorm,
  Linear,
  type Parameters,
} from '../nn/layers.js';
import type { TransformerLayer } from './transformer-layer.js';
import { TransformerBody } from './transformer-body.js';
import { withPositions } from './call-inputs.js';
import {
  parseTransformerConfig,
  TRANSFORMER_FIELDS,
  type TransformerConfig,
} from './transformer-config.js';
import { classCrossEntropy } from './encoder.js';

const VIT_SCHEMA = {
  ...TRANSFORMER_FIELDS,
  imageSize: {
    type: 'number',
    integer: true,
    min: 1,
    default: 224,
    doc: 'side of the square training images; sets maxPositions for the encodings',
  },
  patchSize: { type: 'number', integer: true, min: 1, default: 16 },
  channels: { type: 'number', integer: true, min: 1, default: 3 },
  classes: { type: 'number', integer: true, min: 2 },
  pooling: {
    type: 'enum',
    values: ['class', 'mean'],
    default: 'class',
    doc: "'class' = a class token in front, read out by the head; 'mean' = no class token, mean over patches",
  },
  init: {
    type: 'enum',
    values: ['timm', 'xavier'],
    default: 'timm',
    doc: "weights of the linear maps (patch projection, attention, FFN, head): 'timm' = truncated normal, std 0.02 (timm's ViT that DeiT trains); 'xavier' = Glorot uniform, as the Dense layers of the official JAX ViT, which small models trained for few steps need (0.02 makes q·k and the FFN's updates vanish at d = 64)",
  },
  distillationToken: {
    type: 'boolean',
    default: false,
    doc: "DeiT's second token after the class token, read out by a head of its own; logits are the mean of both heads (DeiT's inference). Needs pooling 'class'",
  },
} as const;

export interface ViTConfig extends TransformerConfig {
  imageSize?: number;
  patchSize?: number;
  channels?: number;
  classes: number;
  pooling?: 'class' | 'mean';
  init?: 'timm' | 'xavier';
  distillationToken?: boolean;
}

export interface ViTCall {
  training?: boolean;
  dropoutSeed?: number;
  /** Attention probabilities per layer (softmax attention only). */
  returnProbs?: boolean;
}

export interface ViTForward {
  /** `[B,K]` */
  logits: tf.Tensor2D;
  /** `[B,N,C]` after the final norm; with a class token it is token 0, patches follow row-major. */
  hidden: tf.Tensor3D;
  /** Per layer `[B,H,N,N]`, on request. */
  probs?: tf.Tensor4D[];
}

/**
 * Images `[B,H,W,C]` → patches `[B, (H/p)·(W/p), p·p·C]`, row-major over the grid; each patch is
 * flattened as (row in patch, column in patch, channel). A linear map of these rows equals the
 * paper's stride-p convolution with an HWIO kernel `[p,p,C,D]` reshaped to `[p·p·C, D]` (the
 * layout of the official JAX code); PyTorch's OIHW kernels must be permuted to match.
 */
export function patchify(images: tf.Tensor4D, patchSize: number): tf.Tensor3D {
  const [b, h, w, c] = images.shape;
  if (h % patchSize !== 0 || w % patchSize !== 0)
    throw new Error(`patchify: image size ${h}×${w} is not a multiple of patchSize = ${patchSize}`);
  const rows = h / patchSize;
  const cols = w / patchSize;
  return tf.tidy(() =>
    images
      .reshape([b, rows, patchSize, cols, patchSize, c])
      .transpose([0, 1, 3, 2, 4, 5])
      .reshape([b, rows * cols, patchSize * patchSize * c]),
  ) as tf.Tensor3D;
}

export class ViT {
  readonly config: Required<ViTConfig>;
  readonly layers: TransformerLayer[];
  private readonly body: TransformerBody;
  private readonly patchEmbedding: Linear;
  private readonly classToken?: tf.Variable;
  private readonly distillationToken?: tf.Variable;
  private readonly finalNorm: LayerNorm;
  private readonly head: Linear;
  private readonly distillationHead?: Linear;

  constructor(
    config: ViTConfig,
    readonly encodings: readonly PositionEncoding[],
  ) {
    this.config = parseTransformerConfig('ViT', VIT_SCHEMA, config) as Required<ViTConfig>;
    const { imageSize, patchSize, channels, classes, modelDim, seed } = this.config;
    if (imageSize % patchSize !== 0)
      throw new ConfigError(
        'ViT',
        'imageSize',
        imageSize,
        `must be a multiple of patchSize = ${patchSize}`,
      );
    if (this.config.distillationToken && this.config.pooling !== 'class')
      throw new ConfigError(
        'ViT',
        'distillationToken',
        true,
        "needs pooling 'class' (the distillation token sits beside the class token)",
      );
    const side = imageSize / patchSize;
    this.body = new TransformerBody(
      {
        owner: 'ViT',
        ...this.config,
        norm: 'pre',
        maxPositions: side * side + this.skipTokens,
        grid: { height: side, width: side, skip: this.skipTokens },
      },
      encodings,
    );
    this.patchEmbedding = new Linear(
      'patch_embed.proj',
      patchSize * patchSize * channels,
      modelDim,
      { seed },
    );
    // Truncated normal, std 0.02, as timm's ViT that DeiT trains (`trunc_normal_(cls_token, std=.02)`);
    // the official JAX code starts it at zero.
    if (this.config.pooling === 'class')
      this.classToken = normalParameter([1, 1, modelDim], 0.02, seed, 'cls_token');
    if (this.config.distillationToken)
      this.distillationToken = normalParameter([1, 1, modelDim], 0.02, seed, 'dist_token');
    this.layers = this.body.buildLayers();
    this.finalNorm = new LayerNorm('final_norm', modelDim);
    this.head = new Linear('head', modelDim, classes, { seed });
    if (this.distillationToken)
      this.distillationHead = new Linear('head_dist', modelDim, classes, { seed });
    if (this.config.init === 'xavier') this.redrawLinearWeights(seed);
  }

  /**
   * Glorot-uniform weights for every linear map of the model (not the tokens, norms, biases or
   * the encodings' tables): U(±√(6 / (in + out))), each drawn from (seed, name) like every
   * parameter.
   */
  private redrawLinearWeights(seed: number): void {
    const modules: { parameters(): Parameters }[] = [
      this.patchEmbedding,
      ...this.layers,
      this.head,
    ];
    if (this.distillationHead) modules.push(this.distillationHead);
    for (const [name, weight] of Object.entries(collectParameters(...modules))) {
      if (weight.rank !== 2 || !name.endsWith('.weight')) continue;
      const [fanIn, fanOut] = weight.shape as [number, number];
      const limit = Math.sqrt(6 / (fanIn + fanOut));
      weight.assign(
        tf.tidy(() =>
          tf.randomUniform(weight.shape, -limit, limit, 'float32', seedFor(seed, name)),
        ),
      );
    }
  }

  /** Tokens in front of the patches that have no grid position (class and distillation tokens). */
  get skipTokens(): number {
    return (this.config.pooling === 'class' ? 1 : 0) + (this.config.distillationToken ? 1 : 0);
  }

  parameters(): Parameters {
    const modules: { parameters(): Parameters }[] = [this.patchEmbedding];
    if (this.classToken) modules.push({ parameters: () => ({ cls_token: this.classToken! }) });
    if (this.distillationToken)
      modules.push({ parameters: () => ({ dist_token: this.distillationToken! }) });
    modules.push(...this.layers, this.finalNorm, this.head);
    if (this.distillationHead) modules.push(this.distillationHead);
    modules.push({ parameters: () => this.body.encodingParameters() });
    return collectParameters(...modules);
  }

  /**
   * Logits for images `[B,H,W,C]` (float32). H and W may differ from `imageSize` when the
   * encodings accept other grid sizes; both must be multiples of the patch size.
   */
  forward(images: tf.Tensor4D, call: ViTCall = {}): ViTForward {
    const { patchSize, channels } = this.config;
    if (images.rank !== 4 || images.shape[3] !== channels)
      throw new Error(
        `ViT: images have shape [${images.shape}], expected [B, H, W, ${channels}] (channels = ${channels})`,
      );
    const [b, h, w] = images.shape;
    if (h % patchSize !== 0 || w % patchSize !== 0)
      throw new Error(`ViT: image size ${h}×${w} is not a multiple of patchSize = ${patchSize}`);
    const rows = h / patchSize;
    const cols = w / patchSize;
    const input = { owner: 'ViT', batch: b, length: rows * cols + this.skipTokens };
    const grid = () => gridPositions(b, rows, cols, this.skipTokens);
    return withPositions(
      undefined,
      input,
      (positions) =>
        tf.tidy(() => {
          let x = this.patchEmbedding.apply(patchify(images, patchSize)) as tf.Tensor3D;
          const leading = [this.classToken, this.distillationToken].filter(
            (t): t is tf.Variable => t !== undefined,
          );
          if (leading.length)
            x = tf.concat([...leading.map((t) => tf.tile(t, [b, 1, 1])), x], 1) as tf.Tensor3D;
          x = this.body.embed(x, positions);
          const body = this.body.run(this.body.dropoutEmbeddings(x, call), {
            positions,
            causal: false,
            training: call.training,
            dropoutSeed: call.dropoutSeed,
            returnProbs: call.returnProbs,
          });
          // Norm, then pool: as the official big_vision code (`encoder_norm` before 'tok'/'gap').
          const hidden = this.finalNorm.apply(body.output);
          const token = (i: number) => hidden.slice([0, i, 0], [-1, 1, -1]).squeeze([1]);
          const pooled = this.classToken ? token(0) : tf.mean(hidden, 1);
          let logits = this.head.apply(pooled);
          if (this.distillationHead)
            logits = tf.div(tf.add(logits, this.distillationHead.apply(token(1))), 2);
          const out: Record<string, tf.Tensor | tf.Tensor[]> = { logits, hidden };
          if (call.returnProbs) out['probs'] = body.probs;
          return out as unknown as tf.TensorContainerObject;
        }) as unknown as ViTForward,
      grid,
    );
  }

  /** Mean cross-entropy in nats of the logits against `labels` `[B]` (class ids). */
  loss(images: tf.Tensor4D, labels: tf.Tensor1D, call: ViTCall = {}): tf.Scalar {
    return tf.tidy(() => classCrossEntropy(this.forward(images, call).logits, labels));
  }

  dispose(): void {
    disposeParameters(this.parameters());
    this.body.disposeEncodings();
  }
}
