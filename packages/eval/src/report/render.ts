/**
 * A run's report: the harness's own sections, then the sections every task shares (training,
 * the methods with their papers and procedures, what did not run, the run's facts), rendered as Markdown and as HTML.
 */
import type { AnyHarness } from '../run/harness.js';
import type { BenchResults } from '../run/results.js';
import { methodsSection, notRunSection, runSection, trainingSection } from './common-sections.js';
import type { ReportDocument } from './document.js';
import { renderHtml } from './html.js';
import { renderMarkdown } from './markdown.js';
import type { ReportSection } from './sections.js';

export function reportDocument(harness: AnyHarness, results: BenchResults): ReportDocument {
  const sections: ReportSection[] = [...harness.report(results)];
  if (results.cells.length)
    sections.push(trainingSection(results, harness.lossReferences?.(results) ?? []));
  for (const s of [methodsSection(results), notRunSection(results)]) if (s) sections.push(s);
  sections.push(runSection(results, harness.runFacts(results)));
  return { title: `${harness.title}: ${results.run}`, command: results.command, sections };
}

export async function renderReport(
  harness: AnyHarness,
  results: BenchResults,
): Promise<{ markdown: string; html: string }> {
  const doc = reportDocument(harness, results);
  return { markdown: renderMarkdown(doc), html: await renderHtml(doc) };
}
