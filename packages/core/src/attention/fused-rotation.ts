/**
 * RoPE inside the attention kernel. An encoding whose `queryKey` hook is nothing but a rotation
 * of q and k by angle tables (the `rope` family) may also hand those tables over through its
 * `fusedRotation` hook. When the engine registers both kernels below, core gives the tables to
 * the attention kernel instead of calling `queryKey`, so the rotation costs no engine runs of its
 * own and no JS between them: as four separate rotations (q, k, and their gradients) RoPE added
 * 14–15% to a causal attention step at B=8, H=8, N=256, D=64 on the kernels engine, most of it
 * per-run and per-hook overhead rather than arithmetic (issue 16).
 *
 * - `PosencRotaryAttention`: inputs `q` `[B,H,Nq,D]`, `k` `[B,H,Nk,D]` (not yet rotated), `v`,
 *   the tables `qCos`, `qSin` `[Bt,Nq,P]` and `kCos`, `kSin` `[Bt,Nk,P]` (Bt = 1 or B; the
 *   `PosencRotary` contract's tables), optionally `keyValid`; attributes `scale`, `causal` (as
 *   `PosencAttention`) and `layout`, `startIndex`, `chunks` (as `PosencRotary`). Outputs
 *   `output`, `probs`, and the rotated `qRotated`, `kRotated`, which the gradient takes.
 * - `PosencRotaryAttentionGrad`: inputs `dy`, `qRotated`, `kRotated`, `v`, `probs` and the four
 *   tables; attributes `scale`, `layout`, `startIndex`, `chunks`. Outputs `dq`, `dk` of the
 *   unrotated q and k (`PosencAttentionGrad`'s dq, dk turned by the transposed rotation) and `dv`.
 *
 * The tables are constants (no gradient reaches them), as RoPE's are. Fusion is used only where it
 * cannot change a result: softmax attention, no other encoding that transforms or reads q and k
 * (`queryKey`, `scoreBias`), no value bias and no probabilities asked for (those need the
 * probabilities on the tape); everywhere else `queryKey` runs as before. Engines without the
 * kernels never see a difference.
 */
import { tf } from '../engine/tf.js';
import { activeBackendHas } from '../engine/active-kernel.js';
import type { AttentionContext, PositionEncoding, QKV } from '../encoding/position-encoding.js';
import type { RotaryAttributes } from '../nn/rotary-kernel.js';
import { causalMaskValues } from './masks.js';

export const ROTARY_ATTENTION_KERNEL = 'PosencRotaryAttention';
export const ROTARY_ATTENTION_GRAD_KERNEL = 'PosencRotaryAttentionGrad';

/** cos and sin `[Bt, N, P]` of one side of q·kᵀ. */
export interface RotationTables {
  readonly cos: tf.Tensor3D;
  readonly sin: tf.Tensor3D;
}

/** The rotation an encoding's `queryKey` would apply to q and k, as tables. */
export interface FusedRotation {
  readonly query: RotationTables;
  readonly key: RotationTables;
  readonly attributes: Omit<RotaryAttributes, 'transpose'>;
}

export interface RotaryAttentionAttrs extends Omit<RotaryAttributes, 'transpose'> {
  scale: number;
  causal: boolean;
}

export type RotaryAttentionGradAttrs = Omit<RotaryAttentionAttrs, 'causal'>;

export interface FusionCall {
  readonly encodings: readonly PositionEncoding[];
  readonly ctx: AttentionContext;
  readonly returnProbs?: boolean;
}

/**
 * The rotation to fuse into this attention call, or undefined when the `queryKey` hooks must run
 * as they are (see the module comment for when).
 */
export function fusedRotationFor(qkv: QKV, call: FusionCall): FusedRotation | undefined {
  const { encodings, ctx } = call;
  if (ctx.kind !== 'softmax' || call.returnProbs) return undefined;
  const rotating = encodings.filter((e) => e.fusedRotation);
  if (rotating.length !== 1) return undefined;
  const encoding = rotating[0]!;
  for (const e of encodings) {
    if (e.scoreBias || e.valueBias) return undefined;
    if (e !== encoding && e.queryKey) return undefined;
  }
  if (!activeBackendHas(ROTARY_ATTENTION_KERNEL) || !activeBackendHas(ROTARY_ATTENTION_GRAD_KERNEL))
    return undefined;
  if (!sameBatchAndHeads(qkv)) return undefined;
  return encoding.fusedRotation!(qkv, ctx);
}

function sameBatchAndHeads({ q, k, v }: QKV): boolean {
  if ([q, k, v].some((t) => t.rank !== 4 || t.dtype !== 'float32')) return false;
  const [b, h, , d] = q.shape;
  return (
    k.shape[0] === b &&
    v.shape[0] === b &&
    k.shape[1] === h &&
    v.shape[1] === h &&
    k.shape[3] === d &&
    v.shape[2] === k.shape[2]
  );
}

/**
 * softmax(R_q q · (R_k k)ᵀ/√D + masks)·v in one engine run forward and one backward, for a
 * rotation {@link fusedRotationFor} returned. `[B,H,Nq,Dv]`.
 */
export function rotaryAttention(
  { q, k, v }: QKV,
  rotation: FusedRotation,
  options: { causal: boolean; keyValid?: tf.Tensor2D },
): tf.Tensor4D {
  const scale = 1 / Math.sqrt(q.shape[3]);
  const { causal, keyValid } = options;
  // Fails, as the composite path does, for a causal mask with fewer keys than queries.
  if (causal) causalMaskValues(q.shape[2], k.shape[2]);
  const tables = {
    qCos: rotation.query.cos,
    qSin: rotation.query.sin,
    kCos: rotation.key.cos,
    kSin: rotation.key.sin,
  };
  const { layout, startIndex, chunks } = rotation.attributes;
  const attrs: RotaryAttentionAttrs = { scale, causal, layout, startIndex, chunks };
  return tf.tidy(() => {
    const inputs: tf.NamedTensorMap = { q, k, v, ...tables };
    if (keyValid) inputs['keyValid'] = tf.cast(keyValid, 'float32');
    // The probabilities and rotated q, k stay internal: saved for the backward, never tape
    // outputs (whose unused gradients TF.js would fill with zero tensors).
    return tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const save = args[args.length - 1] as tf.GradSaveFunc;
      const [output, probs, qRotated, kRotated] = tf
        .engine()
        .runKernel(
          ROTARY_ATTENTION_KERNEL,
          inputs,
          attrs as unknown as tf.NamedAttrMap,
        ) as tf.Tensor4D[];
      // The tables are saved too: an encoding's table cache may evict them before the backward.
      save([qRotated!, kRotated!, v, probs!, tables.qCos, tables.qSin, tables.kCos, tables.kSin]);
      return {
        value: output!,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const [qr, kr, sv, sp, qCos, qSin, kCos, kSin] = saved;
          const gradAttrs: RotaryAttentionGradAttrs = { scale, layout, startIndex, chunks };
          return tf.engine().runKernel(
            ROTARY_ATTENTION_GRAD_KERNEL,
            {
              dy,
              qRotated: qr!,
              kRotated: kr!,
              v: sv!,
              probs: sp!,
              qCos: qCos!,
              qSin: qSin!,
              kCos: kCos!,
              kSin: kSin!,
            },
            gradAttrs as unknown as tf.NamedAttrMap,
          ) as tf.Tensor[];
        },
      };
    })(q, k, v) as tf.Tensor4D;
  });
}
