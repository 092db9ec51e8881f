/**
 * `--corpus sotu | wikitext:DIR | file:PATH`. Relative paths are resolved against `baseDir` (the
 * directory the user ran the command in).
 */
import { resolve } from 'node:path';
import { UsageError } from '../usage-error.js';
import type { Corpus } from './corpus.js';
import { loadSotu } from './sotu.js';
import { loadTextFile } from './text-file.js';
import { loadWikiText } from './wikitext.js';

export const CORPUS_FORMS = 'sotu, wikitext:DIR or file:PATH';

export async function loadCorpus(spec: string, baseDir: string): Promise<Corpus> {
  if (spec === 'sotu') return loadSotu();
  const colon = spec.indexOf(':');
  const kind = colon < 0 ? spec : spec.slice(0, colon);
  const path = colon < 0 ? '' : spec.slice(colon + 1);
  if ((kind === 'wikitext' || kind === 'file') && path === '')
    throw new UsageError(`--corpus ${spec}: a path is missing after '${kind}:'`);
  if (kind === 'wikitext') return loadWikiText(resolve(baseDir, path));
  if (kind === 'file') return loadTextFile(resolve(baseDir, path));
  throw new UsageError(
    `--corpus ${JSON.stringify(spec)} is not a corpus; expected ${CORPUS_FORMS}`,
  );
}
