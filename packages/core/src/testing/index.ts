/** `@posenc/core/testing`: helpers the packages' tests share. */
export { goldenPath } from './golden.js';
export { maxAbsDiff } from './max-abs-diff.js';
