/**
 * `posenc score squad` through the CLI: the official script's JSON on stdout, its messages on
 * stderr, SQuAD 2.0's fields for a 2.0 file (HasAns and NoAns apart, the best thresholds with
 * --na-probs), and usage mistakes as one line with exit code 2.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CapturedStream } from '../testing/capture.js';
import { main } from './main.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'posenc-score-'));
  const qa = (id: string, answers: string[], impossible?: boolean) => ({
    id,
    question: `q ${id}`,
    answers: answers.map((text) => ({ text, answer_start: 0 })),
    ...(impossible !== undefined && { is_impossible: impossible }),
  });
  const file = (version: string, qas: unknown[]) =>
    JSON.stringify({ version, data: [{ title: 't', paragraphs: [{ context: 'c', qas }] }] });
  await writeFile(
    join(dir, 'v1.json'),
    file('1.1', [qa('a', ['Denver Broncos']), qa('b', ['1776', 'July 4, 1776']), qa('c', ['x'])]),
  );
  await writeFile(
    join(dir, 'v1-pred.json'),
    JSON.stringify({ a: 'the Denver Broncos', b: 'July 1776' }),
  );
  await writeFile(
    join(dir, 'v2.json'),
    file('v2.0', [qa('h', ['Congress'], false), qa('n', [], true)]),
  );
  await writeFile(join(dir, 'v2-pred.json'), JSON.stringify({ h: 'Congress', n: 'Senate' }));
  await writeFile(join(dir, 'v2-na.json'), JSON.stringify({ h: 0.2, n: 0.7 }));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function run(args: string[]) {
  const stdout = new CapturedStream();
  const stderr = new CapturedStream();
  const code = await main(args, { stdout, stderr, baseDir: dir });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

describe('posenc score squad', () => {
  it('v1.1: exact_match and f1 as the script prints them, unanswered questions on stderr', async () => {
    const r = await run(['score', 'squad', '--data', 'v1.json', '--predictions', 'v1-pred.json']);
    expect(r.code).toBe(0);
    // a: 1/1; b: max(F1 vs "1776" = 2/3, vs "July 4, 1776" = 0.8); c: unanswered → 0.
    // The official script prints exactly this line for these files.
    expect(r.stdout.trim()).toBe('{"exact_match": 33.333333333333336, "f1": 60.0}');
    expect(r.stderr).toContain('Unanswered question c will receive score 0.');
  });

  it('v2.0: HasAns and NoAns apart; with --na-probs the best thresholds', async () => {
    const plain = await run([
      'score',
      'squad',
      '--data',
      'v2.json',
      '--predictions',
      'v2-pred.json',
    ]);
    expect(plain.code).toBe(0);
    expect(JSON.parse(plain.stdout)).toEqual({
      exact: 50,
      f1: 50,
      total: 2,
      HasAns_exact: 100,
      HasAns_f1: 100,
      HasAns_total: 1,
      NoAns_exact: 0,
      NoAns_f1: 0,
      NoAns_total: 1,
    });
    expect(plain.stdout).toContain('  "exact": 50.0,\n');
    const withProbs = await run([
      'score',
      'squad',
      '--data',
      'v2.json',
      '--predictions',
      'v2-pred.json',
      '--na-probs',
      'v2-na.json',
      '--na-prob-thresh',
      '0.5',
    ]);
    // n's probability 0.7 > 0.5: predicted unanswerable, so NoAns is right.
    expect(JSON.parse(withProbs.stdout)).toMatchObject({
      exact: 100,
      NoAns_exact: 100,
      best_exact: 100,
      best_exact_thresh: 0.2,
    });
  });

  it('usage mistakes exit 2 with one line', async () => {
    const cases: [string[], RegExp][] = [
      [['score', 'chess'], /^posenc: score: unknown task "chess"; tasks: squad/],
      [['score', 'squad', '--predictions', 'v1-pred.json'], /--data FILE is required/],
      [
        ['score', 'squad', '--data', 'v1.json', '--predictions', 'nope.json'],
        /--predictions .*nope\.json: cannot read it/,
      ],
      [
        ['score', 'squad', '--data', 'v1.json', '--predictions', 'v1-pred.json', '--bogus', '1'],
        /unknown option --bogus/,
      ],
      [
        [
          'score',
          'squad',
          '--data',
          'v2.json',
          '--predictions',
          'v2-pred.json',
          '--na-probs',
          'v2-na.json',
          '--na-prob-thresh',
          'half',
        ],
        /--na-prob-thresh "half" is not allowed/,
      ],
    ];
    for (const [args, pattern] of cases) {
      const r = await run(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr.trim()).toMatch(pattern);
    }
    const help = await run(['score', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('usage: posenc score squad');
  });
});
