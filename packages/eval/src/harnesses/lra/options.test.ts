/** The LRA options: values per dataset, re-read as shown, and refusals naming the flag. */
import { describe, expect, it } from 'vitest';
import type { OptionSpec } from '../../run/options.js';
import type { LraConfig } from './config.js';
import { LRA_OPTIONS } from './options.js';
import { LRA_PRESETS } from './presets.js';

const option = (flag: string) => LRA_OPTIONS.find((o) => o.flag === flag) as OptionSpec<LraConfig>;
const paper = LRA_PRESETS['paper']!.config;

describe('per-dataset options', () => {
  it('show the paper preset’s plans as dataset:value pairs and re-read them', () => {
    const steps = option('steps');
    expect(steps.show(paper)).toBe(
      'listops:5000,text:20000,retrieval:5000,image:35000,pathfinder:62500',
    );
    expect(steps.apply(paper, steps.show(paper))).toEqual(paper);
    expect(option('train-examples').show(paper)).toBe('listops:96000,pathfinder:160000');
  });

  it('set every dataset from one value, or the datasets named', () => {
    const steps = option('steps');
    const all = steps.apply(paper, '300');
    expect(Object.values(all.plans).map((p) => p.steps)).toEqual([300, 300, 300, 300, 300]);
    expect(steps.show(all)).toBe('300');
    const some = steps.apply(paper, 'listops:7, image:9');
    expect(some.plans.listops.steps).toBe(7);
    expect(some.plans.image.steps).toBe(9);
    expect(some.plans.text.steps).toBe(20000);
    expect(option('lr').apply(paper, 'text:0.002').plans.text.lr).toBe(0.002);
  });

  it.each([
    ['steps', '0', /--steps 0 is not allowed; expected an integer from 1 to 10000000/],
    ['steps', 'sudoku:5', /--steps: 'sudoku:5' is not dataset:value with a dataset of listops/],
    ['steps', 'listops:1e3', /--steps listops "1e3" is not allowed/],
    ['lr', 'text:-1', /--lr text "-1" is not allowed/],
    [
      'train-examples',
      'text:100',
      /--train-examples: 'text:100' is not dataset:value with a dataset of listops, pathfinder/,
    ],
  ])('--%s %s is refused naming the flag and value', (flag, text, message) => {
    expect(() => option(flag).apply(paper, text)).toThrow(message);
  });
});
