/** `posenc list [task]`: every method row, its paper and package, and why it cannot run when it cannot. */
import type { AnyHarness } from '../run/harness.js';
import { resolveRows } from '../run/methods.js';
import { loadPlugins } from '../run/plugins.js';

export async function listMethods(harnesses: readonly AnyHarness[]): Promise<string> {
  const lines: string[] = [];
  for (const harness of harnesses) {
    const resolved = await resolveRows(await harness.methods());
    const inDefault = new Set(harness.presets['default']?.methods ?? []);
    const width = Math.max(...resolved.map((r) => r.row.name.length)) + 2;
    lines.push(`${harness.task} — ${harness.title}`, '');
    for (const r of resolved) {
      const { row } = r;
      const status = r.available
        ? inDefault.has(row.name)
          ? 'available, in the default preset'
          : 'available'
        : 'unavailable';
      lines.push(`${row.name.padEnd(width)}${row.package}  ·  ${row.paper}  ·  ${status}`);
      lines.push(`${' '.repeat(width)}${row.description}`);
      if (!r.available) lines.push(`${' '.repeat(width)}why: ${r.reason}`);
    }
    const available = resolved.filter((r) => r.available).length;
    lines.push(
      '',
      `${available} of ${resolved.length} methods of ${harness.task} can run here.`,
      '',
    );
  }
  for (const plugin of await loadPlugins())
    if (plugin.reason)
      lines.push(`${plugin.package}: unavailable — ${plugin.reason}; its methods are not listed.`);
  return lines.join('\n').trimEnd();
}
