/**
 * The settings of a `posenc bench image` run. Everything that changes a figure is here and in the
 * run's config hash; the methods and seeds are not (a cell's seed is its own).
 */

/** The ViT every method shares; only the position method differs. */
export interface ImageModelShape {
  modelDim: number;
  layers: number;
  heads: number;
  ffnDim: number;
  patchSize: number;
  /** Weights of the linear maps: timm's normal(0.02) (DeiT) or Glorot uniform (the JAX ViT). */
  init: 'timm' | 'xavier';
}

export interface ImageConfig {
  /** `mnist`, or the absolute path of a folder with `train/<class>/*` and `val/`. */
  data: string;
  /** A label file for a flat `val/` folder (absolute), or '' when `val/` has class folders. */
  valLabels: string;
  /** 1 (grayscale) or 3 (RGB): what images are converted to after decoding. */
  channels: 1 | 3;
  /** Side of the square training crops, in pixels. */
  imageSize: number;
  /** Square evaluation sizes, ascending; the training size among them. */
  evalSizes: number[];
  model: ImageModelShape;
  steps: number;
  /** Images per optimizer step. */
  batch: number;
  /** Peak AdamW learning rate (cosine decay to 1% after a warmup of a tenth of the steps). */
  lr: number;
  weightDecay: number;
  /** Smallest share of the image area a random-resized crop keeps (torchvision's scale[0]). */
  cropScale: number;
  /** Random horizontal flips in training. */
  flip: boolean;
  /** Evaluation resizes the shorter side to size / evalCrop, then takes the centre crop. */
  evalCrop: number;
  /** Per-channel normalisation of [0, 1] pixels: (x − mean) / std. */
  mean: number[];
  std: number[];
  /** Training images used (the first of a fixed shuffle), or 'all'. */
  trainImages: number | 'all';
  /** Evaluation images scored (the first of a fixed shuffle), or 'all'. */
  evalImages: number | 'all';
}

export const MIN_LR_RATIO = 0.01;

export function warmupSteps(steps: number): number {
  return Math.floor(steps / 10);
}

/** The largest square an image is evaluated at, and so the size images are kept at. */
export function largestSize(config: Pick<ImageConfig, 'imageSize' | 'evalSizes'>): number {
  return Math.max(config.imageSize, ...config.evalSizes);
}

/** ImageNet's channel statistics (torchvision, timm's IMAGENET_DEFAULT_MEAN/STD). */
export const IMAGENET_MEAN = [0.485, 0.456, 0.406];
export const IMAGENET_STD = [0.229, 0.224, 0.225];
/** MNIST's pixel statistics over its training set (the figures torchvision examples use). */
export const MNIST_MEAN = [0.1307];
export const MNIST_STD = [0.3081];
