/**
 * `describeEncodingConformance(definition, cases)`: registers the conformance checks of every
 * case as vitest tests. Each package calls it in its tests for every encoding it registers.
 */
import { beforeAll, describe, it } from 'vitest';
import { tf } from '../../engine/tf.js';
import type { EncodingDefinition } from '../../encoding/registry.js';
import { conformanceChecks, type ConformanceCase } from './checks.js';

export function describeEncodingConformance(
  definition: EncodingDefinition,
  cases: readonly ConformanceCase[],
): void {
  describe(`the '${definition.name}' encoding conforms to the encoding contract`, () => {
    beforeAll(async () => {
      // The reference backend: finite differences need its float32 arithmetic, not a fast path's.
      await tf.setBackend('cpu');
    });
    if (cases.length === 0)
      it('has configs to check', () => {
        throw new Error(`no conformance cases given for encoding '${definition.name}'`);
      });
    for (const testCase of cases)
      describe(caseLabel(testCase), () => {
        let checks: ReturnType<typeof conformanceChecks>;
        try {
          checks = conformanceChecks(definition, testCase);
        } catch (e) {
          it('is a valid config', () => {
            throw e;
          });
          return;
        }
        for (const check of checks) it(check.title, () => check.run());
      });
  });
}

function caseLabel(testCase: ConformanceCase): string {
  const attention = testCase.causal === false ? 'non-causal' : 'causal';
  return `config ${JSON.stringify(testCase.config)}, ${attention} attention`;
}
