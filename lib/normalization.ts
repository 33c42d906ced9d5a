/**
 * Input normalization with the training set's statistics: every feature x = pixel / 255 is
 * mapped to (x − mean) / standardDeviation, with the mean and (population) standard deviation
 * of that feature over the training samples. It is kept with the model, so evaluation on new
 * data uses the training set's statistics.
 *
 * @module
 */
import type { ImageSet } from "./image_set.ts";

/** Per-feature mean and standard deviation of x = pixel / 255 over a training set. */
export interface Normalization {
  readonly mean: Float64Array;
  readonly standardDeviation: Float64Array;
}

/**
 * The per-feature mean and standard deviation of `images` (pixels scaled to [0, 1]). A feature
 * that never varies gets standard deviation 1, so that it maps to 0 instead of dividing by 0.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { normalizationOf } from "./normalization.ts";
 * const images = { pixels: new Uint8Array([0, 7, 255, 7]), labels: new Uint8Array(2), count: 2, features: 2, classNames: [] };
 * const { mean, standardDeviation } = normalizationOf(images);
 * assert.equal(mean[0], 0.5);
 * assert.equal(standardDeviation[0], 0.5);
 * assert.equal(standardDeviation[1], 1);
 * ```
 */
export function normalizationOf(images: ImageSet): Normalization {
  const { pixels, count, features } = images;
  if (count === 0) {
    throw new RangeError("Cannot compute normalization statistics of an empty training set");
  }
  const sum = new Float64Array(features);
  for (let i = 0; i < count; i++) {
    const offset = i * features;
    for (let f = 0; f < features; f++) sum[f] += pixels[offset + f];
  }
  const mean = sum.map((total) => total / count);
  const squares = new Float64Array(features);
  for (let i = 0; i < count; i++) {
    const offset = i * features;
    for (let f = 0; f < features; f++) {
      const deviation = pixels[offset + f] - mean[f];
      squares[f] += deviation * deviation;
    }
  }
  const standardDeviation = squares.map((total) => {
    const deviation = Math.sqrt(total / count) / 255;
    return deviation > 1e-12 ? deviation : 1;
  });
  return { mean: mean.map((value) => value / 255), standardDeviation };
}
