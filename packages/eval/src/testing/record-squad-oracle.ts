/**
 * Records what the official SQuAD scripts print for the generated scoring cases, into the
 * fixture the CI test compares our scorer with (the scripts themselves are not in the
 * repository). Run where the scripts are:
 *
 *   POSENC_SQUAD_SCRIPTS=/path/to/scripts npx tsx --conditions=@posenc/source \
 *     packages/eval/src/testing/record-squad-oracle.ts
 */
import { writeFile } from 'node:fs/promises';
import {
  officialScriptsDir,
  OFFICIAL_SCRIPTS_ENV,
  runOfficialScript,
} from './official-squad-scripts.js';
import { SQUAD_ORACLE_FIXTURE } from './paths.js';
import { scoringCase } from './squad-scoring-cases.js';

/** Seeds of the recorded cases, per version. */
export const RECORDED_SEEDS = Array.from({ length: 40 }, (_, i) => i);

async function record(): Promise<void> {
  const dir = officialScriptsDir();
  if (!dir)
    throw new Error(
      `set ${OFFICIAL_SCRIPTS_ENV} to the folder of evaluate-v1.1.py and evaluate-v2.0.py`,
    );
  const outputs: { version: string; seed: number; stdout: string }[] = [];
  for (const version of ['1.1', '2.0'] as const)
    for (const seed of RECORDED_SEEDS)
      outputs.push({
        version,
        seed,
        stdout: (await runOfficialScript(dir, scoringCase(seed, version))).stdout,
      });
  await writeFile(
    SQUAD_ORACLE_FIXTURE,
    JSON.stringify(
      {
        about:
          'stdout of the official SQuAD evaluate-v1.1.py / evaluate-v2.0.py (Python 3.11) on the cases scoringCase(seed, version) of src/testing/squad-scoring-cases.ts generates; written by src/testing/record-squad-oracle.ts',
        outputs,
      },
      null,
      1,
    ) + '\n',
  );
  console.log(`${outputs.length} outputs → ${SQUAD_ORACLE_FIXTURE}`);
}

if (process.argv[1]?.endsWith('record-squad-oracle.ts')) await record();
