/** `report.html`: one self-contained page with the sections, their tables and SVG charts. */
import { renderSvg } from './charts.js';
import type { ReportDocument } from './document.js';
import type { ReportTable } from './sections.js';

export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

/** Markdown's `**bold**` in bullets, the only inline markup sections use. */
function inline(text: string): string {
  return escapeHtml(text).replace(/\*\*(.+?)\*\*/g, '<strong>$1</strong>');
}

export function htmlTable(table: ReportTable): string {
  const text = new Set([0, ...(table.textColumns ?? [])]);
  const head = table.head.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const rows = table.rows
    .map(
      (row) =>
        `<tr>${row
          .map((c, i) => {
            const classes = [
              text.has(i) ? 'text' : '',
              c.best ? 'best' : '',
              c.notSeparated ? 'ns' : '',
            ]
              .filter(Boolean)
              .join(' ');
            const tag = i === 0 ? 'th scope="row"' : 'td';
            const close = i === 0 ? 'th' : 'td';
            return `<${tag}${classes ? ` class="${classes}"` : ''}>${escapeHtml(c.text)}${c.notSeparated ? ' ≈' : ''}</${close}>`;
          })
          .join('')}</tr>`,
    )
    .join('\n');
  const legend = (table.legend ?? []).map((l) => `<p class="legend">${escapeHtml(l)}</p>`).join('');
  return `<table><thead><tr>${head}</tr></thead><tbody>\n${rows}\n</tbody></table>${legend}`;
}

export async function renderHtml(doc: ReportDocument): Promise<string> {
  const sections: string[] = [];
  for (const s of doc.sections) {
    const parts = [`<h2>${escapeHtml(s.title)}</h2>`];
    for (const p of s.paragraphs ?? []) parts.push(`<p>${inline(p)}</p>`);
    if (s.table) parts.push(htmlTable(s.table));
    if (s.bullets?.length)
      parts.push(`<ul>${s.bullets.map((b) => `<li>${inline(b)}</li>`).join('')}</ul>`);
    if (s.figure)
      parts.push(
        `<figure>${await renderSvg(s.figure.chart)}<figcaption>${escapeHtml(s.figure.caption)}</figcaption></figure>`,
      );
    sections.push(`<section>${parts.join('\n')}</section>`);
  }
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(doc.title)}</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 62rem; margin: 2rem auto; padding: 0 1rem; color: #222; line-height: 1.45; }
table { border-collapse: collapse; margin: 1rem 0 0.25rem; }
th, td { padding: 0.25rem 0.75rem; border-bottom: 1px solid #ddd; text-align: right; font-variant-numeric: tabular-nums; }
th.text, td.text, th[scope="row"] { text-align: left; }
.best { font-weight: bold; }
.ns { color: #555; }
p.legend { font-size: 0.9rem; color: #555; margin: 0.2rem 0; }
figure { margin: 1.5rem 0; }
figure svg { max-width: 100%; height: auto; }
figcaption { font-size: 0.95rem; color: #444; max-width: 48rem; }
code { background: #f4f4f4; padding: 0.1rem 0.3rem; }
</style>
</head>
<body>
<h1>${escapeHtml(doc.title)}</h1>
<p><code>${escapeHtml(doc.command)}</code></p>
${sections.join('\n')}
</body>
</html>
`;
}
