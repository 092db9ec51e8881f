/**
 * Where the crops of training and evaluation are taken, as pure functions of the image's size
 * and a seeded generator (a resumed run sees the same crops): torchvision's RandomResizedCrop
 * (`get_params`: ten tries of an area share in [scale, 1] and an aspect ratio log-uniform in
 * [3/4, 4/3], then the centre crop of the nearest allowed aspect) and the evaluation's resize of
 * the shorter side to size / crop followed by the centre crop (timm's `crop_pct`, 0.875 for
 * DeiT). Boxes are integer pixel rectangles.
 */

export interface Box {
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
}

const RATIO: readonly [number, number] = [3 / 4, 4 / 3];

/** Python's round (half to even) as torchvision's `int(round(...))` computes it. */
function pyRound(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  return d < 0.5 ? f : d > 0.5 ? f + 1 : f % 2 === 0 ? f : f + 1;
}

/** torchvision `RandomResizedCrop.get_params(img, scale=(minScale, 1), ratio=(3/4, 4/3))`. */
export function randomResizedCropBox(
  width: number,
  height: number,
  minScale: number,
  random: () => number,
): Box {
  const area = width * height;
  const [logLow, logHigh] = RATIO.map(Math.log) as [number, number];
  for (let attempt = 0; attempt < 10; attempt++) {
    const target = area * (minScale + (1 - minScale) * random());
    const aspect = Math.exp(logLow + (logHigh - logLow) * random());
    const w = pyRound(Math.sqrt(target * aspect));
    const h = pyRound(Math.sqrt(target / aspect));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      const top = Math.floor(random() * (height - h + 1));
      const left = Math.floor(random() * (width - w + 1));
      return { left, top, width: w, height: h };
    }
  }
  const inRatio = width / height;
  let [w, h] = [width, height];
  if (inRatio < RATIO[0]) h = pyRound(w / RATIO[0]);
  else if (inRatio > RATIO[1]) w = pyRound(h * RATIO[1]);
  return {
    left: Math.floor((width - w) / 2),
    top: Math.floor((height - h) / 2),
    width: w,
    height: h,
  };
}

/**
 * The evaluation's crop for a `size` × `size` input: the image is resized so its shorter side is
 * ⌊size / crop⌋ (torchvision's Resize(int)), then the centre `size` × `size` is taken. Returns the
 * resized image's size and the crop in it.
 */
export function centerCropPlan(
  width: number,
  height: number,
  size: number,
  crop: number,
): { resized: { width: number; height: number }; box: Box } {
  const shorter = Math.floor(size / crop);
  const resized =
    width <= height
      ? { width: shorter, height: Math.floor((shorter * height) / width) }
      : { width: Math.floor((shorter * width) / height), height: shorter };
  // torchvision's center_crop: top = int(round((H − h) / 2)).
  return {
    resized,
    box: {
      left: pyRound((resized.width - size) / 2),
      top: pyRound((resized.height - size) / 2),
      width: size,
      height: size,
    },
  };
}
