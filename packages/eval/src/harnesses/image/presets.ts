/**
 * Named settings for `--preset`; flags given on the command line override them.
 *
 * - `quick`: a smoke run of seconds on a sixth of MNIST at 16px (the tests run it smaller still).
 * - `default`: the README's table. MNIST digits at 28px (4×4 patches of 7px), a 3-layer d=64 ViT
 *   with Glorot-uniform weights, 500 steps, evaluated at 28, 35 and 42px; measured with three seeds
 *   in the README (wall time and load average there), on 2 cores with @posenc/kernels. timm's
 *   normal(0.02) weights left this ViT near a linear model of the mean patch after 250 steps
 *   (23–26% top-1 without RoPE); Glorot weights and 7px patches train every method (README).
 * - `paper`: DeiT-Tiny on ImageNet-1K as Wu et al. 2021 train it (224px, patch 16, 12 layers,
 *   d 192, 3 heads; batch 1024, lr 1e-3, 300 epochs, weight decay 0.05); needs --data with the
 *   ImageNet folder, and months on a CPU.
 */
import type { Preset } from '../../run/harness.js';
import { IMAGENET_MEAN, IMAGENET_STD, MNIST_MEAN, MNIST_STD, type ImageConfig } from './config.js';

const MNIST: Pick<ImageConfig, 'data' | 'valLabels' | 'channels' | 'mean' | 'std' | 'flip'> = {
  data: 'mnist',
  valLabels: '',
  channels: 1,
  mean: MNIST_MEAN,
  std: MNIST_STD,
  // A mirrored digit is another glyph.
  flip: false,
};

export const IMAGE_PRESETS: Readonly<Record<string, Preset<ImageConfig>>> = {
  quick: {
    description:
      'a smoke run: none and irpe, a 2-layer d=32 ViT on 1,500 MNIST digits at 16px, 60 steps, evaluated at 16 and 24px (seconds)',
    config: {
      ...MNIST,
      imageSize: 16,
      evalSizes: [16, 24],
      model: { modelDim: 32, layers: 2, heads: 2, ffnDim: 64, patchSize: 4, init: 'xavier' },
      steps: 60,
      batch: 32,
      lr: 2e-3,
      weightDecay: 0.05,
      cropScale: 0.5,
      evalCrop: 1,
      trainImages: 1500,
      evalImages: 300,
    },
    methods: ['none', 'irpe'],
  },
  default: {
    description:
      'the README table: 5 methods, a 3-layer d=64 ViT (Glorot-uniform weights) on MNIST at 28px (4×4 patches of 7px), 500 steps, evaluated at 28, 35 and 42px (about a minute per method on 2 cores)',
    config: {
      ...MNIST,
      imageSize: 28,
      evalSizes: [28, 35, 42],
      model: { modelDim: 64, layers: 3, heads: 4, ffnDim: 128, patchSize: 7, init: 'xavier' },
      steps: 500,
      batch: 64,
      lr: 3e-3,
      weightDecay: 0.05,
      cropScale: 0.7,
      evalCrop: 1,
      trainImages: 'all',
      evalImages: 'all',
    },
    methods: ['none', 'learned', 'sinusoidal', 'rope', 'irpe'],
  },
  paper: {
    description:
      "DeiT-Tiny on ImageNet-1K as Wu et al. 2021 train it: 224px, patch 16, 12 layers, d 192, 3 heads, batch 1024, lr 1e-3, 300 epochs (375k steps), weight decay 0.05; DeiT's RandAugment, mixup, cutmix, label smoothing, drop path and EMA are not applied; needs --data DIR with the ImageNet folder, months on a CPU",
    config: {
      data: 'data/imagenet',
      valLabels: '',
      channels: 3,
      imageSize: 224,
      evalSizes: [224, 288, 384],
      model: { modelDim: 192, layers: 12, heads: 3, ffnDim: 768, patchSize: 16, init: 'timm' },
      steps: 375_300,
      batch: 1024,
      lr: 1e-3,
      weightDecay: 0.05,
      cropScale: 0.08,
      flip: true,
      evalCrop: 0.875,
      mean: IMAGENET_MEAN,
      std: IMAGENET_STD,
      trainImages: 'all',
      evalImages: 'all',
    },
    methods: ['learned', 'irpe', 'irpe-product-ctx-qk', 'irpe-product-ctx-qkv'],
  },
};
