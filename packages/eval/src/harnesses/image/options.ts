/**
 * `posenc bench image`'s own options and the ranges they allow. The same checks run on a config
 * that comes from the library API, so a preset edited in code gets the messages a flag would.
 */
import {
  choiceOption,
  decimalOption,
  integerListOption,
  integerOption,
  textOption,
  type OptionSpec,
} from '../../run/options.js';
import { parseDecimal, parseInteger, type IntegerRange } from '../../run/numbers.js';
import { UsageError } from '../../usage-error.js';
import type { ImageConfig } from './config.js';

export const IMAGE_RANGES = {
  imageSize: { min: 1, max: 4096 },
  patchSize: { min: 1, max: 512 },
  steps: { min: 1, max: 100_000_000 },
  batch: { min: 1, max: 1_000_000 },
  modelDim: { min: 1, max: 65_536 },
  layers: { min: 1, max: 1024 },
  heads: { min: 1, max: 1024 },
  ffnDim: { min: 1, max: 262_144 },
  images: { min: 1, max: 1_000_000_000 },
} as const satisfies Record<string, IntegerRange>;

const model = (c: ImageConfig, field: keyof ImageConfig['model'], value: number): ImageConfig => ({
  ...c,
  model: { ...c.model, [field]: value },
});

/** `N` or `all`. */
function countOption(
  flag: string,
  help: string,
  get: (c: ImageConfig) => number | 'all',
  set: (c: ImageConfig, v: number | 'all') => ImageConfig,
): OptionSpec<ImageConfig> {
  const { min, max } = IMAGE_RANGES.images;
  return {
    flag,
    value: 'N|all',
    help: `${help} (${min}…${max}, or all)`,
    show: (c) => String(get(c)),
    apply: (c, text) =>
      set(c, text === 'all' ? 'all' : parseInteger(`--${flag}`, text, IMAGE_RANGES.images)),
  };
}

/** `a,b,c` decimal numbers, one per channel. */
function channelOption(flag: string, help: string, field: 'mean' | 'std'): OptionSpec<ImageConfig> {
  return {
    flag,
    value: 'a[,b,c]',
    help,
    show: (c) => c[field].join(','),
    apply: (c, text) => ({
      ...c,
      [field]: text
        .split(',')
        .map((p) => parseDecimal(`--${flag}: entry`, p, field === 'std' ? { greaterThan: 0 } : {})),
    }),
  };
}

export const IMAGE_OPTIONS: readonly OptionSpec<ImageConfig>[] = [
  textOption({
    flag: 'data',
    value: 'mnist|DIR',
    help: 'mnist (the digits of the `mnist` package, written once as PNG files) or a folder with train/<class>/* and val/ (the ImageNet layout)',
    get: (c) => c.data,
    set: (c, v) => ({ ...c, data: v }),
  }),
  {
    flag: 'val-labels',
    value: 'FILE',
    help: "labels of a flat val/ folder: lines '<file> <class folder or index>', or ImageNet's LOC_val_solution.csv; empty when val/ has class folders",
    show: (c) => c.valLabels,
    apply: (c, text) => ({ ...c, valLabels: text }),
  },
  choiceOption({
    flag: 'channels',
    help: 'images are converted to grayscale (1) or RGB (3) after decoding',
    values: ['1', '3'] as const,
    get: (c) => String(c.channels) as '1' | '3',
    set: (c, v) => ({ ...c, channels: Number(v) as 1 | 3 }),
  }),
  integerOption({
    flag: 'image-size',
    help: 'side of the square training crops in pixels',
    ...IMAGE_RANGES.imageSize,
    get: (c) => c.imageSize,
    set: (c, v) => ({ ...c, imageSize: v }),
  }),
  integerListOption({
    flag: 'eval-sizes',
    help: 'square evaluation sizes in pixels (the training size and larger: resolution extrapolation)',
    ...IMAGE_RANGES.imageSize,
    get: (c) => c.evalSizes,
    set: (c, v) => ({ ...c, evalSizes: v }),
  }),
  integerOption({
    flag: 'patch',
    help: 'patch side in pixels',
    ...IMAGE_RANGES.patchSize,
    get: (c) => c.model.patchSize,
    set: (c, v) => model(c, 'patchSize', v),
  }),
  // --dim before --ffn: --dim also sets the FFN to 4·dim, which an explicit --ffn then overrides.
  integerOption({
    flag: 'dim',
    help: 'model width d (also sets --ffn to 4·d unless --ffn is given)',
    ...IMAGE_RANGES.modelDim,
    get: (c) => c.model.modelDim,
    // The width it already has changes nothing (the preset's FFN stays).
    set: (c, v) => (v === c.model.modelDim ? c : model(model(c, 'modelDim', v), 'ffnDim', 4 * v)),
  }),
  integerOption({
    flag: 'layers',
    help: 'Transformer layers',
    ...IMAGE_RANGES.layers,
    get: (c) => c.model.layers,
    set: (c, v) => model(c, 'layers', v),
  }),
  integerOption({
    flag: 'heads',
    help: 'attention heads (must divide d)',
    ...IMAGE_RANGES.heads,
    get: (c) => c.model.heads,
    set: (c, v) => model(c, 'heads', v),
  }),
  integerOption({
    flag: 'ffn',
    help: 'feed-forward width',
    ...IMAGE_RANGES.ffnDim,
    get: (c) => c.model.ffnDim,
    set: (c, v) => model(c, 'ffnDim', v),
  }),
  choiceOption({
    flag: 'init',
    help: "weights of the ViT's linear maps: timm's truncated normal std 0.02 (DeiT) or Glorot uniform (the official JAX ViT; small ViTs trained for minutes need it)",
    values: ['timm', 'xavier'] as const,
    get: (c) => c.model.init,
    set: (c, v) => ({ ...c, model: { ...c.model, init: v } }),
  }),
  integerOption({
    flag: 'steps',
    help: 'optimizer steps per cell',
    ...IMAGE_RANGES.steps,
    get: (c) => c.steps,
    set: (c, v) => ({ ...c, steps: v }),
  }),
  integerOption({
    flag: 'batch',
    help: 'images per step',
    ...IMAGE_RANGES.batch,
    get: (c) => c.batch,
    set: (c, v) => ({ ...c, batch: v }),
  }),
  decimalOption({
    flag: 'lr',
    help: 'peak AdamW learning rate (warmup over a tenth of the steps, then cosine decay to 1%)',
    greaterThan: 0,
    max: 10,
    get: (c) => c.lr,
    set: (c, v) => ({ ...c, lr: v }),
  }),
  decimalOption({
    flag: 'weight-decay',
    help: 'AdamW weight decay (DeiT: 0.05)',
    min: 0,
    max: 10,
    get: (c) => c.weightDecay,
    set: (c, v) => ({ ...c, weightDecay: v }),
  }),
  decimalOption({
    flag: 'crop-scale',
    help: 'smallest share of the image a random-resized training crop keeps (DeiT: 0.08)',
    greaterThan: 0,
    max: 1,
    get: (c) => c.cropScale,
    set: (c, v) => ({ ...c, cropScale: v }),
  }),
  choiceOption({
    flag: 'flip',
    help: 'random horizontal flips in training',
    values: ['on', 'off'] as const,
    get: (c) => (c.flip ? 'on' : 'off'),
    set: (c, v) => ({ ...c, flip: v === 'on' }),
  }),
  decimalOption({
    flag: 'eval-crop',
    help: 'evaluation resizes the shorter side to size / crop, then takes the centre (DeiT: 0.875)',
    greaterThan: 0,
    max: 1,
    get: (c) => c.evalCrop,
    set: (c, v) => ({ ...c, evalCrop: v }),
  }),
  channelOption('mean', 'per-channel mean of [0, 1] pixels, subtracted', 'mean'),
  channelOption('std', 'per-channel standard deviation, divided by', 'std'),
  countOption(
    'train-images',
    'training images used (the first of a fixed shuffle)',
    (c) => c.trainImages,
    (c, v) => ({ ...c, trainImages: v }),
  ),
  countOption(
    'eval-images',
    'evaluation images scored (the first of a fixed shuffle)',
    (c) => c.evalImages,
    (c, v) => ({ ...c, evalImages: v }),
  ),
];

function inRange(what: string, value: number, range: IntegerRange): void {
  if (!Number.isSafeInteger(value) || value < range.min || value > range.max)
    throw new UsageError(
      `${what} ${value} is not allowed; expected an integer from ${range.min} to ${range.max}`,
    );
}

/** The checks a config gets whether it came from flags or from code. */
export function checkImageConfig(c: ImageConfig): void {
  const { patchSize, modelDim, heads } = c.model;
  inRange('--patch', patchSize, IMAGE_RANGES.patchSize);
  inRange('--image-size', c.imageSize, IMAGE_RANGES.imageSize);
  if (c.imageSize % patchSize !== 0)
    throw new UsageError(
      `--image-size ${c.imageSize} is not allowed; it must be a multiple of --patch ${patchSize}`,
    );
  if (c.evalSizes.length === 0)
    throw new UsageError('--eval-sizes is empty; give at least one size');
  for (const size of c.evalSizes) {
    inRange('--eval-sizes: entry', size, IMAGE_RANGES.imageSize);
    if (size % patchSize !== 0)
      throw new UsageError(
        `--eval-sizes: entry ${size} is not allowed; every size must be a multiple of --patch ${patchSize}`,
      );
  }
  inRange('--dim', modelDim, IMAGE_RANGES.modelDim);
  inRange('--layers', c.model.layers, IMAGE_RANGES.layers);
  inRange('--heads', heads, IMAGE_RANGES.heads);
  inRange('--ffn', c.model.ffnDim, IMAGE_RANGES.ffnDim);
  if (modelDim % heads !== 0)
    throw new UsageError(`--heads ${heads} is not allowed; it must divide --dim ${modelDim}`);
  inRange('--steps', c.steps, IMAGE_RANGES.steps);
  inRange('--batch', c.batch, IMAGE_RANGES.batch);
  if (c.channels !== 1 && c.channels !== 3)
    throw new UsageError(`--channels ${c.channels} is not allowed; expected 1 or 3`);
  for (const field of ['mean', 'std'] as const)
    if (c[field].length !== c.channels)
      throw new UsageError(
        `--${field} has ${c[field].length} value(s); give one per channel (--channels ${c.channels})`,
      );
  if (c.std.some((s) => !(s > 0))) throw new UsageError('--std: every entry must be > 0');
  for (const [flag, value] of [
    ['--lr', c.lr],
    ['--crop-scale', c.cropScale],
    ['--eval-crop', c.evalCrop],
  ] as const)
    if (!(Number.isFinite(value) && value > 0))
      throw new UsageError(`${flag} ${value} is not allowed; expected a decimal number > 0`);
  if (c.cropScale > 1 || c.evalCrop > 1)
    throw new UsageError('--crop-scale and --eval-crop are shares of the image: at most 1');
  if (!(c.weightDecay >= 0))
    throw new UsageError(`--weight-decay ${c.weightDecay} is not allowed; expected ≥ 0`);
  for (const [flag, value] of [
    ['--train-images', c.trainImages],
    ['--eval-images', c.evalImages],
  ] as const)
    if (value !== 'all') inRange(flag, value, IMAGE_RANGES.images);
}
