/**
 * Numbers from the command line, parsed strictly: decimal digits only (`0x10`, `1e3` for an
 * integer, `1_000`, an empty string and `Infinity` are refused rather than read as something the
 * user did not write), every integer within a stated range, and messages that quote the text as
 * given, so a huge value is not shown as `1e+21` with a range it seems to satisfy.
 */
import { UsageError } from '../usage-error.js';

const INTEGER = /^[+-]?\d+$/;
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

export interface IntegerRange {
  min: number;
  max: number;
}

function rangeText({ min, max }: IntegerRange): string {
  return `an integer from ${min} to ${max}`;
}

/** `what` names the flag (`--steps`, `--eval-lens: length`); `text` as the user typed it. */
export function parseInteger(what: string, text: string, range: IntegerRange): number {
  const trimmed = text.trim();
  if (!INTEGER.test(trimmed))
    throw new UsageError(
      `${what} ${JSON.stringify(text)} is not allowed; expected ${rangeText(range)}`,
    );
  const value = Number(trimmed);
  if (!Number.isSafeInteger(value) || value < range.min || value > range.max)
    throw new UsageError(`${what} ${trimmed} is not allowed; expected ${rangeText(range)}`);
  return value;
}

export interface NumberRange {
  /** Inclusive lower bound. */
  min?: number;
  /** Exclusive lower bound. */
  greaterThan?: number;
  /** Inclusive upper bound. */
  max?: number;
}

export function describeNumberRange(range: NumberRange): string {
  const parts: string[] = [];
  if (range.min !== undefined) parts.push(`≥ ${range.min}`);
  if (range.greaterThan !== undefined) parts.push(`> ${range.greaterThan}`);
  if (range.max !== undefined) parts.push(`≤ ${range.max}`);
  return `a decimal number${parts.length ? ` ${parts.join(' and ')}` : ''}`;
}

export function parseDecimal(what: string, text: string, range: NumberRange = {}): number {
  const trimmed = text.trim();
  const value = Number(trimmed);
  const inRange =
    (range.min === undefined || value >= range.min) &&
    (range.greaterThan === undefined || value > range.greaterThan) &&
    (range.max === undefined || value <= range.max);
  if (!DECIMAL.test(trimmed) || !Number.isFinite(value) || !inRange)
    throw new UsageError(
      `${what} ${JSON.stringify(text)} is not allowed; expected ${describeNumberRange(range)}`,
    );
  return value;
}

/** `a,b,c` → integers, each in range; an empty entry is named. */
export function parseIntegerList(what: string, text: string, range: IntegerRange): number[] {
  const parts = text.split(',').map((p) => p.trim());
  if (parts.some((p) => p === ''))
    throw new UsageError(
      `${what} ${JSON.stringify(text)} has an empty entry; expected a comma-separated list of ${rangeText(range)}s`,
    );
  return parts.map((p) => parseInteger(`${what}: entry`, p, range));
}
