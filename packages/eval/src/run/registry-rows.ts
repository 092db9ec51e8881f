/**
 * What a harness needs to build method rows from core's registry: whether an encoding, so
 * configured, declares the attention and positions of the task's model, and a check at prepare
 * time that its package accepts the configs a row makes (a row it rejects is listed unavailable
 * with the reason, never replaced).
 */
import {
  acceptedPositions,
  createEncoding,
  listEncodings,
  parseConfig,
  supportedAttention,
  type AttentionKind,
  type EncodingConfig,
  type EncodingDefinition,
  type PositionKind,
} from '@posenc/core';
import { MethodUnavailableError } from './methods.js';

/**
 * Whether `definition` declares `attention` and `positions` for `config`. A config its package
 * rejects counts as fitting: the row is then listed, as unavailable, by its prepare().
 */
export function declaresFor(
  definition: EncodingDefinition,
  config: EncodingConfig,
  attention: AttentionKind,
  positions: PositionKind,
): boolean {
  let parsed;
  try {
    parsed = parseConfig(`encoding '${definition.name}'`, definition.schema, config, ['name']);
  } catch {
    return true;
  }
  return (
    supportedAttention(definition, parsed).includes(attention) &&
    acceptedPositions(definition, parsed).kinds.includes(positions)
  );
}

/** Throws MethodUnavailableError when `packageName` rejects one of the configs. */
export function checkEncodingConfigs(
  method: string,
  packageName: string,
  configs: readonly EncodingConfig[],
): void {
  for (const config of configs)
    try {
      createEncoding(config).dispose?.();
    } catch (e) {
      throw new MethodUnavailableError(
        method,
        `${packageName} rejects ${JSON.stringify(config)}: ${(e as Error).message}`,
      );
    }
}

/** A row's worth of an encoding: its own default config or one of its named variants. */
export interface RegistryEntry {
  readonly definition: EncodingDefinition;
  readonly name: string;
  readonly description: string;
  readonly paper: string;
  readonly config: EncodingConfig;
}

/**
 * Every registered encoding and named variant that declares `attention` on `positions`, in
 * registration order (core first, then each plugin as it loaded).
 */
export function registryEntries(
  attention: AttentionKind,
  positions: PositionKind,
): RegistryEntry[] {
  return listEncodings().flatMap((definition) =>
    [
      {
        definition,
        name: definition.name,
        description: definition.description,
        paper: definition.paper ?? '—',
        config: { name: definition.name },
      },
      ...(definition.variants ?? []).map((v) => ({
        definition,
        name: v.name,
        description: v.description,
        paper: v.paper ?? definition.paper ?? '—',
        config: v.config,
      })),
    ].filter((entry) => declaresFor(definition, entry.config, attention, positions)),
  );
}
