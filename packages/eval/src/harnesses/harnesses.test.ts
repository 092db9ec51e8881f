/**
 * Every registered harness keeps the contract the CLI relies on: the required presets, options
 * that show and re-read their own values (so `--help` prints what a flag accepts), a help text,
 * metrics with units, and method rows that its presets name.
 */
import { describe, expect, it } from 'vitest';
import { taskHelp } from '../cli/help.js';
import { REQUIRED_PRESETS } from '../run/harness.js';
import { HARNESSES } from './index.js';

describe.each(HARNESSES.map((h) => [h.task, h] as const))('harness %s', (task, harness) => {
  it('has the presets quick, default and paper, each with a description', () => {
    for (const name of REQUIRED_PRESETS) expect(harness.presets[name]?.description).toBeTruthy();
  });

  it('has options that re-read the values they show, on every preset', () => {
    const flags = harness.options.map((o) => o.flag);
    expect(new Set(flags).size).toBe(flags.length);
    for (const preset of Object.values(harness.presets))
      for (const option of harness.options)
        expect(option.apply(preset.config, option.show(preset.config))).toEqual(preset.config);
  });

  it('documents every preset and option in its help', () => {
    const help = taskHelp(harness);
    expect(help).toContain(`usage: posenc bench ${task} [options]`);
    for (const name of Object.keys(harness.presets))
      expect(help).toMatch(new RegExp(`^ {2}${name} `, 'm'));
    for (const option of harness.options)
      expect(help).toContain(`--${option.flag} ${option.value}`);
  });

  it('has metrics with units, and rows for every method its presets name', async () => {
    const metrics = harness.metrics(harness.presets['default']!.config);
    expect(metrics.length).toBeGreaterThan(0);
    for (const m of metrics) expect(m.unit.length).toBeGreaterThan(0);
    const names = (await harness.methods()).map((r) => r.name);
    for (const preset of Object.values(harness.presets))
      for (const method of preset.methods) if (method !== 'all') expect(names).toContain(method);
  });
});
