/**
 * Pathfinder (Linsley et al. 2018; LRA's `Pathfinder32`, split `hard` = curv_contour_length_14):
 * is there a path between the two marked dots? Images are flattened to pixel tokens 0–255.
 *
 * Our generator (the embedded default) draws smooth curves of one-pixel steps whose heading turns
 * by at most `maxTurn` per step, keeps every curve one clear pixel away from the others, and marks
 * two endpoints with a plus-shaped dot: both ends of one of two curves (positive) or one end each
 * of the two (negative), among distractor curves. Unlike the released images, whose paths are dashed
 * (paddles with gaps), ours are solid, so every label is checked on the drawn image by an
 * 8-connected flood fill from one dot (`dotsConnected`); a draw whose check disagrees is redrawn.
 *
 * The distance between the dots says nothing about the label. A positive's dots are the two ends
 * of one curve, so their distance is a curve's end-to-end span; drawn freely, a negative's dots
 * are anywhere, and the distance alone told the labels apart 90% of the time at 16×16 (Bayes
 * classifier on the rounded distance). So each negative first draws a reference curve and places
 * its second dotted curve only where the dots' distance is within half a pixel of that curve's
 * span: both labels' distances follow the same law, and only the ink between the dots decides.
 */
import { generatorFor } from '@posenc/core';

export interface PathfinderSettings {
  /** Image side in pixels (LRA: 32). */
  readonly side: number;
  /** Steps of each curve. */
  readonly curveLength: number;
  /** Curves without dots. */
  readonly distractors: number;
  /** Largest change of heading per step, radians. */
  readonly maxTurn: number;
  /**
   * The dots' pixel value, 1–255; curves are 255. At 255 only their plus shape tells the dots from
   * the curves; another value marks them by value too.
   */
  readonly dotInk: number;
}

export const PATHFINDER_32: PathfinderSettings = {
  side: 32,
  curveLength: 14,
  distractors: 4,
  maxTurn: 0.3,
  dotInk: 255,
};

export interface PathfinderExample {
  /** side × side pixels, row-major, 0 = background, 255 = curve, `dotInk` = dot. */
  readonly pixels: Uint8Array;
  readonly label: 0 | 1;
  /** The two dots' centres, as pixel indices. */
  readonly dots: readonly [number, number];
}

const INK = 255;
/** Shorter curves (cut by the image's edge) are redrawn. */
const MIN_CURVE_PIXELS = 4;
const NEIGHBOURS_8 = [-1, 0, 1]
  .flatMap((dy) => [-1, 0, 1].map((dx) => [dy, dx] as const))
  .filter(([a, b]) => a !== 0 || b !== 0);
const PLUS = [
  [0, 0],
  [-1, 0],
  [1, 0],
  [0, -1],
  [0, 1],
] as const;

/** Whether the foreground component of one dot holds the other (8-connectivity). */
export function dotsConnected(
  pixels: Uint8Array,
  side: number,
  dots: readonly [number, number],
): boolean {
  const seen = new Uint8Array(side * side);
  const stack = [dots[0]];
  seen[dots[0]] = 1;
  while (stack.length > 0) {
    const at = stack.pop()!;
    if (at === dots[1]) return true;
    const [y, x] = [Math.floor(at / side), at % side];
    for (const [dy, dx] of NEIGHBOURS_8) {
      const [ny, nx] = [y + dy, x + dx];
      if (ny < 0 || nx < 0 || ny >= side || nx >= side) continue;
      const next = ny * side + nx;
      if (!seen[next] && pixels[next]) {
        seen[next] = 1;
        stack.push(next);
      }
    }
  }
  return false;
}

/** A curve's pixels (in order, 8-connected), or undefined if it left the image. */
function drawCurve(random: () => number, s: PathfinderSettings): number[] | undefined {
  // One pixel of margin, so a dot (a plus of radius 1) at either end stays inside the image.
  const inside = (p: number) => p >= 1 && p < s.side - 1;
  let y = 1 + random() * (s.side - 3);
  let x = 1 + random() * (s.side - 3);
  let heading = random() * 2 * Math.PI;
  const pixels: number[] = [];
  for (let step = 0; step <= s.curveLength; step++) {
    if (step > 0) {
      heading += (2 * random() - 1) * s.maxTurn;
      y += Math.sin(heading);
      x += Math.cos(heading);
    }
    const [py, px] = [Math.round(y), Math.round(x)];
    if (!inside(py) || !inside(px)) return undefined;
    const at = py * s.side + px;
    if (at !== pixels[pixels.length - 1]) pixels.push(at);
  }
  // A curve that crosses itself would join its own ends into a loop of doubtful meaning.
  return new Set(pixels).size === pixels.length ? pixels : undefined;
}

/** Largest gap between a negative's dot distance and the span of its reference curve, pixels. */
const SPAN_TOLERANCE = 0.5;

/** Euclidean distance between two pixels of a side × side image, given as indices. */
export function pixelDistance(side: number, a: number, b: number): number {
  return Math.hypot(Math.floor(a / side) - Math.floor(b / side), (a % side) - (b % side));
}

/** The end-to-end span of a curve drawn as a positive's would be, for a negative to match. */
function referenceSpan(random: () => number, s: PathfinderSettings): number | undefined {
  for (let tries = 0; tries < 100; tries++) {
    const curve = drawCurve(random, s);
    if (curve && curve.length >= MIN_CURVE_PIXELS)
      return pixelDistance(s.side, curve[0]!, curve[curve.length - 1]!);
  }
  return undefined;
}

/**
 * The pixels a curve and its dots ink, with their values (a dot's plus over the curve's own
 * pixels), or undefined if any comes within one pixel of ink already drawn.
 */
function placeCurve(
  image: Uint8Array,
  s: PathfinderSettings,
  curve: number[],
  dotted: readonly number[],
): Map<number, number> | undefined {
  const side = s.side;
  const ink = new Map(curve.map((at) => [at, INK]));
  for (const end of dotted) {
    const [y, x] = [Math.floor(end / side), end % side];
    for (const [dy, dx] of PLUS) ink.set((y + dy) * side + (x + dx), s.dotInk);
  }
  for (const at of ink.keys()) {
    const [y, x] = [Math.floor(at / side), at % side];
    for (const [dy, dx] of [[0, 0], ...NEIGHBOURS_8]) {
      const [ny, nx] = [y + dy, x + dx];
      if (ny >= 0 && nx >= 0 && ny < side && nx < side && image[ny * side + nx]) return undefined;
    }
  }
  return ink;
}

/** Refuses settings the generator cannot honour, naming the field, its value and what is allowed. */
export function checkPathfinderSettings(s: PathfinderSettings): void {
  const fields: [keyof PathfinderSettings, number, number, string][] = [
    // A plus-shaped dot and a one-pixel margin need 3 pixels; a dot of ink 0 would be background.
    ['side', 3, 4096, 'an integer from 3 to 4096'],
    ['curveLength', 1, 4096, 'an integer from 1 to 4096'],
    ['distractors', 0, 4096, 'an integer from 0 to 4096'],
    ['dotInk', 1, 255, 'an integer from 1 to 255'],
  ];
  for (const [field, min, max, allowed] of fields) {
    const v = s[field];
    if (!Number.isInteger(v) || v < min || v > max)
      throw new Error(`Pathfinder settings: ${field} ${v} is not allowed; expected ${allowed}`);
  }
  if (!(s.maxTurn >= 0 && s.maxTurn <= Math.PI))
    throw new Error(
      `Pathfinder settings: maxTurn ${s.maxTurn} is not allowed; expected radians from 0 to π`,
    );
}

/** One example with the given label, from `random`. */
export function drawPathfinder(
  random: () => number,
  s: PathfinderSettings,
  label: 0 | 1,
): PathfinderExample {
  checkPathfinderSettings(s);
  // Both labels draw two dotted curves and the same distractors, as the released images do, so
  // the amount of ink and the number of curves say nothing about the label.
  const curves = 2 + s.distractors;
  for (let attempt = 0; attempt < 1000; attempt++) {
    const image = new Uint8Array(s.side * s.side);
    const dots: number[] = [];
    const span = label === 0 ? referenceSpan(random, s) : undefined;
    let ok = label === 1 || span !== undefined;
    for (let c = 0; c < curves && ok; c++) {
      // The negative's second dot must land at the reference span from the first: many curves
      // are drawn for each one that does.
      const matching = c === 1 && label === 0;
      let placed = false;
      for (let tries = 0; tries < (matching ? 2000 : 100) && !placed; tries++) {
        const curve = drawCurve(random, s);
        if (!curve || curve.length < MIN_CURVE_PIXELS) continue;
        const [first, last] = [curve[0]!, curve[curve.length - 1]!];
        if (matching && Math.abs(pixelDistance(s.side, dots[0]!, last) - span!) > SPAN_TOLERANCE)
          continue;
        const ends = c === 0 ? (label === 1 ? [first, last] : [first]) : matching ? [last] : [];
        const ink = placeCurve(image, s, curve, ends);
        if (!ink) continue;
        for (const [at, value] of ink) image[at] = value;
        dots.push(...ends);
        placed = true;
      }
      ok = placed;
    }
    if (!ok) continue;
    const pair: [number, number] = [dots[0]!, dots[1]!];
    if (dotsConnected(image, s.side, pair) === (label === 1))
      return { pixels: image, label, dots: pair };
  }
  throw new Error(
    `Pathfinder: no ${label ? 'positive' : 'negative'} image of side ${s.side} with ${curves} curves of ${s.curveLength} steps in 1000 draws; use fewer distractors or shorter curves`,
  );
}

/** `count` examples, half of each label (alternating), from (seed, stream). */
export function generatePathfinder(
  count: number,
  s: PathfinderSettings,
  seed: number,
  stream: number,
): PathfinderExample[] {
  const random = generatorFor(seed, 1, stream);
  return Array.from({ length: count }, (_, i) => drawPathfinder(random, s, (i % 2) as 0 | 1));
}
