/**
 * Runs the official SQuAD evaluation scripts (`evaluate-v1.1.py`, `evaluate-v2.0.py`, not part of
 * this repository: their licence is not stated) with `/usr/bin/python3` on a scoring case, for
 * the live oracle test and for recording the outputs the CI test compares against. The folder
 * holding them is `POSENC_SQUAD_SCRIPTS`.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ScoringCase } from './squad-scoring-cases.js';

export const OFFICIAL_SCRIPTS_ENV = 'POSENC_SQUAD_SCRIPTS';
export const PYTHON = '/usr/bin/python3';

export function officialScriptsDir(): string | undefined {
  const dir = process.env[OFFICIAL_SCRIPTS_ENV];
  return dir &&
    existsSync(join(dir, 'evaluate-v1.1.py')) &&
    existsSync(join(dir, 'evaluate-v2.0.py')) &&
    existsSync(PYTHON)
    ? dir
    : undefined;
}

export interface OfficialOutput {
  /** The script's stdout, as printed. */
  stdout: string;
}

/** The v2.0 script imports numpy for its plots only; a stub lets it run without numpy. */
const NUMPY_STUB = 'import sys, types; sys.modules.setdefault("numpy", types.ModuleType("numpy"))';

/** Writes the case's files to a temp folder and runs its version's script on them. */
export async function runOfficialScript(dir: string, c: ScoringCase): Promise<OfficialOutput> {
  const scratch = await mkdtemp(join(tmpdir(), 'posenc-squad-oracle-'));
  try {
    const data = join(scratch, 'data.json');
    const predictions = join(scratch, 'predictions.json');
    await writeFile(data, JSON.stringify(c.data));
    await writeFile(predictions, JSON.stringify(c.predictions));
    let args: string[];
    if (c.version === '1.1') args = [join(dir, 'evaluate-v1.1.py'), data, predictions];
    else {
      const naProbs = join(scratch, 'na-probs.json');
      await writeFile(naProbs, JSON.stringify(c.naProbs));
      const script = join(dir, 'evaluate-v2.0.py');
      args = [
        '-c',
        `${NUMPY_STUB}; sys.argv = sys.argv[1:]; import runpy; runpy.run_path(sys.argv[0], run_name="__main__")`,
        script,
        data,
        predictions,
        '--na-prob-file',
        naProbs,
        '--na-prob-thresh',
        String(c.naProbThreshold ?? 1.0),
      ];
    }
    const stdout = execFileSync(PYTHON, args, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return { stdout: stdout.trimEnd() };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
