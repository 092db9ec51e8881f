/**
 * Numbers printed as Python's `json.dumps` prints them (`repr` of a float: the shortest digits
 * that round-trip, `100.0` rather than `100`, `1e-05` rather than `0.00001`), so our output reads
 * the same as the official scripts' and tools that diff the two see no change.
 */

export function pythonFloat(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? 'Infinity' : '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const sign = x < 0 ? '-' : '';
  // toExponential() without digits gives the shortest round-trip significand, as repr does.
  const [mantissa, exponentText] = Math.abs(x).toExponential().split('e') as [string, string];
  const digits = mantissa.replace('.', '');
  const exponent = Number(exponentText);
  const point = exponent + 1; // where the decimal point falls after `digits[0]`
  if (point <= -4 || point > 16) {
    const rest = digits.slice(1);
    const e = Math.abs(exponent).toString().padStart(2, '0');
    return `${sign}${digits[0]}${rest ? `.${rest}` : ''}e${exponent < 0 ? '-' : '+'}${e}`;
  }
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${'0'.repeat(point - digits.length)}.0`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/**
 * `json.dumps(d)` (one line, `", "` and `": "`) or `json.dumps(d, indent=2)` of a flat object
 * of numbers; keys in `integers` print as Python ints.
 */
export function pythonJsonObject(
  values: Readonly<Record<string, number>>,
  integers: ReadonlySet<string>,
  indent?: number,
): string {
  const items = Object.entries(values).map(
    ([k, v]) => `${JSON.stringify(k)}: ${integers.has(k) ? String(v) : pythonFloat(v)}`,
  );
  if (indent === undefined) return `{${items.join(', ')}}`;
  const pad = ' '.repeat(indent);
  return `{\n${items.map((i) => pad + i).join(',\n')}\n}`;
}
