/**
 * An option with a value per dataset: `--steps 400` sets every dataset the option covers,
 * `--steps listops:5000,text:20000` sets the ones named. The value shown is one number when the
 * datasets agree and the list otherwise, so the paper preset's per-dataset plans re-read as
 * they are.
 */
import type { OptionSpec } from '../../run/options.js';
import { UsageError } from '../../usage-error.js';
import type { LraConfig, LraTask } from './config.js';

export interface PerDatasetSpec {
  readonly flag: string;
  readonly help: string;
  /** The datasets the option applies to. */
  readonly tasks: readonly LraTask[];
  /** Reads one value strictly (the flag's range in its error). */
  parse(what: string, text: string): number;
  get(config: LraConfig, task: LraTask): number;
  set(config: LraConfig, task: LraTask, value: number): LraConfig;
}

export function perDatasetOption(spec: PerDatasetSpec): OptionSpec<LraConfig> {
  const flag = `--${spec.flag}`;
  return {
    flag: spec.flag,
    value: 'N|dataset:N,…',
    help: `${spec.help}: one value for ${spec.tasks.join(', ')}, or dataset:value pairs`,
    show: (c) => {
      const values = spec.tasks.map((t) => spec.get(c, t));
      return values.every((v) => v === values[0])
        ? String(values[0])
        : spec.tasks.map((t, i) => `${t}:${values[i]}`).join(',');
    },
    apply: (c, text) => {
      if (!text.includes(':')) {
        const value = spec.parse(flag, text);
        return spec.tasks.reduce((config, t) => spec.set(config, t, value), c);
      }
      let config = c;
      for (const part of text.split(',')) {
        const [task, value, ...rest] = part.split(':').map((s) => s.trim());
        if (!spec.tasks.includes(task as LraTask) || value === undefined || rest.length > 0)
          throw new UsageError(
            `${flag}: '${part}' is not dataset:value with a dataset of ${spec.tasks.join(', ')}`,
          );
        config = spec.set(config, task as LraTask, spec.parse(`${flag} ${task}`, value));
      }
      return config;
    },
  };
}
