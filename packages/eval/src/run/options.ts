/**
 * A task's command-line options, declared once: the flag, what its value looks like, the help
 * line, how it shows the preset's value and how it sets it. The CLI parses and documents every
 * task's options from these, so `posenc bench <task> --help` has the same shape for every task
 * and a flag is parsed the same strict way everywhere.
 */
import {
  describeNumberRange,
  parseDecimal,
  parseInteger,
  parseIntegerList,
  type IntegerRange,
  type NumberRange,
} from './numbers.js';
import { UsageError } from '../usage-error.js';

export interface OptionSpec<C> {
  /** Without the dashes: `train-len`. */
  readonly flag: string;
  /** Placeholder of the value in help: `N`, `a,b,c`, `SPEC`. */
  readonly value: string;
  readonly help: string;
  /** The value a config holds, as help shows it: `(default 64)`. */
  show(config: C): string;
  /** Parses `text` (as typed) and returns the config with the value set; throws UsageError. */
  apply(config: C, text: string): C;
}

interface Accessors<C, V> {
  get(config: C): V;
  set(config: C, value: V): C;
}

export function integerOption<C>(
  spec: { flag: string; help: string; value?: string } & IntegerRange & Accessors<C, number>,
): OptionSpec<C> {
  return {
    flag: spec.flag,
    value: spec.value ?? 'N',
    help: `${spec.help} (${spec.min}…${spec.max})`,
    show: (c) => String(spec.get(c)),
    apply: (c, text) => spec.set(c, parseInteger(`--${spec.flag}`, text, spec)),
  };
}

export function decimalOption<C>(
  spec: { flag: string; help: string; value?: string } & NumberRange & Accessors<C, number>,
): OptionSpec<C> {
  return {
    flag: spec.flag,
    value: spec.value ?? 'X',
    help: `${spec.help} (${describeNumberRange(spec)})`,
    show: (c) => String(spec.get(c)),
    apply: (c, text) => spec.set(c, parseDecimal(`--${spec.flag}`, text, spec)),
  };
}

export function integerListOption<C>(
  spec: { flag: string; help: string } & IntegerRange & Accessors<C, number[]>,
): OptionSpec<C> {
  return {
    flag: spec.flag,
    value: 'a,b,c',
    help: `${spec.help} (each ${spec.min}…${spec.max})`,
    show: (c) => spec.get(c).join(','),
    apply: (c, text) => spec.set(c, parseIntegerList(`--${spec.flag}`, text, spec)),
  };
}

export function choiceOption<C, V extends string>(
  spec: { flag: string; help: string; values: readonly V[] } & Accessors<C, V>,
): OptionSpec<C> {
  return {
    flag: spec.flag,
    value: spec.values.join('|'),
    help: spec.help,
    show: (c) => spec.get(c),
    apply: (c, text) => {
      if (!(spec.values as readonly string[]).includes(text))
        throw new UsageError(
          `--${spec.flag} ${JSON.stringify(text)} is not allowed; expected one of ${spec.values.join(', ')}`,
        );
      return spec.set(c, text as V);
    },
  };
}

/** A free-form value (a path, a spec) the harness checks when it resolves the config. */
export function textOption<C>(
  spec: { flag: string; help: string; value: string } & Accessors<C, string>,
): OptionSpec<C> {
  return {
    flag: spec.flag,
    value: spec.value,
    help: spec.help,
    show: (c) => spec.get(c),
    apply: (c, text) => {
      if (text.trim() === '')
        throw new UsageError(`--${spec.flag} is empty; expected ${spec.value}`);
      return spec.set(c, text);
    },
  };
}
