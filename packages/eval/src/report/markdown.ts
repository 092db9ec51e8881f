/** `report.md`: the sections as Markdown; a chart is referred to report.html, where it is drawn. */
import type { ReportDocument } from './document.js';
import type { ReportTable } from './sections.js';

function cellText(text: string): string {
  return text.replace(/\|/g, '\\|');
}

export function markdownTable(table: ReportTable): string {
  const text = new Set([0, ...(table.textColumns ?? [])]);
  const head = `| ${table.head.map(cellText).join(' | ')} |`;
  const rule = `|${table.head.map((_, i) => (text.has(i) ? '---' : '---:')).join('|')}|`;
  const rows = table.rows.map(
    (row) =>
      `| ${row
        .map((c) => {
          const t = cellText(c.text);
          return c.best ? `**${t}**` : c.notSeparated ? `${t} ≈` : t;
        })
        .join(' | ')} |`,
  );
  return [head, rule, ...rows].join('\n');
}

export function renderMarkdown(doc: ReportDocument): string {
  const out: string[] = [`# ${doc.title}`, '', '```', doc.command, '```', ''];
  for (const section of doc.sections) {
    out.push(`## ${section.title}`, '');
    for (const p of section.paragraphs ?? []) out.push(p, '');
    if (section.table) {
      out.push(markdownTable(section.table), '');
      for (const line of section.table.legend ?? []) out.push(`_${line}_`, '');
    }
    if (section.bullets?.length) out.push(...section.bullets.map((b) => `- ${b}`), '');
    if (section.figure) out.push(`Chart in report.html: ${section.figure.chart.title}.`, '');
  }
  return out.join('\n');
}
