/** How figures are written in reports and on the terminal. */

/** 3 significant digits, at least 2 decimals: 4.87, 12.31, 153.4, 1.53e+3. */
export function formatFigure(value: number | undefined): string {
  if (value === undefined) return '—';
  if (!Number.isFinite(value)) return String(value);
  if (Math.abs(value) >= 1000) return value.toExponential(2);
  return value.toFixed(Math.abs(value) >= 100 ? 1 : 2);
}

/** A spread in the same decimals as its mean, so `7.22 ± 0.05` lines up. */
export function formatSpread(mean: number, std: number): string {
  if (!Number.isFinite(mean) || Math.abs(mean) >= 1000) return std.toExponential(1);
  return std.toFixed(Math.abs(mean) >= 100 ? 1 : 2);
}

/**
 * A duration as people write it: 850 ms, 4.2 s, 42 s, 14 min 59 s, 2 h 5 min. Rounded to whole
 * units before it is split, so 899.6 s is "15 min 0 s", never "14 min 60 s".
 */
export function formatSeconds(ms: number): string {
  if (Math.round(ms) < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 9.95) return `${s.toFixed(1)} s`;
  const total = Math.round(s);
  if (total < 60) return `${total} s`;
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  if (h > 0) return `${h} h ${m} min`;
  return `${m} min ${total % 60} s`;
}
