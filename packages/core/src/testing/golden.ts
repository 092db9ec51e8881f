/**
 * Locates the shared golden vectors for every package's tests. The repository is checked out as
 * `<dir>/main` with `<dir>/shared` beside it, locally and in CI alike; `POSENC_GOLDEN_DIR`
 * overrides the location of `shared/golden`.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** From `packages/core/src/testing/` (or `dist/testing/`) up to `<dir>`, then into `shared/golden`. */
const DEFAULT_GOLDEN_DIR = fileURLToPath(new URL('../../../../../shared/golden/', import.meta.url));

/** Path of a file or folder under the golden directory; throws if it does not exist. */
export function goldenPath(...parts: string[]): string {
  const override = process.env['POSENC_GOLDEN_DIR'];
  const root = override || DEFAULT_GOLDEN_DIR;
  const path = join(root, ...parts);
  if (!existsSync(path)) {
    const source = override ? 'from POSENC_GOLDEN_DIR' : 'beside the repository checkout';
    throw new Error(
      `golden path not found: ${path} (golden directory ${root}, ${source}); ` +
        'check out the shared folder beside the repository or set POSENC_GOLDEN_DIR to its golden/ folder',
    );
  }
  return path;
}
