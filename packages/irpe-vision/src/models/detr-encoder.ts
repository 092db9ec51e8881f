/**
 * A DETR-style encoder (Carion et al. 2020; DETR with iRPE in microsoft/Cream `iRPE/
 * DETR-with-iRPE`): images of any size → a feature map (a small convolutional stem or patches) →
 * a projection to the model width → post-LN Transformer encoder layers (core's body) over the
 * flattened map, with a padding mask. A batch of images of different sizes is padded to the
 * largest height and width with the images at the top-left, as DETR's `NestedTensor` does;
 * padded keys are masked after the position terms are added, and each image's real positions
 * keep their grid offsets, so iRPE sees exactly what it sees for the image alone.
 *
 * What differs from DETR: the stem is a few stride-2 convolutions rather than a ResNet, and its
 * features are zeroed outside each image after every stage, so an image's features do not
 * depend on the padding around it (DETR's ResNet features near the border do); an absolute
 * encoding enters through its `embed` hook at the input rather than being added to q and k in
 * every layer. The detection decoder, its queries and COCO are out of scope.
 */
import {
  ConfigError,
  collectParameters,
  disposeParameters,
  gridPositions,
  Linear,
  normalParameter,
  parseTransformerConfig,
  patchify,
  tf,
  TRANSFORMER_FIELDS,
  TransformerBody,
  type Parameters,
  type PositionEncoding,
  type TransformerConfig,
  type TransformerLayer,
  zerosParameter,
} from '@posenc/core';

const DETR_ENCODER_SCHEMA = {
  ...TRANSFORMER_FIELDS,
  channels: { type: 'number', integer: true, min: 1, default: 3 },
  stem: {
    type: 'enum',
    values: ['conv', 'patches'],
    default: 'conv',
    doc: "'conv': stride-2 3×3 convolutions with ReLU; 'patches': non-overlapping patches of `stride` pixels",
  },
  stride: {
    type: 'number',
    integer: true,
    min: 1,
    default: 8,
    doc: 'pixels per feature-map cell (conv: a power of 2, one convolution per factor 2)',
  },
  stemChannels: { type: 'number', integer: true, min: 1, default: 32 },
  imageSize: {
    type: 'number',
    integer: true,
    min: 1,
    default: 256,
    doc: 'side of the training images; sets the grid the encodings are built for',
  },
} as const;

export interface DetrEncoderConfig extends TransformerConfig {
  channels?: number;
  stem?: 'conv' | 'patches';
  stride?: number;
  stemChannels?: number;
  imageSize?: number;
}

/** One image's size in pixels, `[height, width]`, inside the padded batch. */
export type ImageSize = readonly [number, number];

export interface DetrEncoderCall {
  /** Each image's size; default: every image fills the batch's height and width. */
  sizes?: readonly ImageSize[];
  training?: boolean;
  dropoutSeed?: number;
  returnProbs?: boolean;
}

export interface DetrEncoderOutput {
  /** `[B, h·w, C]` over the padded feature map, row-major. */
  memory: tf.Tensor3D;
  /** `[B, h·w]`: 1 at each image's own cells, 0 at padding. */
  valid: tf.Tensor2D;
  /** The padded feature map's size. */
  height: number;
  width: number;
  /** Per layer `[B,H,N,N]`, on request. */
  probs?: tf.Tensor4D[];
}

export class DetrEncoder {
  readonly config: Required<DetrEncoderConfig>;
  readonly layers: TransformerLayer[];
  private readonly body: TransformerBody;
  private readonly stem: { weight: tf.Variable; bias: tf.Variable }[] = [];
  private readonly projection: Linear;

  constructor(
    config: DetrEncoderConfig,
    readonly encodings: readonly PositionEncoding[],
  ) {
    this.config = parseTransformerConfig(
      'DetrEncoder',
      DETR_ENCODER_SCHEMA,
      config,
    ) as Required<DetrEncoderConfig>;
    const { stem, stride, stemChannels, channels, imageSize, modelDim, seed } = this.config;
    const stages = Math.log2(stride);
    if (stem === 'conv' && !Number.isInteger(stages))
      throw new ConfigError(
        'DetrEncoder',
        'stride',
        stride,
        "must be a power of 2 with stem 'conv'",
      );
    const side = Math.ceil(imageSize / stride);
    this.body = new TransformerBody(
      {
        owner: 'DetrEncoder',
        ...this.config,
        norm: 'post',
        maxPositions: side * side,
        grid: { height: side, width: side, skip: 0 },
      },
      encodings,
    );
    if (stem === 'conv')
      for (let s = 0; s < stages; s++) {
        const inChannels = s === 0 ? channels : stemChannels;
        const name = `stem.${s}`;
        // He initialisation, for the ReLU after each convolution.
        const std = Math.sqrt(2 / (9 * inChannels));
        this.stem.push({
          weight: normalParameter([3, 3, inChannels, stemChannels], std, seed, `${name}.weight`),
          bias: zerosParameter([stemChannels]),
        });
      }
    const features = stem === 'conv' ? stemChannels : stride * stride * channels;
    this.projection = new Linear(
      stem === 'conv' ? 'input_proj' : 'patch_embed.proj',
      features,
      modelDim,
      { seed },
    );
    this.layers = this.body.buildLayers();
  }

  parameters(): Parameters {
    const stem: Parameters = {};
    this.stem.forEach((s, i) => {
      stem[`stem.${i}.weight`] = s.weight;
      stem[`stem.${i}.bias`] = s.bias;
    });
    return collectParameters({ parameters: () => stem }, this.projection, ...this.layers, {
      parameters: () => this.body.encodingParameters(),
    });
  }

  /** Cells of the feature map an image of `pixels` covers along one axis. */
  cells(pixels: number): number {
    return Math.ceil(pixels / this.config.stride);
  }

  /** The encoder over a padded batch `[B, H, W, C]` (zeros outside each image). */
  forward(images: tf.Tensor4D, call: DetrEncoderCall = {}): DetrEncoderOutput {
    const { channels, stride, stem } = this.config;
    if (images.rank !== 4 || images.shape[3] !== channels)
      throw new Error(
        `DetrEncoder: images have shape [${images.shape}], expected [B, H, W, ${channels}]`,
      );
    const [b, h, w] = images.shape;
    if (stem === 'patches' && (h % stride !== 0 || w % stride !== 0))
      throw new Error(
        `DetrEncoder: padded size ${h}×${w} is not a multiple of the patch size ${stride}`,
      );
    const sizes = call.sizes ?? Array.from({ length: b }, (): ImageSize => [h, w]);
    if (sizes.length !== b)
      throw new Error(`DetrEncoder: ${sizes.length} image sizes for a batch of ${b}`);
    sizes.forEach(([ih, iw], i) => {
      if (!(
        Number.isInteger(ih) &&
        Number.isInteger(iw) &&
        ih >= 1 &&
        iw >= 1 &&
        ih <= h &&
        iw <= w
      ))
        throw new Error(
          `DetrEncoder: image ${i} has size ${ih}×${iw}; expected integers from 1 to the padded ${h}×${w}`,
        );
      if (stem === 'patches' && (ih % stride !== 0 || iw % stride !== 0))
        throw new Error(
          `DetrEncoder: image ${i} of ${ih}×${iw} is not a multiple of the patch size ${stride}`,
        );
    });
    const height = this.cells(h);
    const width = this.cells(w);
    const positions = gridPositions(b, height, width, 0);
    try {
      const result = tf.tidy(() => {
        const valid = validCells(
          sizes.map(([ih, iw]) => [this.cells(ih), this.cells(iw)]),
          height,
          width,
        );
        let features: tf.Tensor3D;
        if (stem === 'patches') features = patchify(images, stride);
        else {
          let x: tf.Tensor4D = images;
          let pixels = sizes;
          for (const { weight, bias } of this.stem) {
            // Explicit zero padding: an image's cells read the same pixels in any padded batch.
            const padded = tf.pad(x, [
              [0, 0],
              [1, 1],
              [1, 1],
              [0, 0],
            ]);
            x = tf.relu(
              tf.add(tf.conv2d(padded, weight as tf.Tensor4D, 2, 'valid'), bias),
            ) as tf.Tensor4D;
            pixels = pixels.map(([ph, pw]) => [Math.ceil(ph / 2), Math.ceil(pw / 2)]);
            x = tf.mul(
              x,
              validCells(pixels, x.shape[1], x.shape[2]).reshape([b, x.shape[1], x.shape[2], 1]),
            );
          }
          features = x.reshape([b, height * width, x.shape[3]]);
        }
        let tokens = this.projection.apply(features) as tf.Tensor3D;
        tokens = this.body.embed(tokens, positions);
        const body = this.body.run(this.body.dropoutEmbeddings(tokens, call), {
          positions,
          causal: false,
          keyValid: valid,
          training: call.training,
          dropoutSeed: call.dropoutSeed,
          returnProbs: call.returnProbs,
        });
        const out: Record<string, tf.Tensor | tf.Tensor[]> = { memory: body.output, valid };
        if (call.returnProbs) out['probs'] = body.probs;
        return out as unknown as tf.TensorContainerObject;
      }) as unknown as Omit<DetrEncoderOutput, 'height' | 'width'>;
      return { ...result, height, width };
    } finally {
      tf.dispose([positions.rows, positions.cols]);
    }
  }

  dispose(): void {
    disposeParameters(this.parameters());
    this.body.disposeEncodings();
  }
}

/** `[B, height·width]`: 1 on the top-left `h × w` cells of each image, 0 elsewhere. */
function validCells(sizes: readonly ImageSize[], height: number, width: number): tf.Tensor2D {
  const mask = new Float32Array(sizes.length * height * width);
  sizes.forEach(([h, w], b) => {
    for (let r = 0; r < h; r++)
      mask.fill(1, b * height * width + r * width, b * height * width + r * width + w);
  });
  return tf.tensor2d(mask, [sizes.length, height * width]);
}
