/**
 * The checks every registered encoding must pass, as plain functions that throw: the contract of
 * `PositionEncoding` and `EncodingDefinition` that no single encoding's own tests can state for
 * all of them. `describeEncodingConformance` wraps each in a vitest `it`; a test of the kit runs
 * them directly on broken encodings.
 */
import { isDeepStrictEqual } from 'node:util';
import { tf } from '../../engine/tf.js';
import { MultiHeadAttention } from '../../attention/multi-head-attention.js';
import { MODEL_PARAMETER_SCOPES, type ParameterScopes } from '../../encoding/parameter-scopes.js';
import type { AttentionKind, PositionEncoding } from '../../encoding/position-encoding.js';
import type { EncodingDefinition } from '../../encoding/registry.js';
import type { PositionKind } from '../../positions/positions.js';
import { disposeParameters } from '../../nn/layers.js';
import { expectClose, type Tolerance } from '../expect-close.js';
import { checkGradientsByFiniteDifferences } from '../finite-differences.js';
import { disposeAttentionContext } from '../attention-context.js';
import {
  contextFor,
  disposeCall,
  disposeInputs,
  inputsFor,
  makeCall,
  withCall,
  type HookCall,
} from './calls.js';
import {
  CONFORMANCE_SCOPES,
  lastQueries,
  pickBatchRows,
  pickRows,
  POSITION_SAMPLES,
  QUERIES,
  SIZES,
  type PositionSample,
  type PositionValues,
} from './fixtures.js';
import { broadcastsTo, disposeOutputs, runHooks } from './hook-outputs.js';
import { lastAlong, reverseRows, valuesOf, type OutputValues } from './output-values.js';
import { Subject, type ConformanceCase } from './subject.js';

export type { ConformanceCase } from './subject.js';

export interface ConformanceCheck {
  /** Stable id, e.g. `leaks` or `shapes:linear`. */
  readonly id: string;
  readonly title: string;
  run(): void;
}

/** Same results up to float32 rounding of calls that differ only in how work is split. */
const SAME: Tolerance = { atol: 1e-5, rtol: 1e-5 };
const ATTENTION_KINDS: readonly AttentionKind[] = ['softmax', 'linear'];
const POSITION_KINDS: readonly PositionKind[] = ['1d', '2d'];
const GRADIENT_SEED = 5;

/** The checks that apply to one config of an encoding; throws if the config is not valid. */
export function conformanceChecks(
  definition: EncodingDefinition,
  testCase: ConformanceCase,
): ConformanceCheck[] {
  const subject = new Subject(definition, testCase);
  const { supports, accepted } = subject;
  const probe = subject.create();
  const hasParameters = typeof probe.parameters === 'function';
  probe.dispose?.();
  const refused = POSITION_KINDS.filter((k) => !accepted.kinds.includes(k));

  const checks: ConformanceCheck[] = [
    {
      id: 'definition',
      title:
        'matches its definition: name, supports and a config that round-trips through the schema',
      run: () => checkDefinition(subject),
    },
    {
      id: 'parameter-names',
      title: "names its parameters from the build spec's scopes",
      run: () => checkParameterNames(subject),
    },
    {
      id: 'leaks',
      title: 'builds, runs every hook and disposes without leaking a tensor',
      run: () => checkLeaks(subject),
    },
  ];
  for (const kind of supports) {
    const on = `(${kind} attention)`;
    checks.push(
      {
        id: `shapes:${kind}`,
        title: `every hook returns its declared shape, and core's attention runs with it ${on}`,
        run: () => checkShapes(subject, kind, 'integer'),
      },
      {
        id: `batch:${kind}`,
        title: `positions of batch 1 broadcast over the batch; batch rows are independent ${on}`,
        run: () => checkBatch(subject, kind, 'integer'),
      },
      {
        id: `tidy:${kind}`,
        title: `cached constants survive tf.tidy and are freed by dispose ${on}`,
        run: () => checkTidy(subject, kind),
      },
    );
    if (accepted.kinds.includes('1d'))
      checks.push({
        id: `key-positions:${kind}`,
        title: `keys with other positions than the queries: a cached call gives the rows of the full call ${on}`,
        run: () => checkKeyPositions(subject, kind, 'integer'),
      });
    checks.push({
      id: `fractional:${kind}`,
      title: accepted.fractional
        ? `fractional positions: declared shapes, broadcasting and caching hold ${on}`
        : `refuses fractional positions, as it declares ${on}`,
      run: () => checkFractional(subject, kind),
    });
  }
  if (refused.length > 0)
    checks.push({
      id: 'position-kinds',
      title: `refuses ${refused.join(' and ')} positions, which it does not declare`,
      run: () => checkRefusedKinds(subject, refused),
    });
  if (hasParameters)
    checks.push({
      id: 'gradients',
      title: "every parameter's gradient matches finite differences",
      run: () => checkGradients(subject),
    });
  return checks;
}

function checkDefinition(s: Subject): void {
  const check = 'definition';
  const show = (v: unknown) => JSON.stringify(v);
  const encoding = s.create();
  try {
    if (encoding.name !== s.definition.name)
      s.fail(
        check,
        `the instance is named '${encoding.name}', its definition '${s.definition.name}'`,
      );
    if (!isDeepStrictEqual({ ...encoding.config }, { ...s.config }))
      s.fail(
        check,
        `config ${show(encoding.config)} is not the validated config ${show(s.config)} it was created from`,
      );
    for (const [field, spec] of Object.entries(s.definition.schema))
      if (spec.default !== undefined && encoding.config[field] === undefined)
        s.fail(check, `config lacks field '${field}', whose default is ${show(spec.default)}`);
    const viaJson = JSON.parse(JSON.stringify(encoding.config)) as Record<string, unknown>;
    if (!isDeepStrictEqual(viaJson, { ...encoding.config }))
      s.fail(check, `config ${show(encoding.config)} does not survive JSON (checkpoints store it)`);
    const reparsed = s.parse({ name: encoding.name, ...encoding.config });
    if (!isDeepStrictEqual({ ...reparsed }, { ...encoding.config }))
      s.fail(check, `parsing config ${show(encoding.config)} again gives ${show(reparsed)}`);
    const again = s.definition.create(reparsed);
    const againConfig = { ...again.config };
    again.dispose?.();
    if (!isDeepStrictEqual(againConfig, { ...encoding.config }))
      s.fail(check, `recreated from its config, it reports ${show(againConfig)}`);
    if (!isDeepStrictEqual([...encoding.supports], [...s.supports]))
      s.fail(
        check,
        `the instance supports ${show(encoding.supports)}, its definition declares ${show(s.supports)}`,
      );
    if (s.supports.length === 0 || s.supports.some((k) => !ATTENTION_KINDS.includes(k)))
      s.fail(check, `supports ${show(s.supports)}: expected some of ${show(ATTENTION_KINDS)}`);
    if (s.accepted.kinds.length === 0 || s.accepted.kinds.some((k) => !POSITION_KINDS.includes(k)))
      s.fail(
        check,
        `position kinds ${show(s.accepted.kinds)}: expected some of ${show(POSITION_KINDS)}`,
      );
  } finally {
    encoding.dispose?.();
  }
}

/**
 * Built under two different sets of scopes, every name must be one of the scopes plus a leaf,
 * with the same leaves in the same roles: names come from the spec, not from the encoding.
 */
function checkParameterNames(s: Subject): void {
  const check = 'parameter names';
  const rolesUnder = (scopes: ParameterScopes): string[] => {
    const named: [string, string][] = [
      ['embed', scopes.embed],
      ['sharedAttention', scopes.sharedAttention],
      ...Array.from({ length: SIZES.layers }, (_, l): [string, string] => [
        `attention(${l})`,
        scopes.attention(l),
      ]),
    ];
    const encoding = s.create();
    let names: string[];
    try {
      encoding.build?.(s.spec(scopes));
      names = Object.keys(encoding.parameters?.() ?? {});
    } finally {
      encoding.dispose?.();
    }
    return names
      .map((name) => {
        const match = named.find(([, scope]) => name.startsWith(`${scope}.`));
        const leaf = match && name.slice(match[1].length + 1);
        if (!match || !leaf)
          s.fail(
            check,
            `'${name}' is not a leaf under one of the scopes the build spec gives (${named.map(([, scope]) => scope).join(', ')})`,
          );
        return `${match[0]}: ${leaf}`;
      })
      .sort();
  };
  const own = rolesUnder(CONFORMANCE_SCOPES);
  const model = rolesUnder(MODEL_PARAMETER_SCOPES);
  if (!isDeepStrictEqual(own, model))
    s.fail(
      check,
      `the parameters differ with the scopes: ${JSON.stringify(own)} under one spec, ${JSON.stringify(model)} under core's models'`,
    );
}

/** Every call the encoding supports, run outside any tidy (as a user may), twice, then dispose. */
function checkLeaks(s: Subject): void {
  const calls = every(s, (sample, kind) => makeCall(sample, s.settings(kind)));
  try {
    const before = tf.memory().numTensors;
    let parameters: tf.Variable[] = [];
    const encoding = s.create();
    try {
      encoding.build?.(s.spec());
      parameters = Object.values(encoding.parameters?.() ?? {});
      for (let round = 0; round < 2; round++)
        for (const call of calls)
          disposeOutputs(runHooks(encoding, call.inputs, call.ctx), call.inputs);
      if (parameters.length > 0) {
        const { value, grads } = tf.variableGrads(() => summed(encoding, calls), parameters);
        tf.dispose([value, ...Object.values(grads)]);
      }
    } finally {
      encoding.dispose?.();
    }
    const left = tf.memory().numTensors - before;
    if (left !== 0)
      s.fail(
        'leaks',
        `build, every hook (forward and backward) and dispose left ${left} tensor(s) behind`,
      );
    const alive = parameters.filter((p) => !p.isDisposed);
    if (alive.length > 0) s.fail('leaks', `dispose() left ${alive.length} parameter(s) alive`);
  } finally {
    calls.forEach(disposeCall);
  }
}

function checkShapes(s: Subject, kind: AttentionKind, values: PositionValues): void {
  const check = `shapes (${kind}, ${values} positions)`;
  for (const positionKind of s.accepted.kinds) {
    const sample = POSITION_SAMPLES[positionKind][values];
    withCall(makeCall(sample, s.settings(kind)), (call) =>
      s.withBuilt((encoding) => {
        const outputs = runHooks(encoding, call.inputs, call.ctx);
        try {
          for (const o of outputs) {
            const fits = o.broadcasts
              ? broadcastsTo(o.tensor.shape, o.shape)
              : isDeepStrictEqual(o.tensor.shape, [...o.shape]);
            if (!fits)
              s.fail(
                check,
                `${o.name} has shape [${o.tensor.shape}] on ${positionKind} positions; declared ${o.broadcasts ? 'broadcastable to ' : ''}[${o.shape}]`,
              );
            if (o.tensor.dtype !== 'float32')
              s.fail(check, `${o.name} has dtype ${o.tensor.dtype}; expected float32`);
            if (o.tensor.dataSync().some((v) => !Number.isFinite(v)))
              s.fail(check, `${o.name} has values that are not finite`);
          }
          const disposed = inputTensorNames(call).filter(([, t]) => t.isDisposed);
          if (disposed.length > 0)
            s.fail(check, `a hook disposed its input ${disposed.map(([n]) => n).join(', ')}`);
        } finally {
          disposeOutputs(outputs, call.inputs);
        }
        checkInAttention(s, check, encoding, call, kind);
      }),
    );
  }
}

/** Core's multi-head attention with the encoding gives `[B,Nq,C]` of finite values. */
function checkInAttention(
  s: Subject,
  check: string,
  encoding: PositionEncoding,
  call: HookCall,
  kind: AttentionKind,
): void {
  const attention = new MultiHeadAttention({
    name: 'conformance_attention',
    modelDim: SIZES.modelDim,
    heads: SIZES.heads,
    layer: 0,
    kind,
    seed: SIZES.seed,
  });
  try {
    const { queryPositions, keyPositions } = call.ctx;
    const cached = keyPositions !== queryPositions;
    const { output } = attention.apply(call.inputs.x, {
      positions: queryPositions,
      keyInput: cached ? call.inputs.xk : undefined,
      keyPositions: cached ? keyPositions : undefined,
      encodings: [encoding],
      causal: s.causal,
    });
    const shape = output.shape;
    const finite = output.dataSync().every((v) => Number.isFinite(v));
    output.dispose();
    const expected = [...call.inputs.x.shape];
    if (!isDeepStrictEqual(shape, expected))
      s.fail(check, `core's attention gives [${shape}], expected [${expected}]`);
    if (!finite) s.fail(check, "core's attention gives values that are not finite");
  } finally {
    disposeParameters(attention.parameters());
  }
}

/**
 * Batch-1 positions give the results of the same positions tiled over the batch; reversing the
 * batch rows of inputs and positions reverses the rows of every output (so each row uses its own
 * positions; batch-wide settings such as a dynamic scaling's length may depend on all rows).
 */
function checkBatch(s: Subject, kind: AttentionKind, values: PositionValues): void {
  const check = `batch (${kind}, ${values} positions)`;
  const reversed = [1, 0];
  for (const positionKind of s.accepted.kinds) {
    const sample = POSITION_SAMPLES[positionKind][values];
    s.withBuilt((encoding) => {
      const run = (positions: PositionSample, inputs: HookCall['inputs']) => {
        const ctx = contextFor(positions, s.settings(kind), positions.kind === '1d');
        try {
          return valuesOf(runHooks(encoding, inputs, ctx), inputs);
        } finally {
          disposeAttentionContext(ctx);
        }
      };
      const inputs = inputsFor(sample);
      try {
        const shared = run(pickRows(sample, [0]), inputs);
        const tiled = run(pickRows(sample, [0, 0]), inputs);
        compareOutputs(s, `${check}: positions of batch 1 against the same tiled`, shared, tiled);
        const straight = run(sample, inputs);
        const swappedInputs = pickBatchRows(inputs, reversed);
        try {
          const swapped = run(pickRows(sample, reversed), swappedInputs);
          compareOutputs(
            s,
            `${check}: batch rows reversed`,
            swapped,
            straight.map((o) => ({ ...o, values: reverseRows(o.values, o.shape) })),
          );
        } finally {
          disposeInputs(swappedInputs);
        }
      } finally {
        disposeInputs(inputs);
      }
    });
  }
}

/**
 * A cached call (the last queries against keys whose positions lead them) gives the query rows
 * of the full call and the same key-side outputs.
 */
function checkKeyPositions(s: Subject, kind: AttentionKind, values: PositionValues): void {
  const check = `key positions (${kind}, ${values} positions)`;
  const sample = POSITION_SAMPLES['1d'][values];
  withCall(makeCall(sample, s.settings(kind), { cached: false }), (whole) => {
    const cachedInputs = lastQueries(whole.inputs, QUERIES);
    const cachedCtx = contextFor(sample, s.settings(kind), true);
    try {
      s.withBuilt((encoding) => {
        const wholeOutputs = valuesOf(runHooks(encoding, whole.inputs, whole.ctx), whole.inputs);
        const cached = valuesOf(runHooks(encoding, cachedInputs, cachedCtx), cachedInputs);
        compareOutputs(
          s,
          check,
          cached,
          wholeOutputs.map((o) =>
            o.queryAxis === undefined
              ? o
              : { ...o, ...lastAlong(o.values, o.shape, o.queryAxis, QUERIES) },
          ),
        );
      });
    } finally {
      disposeInputs(cachedInputs);
      disposeAttentionContext(cachedCtx);
    }
  });
}

function checkFractional(s: Subject, kind: AttentionKind): void {
  if (!s.accepted.fractional) {
    for (const positionKind of s.accepted.kinds)
      expectRefusal(s, `fractional (${kind})`, POSITION_SAMPLES[positionKind].fractional, kind);
    return;
  }
  checkShapes(s, kind, 'fractional');
  checkBatch(s, kind, 'fractional');
  if (s.accepted.kinds.includes('1d')) checkKeyPositions(s, kind, 'fractional');
}

function checkRefusedKinds(s: Subject, refused: readonly PositionKind[]): void {
  for (const kind of s.supports)
    for (const positionKind of refused)
      expectRefusal(s, `position kinds (${kind})`, POSITION_SAMPLES[positionKind].integer, kind);
}

/** The hooks must throw on positions the encoding does not declare, not compute something. */
function expectRefusal(
  s: Subject,
  check: string,
  sample: PositionSample,
  kind: AttentionKind,
): void {
  withCall(makeCall(sample, s.settings(kind)), (call) =>
    s.withBuilt((encoding) => {
      let refused = false;
      try {
        tf.tidy(() => {
          runHooks(encoding, call.inputs, call.ctx);
        });
      } catch {
        refused = true;
      }
      if (!refused)
        s.fail(
          check,
          `accepted ${sample.kind} positions like ${JSON.stringify(sample.kind === '1d' ? sample.ids[0] : sample.rows[0])} without an error, though it does not declare them`,
        );
    }),
  );
}

/**
 * Attention calls the hooks inside its tf.tidy: a constant cached on the first call must be
 * kept, so a second call inside another tidy still works, holds no more tensors and gives the
 * same values; dispose frees it.
 */
function checkTidy(s: Subject, kind: AttentionKind): void {
  const check = `tidy (${kind})`;
  for (const positionKind of s.accepted.kinds) {
    const sample = POSITION_SAMPLES[positionKind].integer;
    withCall(makeCall(sample, s.settings(kind)), (call) => {
      const before = tf.memory().numTensors;
      s.withBuilt((encoding) => {
        const inTidy = () => {
          let values: OutputValues[] = [];
          tf.tidy(() => {
            values = valuesOf(runHooks(encoding, call.inputs, call.ctx), undefined);
          });
          return { values, tensors: tf.memory().numTensors };
        };
        const first = inTidy();
        let second: ReturnType<typeof inTidy>;
        try {
          second = inTidy();
        } catch (e) {
          s.fail(
            check,
            `a second call inside tf.tidy fails (a cached tensor was not kept?): ${(e as Error).message}`,
          );
        }
        if (second.tensors !== first.tensors)
          s.fail(
            check,
            `live tensors went from ${first.tensors} after one call to ${second.tensors} after a second`,
          );
        compareOutputs(s, `${check}: second call`, second.values, first.values, { atol: 0 });
      });
      const after = tf.memory().numTensors;
      if (after !== before)
        s.fail(check, `dispose() left ${after - before} tensor(s) of the tidy calls alive`);
    });
  }
}

function checkGradients(s: Subject): void {
  const positionKind = s.accepted.kinds.includes('1d') ? '1d' : s.accepted.kinds[0]!;
  const sample = POSITION_SAMPLES[positionKind].integer;
  withCall(makeCall(sample, s.settings(s.supports[0]!)), (base) =>
    s.withBuilt((encoding) => {
      const parameters = encoding.parameters!();
      if (Object.keys(parameters).length === 0)
        s.fail('gradients', 'parameters() returns no parameters after build');
      // Every layer's and every supported attention kind's hooks, so per-layer tables all count.
      const calls: HookCall[] = s.supports.flatMap((kind) =>
        Array.from({ length: SIZES.layers }, (_, layer) => ({
          inputs: base.inputs,
          ctx: { ...base.ctx, kind, layer },
        })),
      );
      try {
        checkGradientsByFiniteDifferences(
          () => calls.flatMap((c) => runHooks(encoding, c.inputs, c.ctx).map((o) => o.tensor)),
          parameters,
          { seed: GRADIENT_SEED },
        );
      } catch (e) {
        s.fail('gradients', (e as Error).message);
      }
    }),
  );
}

// ---------------------------------------------------------------------------------------------

function compareOutputs(
  s: Subject,
  check: string,
  actual: OutputValues[],
  expected: OutputValues[],
  tolerance = SAME,
): void {
  const names = (list: OutputValues[]) => list.map((o) => o.name).join(', ');
  if (names(actual) !== names(expected))
    s.fail(check, `the hooks gave outputs ${names(actual)}, expected ${names(expected)}`);
  actual.forEach((o, i) => {
    try {
      expectClose(o.values, expected[i]!.values, tolerance, o.name);
    } catch (e) {
      s.fail(check, (e as Error).message);
    }
  });
}

/** One call per supported attention kind and declared position kind and values. */
function every(
  s: Subject,
  make: (sample: PositionSample, kind: AttentionKind) => HookCall,
): HookCall[] {
  const values: PositionValues[] = s.accepted.fractional ? ['integer', 'fractional'] : ['integer'];
  return s.supports.flatMap((kind) =>
    s.accepted.kinds.flatMap((positionKind) =>
      values.map((v) => make(POSITION_SAMPLES[positionKind][v], kind)),
    ),
  );
}

/** The sum of every hook output of every call (a scalar to take gradients of). */
function summed(encoding: PositionEncoding, calls: readonly HookCall[]): tf.Scalar {
  return tf.addN(
    calls.flatMap((c) => runHooks(encoding, c.inputs, c.ctx).map((o) => tf.sum(o.tensor))),
  ) as tf.Scalar;
}

function inputTensorNames(call: HookCall): [string, tf.Tensor][] {
  const { features, ...rest } = call.inputs;
  return [...Object.entries(rest), ...Object.entries(features)] as [string, tf.Tensor][];
}
