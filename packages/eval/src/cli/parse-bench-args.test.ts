/** Options of `posenc bench lm`: presets, overrides, and a UsageError naming each mistake. */
import { describe, expect, it } from 'vitest';
import { PRESETS } from '../bench/presets.js';
import { UsageError } from '../usage-error.js';
import { parseBenchArgs } from './parse-bench-args.js';

function parse(args: string[]) {
  const parsed = parseBenchArgs(args, '/home/user', 'posenc bench lm');
  if (parsed.help) throw new Error('unexpected help');
  return parsed.options;
}

describe('posenc bench lm options', () => {
  it('default to the default preset, its methods not marked explicit', () => {
    const options = parse([]);
    const { methods, corpus, tokenizer, ...settings } = PRESETS['default']!;
    expect(options.config).toEqual({ ...settings, corpus, tokenizer });
    expect(options.methods).toEqual(methods);
    expect(options.methodsExplicit).toBe(false);
    expect(options.baseDir).toBe('/home/user');
  });

  it('override the preset flag by flag', () => {
    const options = parse([
      '--preset',
      'quick',
      '--methods',
      'alibi, rope',
      '--train-len',
      '128',
      '--eval-lens',
      '512,128,256',
      '--steps',
      '10',
      '--corpus',
      'file:a.txt',
      '--tokenizer',
      'tok/tokenizer.json',
      '--out',
      'r',
      '--seed',
      '7',
      '--dim',
      '32',
      '--eval-tokens',
      'all',
      '--stride-ratio',
      '0.25',
      '--eval-split',
      'valid',
      '--lr',
      '1e-3',
    ]);
    expect(options.methods).toEqual(['alibi', 'rope']);
    expect(options.methodsExplicit).toBe(true);
    expect(options.config).toMatchObject({
      trainLength: 128,
      evalLengths: [512, 128, 256],
      steps: 10,
      corpus: 'file:a.txt',
      tokenizer: 'tok/tokenizer.json',
      seed: 7,
      model: { ...PRESETS['quick']!.model, modelDim: 32, ffnDim: 128 },
      evalTokens: 'all',
      strideRatio: 0.25,
      evalSplit: 'valid',
      lr: 1e-3,
    });
    expect(options.out).toBe('r');
  });

  it('answer --help', () => {
    expect(parseBenchArgs(['--help'], '/', '')).toEqual({ help: true });
    expect(parseBenchArgs(['-h', '--steps', 'x'], '/', '')).toEqual({ help: true });
  });

  it.each([
    [
      ['--eval-lens', '128,abc'],
      '--eval-lens: length "abc" is not allowed; expected an integer ≥ 1',
    ],
    [['--eval-lens', '128,,256'], 'has an empty entry'],
    [['--eval-lens', '0'], '--eval-lens: length 0 is not allowed'],
    [['--train-len', '1'], '--train-len 1 is not allowed; expected an integer ≥ 2'],
    [['--steps=-3'], '--steps "-3" is not allowed'],
    [['--batch', '2.5'], '--batch "2.5" is not allowed; expected an integer ≥ 1'],
    [['--preset', 'huge'], '--preset "huge" is not a preset; expected default, quick, long'],
    [['--eval-split', 'dev'], '--eval-split "dev" is not allowed; expected valid or test'],
    [['--lr', 'fast'], '--lr "fast" is not a number'],
    [['--colour', 'red'], "Unknown option '--colour'"],
    [['--steps'], "Option '--steps <value>' argument missing"],
    [['positional'], 'Unexpected argument'],
  ])('reject %j with a one-line message', (args, message) => {
    let error: unknown;
    try {
      parse(args);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toContain(message);
    expect((error as Error).message).not.toContain('\n');
  });
});
