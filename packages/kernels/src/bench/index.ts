/**
 * `@posenc/kernels/bench`: what another package's benchmark reuses to time itself against a
 * PyTorch peer script in the same run (irpe-vision's ViT step does): finding a Python with torch,
 * running the script at 1 and all threads, and the summary of a list of timings.
 */
export { findTorchPython, PYTORCH_INSTALL_HINT, runTorchPeer } from './pytorch.js';
export { summarize } from './main.js';
