/**
 * Random SQuAD files and predictions for comparing our scorer with the official scripts: answers
 * and predictions drawn from strings that exercise every rule of the normalisation (articles at
 * the edges and inside words, punctuation inside words, Python-only whitespace, unicode case,
 * combining marks), predictions that are perturbed ground truths, several ground truths, empty
 * and missing predictions, unanswerable questions, tied no-answer probabilities and ids that
 * JavaScript would reorder (integer-like keys).
 */
import { mulberry32 } from '@posenc/core';

export interface ScoringCase {
  name: string;
  version: '1.1' | '2.0';
  data: unknown;
  predictions: Record<string, string>;
  /** v2.0 only: no-answer probabilities (key order matters for ties). */
  naProbs?: Record<string, number>;
  naProbThreshold?: number;
}

const POOL = [
  'Denver Broncos',
  'the Denver Broncos',
  'Broncos.',
  "don't stop",
  'U.S. Army',
  'state-of-the-art',
  'an apple a day',
  'theory of the atom',
  'Athens, Greece',
  'A.N. Other',
  'Café Müller',
  'naïve the end',
  'ΟΔΟΣ',
  'the\u0301 cat',
  'New\u00a0York',
  'a\u0085b',
  'x\ufeffy',
  'x\u001fy',
  'İstanbul',
  '1,000 men',
  'Denver。',
  '_the_',
  'the cat cat',
  'New  York\tCity',
  'the',
  '1776',
  'July 4, 1776',
  'President Lincoln',
  'Congress',
  'the Congress of the United States',
];

function perturb(text: string, r: () => number): string {
  const k = Math.floor(r() * 7);
  const words = text.split(' ');
  switch (k) {
    case 0:
      return text;
    case 1:
      return `the ${text}`;
    case 2:
      return `${text}.`;
    case 3:
      return text.toUpperCase();
    case 4:
      return words.slice(0, Math.max(1, words.length - 1)).join(' ');
    case 5:
      return `${text} ${POOL[Math.floor(r() * POOL.length)]}`;
    default:
      return '';
  }
}

export function scoringCase(seed: number, version: '1.1' | '2.0'): ScoringCase {
  const r = mulberry32(seed * 7919 + (version === '2.0' ? 1 : 0));
  const pick = () => POOL[Math.floor(r() * POOL.length)]!;
  const predictions: Record<string, string> = {};
  const naProbs: Record<string, number> = {};
  const data: unknown[] = [];
  let n = 0;
  for (let a = 0; a < 1 + Math.floor(r() * 3); a++) {
    const paragraphs: unknown[] = [];
    for (let p = 0; p < 1 + Math.floor(r() * 3); p++) {
      const qas: unknown[] = [];
      for (let q = 0; q < 1 + Math.floor(r() * 5); q++) {
        const id = r() < 0.2 ? String(100 - n) : `q${seed}-${n}`;
        n++;
        const impossible = version === '2.0' && r() < 0.35;
        const answers = impossible
          ? []
          : Array.from({ length: 1 + Math.floor(r() * 3) }, () => ({
              text: pick(),
              answer_start: 0,
            }));
        qas.push({
          id,
          question: `question ${id}`,
          answers,
          ...(version === '2.0' && { is_impossible: impossible }),
        });
        // v1.1 counts a missing prediction as 0; v2.0 needs every one.
        if (version === '1.1' && r() < 0.1) continue;
        const gold = answers[Math.floor(r() * Math.max(1, answers.length))]?.text ?? pick();
        predictions[id] = r() < 0.15 ? '' : perturb(r() < 0.8 ? gold : pick(), r);
        naProbs[id] = [0, 0.1, 0.25, 0.5, 0.5, 0.9, 1.0, 1.5][Math.floor(r() * 8)]!;
      }
      paragraphs.push({ context: 'unused by the scorer', qas });
    }
    data.push({ title: `article ${a}`, paragraphs });
  }
  return {
    name: `v${version} seed ${seed}`,
    version,
    data: { version: version === '2.0' ? 'v2.0' : '1.1', data },
    predictions,
    ...(version === '2.0' && { naProbs, naProbThreshold: r() < 0.5 ? 1.0 : 0.5 }),
  };
}
