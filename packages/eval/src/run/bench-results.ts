/**
 * The end every run shares: the results envelope assembled from the cells' records (in table
 * order, whichever process produced them), and `results.json` and both reports written whole.
 */
import { cpus } from 'node:os';
import { writeFileAtomic, writeJsonAtomic } from '../io/atomic.js';
import { renderReport } from '../report/render.js';
import { cellPath } from './cell.js';
import type { PreparedBench } from './prepare-bench.js';
import type { BenchResults, CellRecord, FailedCell } from './results.js';
import { REPORT_HTML, REPORT_MD, RESULTS_FILE } from './run-folder.js';
import { packageVersions } from './versions.js';

export interface RunOutcomeParts {
  /** Records by `cellPath`. */
  records: ReadonlyMap<string, CellRecord>;
  failed: FailedCell[];
  /** Wall time of this process's run so far. */
  wallMs: number;
  /** The engine the cells ran on, when it is not this process's (queue workers). */
  engine?: BenchResults['engine'];
  warnings?: string[];
}

export function benchResults<C, D>(
  prepared: PreparedBench<C, D>,
  parts: RunOutcomeParts,
): BenchResults<C> {
  const { harness } = prepared;
  const ordered = prepared.rows.flatMap(({ row }) =>
    prepared.seeds.flatMap((seed) => parts.records.get(cellPath({ method: row.name, seed })) ?? []),
  );
  return {
    format: prepared.format,
    task: harness.task,
    run: prepared.runName,
    command: prepared.command,
    config: prepared.config,
    configHash: prepared.configHash,
    methods: prepared.rows.map((r) => r.row.name),
    seeds: prepared.seeds,
    cells: ordered,
    failed: parts.failed,
    unavailable: prepared.unavailable,
    warnings: [...prepared.warnings, ...(parts.warnings ?? [])],
    data: harness.dataFacts(prepared.config, prepared.data),
    engine: parts.engine ?? { engine: prepared.engine.engine, backend: prepared.engine.backend },
    versions: packageVersions(),
    machine: {
      platform: process.platform,
      arch: process.arch,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      node: process.version,
    },
    process: {
      wallMs: parts.wallMs,
      peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
    },
    writtenAt: new Date().toISOString(),
  };
}

/** results.json and both reports, each written whole. */
export async function writeResults<C, D>(
  prepared: PreparedBench<C, D>,
  results: BenchResults<C>,
): Promise<void> {
  const { folder, harness } = prepared;
  const { markdown, html } = await renderReport(harness, results);
  await writeJsonAtomic(folder.file(RESULTS_FILE), results);
  await writeFileAtomic(folder.file(REPORT_MD), markdown);
  await writeFileAtomic(folder.file(REPORT_HTML), html);
}
