/** A report before it is rendered: its title, the command that made the run and its sections. */
import type { ReportSection } from './sections.js';

export interface ReportDocument {
  title: string;
  command: string;
  sections: readonly ReportSection[];
}
