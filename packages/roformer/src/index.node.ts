/**
 * @posenc/roformer in Node: the runtime-neutral entry (`./index.ts`) plus HF RoFormer files on
 * disk. Selected by the `node` export condition, so Node users import `@posenc/roformer`.
 */
export * from './index.js';
export * from './roformer/hf-files.js';
