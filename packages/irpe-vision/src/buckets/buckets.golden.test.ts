/**
 * The piecewise index and the bucket ids against the official code's outputs: every case of
 * `golden/irpe` of that kind, read with its own settings; ids must match exactly.
 */
import { goldenCaseFiles, goldenEntry, goldenValues, readGoldenCase } from '@posenc/core/testing';
import { describe, expect, it } from 'vitest';
import { bucketFunctionsOf, bucketIds, tableBuckets, type IrpeMethod } from './bucket-ids.js';
import { piecewiseIndex, type PiecewiseCoefficients } from './piecewise-index.js';

const FOLDER = 'irpe';
const files = goldenCaseFiles(FOLDER);

interface BucketCaseConfig extends PiecewiseCoefficients {
  method: IrpeMethod;
  height: number;
  width: number;
  skip: number;
}

describe('piecewise index g (Eq. 18) equals the official piecewise_index', () => {
  const cases = files.filter((f) => f.startsWith('piecewise_'));
  it('has cases', () => expect(cases.length).toBeGreaterThan(0));
  for (const file of cases)
    it(file, async () => {
      const golden = await readGoldenCase(FOLDER, file);
      const c = golden.config as unknown as PiecewiseCoefficients;
      const x = goldenValues(goldenEntry(golden, 'relative_position'));
      const expected = [...goldenValues(goldenEntry(golden, 'expected_index'))];
      expect([...x].map((v) => piecewiseIndex(v, c))).toEqual(expected);
    });
});

describe('bucket ids of the 2D methods equal the official get_bucket_ids_2d', () => {
  const cases = files.filter((f) => f.startsWith('buckets_'));
  it('has cases', () => expect(cases.length).toBeGreaterThan(0));
  for (const file of cases)
    it(file, async () => {
      const golden = await readGoldenCase(FOLDER, file);
      const config = golden.config as unknown as BucketCaseConfig;
      const { method, height, width, skip } = config;
      const functions = bucketFunctionsOf(method);
      // Cross stores one table per axis (`_rows`, `_cols`); the others one table.
      const suffixes = functions.length === 1 ? [''] : ['_rows', '_cols'];
      functions.forEach((fn, i) => {
        const ids = bucketIds(fn, config, height, width, skip);
        const expected = goldenValues(goldenEntry(golden, `expected_bucket_ids${suffixes[i]}`));
        expect(ids.length).toBe(expected.length);
        expect([...ids]).toEqual([...expected]);
        const count = goldenValues(goldenEntry(golden, `num_buckets${suffixes[i]}`))[0];
        expect(tableBuckets(fn, config, skip)).toBe(count);
      });
    });
});
