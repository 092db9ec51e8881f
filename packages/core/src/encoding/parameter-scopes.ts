/**
 * Where an encoding's parameters live in its model's parameter tree. The names are the
 * safetensors keys of checkpoints, so the model decides them: an encoding only appends its own
 * leaf names (`position_table`, `rel_k`, …) to the scopes its build spec gives it.
 */

export interface ParameterScopes {
  /** Parameters of the `embed` hook at the model input. */
  readonly embed: string;
  /** Parameters of one layer's attention (0-based layer index). */
  attention(layer: number): string;
  /** Attention parameters that every layer shares. */
  readonly sharedAttention: string;
}

/**
 * The scopes of core's models, matching their own modules (`embed.tokens`,
 * `layers.3.attn.wq`): `embed.position_table`, `layers.3.attn.rel_k`,
 * `attn.relative_attention_bias`. Saved checkpoints depend on these strings.
 */
export const MODEL_PARAMETER_SCOPES: ParameterScopes = {
  embed: 'embed',
  attention: (layer) => `layers.${layer}.attn`,
  sharedAttention: 'attn',
};

/** The attention scope of every layer of a `layers`-layer model, in order. */
export function layerScopes(scopes: ParameterScopes, layers: number): string[] {
  return Array.from({ length: layers }, (_, l) => scopes.attention(l));
}

/** `scope.leaf`: the full name of a parameter. */
export function scopedName(scope: string, leaf: string): string {
  return `${scope}.${leaf}`;
}
