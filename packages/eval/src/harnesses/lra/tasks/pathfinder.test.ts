/**
 * The Pathfinder generator: every positive image joins its two dots by ink and no negative does,
 * checked on the drawn pixels by a labelling of our own (union–find over 8-neighbours), and both
 * labels carry the same marks: two plus-shaped dots and the same number of curves. Nor does the
 * distance between the dots give the label away.
 */
import { describe, expect, it } from 'vitest';
import {
  checkPathfinderSettings,
  dotsConnected,
  drawPathfinder,
  generatePathfinder,
  pixelDistance,
  type PathfinderSettings,
} from './pathfinder.js';

/** Component id of every inked pixel (8-connectivity), by union–find. */
function components(pixels: Uint8Array, side: number): Int32Array {
  const parent = Int32Array.from({ length: pixels.length }, (_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]!]!;
    return i;
  };
  for (let y = 0; y < side; y++)
    for (let x = 0; x < side; x++) {
      if (!pixels[y * side + x]) continue;
      // Right, down-left, down, down-right: every 8-neighbour pair once.
      for (const [dy, dx] of [
        [0, 1],
        [1, -1],
        [1, 0],
        [1, 1],
      ] as const) {
        const [ny, nx] = [y + dy, x + dx];
        if (ny < side && nx >= 0 && nx < side && pixels[ny * side + nx])
          parent[find(y * side + x)] = find(ny * side + nx);
      }
    }
  return Int32Array.from(parent, (_, i) => (pixels[i] ? find(i) : -1));
}

/** The five pixels of a plus centred at `at`, if it lies inside the image. */
const plusAt = (side: number, at: number) => {
  const [y, x] = [Math.floor(at / side), at % side];
  const inside = y > 0 && x > 0 && y < side - 1 && x < side - 1;
  return inside ? [at, at - 1, at + 1, at - side, at + side] : undefined;
};

const settings: [string, PathfinderSettings][] = [
  [
    "the default's (8×8, dots at 128)",
    { side: 8, curveLength: 4, distractors: 0, maxTurn: 0.3, dotInk: 128 },
  ],
  [
    '16×16 with 1 distractor',
    { side: 16, curveLength: 9, distractors: 1, maxTurn: 0.3, dotInk: 255 },
  ],
  [
    '32×32 with 4 distractors',
    { side: 32, curveLength: 14, distractors: 4, maxTurn: 0.3, dotInk: 255 },
  ],
];

const INK_OF_CURVES = 255;

describe('Pathfinder generator', () => {
  it.each(settings)('%s: labels agree with the connectivity of the drawn image', (_, s) => {
    const examples = generatePathfinder(60, s, 5, 0);
    expect(examples.filter((e) => e.label === 1)).toHaveLength(30);
    for (const e of examples) {
      expect(e.pixels).toHaveLength(s.side * s.side);
      // Curves at 255, each dot a plus of dotInk, and nothing else.
      const dotPixels = new Set(e.dots.flatMap((dot) => plusAt(s.side, dot) ?? []));
      expect(dotPixels.size).toBe(10);
      e.pixels.forEach((p, at) =>
        expect(p).toBe(dotPixels.has(at) ? s.dotInk : p === 0 ? 0 : INK_OF_CURVES),
      );
      const id = components(e.pixels, s.side);
      expect(id[e.dots[0]] === id[e.dots[1]]).toBe(e.label === 1);
      // Two dotted curves and the distractors, whatever the label: one component fewer when the
      // dots share a curve is the only difference.
      expect(new Set(id.filter((c) => c >= 0)).size).toBe(2 + s.distractors);
    }
  });

  it.each(settings)("%s: the dots' distance alone does not tell the labels apart", (_, s) => {
    // The best classifier that sees only the rounded distance, fitted on the examples themselves
    // (which flatters it): 90% at 16×16 when negatives placed their dots freely.
    const examples = generatePathfinder(2000, s, 2, 0);
    const counts = new Map<number, [number, number]>();
    for (const e of examples) {
      const d = Math.round(pixelDistance(s.side, ...e.dots));
      const c = counts.get(d) ?? [0, 0];
      c[e.label]++;
      counts.set(d, c);
    }
    const right = [...counts.values()].reduce((n, c) => n + Math.max(...c), 0);
    expect(right / examples.length).toBeLessThan(0.56);
  });

  it('is a pure function of (seed, stream)', () => {
    const s = settings[0]![1];
    const a = generatePathfinder(6, s, 1, 0);
    expect(generatePathfinder(6, s, 1, 0)).toEqual(a);
    expect(generatePathfinder(6, s, 1, 1)).not.toEqual(a);
  });

  it('fails naming the settings when curves cannot be placed', () => {
    let state = 0;
    const random = () => ((state = (state * 16807 + 1) % 2147483647) / 2147483647) % 1;
    expect(() =>
      drawPathfinder(
        random,
        { side: 8, curveLength: 20, distractors: 3, maxTurn: 0.3, dotInk: 255 },
        1,
      ),
    ).toThrow(/no positive image of side 8 with 5 curves of 20 steps .*fewer distractors/);
  });

  it.each([
    ['dotInk', 0, /dotInk 0 is not allowed; expected an integer from 1 to 255/],
    ['dotInk', 256, /dotInk 256 is not allowed; expected an integer from 1 to 255/],
    ['side', 2, /side 2 is not allowed; expected an integer from 3 to 4096/],
    ['distractors', 1.5, /distractors 1.5 is not allowed; expected an integer from 0/],
    ['maxTurn', -1, /maxTurn -1 is not allowed; expected radians from 0 to π/],
  ] as const)('refuses %s %s, naming the field and what is allowed', (field, value, message) => {
    const s = { ...settings[0]![1], [field]: value };
    expect(() => checkPathfinderSettings(s)).toThrow(message);
    expect(() => generatePathfinder(2, s, 0, 0)).toThrow(message);
  });
});

describe('pixelDistance', () => {
  it('measures across rows and columns of the image', () => {
    // (1, 2) to (4, 6) in a 10-wide image: 3 down, 4 across.
    expect(pixelDistance(10, 12, 46)).toBe(5);
    expect(pixelDistance(10, 46, 12)).toBe(5);
    // The last pixel of a row and the first of the next are a row apart diagonally, not adjacent.
    expect(pixelDistance(10, 9, 10)).toBeCloseTo(Math.hypot(1, 9));
  });
});

describe('dotsConnected', () => {
  // 5×5: a diagonal line joins (0,0) to (2,2); (4,4) is cut off by a gap.
  const image = Uint8Array.from(
    ['#....', '.#...', '..#..', '.....', '....#'].join('').split(''),
    (c) => (c === '#' ? 255 : 0),
  );
  it('follows diagonal steps (8-connectivity) and stops at gaps', () => {
    expect(dotsConnected(image, 5, [0, 12])).toBe(true);
    expect(dotsConnected(image, 5, [12, 0])).toBe(true);
    expect(dotsConnected(image, 5, [0, 24])).toBe(false);
  });
});
