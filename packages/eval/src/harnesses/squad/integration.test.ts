/**
 * `posenc bench squad` end to end on tiny settings: the three outputs, the embedded set written
 * to the run folder as SQuAD JSON, per-cell predictions that `posenc score squad` scores to the
 * cell's figures; SQuAD 2.0 files and a file with bad offsets (skipped and reported); a malformed
 * file refused with exit 2; and `--init` from a tiny RoFormer saved in Hugging Face's names
 * (loaded through @posenc/roformer, then fine-tuned) and from one of our own checkpoints.
 */
import { decodeToFloat32, readSafetensorsFile } from '@posenc/core';
import { RoFormer, saveHFConfig, saveHFRoFormer } from '@posenc/roformer';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../cli/main.js';
import type { BenchResults } from '../../run/results.js';
import { CapturedStream } from '../../testing/capture.js';
import { SQUAD_FIXTURES } from '../../testing/paths.js';
import type { SquadConfig } from './config.js';
import { loadSquadData } from './data.js';
import type { SquadDetails } from './evaluate.js';
import { squadRows } from './methods.js';
import { SQUAD_PRESETS } from './presets.js';
import { engineAndRunRoot } from '../../testing/run-root.js';

const root = engineAndRunRoot('wasm', 'posenc-squad-');

async function posenc(args: string[]) {
  const stdout = new CapturedStream();
  const stderr = new CapturedStream();
  const code = await main(args, { stdout, stderr, baseDir: root() });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

const TINY = [
  '--preset',
  'quick',
  '--steps',
  '8',
  '--batch',
  '4',
  '--dim',
  '16',
  '--layers',
  '1',
  '--heads',
  '2',
  '--max-len',
  '64',
  '--max-question',
  '16',
  '--doc-stride',
  '32',
];
const readResults = async (dir: string) =>
  JSON.parse(await readFile(join(dir, 'results.json'), 'utf8')) as BenchResults<SquadConfig>;

/** The embedded-set run, made once: its own test reads it, and --init starts from one of its cells. */
let sotuRun: ReturnType<typeof posenc> | undefined;
const embeddedRun = () =>
  (sotuRun ??= posenc([
    'bench',
    'squad',
    ...TINY,
    '--sotu-train',
    '60',
    '--sotu-dev',
    '12',
    '--methods',
    'learned,alibi',
    '--out',
    'sotu',
  ]));

describe('posenc bench squad, tiny runs', () => {
  it('the embedded set: three outputs, the set as SQuAD JSON, predictions the scorer scores to the same figures', async () => {
    const run = await embeddedRun();
    expect(run.code, run.stderr).toBe(0);
    const dir = join(root(), 'sotu');
    for (const f of ['results.json', 'report.md', 'report.html', 'train.json', 'dev.json'])
      expect(existsSync(join(dir, f)), f).toBe(true);
    const results = await readResults(dir);
    expect(results.format).toBe('posenc-bench/squad/1');
    expect(results.cells.map((c) => c.method)).toEqual(['learned', 'alibi']);
    for (const cell of results.cells) {
      for (const k of ['exact', 'f1']) expect(Number.isFinite(cell.metrics[k])).toBe(true);
      const details = cell.details as unknown as SquadDetails;
      const scored = await posenc([
        'score',
        'squad',
        '--data',
        join(dir, 'dev.json'),
        '--predictions',
        details.predictionsFile,
      ]);
      expect(scored.code, scored.stderr).toBe(0);
      const official = JSON.parse(scored.stdout) as { exact_match: number; f1: number };
      expect(official.exact_match).toBeCloseTo(cell.metrics['exact']!, 12);
      expect(official.f1).toBeCloseTo(cell.metrics['f1']!, 12);
    }
    const report = await readFile(join(dir, 'report.md'), 'utf8');
    expect(report).toContain('## Exact match and F1');
    expect(report).toContain(
      '| relative_key_query | BERT-base, key-query relative (Huang et al. Method 4) | 83.68 | 90.55 |',
    );
    expect(report).toContain('## F1 by context length');
  });

  it('SQuAD 2.0 files: HasAns and NoAns scored apart, the null odds written', async () => {
    const v2 = join(SQUAD_FIXTURES, 'mini-v2.0.json');
    const run = await posenc([
      'bench',
      'squad',
      ...TINY,
      '--train',
      v2,
      '--dev',
      v2,
      '--methods',
      'alibi',
      '--out',
      'v2',
    ]);
    expect(run.code, run.stderr).toBe(0);
    const [cell] = (await readResults(join(root(), 'v2'))).cells;
    const details = cell!.details as unknown as SquadDetails;
    expect(details.version).toBe('2.0');
    expect(details.official['HasAns_total']).toBe(12);
    expect(details.official['NoAns_total']).toBe(2);
    expect(existsSync(join(root(), 'v2', 'cells', 'alibi', 'seed-0', 'na-probs.json'))).toBe(true);
    expect(await readFile(join(root(), 'v2', 'report.md'), 'utf8')).toContain(
      'SQuAD 2.0: answerable and unanswerable questions',
    );
  });

  it('a bad offset is skipped and reported with its id; a malformed file is refused', async () => {
    const bad = join(SQUAD_FIXTURES, 'bad-offsets-v1.1.json');
    const run = await posenc([
      'bench',
      'squad',
      ...TINY,
      '--train',
      bad,
      '--dev',
      bad,
      '--methods',
      'alibi',
      '--out',
      'bad',
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(
      /2 question\(s\) skipped, e\.g\. fx-0 \(answers\[0\] "Denver Broncos" does not match/,
    );
    const results = await readResults(join(root(), 'bad'));
    expect(results.data).toMatchObject({ dev: { questions: 12, usable: 10, skipped: 2 } });
    expect(await readFile(join(root(), 'bad', 'report.md'), 'utf8')).toContain(
      'fx-4: answers[0].answer_start is missing',
    );
    const malformed = join(SQUAD_FIXTURES, 'malformed.json');
    const refused = await posenc([
      'bench',
      'squad',
      ...TINY,
      '--train',
      malformed,
      '--dev',
      malformed,
      '--out',
      'malformed',
    ]);
    expect(refused.code).toBe(2);
    expect(refused.stderr.trim()).toMatch(
      /^posenc: --train .*malformed\.json: data\[0\]\.paragraphs\[0\]\.qas\[0\]\.id is missing; expected a string$/,
    );
    expect(existsSync(join(root(), 'malformed'))).toBe(false);
  });

  it('--init: a tiny RoFormer saved in HF names loads through roformer and fine-tunes; our checkpoint loads too', async () => {
    const hf = join(root(), 'tiny-roformer');
    await mkdir(hf, { recursive: true });
    const saved = new RoFormer({
      vocabSize: 259,
      hiddenSize: 16,
      layers: 1,
      heads: 2,
      mlmHead: true,
      seed: 7,
      hiddenDropout: 0,
    });
    await saveHFRoFormer(saved, join(hf, 'model.safetensors'));
    await saveHFConfig(saved.config, join(hf, 'config.json'));
    const savedEmbedding = saved.parameters()['embed.tokens.weight']!.dataSync().slice();
    saved.dispose();

    // The cell's model starts from the checkpoint's weights, not its own initialisation.
    const config: SquadConfig = {
      ...SQUAD_PRESETS['quick']!.config,
      sotu: { trainQuestions: 20, devQuestions: 4, maxContextChars: 200, questionWords: 3 },
      maxLength: 64,
      maxQuestion: 16,
      docStride: 32,
      init: hf,
    };
    const data = await loadSquadData(config);
    const rope = (await squadRows()).find((r) => r.name === 'rope')!;
    const session = (await rope.prepare())({ config, data, seed: 0 });
    expect(Array.from(session.parameters()['embed.tokens.weight']!.dataSync())).toEqual(
      Array.from(savedEmbedding),
    );
    expect(session.notes.join(' ')).toMatch(
      /RoFormer loaded from .*model\.safetensors through @posenc\/roformer/,
    );
    session.dispose();

    const run = await posenc([
      'bench',
      'squad',
      ...TINY,
      '--sotu-train',
      '40',
      '--sotu-dev',
      '8',
      '--methods',
      'rope',
      '--init',
      hf,
      '--out',
      'init',
    ]);
    expect(run.code, run.stderr).toBe(0);
    const [cell] = (await readResults(join(root(), 'init'))).cells;
    expect(cell!.notes?.join(' ') ?? JSON.stringify(cell)).toMatch(/RoFormer loaded from/);
    // Fine-tuned: the trained embedding moved away from the checkpoint's.
    const checkpoints = join(root(), 'init', 'cells', 'rope', 'seed-0', 'checkpoints');
    const pointer = JSON.parse(await readFile(join(checkpoints, 'latest.json'), 'utf8')) as {
      folder: string;
    };
    const trained = await readSafetensorsFile(
      join(checkpoints, pointer.folder, 'model.safetensors'),
    );
    const after = decodeToFloat32(trained.tensors.get('embed.tokens.weight')!);
    expect(after.length).toBe(savedEmbedding.length);
    expect(after.some((v, i) => v !== savedEmbedding[i])).toBe(true);

    // Another method cannot start from a RoFormer checkpoint.
    const other = await posenc([
      'bench',
      'squad',
      ...TINY,
      '--methods',
      'learned',
      '--init',
      hf,
      '--out',
      'init-learned',
    ]);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/only the rope row starts from it/);

    // Our own checkpoint: a finished cell's checkpoints folder.
    expect((await embeddedRun()).code).toBe(0);
    const ours = await posenc([
      'bench',
      'squad',
      ...TINY,
      '--sotu-train',
      '40',
      '--sotu-dev',
      '8',
      '--methods',
      'alibi',
      '--init',
      join(root(), 'sotu', 'cells', 'alibi', 'seed-0', 'checkpoints'),
      '--out',
      'init-ours',
    ]);
    expect(ours.code, ours.stderr).toBe(0);
    const [oursCell] = (await readResults(join(root(), 'init-ours'))).cells;
    expect(JSON.stringify(oursCell)).toMatch(/initialised from .*model\.safetensors: \d+ tensors/);
  });
});
