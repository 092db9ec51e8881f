/**
 * `npm run demo`: trains the tiny LM once per reference encoding on the embedded State of the
 * Union text and prints the loss curves against the text's unigram entropy.
 *
 *   npm run demo -- --steps 300 --encodings none,alibi
 */
import { parseArgs } from 'node:util';
import { initEngine } from '../engine/select.js';
import { sotuText } from '../data/sotu.js';
import { trainTinyLM, type TinyLMResult } from './tiny-lm.js';
import { REFERENCE_ENCODING_NAMES } from '../encodings/index.js';

const USAGE = `usage: npm run demo -- [--steps N] [--encodings a,b,...] [--seed N]
  --steps      optimizer steps per encoding (default 300)
  --encodings  comma-separated reference encodings (default: all: ${REFERENCE_ENCODING_NAMES.join(',')})
  --seed       run seed (default 0)`;

function fail(message: string): never {
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(2);
}

function positiveInt(field: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    fail(`--${field} = ${JSON.stringify(value)} is not allowed; expected an integer ≥ 1`);
  return n;
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        steps: { type: 'string', default: '300' },
        encodings: { type: 'string', default: REFERENCE_ENCODING_NAMES.join(',') },
        seed: { type: 'string', default: '0' },
        help: { type: 'boolean', default: false },
      },
    }));
  } catch (e) {
    fail((e as Error).message);
  }
  if (values.help) {
    process.stdout.write(USAGE + '\n');
    return;
  }
  const steps = positiveInt('steps', values.steps);
  const seed = Number(values.seed);
  if (!Number.isInteger(seed) || seed < 0)
    fail(`--seed = ${JSON.stringify(values.seed)} is not allowed; expected an integer ≥ 0`);
  const names = values.encodings.split(',').filter(Boolean);
  for (const n of names)
    if (!REFERENCE_ENCODING_NAMES.includes(n))
      fail(
        `--encodings: '${n}' is not a reference encoding; allowed: ${REFERENCE_ENCODING_NAMES.join(', ')}`,
      );

  await initEngine();
  const text = sotuText(1790, 1800);
  const results: TinyLMResult[] = [];
  for (const name of names) {
    const result = await trainTinyLM({
      encoding: { name },
      text,
      steps,
      seed,
      onProgress: (e) => {
        if ((e.step + 1) % 50 === 0 || e.step + 1 === e.totalSteps)
          process.stderr.write(
            `${name.padEnd(18)} step ${String(e.step + 1).padStart(4)}/${e.totalSteps}  loss ${e.loss.toFixed(3)}  ` +
              `${Math.round(e.tokensPerSecond ?? 0)} tok/s\n`,
          );
      },
    });
    results.push(result);
  }
  printCurves(results, steps, text.length);
}

/** Loss (nats/byte, mean over the preceding window of steps) per encoding, every 10% of training. */
function printCurves(results: TinyLMResult[], steps: number, bytes: number): void {
  const entropy = results[0]!.unigramEntropy;
  const points = Array.from({ length: 10 }, (_, i) =>
    Math.max(1, Math.round(((i + 1) * steps) / 10)),
  );
  const window = Math.max(1, Math.round(steps / 20));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const out: string[] = [];
  out.push(
    `\nTraining loss, nats per byte (text: ${bytes} bytes, unigram entropy ${entropy.toFixed(3)})\n`,
  );
  out.push(['step'.padStart(6), ...results.map((r) => r.encoding.padStart(20))].join(''));
  for (const p of points)
    out.push(
      [
        String(p).padStart(6),
        ...results.map((r) =>
          mean(r.losses.slice(Math.max(0, p - window), p))
            .toFixed(3)
            .padStart(20),
        ),
      ].join(''),
    );
  out.push(
    [
      'tok/s'.padStart(6),
      ...results.map((r) => String(Math.round(r.tokensPerSecond)).padStart(20)),
    ].join(''),
  );
  process.stdout.write(out.join('\n') + '\n');
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
