/**
 * What a report is made of, independent of its format: sections with paragraphs, a table, a
 * chart with its caption and bullet points. A harness returns its sections; the shared renderers
 * write them as Markdown (report.md) and as HTML with the charts drawn to SVG (report.html).
 */
import type { LineChart } from './charts.js';

export interface TableCell {
  text: string;
  /** The best value of its column. */
  best?: boolean;
  /** Not separated from the column's best by the spread over seeds. */
  notSeparated?: boolean;
}

export interface ReportTable {
  head: string[];
  /** Columns holding text rather than figures (left-aligned); the first column always is. */
  textColumns?: number[];
  rows: TableCell[][];
  /** Lines under the table explaining its marks. */
  legend?: string[];
}

export interface ReportSection {
  title: string;
  paragraphs?: string[];
  table?: ReportTable;
  bullets?: string[];
  figure?: { chart: LineChart; caption: string };
}
