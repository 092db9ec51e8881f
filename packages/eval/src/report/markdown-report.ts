/** `report.md`: the extrapolation tables (rows methods, columns evaluation lengths) and the run's facts. */
import type { BenchResults } from '../bench/results.js';
import { EVAL_MODES, type EvalMode } from '../lm/windows.js';
import {
  extrapolationTable,
  formatPerplexity,
  formatSeconds,
  MODE_TITLES,
  runFacts,
} from './tables.js';

/** The markdown table of one mode; the best value of each column in bold. */
export function markdownTable(results: BenchResults, mode: EvalMode): string {
  const table = extrapolationTable(results, mode);
  const train = results.config.trainLength;
  const header = `| method | ${table.lengths.map((l) => (l === train ? `${l} (= L)` : `${l}`)).join(' | ')} |`;
  const rule = `|---|${table.lengths.map(() => '---:').join('|')}|`;
  const rows = table.rows.map(({ method, cells }) => {
    const shown = cells.map((v, i) =>
      v !== undefined && v === table.best[i] ? `**${formatPerplexity(v)}**` : formatPerplexity(v),
    );
    return `| ${method} | ${shown.join(' | ')} |`;
  });
  return [header, rule, ...rows].join('\n');
}

export function renderMarkdownReport(results: BenchResults): string {
  const out: string[] = [];
  out.push(`# Language-modelling benchmark: ${results.run}`, '');
  out.push('```', results.command, '```', '');
  out.push(
    `Perplexity per token on held-out text at each evaluation length (columns) for a model trained at L = ${results.config.trainLength} with each position method (rows); lower is better, the best of each column in bold.`,
    '',
  );
  for (const mode of EVAL_MODES) {
    out.push(`## Perplexity, ${MODE_TITLES[mode]}`, '', markdownTable(results, mode), '');
    const special = results.methods.filter((m) => m.evalModeNotes?.[mode]);
    for (const m of special) out.push(`- ${m.method}: ${m.evalModeNotes![mode]}`);
    if (special.length) out.push('');
  }
  if (results.evaluation.words !== undefined) {
    out.push('## Word-level perplexity (WikiText protocol)', '');
    out.push(
      `exp(total NLL / ${results.evaluation.words} words and end-of-line tokens), nonoverlapping:`,
      '',
    );
    const lengths = results.config.evalLengths;
    out.push(`| method | ${lengths.join(' | ')} |`, `|---|${lengths.map(() => '---:').join('|')}|`);
    for (const m of results.methods)
      out.push(
        `| ${m.method} | ${lengths
          .map((l) =>
            formatPerplexity(
              m.evaluations.find((e) => e.mode === 'nonoverlapping' && e.length === l)
                ?.wordPerplexity,
            ),
          )
          .join(' | ')} |`,
      );
    out.push('');
  }
  out.push('## Training', '');
  out.push(
    '| method | final loss (nats/token) | tokens/s | training | evaluation | parameters | paper | package |',
  );
  out.push('|---|---:|---:|---:|---:|---:|---|---|');
  for (const m of results.methods) {
    const t = m.training;
    const resumed = t.resumedFrom.length ? ` (resumed at step ${t.resumedFrom.join(', ')})` : '';
    out.push(
      `| ${m.method} | ${t.finalLoss.toFixed(3)} | ${Math.round(t.tokensPerSecond)} | ${formatSeconds(t.wallMs)}${resumed} | ${formatSeconds(m.evalWallMs)} | ${t.parameters} | ${m.paper} | ${m.package} |`,
    );
  }
  out.push('');
  const procedures = results.methods.filter((m) => m.notes.length);
  if (procedures.length) {
    out.push('## Procedures', '');
    for (const m of procedures)
      out.push(`- **${m.method}**: ${m.description}; ${m.notes.join('; ')}.`);
    out.push('');
  }
  if (results.unavailable.length || results.failed.length) {
    out.push('## Not run', '');
    for (const u of results.unavailable)
      out.push(`- ${u.method} (${u.package}): unavailable — ${u.reason}`);
    for (const f of results.failed) out.push(`- ${f.method}: failed — ${f.error}`);
    out.push('');
  }
  out.push('## Run', '');
  for (const fact of runFacts(results)) out.push(`- ${fact}`);
  out.push(
    `- This process: ${formatSeconds(results.process.wallMs)}, peak RSS ${results.process.peakRssMB} MB.`,
  );
  out.push(
    `- Versions: ${Object.entries(results.versions)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}.`,
  );
  out.push('');
  return out.join('\n');
}
