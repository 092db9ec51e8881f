/** `posenc list`: every method, its paper and package, and why it cannot run when it cannot. */
import { PRESETS } from '../bench/presets.js';
import { resolveMethods } from '../methods/table.js';

export async function listMethods(): Promise<string> {
  const resolved = await resolveMethods();
  const inDefault = new Set(PRESETS['default']!.methods);
  const width = Math.max(...resolved.map((r) => r.method.name.length)) + 2;
  const lines: string[] = [];
  for (const r of resolved) {
    const { method } = r;
    const status = r.available
      ? inDefault.has(method.name)
        ? 'available, in the default preset'
        : 'available'
      : 'unavailable';
    lines.push(`${method.name.padEnd(width)}${method.package}  ·  ${method.paper}  ·  ${status}`);
    lines.push(`${' '.repeat(width)}${method.description}`);
    if (!r.available) lines.push(`${' '.repeat(width)}why: ${r.reason}`);
  }
  const available = resolved.filter((r) => r.available).length;
  lines.push('', `${available} of ${resolved.length} methods can run here.`);
  return lines.join('\n');
}
