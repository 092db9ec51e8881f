/**
 * ONNX Runtime's own profile through the session cache: real sessions write real profile files,
 * and the summary finds every run and node of the graph that ran.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { OnnxGraph } from '../onnx/model.js';
import { readNodeProfiles } from './node-profile.js';
import { SessionCache } from './session-cache.js';

const addThenNeg: OnnxGraph = {
  nodes: [
    { op: 'Add', inputs: ['x', 'x'], outputs: ['twice'] },
    { op: 'Neg', inputs: ['twice'], outputs: ['y'] },
  ],
  inputs: [{ name: 'x', type: 'float32' }],
  outputs: [{ name: 'y', type: 'float32' }],
};

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function runTimes(cache: SessionCache, key: string, times: number): Float32Array {
  const y = new Float32Array(4);
  for (let i = 0; i < times; i++)
    cache
      .get(key, () => addThenNeg)
      .run(
        [{ type: 'float32', dims: [4], data: Float32Array.of(1, 2, 3, 4) }],
        [{ type: 'float32', dims: [4], data: y }],
      );
  return y;
}

describe('SessionCache profiling', () => {
  it("records each run's node times into a file per session, read back per graph", () => {
    const dir = mkdtempSync(join(tmpdir(), 'posenc-node-profile-'));
    dirs.push(dir);
    const cache = new SessionCache({ threads: 1, spinning: false });
    runTimes(cache, 'before', 2); // built before profiling: dropped, not profiled
    cache.startProfiling(dir);
    expect(Array.from(runTimes(cache, 'graph-a', 3))).toEqual([-2, -4, -6, -8]);
    runTimes(cache, 'graph-b', 5);
    cache.get('built-never-run', () => addThenNeg);
    const sessions = cache.stopProfiling();
    expect(sessions.map((s) => s.key)).toEqual(['graph-a', 'graph-b', 'built-never-run']);
    expect(readdirSync(dir).filter((f) => f.endsWith('.json'))).toHaveLength(3);

    const profiles = readNodeProfiles(sessions);
    expect(profiles.map((p) => [p.key, p.runs])).toEqual([
      ['graph-a', 3],
      ['graph-b', 5],
    ]);
    for (const p of profiles) {
      expect(p.nodes.map((n) => n.op)).toEqual(['Add', 'Neg']);
      expect(p.medianRunUs).toBeGreaterThan(0);
      for (const n of p.nodes) {
        expect(n.medianUs).toBeGreaterThanOrEqual(0);
        expect(n.medianUs).toBeLessThanOrEqual(p.medianRunUs);
      }
    }

    // Warm-up steps are left out: graph-b ran 5 times over 1 warm-up and 4 profiled steps.
    const warm = readNodeProfiles(sessions, { warmUpSteps: 1, profiledSteps: 4 });
    expect(warm.map((p) => [p.key, p.runs])).toEqual([
      ['graph-a', 2],
      ['graph-b', 4],
    ]);

    // After stopping, sessions are built unprofiled again: no new file.
    runTimes(cache, 'after', 1);
    cache.dispose();
    expect(readdirSync(dir).filter((f) => f.endsWith('.json'))).toHaveLength(3);
  });

  it('refuses to start twice or to stop when not profiling, saying so', () => {
    const dir = mkdtempSync(join(tmpdir(), 'posenc-node-profile-'));
    dirs.push(dir);
    const cache = new SessionCache({ threads: 1, spinning: false });
    expect(() => cache.stopProfiling()).toThrow(/not profiling: call startProfiling\(dir\) first/);
    cache.startProfiling(dir);
    expect(() => cache.startProfiling(dir)).toThrow(`already profiling into ${dir}`);
    expect(cache.stopProfiling()).toEqual([]);
  });

  it('names the folder when a profile file is missing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'posenc-node-profile-'));
    dirs.push(dir);
    expect(() => readNodeProfiles([{ key: 'k', prefix: join(dir, 'session-0') }])).toThrow(
      `expected one ONNX Runtime profile session-0_*.json in ${dir}, found 0`,
    );
  });
});
