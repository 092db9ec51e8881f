/**
 * HF RoFormer files on disk (Node only): `model.safetensors` and `config.json` written
 * atomically, and a model built from a `config.json` path. Loading weights from a path is
 * `loadHFRoFormer` in `./hf-weights.ts`, which takes any safetensors source.
 */
import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { writeSafetensorsFile } from '@posenc/core';
import type { ResolvedRoFormerConfig } from './config.js';
import { fromHFConfig, hfRoFormerEntries, HF_METADATA, toHFConfig } from './hf-weights.js';
import { RoFormer } from './model.js';

/** Writes `model.safetensors` in HF's names (atomically, with HF's `format: pt` metadata). */
export async function saveHFRoFormer(model: RoFormer, path: string): Promise<void> {
  await writeSafetensorsFile(path, hfRoFormerEntries(model), HF_METADATA);
}

/** Writes `config.json` beside the weights (atomically), for HF `from_pretrained`. */
export async function saveHFConfig(config: ResolvedRoFormerConfig, path: string): Promise<void> {
  const temp = `${path}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
  try {
    await writeFile(temp, JSON.stringify(toHFConfig(config), null, 2) + '\n');
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/** Reads an HF `config.json` and builds the matching (freshly initialised) RoFormer. */
export async function roformerFromHFConfig(path: string, mlmHead = true): Promise<RoFormer> {
  return new RoFormer(
    fromHFConfig(JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>, mlmHead),
  );
}
