/** `report.html`: one self-contained page with the tables and the SVG charts. */
import type { BenchResults } from '../bench/results.js';
import { EVAL_MODES, type EvalMode } from '../lm/windows.js';
import { lossChart, perplexityChart, renderSvg } from './charts.js';
import {
  extrapolationTable,
  formatPerplexity,
  formatSeconds,
  MODE_TITLES,
  runFacts,
} from './tables.js';

export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

function htmlTable(results: BenchResults, mode: EvalMode): string {
  const table = extrapolationTable(results, mode);
  const head = table.lengths
    .map((l) => `<th>${l}${l === results.config.trainLength ? ' (= L)' : ''}</th>`)
    .join('');
  const rows = table.rows
    .map(({ method, cells }) => {
      const tds = cells
        .map(
          (v, i) =>
            `<td${v !== undefined && v === table.best[i] ? ' class="best"' : ''}>${formatPerplexity(v)}</td>`,
        )
        .join('');
      return `<tr><th scope="row">${escapeHtml(method)}</th>${tds}</tr>`;
    })
    .join('\n');
  return `<table><thead><tr><th>method</th>${head}</tr></thead><tbody>\n${rows}\n</tbody></table>`;
}

function trainingTable(results: BenchResults): string {
  const rows = results.methods
    .map((m) => {
      const t = m.training;
      return `<tr><th scope="row">${escapeHtml(m.method)}</th><td>${t.finalLoss.toFixed(3)}</td><td>${Math.round(t.tokensPerSecond)}</td><td>${formatSeconds(t.wallMs)}</td><td>${formatSeconds(m.evalWallMs)}</td><td class="text">${escapeHtml(m.paper)}</td><td class="text">${escapeHtml(m.package)}</td></tr>`;
    })
    .join('\n');
  return `<table><thead><tr><th>method</th><th>final loss</th><th>tokens/s</th><th>training</th><th>evaluation</th><th>paper</th><th>package</th></tr></thead><tbody>\n${rows}\n</tbody></table>`;
}

export async function renderHtmlReport(results: BenchResults): Promise<string> {
  const charts: string[] = [];
  for (const mode of EVAL_MODES) charts.push(await renderSvg(perplexityChart(results, mode)));
  charts.push(await renderSvg(lossChart(results)));
  const sections = EVAL_MODES.map(
    (mode, i) => `<section><h2>Perplexity, ${MODE_TITLES[mode]}</h2>
${htmlTable(results, mode)}
<ul>${results.methods
      .filter((m) => m.evalModeNotes?.[mode])
      .map((m) => `<li>${escapeHtml(m.method)}: ${escapeHtml(m.evalModeNotes![mode]!)}</li>`)
      .join('')}</ul>
<figure>${charts[i]}</figure></section>`,
  ).join('\n');
  const notRun = [
    ...results.unavailable.map(
      (u) =>
        `<li>${escapeHtml(u.method)} (${escapeHtml(u.package)}): unavailable — ${escapeHtml(u.reason)}</li>`,
    ),
    ...results.failed.map(
      (f) => `<li>${escapeHtml(f.method)}: failed — ${escapeHtml(f.error)}</li>`,
    ),
  ];
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>posenc — ${escapeHtml(results.run)}</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { padding: 0.25rem 0.75rem; border-bottom: 1px solid #ddd; text-align: right; font-variant-numeric: tabular-nums; }
th[scope="row"], td.text { text-align: left; }
td.best { font-weight: bold; }
code { background: #f4f4f4; padding: 0.1rem 0.3rem; }
</style>
</head>
<body>
<h1>Language-modelling benchmark: ${escapeHtml(results.run)}</h1>
<p><code>${escapeHtml(results.command)}</code></p>
<p>Perplexity per token on held-out text at each evaluation length (columns) for a model trained at L = ${results.config.trainLength} with each position method (rows); lower is better, the best of each column in bold.</p>
${sections}
<section><h2>Training</h2>
${trainingTable(results)}
<figure>${charts[EVAL_MODES.length]}</figure>
<p>Dashed line: the unigram entropy of the training split (the loss of a model without context).</p></section>
${notRun.length ? `<section><h2>Not run</h2><ul>${notRun.join('')}</ul></section>` : ''}
<section><h2>Run</h2><ul>${runFacts(results)
    .map((f) => `<li>${escapeHtml(f)}</li>`)
    .join(
      '',
    )}<li>This process: ${formatSeconds(results.process.wallMs)}, peak RSS ${results.process.peakRssMB} MB.</li></ul></section>
</body>
</html>
`;
}
