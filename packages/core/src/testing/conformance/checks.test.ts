/**
 * The conformance kit catches what it claims to: a small correct encoding passes every check,
 * and each deliberately broken variant of it fails the check meant for its flaw.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../engine/tf.js';
import type { ConfigOf, Schema } from '../../config/schema.js';
import { scopedName } from '../../encoding/parameter-scopes.js';
import type {
  AttentionContext,
  AttentionKind,
  EncodingBuildSpec,
  PositionEncoding,
} from '../../encoding/position-encoding.js';
import { supportedAttention, type EncodingDefinition } from '../../encoding/registry.js';
import { normalParameter } from '../../nn/init.js';
import { relativeDistances, require1D, type Positions } from '../../positions/positions.js';
import { conformanceChecks, type ConformanceCase } from './checks.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const probeSchema = {
  scale: { type: 'number', greaterThan: 0, default: 1, doc: 'multiplies the score bias' },
} as const satisfies Schema;

type ProbeConfig = ConfigOf<typeof probeSchema>;

/**
 * A correct encoding with a parameter in the embed hook (a gain per feature on sin(position))
 * and one per layer in the score bias (a slope per head on key − query), and a kept constant.
 */
class ProbeEncoding implements PositionEncoding {
  readonly name = 'probe';
  protected gain: tf.Variable | undefined;
  protected slopes: tf.Variable[] = [];
  protected names: string[] = [];
  protected scale: tf.Scalar | undefined;

  constructor(
    readonly config: Readonly<Record<string, unknown>>,
    private readonly definition: EncodingDefinition,
  ) {}

  get supports(): readonly AttentionKind[] {
    return supportedAttention(this.definition, this.config as ProbeConfig);
  }

  build(spec: EncodingBuildSpec): void {
    this.dispose();
    this.names = this.parameterNames(spec);
    const [gainName, ...slopeNames] = this.names;
    this.gain = normalParameter([spec.modelDim], 0.5, spec.seed, gainName!);
    this.slopes = slopeNames.map((name) => normalParameter([spec.heads], 0.5, spec.seed, name));
  }

  protected parameterNames(spec: EncodingBuildSpec): string[] {
    return [
      scopedName(spec.scopes.embed, 'gain'),
      ...Array.from({ length: spec.layers }, (_, l) =>
        scopedName(spec.scopes.attention(l), 'slope'),
      ),
    ];
  }

  parameters(): Record<string, tf.Variable> {
    const all = this.gain ? [this.gain, ...this.slopes] : [];
    return Object.fromEntries(all.map((v, i) => [this.names[i]!, v]));
  }

  dispose(): void {
    tf.dispose([...(this.gain ? [this.gain] : []), ...this.slopes]);
    this.gain = undefined;
    this.slopes = [];
    this.scale?.dispose();
    this.scale = undefined;
  }

  embed(x: tf.Tensor3D, positions: Positions): tf.Tensor3D {
    const ids = this.ids(positions);
    return tf.tidy(() => tf.add(x, tf.mul(tf.expandDims(tf.sin(ids), 2), this.gain!)));
  }

  scoreBias(_q: tf.Tensor4D, _k: tf.Tensor4D, ctx: AttentionContext): tf.Tensor {
    const scale = this.scaleTensor();
    return tf.tidy(() => {
      const slope = tf.reshape(this.slope(ctx.layer), [1, -1, 1, 1]);
      return tf.mul(tf.mul(slope, tf.expandDims(this.distances(ctx), 1)), scale);
    });
  }

  protected ids(positions: Positions): tf.Tensor2D {
    return require1D(positions, 'probe').ids;
  }

  protected distances(ctx: AttentionContext): tf.Tensor3D {
    return relativeDistances(
      require1D(ctx.queryPositions, 'probe'),
      require1D(ctx.keyPositions, 'probe'),
    );
  }

  protected slope(layer: number): tf.Tensor {
    return this.slopes[layer]!;
  }

  protected scaleTensor(): tf.Scalar {
    // Kept: attention calls scoreBias inside its own tidy.
    this.scale ??= tf.keep(tf.scalar(this.config['scale'] as number));
    return this.scale;
  }
}

type ProbeClass = new (
  config: Readonly<Record<string, unknown>>,
  definition: EncodingDefinition,
) => PositionEncoding;

function definitionOf(encoding: ProbeClass): EncodingDefinition<typeof probeSchema> {
  const definition: EncodingDefinition<typeof probeSchema> = {
    name: 'probe',
    description: 'a test encoding for the conformance kit',
    package: '@posenc/core',
    schema: probeSchema,
    supports: ['softmax', 'linear'],
    positions: { kinds: ['1d'], fractional: true },
    create: (config) => new encoding(config, definition as unknown as EncodingDefinition),
  };
  return definition;
}

const CASE: ConformanceCase = { config: { scale: 0.5 } };

/** Ids of the checks that throw, with their messages. */
function failures(encoding: ProbeClass): Map<string, string> {
  const failed = new Map<string, string>();
  const definition = definitionOf(encoding) as unknown as EncodingDefinition;
  for (const check of conformanceChecks(definition, CASE)) {
    try {
      check.run();
    } catch (e) {
      failed.set(check.id, (e as Error).message);
    }
  }
  return failed;
}

const broken: [string, ProbeClass, string, RegExp][] = [
  [
    'leaks a tensor in a hook',
    class extends ProbeEncoding {
      override scoreBias(q: tf.Tensor4D, k: tf.Tensor4D, ctx: AttentionContext): tf.Tensor {
        tf.ones([1]);
        return super.scoreBias(q, k, ctx);
      }
    },
    'leaks',
    /left \d+ tensor\(s\) behind/,
  ],
  [
    'halves a gradient through customGrad',
    class extends ProbeEncoding {
      protected override slope(layer: number): tf.Tensor {
        return halfGradient(super.slope(layer));
      }
    },
    'gradients',
    /'conformance_block0\.attention\.slope' along a random direction: tf's gradient gives/,
  ],
  [
    'ignores batch-1 broadcasting of positions',
    class extends ProbeEncoding {
      override embed(x: tf.Tensor3D, positions: Positions): tf.Tensor3D {
        const rows = this.ids(positions).shape[0];
        if (rows === x.shape[0]) return super.embed(x, positions);
        const first = x.slice([0, 0, 0], [rows, -1, -1]);
        const embedded = super.embed(first, positions);
        const rest = x.slice([rows, 0, 0], [-1, -1, -1]);
        const out = tf.concat([embedded, rest], 0);
        tf.dispose([first, embedded, rest]);
        return out;
      }
    },
    'batch:softmax',
    /positions of batch 1 against the same tiled: embed\[\d+\]/,
  ],
  [
    'hard-codes its parameter names',
    class extends ProbeEncoding {
      protected override parameterNames(spec: EncodingBuildSpec): string[] {
        return [
          'embed.gain',
          ...Array.from({ length: spec.layers }, (_, l) => `layers.${l}.attn.slope`),
        ];
      }
    },
    'parameter-names',
    /'embed\.gain' is not a leaf under one of the scopes the build spec gives/,
  ],
  [
    'reports a config other than the validated one',
    class extends ProbeEncoding {
      constructor(config: Readonly<Record<string, unknown>>, definition: EncodingDefinition) {
        super({ ...config, scale: undefined }, definition);
      }
      protected override scaleTensor(): tf.Scalar {
        this.scale ??= tf.keep(tf.scalar(1));
        return this.scale;
      }
    },
    'definition',
    /config .* is not the validated config/,
  ],
  [
    'reports other attention kinds than its definition',
    class extends ProbeEncoding {
      override get supports(): readonly AttentionKind[] {
        return ['softmax'];
      }
    },
    'definition',
    /the instance supports \["softmax"\], its definition declares \["softmax","linear"\]/,
  ],
  [
    'caches a constant without tf.keep',
    class extends ProbeEncoding {
      protected override scaleTensor(): tf.Scalar {
        this.scale ??= tf.scalar(this.config['scale'] as number);
        return this.scale;
      }
    },
    'tidy:softmax',
    /a second call inside tf\.tidy fails/,
  ],
  [
    'returns a score bias of the wrong shape',
    class extends ProbeEncoding {
      override scoreBias(q: tf.Tensor4D, k: tf.Tensor4D, ctx: AttentionContext): tf.Tensor {
        const bias = super.scoreBias(q, k, ctx);
        const transposed = tf.transpose(bias, [0, 1, 3, 2]);
        bias.dispose();
        return transposed;
      }
    },
    'shapes:softmax',
    /scoreBias has shape \[2,2,5,3\] on 1d positions; declared broadcastable to \[2,2,3,5\]/,
  ],
  [
    'puts the queries of a cached call at 0…Nq−1 instead of their positions',
    class extends ProbeEncoding {
      protected override distances(ctx: AttentionContext): tf.Tensor3D {
        const keys = require1D(ctx.keyPositions, 'probe').ids;
        const queries = require1D(ctx.queryPositions, 'probe').ids;
        return tf.tidy(() => {
          const indices = tf.range(0, queries.shape[1], 1, 'float32').reshape([1, -1, 1]);
          return tf.sub(tf.expandDims(keys, 1), indices) as tf.Tensor3D;
        });
      }
    },
    'key-positions:softmax',
    /key positions \(softmax, integer positions\): scoreBias/,
  ],
  [
    'declares fractional positions but rejects them',
    class extends ProbeEncoding {
      protected override ids(positions: Positions): tf.Tensor2D {
        const ids = super.ids(positions);
        if (ids.dataSync().some((v) => !Number.isInteger(v)))
          throw new Error('probe: positions must be integers');
        return ids;
      }
    },
    'fractional:softmax',
    /positions must be integers/,
  ],
  [
    'accepts grid positions it does not declare',
    class extends ProbeEncoding {
      protected override ids(positions: Positions): tf.Tensor2D {
        if (positions.kind === '1d') return positions.ids;
        return tf.tidy(() =>
          tf.concat([tf.zeros([positions.rows.shape[0], positions.skip]), positions.rows], 1),
        ) as tf.Tensor2D;
      }
    },
    'position-kinds',
    /accepted 2d positions like \[0,0,0,1,1,1\] without an error/,
  ],
  [
    'disposes an input it was given',
    class extends ProbeEncoding {
      override embed(x: tf.Tensor3D, positions: Positions): tf.Tensor3D {
        const out = super.embed(x, positions);
        x.dispose();
        return out;
      }
    },
    'shapes:softmax',
    /a hook disposed its input x/,
  ],
];

/** Passes x through and halves the gradient flowing back: a wrong hand-written gradient. */
function halfGradient(x: tf.Tensor): tf.Tensor {
  return tf.customGrad((...inputs: (tf.Tensor | tf.GradSaveFunc)[]) => ({
    value: tf.clone(inputs[0] as tf.Tensor),
    gradFunc: (dy: tf.Tensor) => tf.mul(dy, 0.5),
  }))(x);
}

describe('the conformance kit', () => {
  it('passes a correct encoding on every check it has', () => {
    const checks = conformanceChecks(
      definitionOf(ProbeEncoding) as unknown as EncodingDefinition,
      CASE,
    );
    expect(checks.map((c) => c.id)).toEqual([
      'definition',
      'parameter-names',
      'leaks',
      'shapes:softmax',
      'batch:softmax',
      'tidy:softmax',
      'key-positions:softmax',
      'fractional:softmax',
      'shapes:linear',
      'batch:linear',
      'tidy:linear',
      'key-positions:linear',
      'fractional:linear',
      'position-kinds',
      'gradients',
    ]);
    expect(failures(ProbeEncoding)).toEqual(new Map());
  });

  it.each(broken)('catches an encoding that %s', (_flaw, encoding, check, message) => {
    const failed = failures(encoding);
    expect([...failed.keys()]).toContain(check);
    expect(failed.get(check)).toMatch(message);
  });
});
