/**
 * The command line's options, parsed strictly: `--flag value` or `--flag=value`, a value taken
 * as given even when it starts with a dash (so `--steps -1` reaches the range check instead of
 * Node's "argument is ambiguous"), every flag known, given once, and no stray arguments.
 */
import { UsageError } from '../usage-error.js';

export interface FlagSpec {
  readonly flag: string;
  /** False for a switch like --help. */
  readonly takesValue: boolean;
  /** One-letter alias: `h` for -h. */
  readonly short?: string;
}

/** Values by flag (a switch maps to `true`), in the order given. */
export function parseFlags(
  args: readonly string[],
  specs: readonly FlagSpec[],
  helpHint: string,
): Map<string, string | true> {
  const values = new Map<string, string | true>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    let name: string;
    let inline: string | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      if (eq >= 0) inline = arg.slice(eq + 1);
    } else if (/^-[A-Za-z]$/.test(arg)) {
      const spec = specs.find((s) => s.short === arg.slice(1));
      if (!spec) throw new UsageError(`unknown option ${arg} (${helpHint})`);
      name = spec.flag;
    } else {
      throw new UsageError(`unexpected argument ${JSON.stringify(arg)} (${helpHint})`);
    }
    const spec = specs.find((s) => s.flag === name);
    if (!spec) throw new UsageError(`unknown option --${name} (${helpHint})`);
    if (values.has(name)) throw new UsageError(`--${name} is given twice`);
    if (!spec.takesValue) {
      if (inline !== undefined) throw new UsageError(`--${name} takes no value`);
      values.set(name, true);
      continue;
    }
    const value = inline ?? args[++i];
    if (value === undefined) throw new UsageError(`--${name} needs a value (${helpHint})`);
    values.set(name, value);
  }
  return values;
}
