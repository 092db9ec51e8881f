/** Help texts of the `posenc` commands. */
import { CORPUS_FORMS } from '../corpus/load-corpus.js';
import { PRESETS } from '../bench/presets.js';

export const MAIN_HELP = `posenc — positional encodings for Transformers on TensorFlow.js

usage: posenc <command> [options]

commands:
  list        every position method the benchmark knows: its paper, its package, whether it can run here
  bench lm    train the same small language model with each position method and compare perplexity
              at the training length and beyond (results/<run>/results.json, report.md, report.html)

Run 'posenc <command> --help' for a command's options.`;

export const LIST_HELP = `usage: posenc list

Lists every method of 'posenc bench lm' with its paper and package, and the reason when it cannot
run here (its package is not installed or lacks what the method needs).`;

export const BENCH_HELP = `usage: posenc bench lm [options]

commands:
  lm    the language-modelling benchmark ('posenc bench lm --help')`;

const preset = PRESETS['default']!;

export const BENCH_LM_HELP = `usage: posenc bench lm [options]

Trains the same decoder-only LM (same initialisation, same data order) once per position method,
checkpoints it, and evaluates perplexity per token at every evaluation length in nonoverlapping and
sliding-window modes. Rerunning the same command skips finished methods and resumes an
interrupted one from its last checkpoint.

options (defaults: preset 'default'):
  --preset NAME          ${Object.keys(PRESETS).join(' | ')} (default: default)
  --methods a,b,c        methods to run, or 'all' (default: ${preset.methods.join(',')}); see 'posenc list'
  --train-len N          training length L in tokens (default ${preset.trainLength})
  --eval-lens a,b,c      evaluation lengths (default ${preset.evalLengths.join(',')})
  --steps N              optimizer steps per method (default ${preset.steps})
  --batch N              windows per batch at length L (default ${preset.batch})
  --corpus SPEC          ${CORPUS_FORMS} (default sotu: State of the Union addresses, split by address)
  --tokenizer T          bytes | PATH to a tokenizer.json with its tokenizer_config.json (default bytes)
  --eval-split S         valid | test (default ${preset.evalSplit})
  --eval-tokens N        target tokens scored per evaluation, spread over the split, or 'all' (default ${preset.evalTokens})
  --stride-ratio R       sliding-window stride as a share of the evaluation length, in (0, 1] (default ${preset.strideRatio})
  --dim N --layers N --heads N --ffn N   model shape (default ${preset.model.modelDim}, ${preset.model.layers}, ${preset.model.heads}, ${preset.model.ffnDim}; --ffn defaults to 4·dim when --dim is given)
  --lr X                 peak learning rate (default ${preset.lr})
  --seed N               seed of initialisation and data order (default ${preset.seed})
  --out DIR              run folder (default results/<run>, named by the corpus, tokenizer, L and a hash of the settings)
  --checkpoint-every N   steps between checkpoints (default steps/10)
  -h, --help             this help

Relative paths are taken from the directory the command was run in. A mistake in the options
exits with code 2 and one line naming it, before anything is written.`;
