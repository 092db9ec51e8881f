/**
 * Registers the conformance checks as vitest tests: for one encoding's cases, or for every
 * encoding a package registers (which each package's tests do).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../engine/tf.js';
import { listEncodings, type EncodingDefinition } from '../../encoding/registry.js';
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

/**
 * The conformance of every encoding registered by `packageName` (import the package first), with
 * the cases given per encoding name; a registered encoding without cases fails, as does a case
 * for a name the package does not register.
 */
export function describePackageConformance(
  packageName: string,
  cases: Readonly<Record<string, readonly ConformanceCase[]>>,
): void {
  const registered = listEncodings().filter((d) => d.package === packageName);
  describe(`the encodings ${packageName} registers`, () => {
    it('all have conformance cases, and every case names one of them', () => {
      expect(registered.length, `${packageName} registers no encoding`).toBeGreaterThan(0);
      expect(Object.keys(cases).sort()).toEqual(registered.map((d) => d.name).sort());
    });
  });
  for (const definition of registered)
    describeEncodingConformance(definition, cases[definition.name] ?? []);
}

function caseLabel(testCase: ConformanceCase): string {
  const attention = testCase.causal === false ? 'non-causal' : 'causal';
  return `config ${JSON.stringify(testCase.config)}, ${attention} attention`;
}
