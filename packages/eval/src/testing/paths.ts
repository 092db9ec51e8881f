/** Paths of the package's test fixtures and of the CLI entry, for tests. */
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const FIXTURES_DIR = fileURLToPath(new URL('./fixtures/', import.meta.url));
export const WIKITEXT_FIXTURE = fileURLToPath(new URL('./fixtures/wikitext/', import.meta.url));
export const WORD_TOKENIZER_FIXTURE = fileURLToPath(
  new URL('./fixtures/word-tokenizer/tokenizer.json', import.meta.url),
);
export const EVAL_PACKAGE_DIR = fileURLToPath(new URL('../../', import.meta.url));
/** The repository's root folder. */
export const REPOSITORY_DIR = fileURLToPath(new URL('../../../../', import.meta.url));
export const CLI_ENTRY = fileURLToPath(new URL('../cli.ts', import.meta.url));

/** tsx's loader as a file URL, so `node --import` finds it from any working directory. */
export const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
/** What the official SQuAD scripts printed on the generated scoring cases. */
export const SQUAD_ORACLE_FIXTURE = fileURLToPath(
  new URL('./fixtures/squad-oracle/official-outputs.json', import.meta.url),
);
export const SQUAD_FIXTURES = fileURLToPath(new URL('./fixtures/squad/', import.meta.url));
export const WORDPIECE_TOKENIZER_FIXTURE = fileURLToPath(
  new URL('./fixtures/wordpiece-tokenizer/tokenizer.json', import.meta.url),
);
export const BYTELEVEL_TOKENIZER_FIXTURE = fileURLToPath(
  new URL('./fixtures/bytelevel-tokenizer/tokenizer.json', import.meta.url),
);
