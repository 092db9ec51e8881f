/**
 * @posenc/spe-linear — relative position at linear cost: stochastic positional encoding (sineSPE,
 * convSPE, gated; Liutkus et al. 2021) and kernelized attention with a relative bias by FFT
 * (Luo et al. 2021). Importing it registers the `spe` and `fft-rpe` encodings with @posenc/core.
 */
import { registerEncoding } from '@posenc/core';
import { speDefinition } from './spe/spe-encoding.js';
import { fftRpeDefinition } from './rpe/fft-rpe-encoding.js';

export * from './noise/counter-normal.js';
export * from './noise/spe-noise.js';
export * from './spe/sine-spe.js';
export * from './spe/conv-spe.js';
export * from './spe/filter.js';
export * from './spe/spe-encoding.js';
export * from './fft/fft.js';
export * from './rpe/toeplitz.js';
export * from './rpe/fft-rpe-encoding.js';

registerEncoding(speDefinition);
registerEncoding(fftRpeDefinition);
