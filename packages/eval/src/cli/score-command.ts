/**
 * `posenc score squad`: scores a predictions file (question id → answer text) against a SQuAD
 * file exactly as the official script of the file's version does, and prints the same JSON, so
 * predictions of a model trained anywhere can be scored here. The script's stderr messages
 * (unanswered questions, an unexpected version) go to stderr.
 */
import { resolve } from 'node:path';
import { parseDecimal } from '../run/numbers.js';
import { scoreSquadFiles } from '../harnesses/squad/scoring/score-files.js';
import { UsageError } from '../usage-error.js';
import { parseFlags } from './args.js';

export const SCORE_TASKS = ['squad'] as const;

export function scoreHelp(): string {
  return `usage: posenc score squad --data FILE --predictions FILE [--na-probs FILE] [--na-prob-thresh P]

Scores predictions as the official SQuAD evaluation scripts do and prints their JSON:
  SQuAD 1.1 data (evaluate-v1.1.py):  {"exact_match": …, "f1": …}
  SQuAD 2.0 data (evaluate-v2.0.py):  exact, f1, total, HasAns_*, NoAns_*; with --na-probs
                                      also best_exact, best_f1 and their thresholds
The version is the data file's: "version": "v2.0" or any is_impossible field means 2.0.

  --data FILE            the SQuAD JSON (dev-v1.1.json, dev-v2.0.json, a run's dev file)
  --predictions FILE     JSON object: question id → predicted answer text ("" = no answer)
  --na-probs FILE        SQuAD 2.0: JSON object: question id → probability of no answer
  --na-prob-thresh P     SQuAD 2.0: predict no answer above this probability (default 1.0)
  -h, --help             this help`;
}

export interface ScoreOutput {
  stdout: string;
  stderr: string[];
}

export async function scoreCommand(args: readonly string[], baseDir: string): Promise<ScoreOutput> {
  const [task, ...rest] = args;
  if (task !== 'squad')
    throw new UsageError(
      `score: unknown task ${JSON.stringify(task ?? '')}; tasks: ${SCORE_TASKS.join(', ')} (posenc score --help)`,
    );
  const flags = parseFlags(
    rest,
    [
      { flag: 'data', takesValue: true },
      { flag: 'predictions', takesValue: true },
      { flag: 'na-probs', takesValue: true },
      { flag: 'na-prob-thresh', takesValue: true },
    ],
    'posenc score squad --help',
  );
  const path = (flag: string): string | undefined => {
    const v = flags.get(flag);
    return typeof v === 'string' ? resolve(baseDir, v) : undefined;
  };
  const data = path('data');
  const predictions = path('predictions');
  if (data === undefined) throw new UsageError('score squad: --data FILE is required');
  if (predictions === undefined)
    throw new UsageError('score squad: --predictions FILE is required');
  const threshold = flags.get('na-prob-thresh');
  const naProbs = path('na-probs');
  const outcome = await scoreSquadFiles({
    data,
    predictions,
    ...(naProbs !== undefined && { naProbs }),
    ...(typeof threshold === 'string' && {
      naProbThreshold: parseDecimal('--na-prob-thresh', threshold, {}),
    }),
  });
  return { stdout: outcome.text, stderr: outcome.messages };
}
