/**
 * The scorer against the official SQuAD scripts: a table of hand cases transcribed from what
 * `evaluate-v1.1.py` and `evaluate-v2.0.py` return (Python 3.11), the scripts' recorded output on
 * 80 generated files (compared to 1e-9 and as printed text), and — where the scripts are
 * available (`POSENC_SQUAD_SCRIPTS`) — the scripts run live on further generated files.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  officialScriptsDir,
  OFFICIAL_SCRIPTS_ENV,
  runOfficialScript,
} from '../../../testing/official-squad-scripts.js';
import { SQUAD_ORACLE_FIXTURE } from '../../../testing/paths.js';
import { scoringCase, type ScoringCase } from '../../../testing/squad-scoring-cases.js';
import { UsageError } from '../../../usage-error.js';
import { exactMatch, f1V1, f1V2 } from './metrics.js';
import { normalizeAnswer } from './normalize.js';
import { evaluateV2 } from './official-v2.js';
import { pythonFloat } from './python-json.js';
import { keysInFileOrder, scoreSquadFiles } from './score-files.js';

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'posenc-squad-score-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** [prediction, ground truths, normalised prediction, v1.1 EM, v1.1 F1, v2.0 EM, v2.0 F1]. */
type HandCase = [string, string[], string, number, number, number, number];
const third = 2 / 3;
// prettier-ignore
const HAND_CASES: HandCase[] = [
  // articles at the edges, punctuation at the end
  ['The Denver Broncos', ['Denver Broncos'], 'denver broncos', 1, 1, 1, 1],
  ['Broncos.', ['Broncos'], 'broncos', 1, 1, 1, 1],
  // punctuation inside words is removed, joining the parts
  ["don't", ['dont'], 'dont', 1, 1, 1, 1],
  ['U.S.', ['US'], 'us', 1, 1, 1, 1],
  ['state-of-the-art', ['state of the art'], 'stateoftheart', 0, 0, 0, 0],
  ['1,000', ['1000'], '1000', 1, 1, 1, 1],
  ['the_cat', ['cat'], 'thecat', 0, 0, 0, 0],
  ['_the_', [''], '', 1, 0, 1, 1],
  // articles: whole words only, anywhere
  ['an apple', ['apple'], 'apple', 1, 1, 1, 1],
  ['theory of the atom', ['theory atom'], 'theory of atom', 0, 0.8, 0, 0.8],
  ['Athens', ['athens'], 'athens', 1, 1, 1, 1],
  ['anthe', ['an the'], 'anthe', 0, 0, 0, 0],
  ['the the the', ['the'], '', 1, 0, 1, 1],
  // answers that normalise to nothing: v1.1 F1 0, v2.0 F1 1 when both are empty
  ['a', ['an'], '', 1, 0, 1, 1],
  ['A.N.', ['the'], '', 1, 0, 1, 1],
  ['the', ['a'], '', 1, 0, 1, 1],
  // empty predictions
  ['', ['Denver'], '', 0, 0, 0, 0],
  ['', [''], '', 1, 0, 1, 1],
  ['Denver', [''], 'denver', 0, 0, 0, 0],
  // several ground truths: the best one counts
  ['Denver Broncos', ['Broncos', 'Denver Broncos team'], 'denver broncos', 0, 0.8, 0, 0.8],
  ['Denver Broncos', ['Carolina Panthers', 'the Denver Broncos'], 'denver broncos', 1, 1, 1, 1],
  // repeated tokens count with multiplicity
  ['the cat cat', ['cat'], 'cat cat', 0, third, 0, third],
  ['cat', ['the cat cat'], 'cat', 0, third, 0, third],
  ['New  York\tCity', ['new york city'], 'new york city', 1, 1, 1, 1],
  // unicode: case folding, word characters, Python's whitespace
  ['Café', ['café'], 'café', 1, 1, 1, 1],
  ['éthe cat', ['cat'], 'éthe cat', 0, third, 0, third],
  ['naïve the end', ['naïve end'], 'naïve end', 1, 1, 1, 1],
  ['ΟΔΟΣ', ['οδος'], 'οδος', 1, 1, 1, 1],
  ['the\u0301 cat', ['cat'], '\u0301 cat', 0, third, 0, third],
  ['Denver\u00a0Broncos', ['Denver Broncos'], 'denver broncos', 1, 1, 1, 1],
  ['a\u0085b', ['b'], 'b', 1, 1, 1, 1],
  ['x\ufeffy', ['x y'], 'x\ufeffy', 0, 0, 0, 0],
  ['x\u001fy', ['x y'], 'x y', 1, 1, 1, 1],
  ['İstanbul', ['istanbul'], 'i\u0307stanbul', 0, 0, 0, 0],
  ['Denver。', ['Denver'], 'denver。', 0, 0, 0, 0],
];

describe('SQuAD scoring: hand cases from the official scripts', () => {
  it.each(HAND_CASES)('%j against %j', (prediction, golds, normalized, em1, f11, em2, f12) => {
    expect(normalizeAnswer(prediction)).toBe(normalized);
    expect(Math.max(...golds.map((g) => exactMatch(prediction, g)))).toBe(em1);
    expect(Math.max(...golds.map((g) => f1V1(prediction, g)))).toBeCloseTo(f11, 12);
    expect(Math.max(...golds.map((g) => exactMatch(g, prediction)))).toBe(em2);
    expect(Math.max(...golds.map((g) => f1V2(g, prediction)))).toBeCloseTo(f12, 12);
  });

  it('prints floats as Python does', () => {
    expect(
      [100, 0, 66.66666666666667, 1e-5, 0.0001, 1e16, 1.5e-7, 123.25].map(pythonFloat),
    ).toEqual([
      '100.0',
      '0.0',
      '66.66666666666667',
      '1e-05',
      '0.0001',
      '1e+16',
      '1.5e-07',
      '123.25',
    ]);
  });

  it('reads no-answer probabilities in the file order, integer-like ids included', () => {
    expect(keysInFileOrder('{"b": 0.5, "10": 0.5, "a\\"x": 1, "2": 0.0, "b": 3}')).toEqual({
      order: ['b', '10', 'a"x', '2'],
      integers: new Set(['a"x', 'b']),
    });
  });

  it('v2.0: HasAns and NoAns apart, a no-answer probability over the threshold predicts no answer', () => {
    const questions = [
      { id: 'h1', answers: ['Denver Broncos'] },
      { id: 'h2', answers: ['1776'] },
      { id: 'n1', answers: [] },
      { id: 'n2', answers: [] },
    ];
    const predictions = new Map([
      ['h1', 'the Denver Broncos'],
      ['h2', '1776 and'],
      ['n1', ''],
      ['n2', 'Congress'],
    ]);
    const plain = evaluateV2(questions, predictions).scores;
    expect(plain['HasAns_exact']).toBe(50);
    expect(plain['HasAns_f1']).toBeCloseTo((100 * (1 + 2 / 3)) / 2, 12);
    expect(plain['NoAns_exact']).toBe(50);
    expect(plain['NoAns_total']).toBe(2);
    expect(plain['total']).toBe(4);
    expect('best_exact' in plain).toBe(false);
    const naProbs = new Map([
      ['h1', 0.1],
      ['h2', 0.2],
      ['n1', 0.9],
      ['n2', 2],
    ]);
    const thresholded = evaluateV2(questions, predictions, { naProbs }).scores;
    // n2's probability exceeds 1.0: predicted unanswerable, which is right.
    expect(thresholded['NoAns_exact']).toBe(100);
    expect(thresholded['best_exact']).toBe(75);
    expect(thresholded['best_exact_thresh']).toBe(0.1);
  });
});

interface Recorded {
  outputs: { version: '1.1' | '2.0'; seed: number; stdout: string }[];
}

async function scoreCase(c: ScoringCase, name: string) {
  const dir = join(scratch, name);
  const data = `${dir}-data.json`;
  const predictions = `${dir}-predictions.json`;
  const naProbs = `${dir}-na-probs.json`;
  await writeFile(data, JSON.stringify(c.data));
  await writeFile(predictions, JSON.stringify(c.predictions));
  if (c.naProbs) await writeFile(naProbs, JSON.stringify(c.naProbs));
  return scoreSquadFiles({
    data,
    predictions,
    ...(c.naProbs && { naProbs, naProbThreshold: c.naProbThreshold }),
  });
}

/** Largest difference between the numbers of two printed outputs with the same keys. */
function maxDifference(ours: string, official: string): number {
  const a = JSON.parse(ours) as Record<string, number>;
  const b = JSON.parse(official) as Record<string, number>;
  expect(Object.keys(a)).toEqual(Object.keys(b));
  return Math.max(...Object.keys(b).map((k) => Math.abs(a[k]! - b[k]!)));
}

describe('SQuAD scoring: the official scripts', () => {
  const recorded = JSON.parse(readFileSync(SQUAD_ORACLE_FIXTURE, 'utf8')) as Recorded;

  it('prints what the official scripts printed on every recorded case (to 1e-9, and as text)', async () => {
    expect(recorded.outputs.filter((o) => o.version === '2.0').length).toBeGreaterThan(0);
    let worst = 0;
    for (const o of recorded.outputs) {
      const ours = await scoreCase(scoringCase(o.seed, o.version), `rec-${o.version}-${o.seed}`);
      expect(ours.version).toBe(o.version);
      worst = Math.max(worst, maxDifference(ours.text, o.stdout));
      expect(ours.text, `v${o.version} seed ${o.seed}`).toBe(o.stdout);
    }
    expect(worst).toBeLessThanOrEqual(1e-9);
  });

  it.skipIf(!officialScriptsDir())(
    `prints what the scripts print on new cases (live; needs ${OFFICIAL_SCRIPTS_ENV})`,
    async () => {
      const dir = officialScriptsDir()!;
      for (const version of ['1.1', '2.0'] as const)
        for (let seed = 1000; seed < 1020; seed++) {
          const c = scoringCase(seed, version);
          const official = await runOfficialScript(dir, c);
          const ours = await scoreCase(c, `live-${version}-${seed}`);
          expect(maxDifference(ours.text, official.stdout)).toBeLessThanOrEqual(1e-9);
          expect(ours.text).toBe(official.stdout);
        }
    },
    // Forty Python runs; a loaded machine needs minutes (the test is opt-in).
    600_000,
  );

  it('names what a file it cannot score lacks', async () => {
    const bad = join(scratch, 'bad.json');
    const predictions = join(scratch, 'p.json');
    await writeFile(predictions, JSON.stringify({ q1: 'x' }));
    await writeFile(
      bad,
      JSON.stringify({
        version: '1.1',
        data: [{ paragraphs: [{ qas: [{ id: 'q1', answers: [{ text: 3 }] }] }] }],
      }),
    );
    await expect(scoreSquadFiles({ data: bad, predictions })).rejects.toThrow(UsageError);
    await expect(scoreSquadFiles({ data: bad, predictions })).rejects.toThrow(
      'data[0].paragraphs[0].qas[0].answers[0].text (question q1) is number 3; expected a string',
    );
    await writeFile(
      bad,
      JSON.stringify({
        version: '1.1',
        data: [{ paragraphs: [{ qas: [{ id: 'q1', answers: [{ text: 'x' }] }] }] }],
      }),
    );
    await writeFile(predictions, JSON.stringify({ q1: 7 }));
    await expect(scoreSquadFiles({ data: bad, predictions })).rejects.toThrow(
      'the prediction for q1 is number 7; expected a string',
    );
    await writeFile(predictions, JSON.stringify({ q1: 'x' }));
    await expect(scoreSquadFiles({ data: bad, predictions, naProbs: predictions })).rejects.toThrow(
      /--na-probs applies to SQuAD 2.0 data/,
    );
  });
});
