/**
 * Data augmentation on the fly, fused into the batch gather: every sample of a mini-batch is
 * flipped left–right with probability p and translated by (dy, dx) pixels, each drawn
 * uniformly from −s … s, from an explicit {@linkcode RandomKey}; then normalized like
 * {@linkcode gatherBatch} does. Pixels shifted in from outside the image take the training
 * mean of their position, so they normalize to 0.
 *
 * Images are channel-planar (CIFAR-10: 3 planes of 32 × 32, each row-major); the transform
 * moves whole pixels, the same in every channel: output (c, y, x) is source
 * (c, y − dy, x′ − dx) with x′ = W − 1 − x when flipped, else x.
 *
 * @module
 */
import type { ImageSet } from "./image_set.ts";
import type { Normalization } from "./normalization.ts";
import { type RandomKey, uniforms } from "./random.ts";
import { type DType, resultArray, type Tensor, tensor } from "./tensor.ts";

/** The layout of an image's features: `channels` planes of `height` × `width`. */
export interface ImageShape {
  readonly channels: number;
  readonly height: number;
  readonly width: number;
}

/** CIFAR-10's layout: 3 planes (red, green, blue) of 32 × 32. */
export const cifar10ImageShape: ImageShape = Object.freeze({ channels: 3, height: 32, width: 32 });

/** Which random transforms a training batch gets. */
export interface ImageAugmentation {
  readonly shape: ImageShape;
  /** p, the probability of a left–right flip (0.5 is usual; 0 for none). */
  readonly flipProbability: number;
  /** s, the largest translation in pixels, in each direction (0 for none). */
  readonly maximumShift: number;
}

/**
 * Throws a RangeError quoting the value if an augmentation does not fit images of `features`
 * features or its numbers are out of range.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { assertAugmentation, cifar10ImageShape } from "./augmentation.ts";
 * const augmentation = { shape: cifar10ImageShape, flipProbability: 0.5, maximumShift: 4 };
 * assertAugmentation(augmentation, 3072);
 * assert.throws(() => assertAugmentation(augmentation, 784), /784 features/);
 * ```
 */
export function assertAugmentation(augmentation: ImageAugmentation, features: number): void {
  const { shape: { channels, height, width }, flipProbability, maximumShift } = augmentation;
  for (
    const [name, size] of [["channels", channels], ["height", height], ["width", width]] as const
  ) {
    if (!Number.isInteger(size) || size < 1) {
      throw new RangeError(
        `Cannot augment images with ${name} ${size}: it must be a positive integer`,
      );
    }
  }
  if (channels * height * width !== features) {
    throw new RangeError(
      `Cannot augment images of ${features} features as ${channels} × ${height} × ${width} = ${
        channels * height * width
      }`,
    );
  }
  if (!(flipProbability >= 0 && flipProbability <= 1)) {
    throw new RangeError(`Cannot flip with probability ${flipProbability}: it must be in [0, 1]`);
  }
  if (
    !Number.isInteger(maximumShift) || maximumShift < 0 || maximumShift >= Math.min(height, width)
  ) {
    throw new RangeError(
      `Cannot translate by up to ${maximumShift} pixels: use an integer from 0 to ${
        Math.min(height, width) - 1
      }`,
    );
  }
}

/**
 * Gathers samples `order[start]` … `order[end − 1]` like {@linkcode gatherBatch}, each flipped
 * and translated at random (drawn from `key`), into a normalized `Tensor<features, end − start>`.
 * The same key gives the same batch.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { gatherAugmentedBatch } from "./augmentation.ts";
 * import { randomKey } from "./random.ts";
 * // One 1 × 1 × 3 image: [10, 20, 30]; always flipped, never shifted.
 * const images = { pixels: new Uint8Array([10, 20, 30]), labels: new Uint8Array([1]), count: 1, features: 3, classNames: [] };
 * const normalization = { mean: new Float64Array(3), standardDeviation: new Float64Array(3).fill(1 / 255) };
 * const augmentation = { shape: { channels: 1, height: 1, width: 3 }, flipProbability: 1, maximumShift: 0 };
 * const { input } = gatherAugmentedBatch(images, normalization, [0], 0, 1, augmentation, randomKey(1));
 * assert.deepEqual([...input.data], [30, 20, 10]);
 * ```
 */
export function gatherAugmentedBatch(
  images: ImageSet,
  normalization: Normalization,
  order: ArrayLike<number>,
  start: number,
  end: number,
  augmentation: ImageAugmentation,
  key: RandomKey,
  dtype: DType = "float64",
): { input: Tensor; labels: Uint8Array } {
  const { features, pixels } = images;
  assertAugmentation(augmentation, features);
  if (normalization.mean.length !== features) {
    throw new RangeError(
      `Cannot normalize ${features} features with statistics of ${normalization.mean.length}`,
    );
  }
  const { shape: { channels, height, width }, flipProbability, maximumShift } = augmentation;
  const size = end - start;
  const draws = uniforms(key, 3 * size).values;
  const labels = new Uint8Array(size);
  const sources = new Int32Array(size);
  const flips = new Uint8Array(size);
  const shiftsY = new Int32Array(size), shiftsX = new Int32Array(size);
  const span = 2 * maximumShift + 1;
  for (let j = 0; j < size; j++) {
    const sample = order[start + j];
    if (!(sample >= 0 && sample < images.count)) {
      throw new RangeError(`Cannot gather sample ${sample} from a set of ${images.count}`);
    }
    labels[j] = images.labels[sample];
    sources[j] = sample * features;
    flips[j] = draws[3 * j] < flipProbability ? 1 : 0;
    shiftsY[j] = Math.floor(draws[3 * j + 1] * span) - maximumShift;
    shiftsX[j] = Math.floor(draws[3 * j + 2] * span) - maximumShift;
  }
  // (pixel / 255 − mean) / std as pixel · scale − offset, as gatherBatch computes it: in
  // float32, with scale and offset rounded to float32 and the product rounded before the
  // difference (the difference of two floats is exact in a double, and the store rounds it).
  const { mean, standardDeviation } = normalization;
  const single = dtype === "float32";
  const typed = (values: Float64Array) => single ? Float32Array.from(values) : values;
  const scale = typed(standardDeviation.map((deviation) => 1 / (255 * deviation)));
  const offset = typed(mean.map((value, f) => value / standardDeviation[f]));
  const data = resultArray(dtype, features * size);
  const plane = height * width;
  // Sample by sample: one image's pixels stay in cache while its column is written.
  for (let j = 0; j < size; j++) {
    const source = sources[j], flip = flips[j], dy = shiftsY[j], dx = shiftsX[j];
    for (let y = 0; y < height; y++) {
      const sourceY = y - dy;
      const rowInside = sourceY >= 0 && sourceY < height;
      for (let x = 0; x < width; x++) {
        const sourceX = (flip ? width - 1 - x : x) - dx;
        const inside = rowInside && sourceX >= 0 && sourceX < width;
        for (let c = 0; c < channels; c++) {
          const f = c * plane + y * width + x;
          // Outside the image: the position's mean, which normalizes to 0.
          const pixel = inside ? pixels[source + c * plane + sourceY * width + sourceX] : 0;
          const scaled = single ? Math.fround(pixel * scale[f]) : pixel * scale[f];
          data[f * size + j] = inside ? scaled - offset[f] : 0;
        }
      }
    }
  }
  return { input: tensor(features, size, data), labels };
}
