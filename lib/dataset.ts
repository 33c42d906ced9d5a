/**
 * Splitting image sets into training, validation and test sets, and gathering normalized
 * mini-batches from them.
 *
 * Images stay as their raw bytes (sample-major); a batch is gathered into a
 * `Tensor<features, batchSize>` (samples are columns) and normalized on the way, so the
 * float64 data set is never materialised: CIFAR-10 stays 150 MB (twice, with the gather
 * kernel's copy) instead of 1.2 GB.
 *
 * @module
 */
import type { Cifar10 } from "./cifar10.ts";
import type { ImageSet } from "./image_set.ts";
import type { Normalization } from "./normalization.ts";
import type { DType, Tensor } from "./tensor.ts";
import { wasmGatherBatch } from "./wasm_gather.ts";

/** Training, validation and test sets. */
export interface DataSplit {
  readonly training: ImageSet;
  readonly validation: ImageSet;
  readonly test: ImageSet;
}

/**
 * How CIFAR-10 is split: `"file1"` trains on data_batch_1 and validates on data_batch_2;
 * `{ validationSize: N }` trains on all five training files but the last N samples, which
 * validate.
 */
export type Cifar10Split = "file1" | { readonly validationSize: number };

/**
 * Several image sets as one, in order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { concatenateImageSets } from "./dataset.ts";
 * const one = { pixels: new Uint8Array([1, 2]), labels: new Uint8Array([0]), count: 1, features: 2, classNames: ["a", "b"] };
 * const two = { ...one, labels: new Uint8Array([1]) };
 * assert.deepEqual([...concatenateImageSets([one, two]).labels], [0, 1]);
 * ```
 */
export function concatenateImageSets(sets: readonly ImageSet[]): ImageSet {
  if (sets.length === 0) throw new RangeError("Cannot concatenate an empty list of image sets");
  const { features, classNames } = sets[0];
  for (const set of sets) {
    if (set.features !== features) {
      throw new RangeError(
        `Cannot concatenate image sets of ${features} and ${set.features} features`,
      );
    }
  }
  const count = sets.reduce((total, set) => total + set.count, 0);
  const pixels = new Uint8Array(count * features);
  const labels = new Uint8Array(count);
  let offset = 0;
  for (const set of sets) {
    pixels.set(set.pixels.subarray(0, set.count * features), offset * features);
    labels.set(set.labels.subarray(0, set.count), offset);
    offset += set.count;
  }
  return { pixels, labels, count, features, classNames };
}

/**
 * Samples `start` (inclusive) to `end` (exclusive) of an image set, as views without copying.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sliceImageSet } from "./dataset.ts";
 * const set = { pixels: new Uint8Array([1, 2, 3]), labels: new Uint8Array([0, 1, 0]), count: 3, features: 1, classNames: ["a", "b"] };
 * assert.deepEqual([...sliceImageSet(set, 1, 3).pixels], [2, 3]);
 * ```
 */
export function sliceImageSet(set: ImageSet, start: number, end: number): ImageSet {
  if (!(0 <= start && start <= end && end <= set.count)) {
    throw new RangeError(`Cannot take samples ${start} to ${end} of a set of ${set.count}`);
  }
  return {
    pixels: set.pixels.subarray(start * set.features, end * set.features),
    labels: set.labels.subarray(start, end),
    count: end - start,
    features: set.features,
    classNames: set.classNames,
  };
}

/**
 * The SPEC's CIFAR-10 splits.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { splitCifar10 } from "./dataset.ts";
 * const file = (count: number) => ({ pixels: new Uint8Array(count * 2), labels: new Uint8Array(count), count, features: 2, classNames: [] });
 * const cifar10 = { trainingFiles: [file(10), file(10), file(10), file(10), file(10)], test: file(10), classNames: [] };
 * const split = splitCifar10(cifar10, { validationSize: 5 });
 * assert.equal(split.training.count, 45);
 * assert.equal(split.validation.count, 5);
 * assert.equal(splitCifar10(cifar10, "file1").training.count, 10);
 * ```
 */
export function splitCifar10(cifar10: Cifar10, split: Cifar10Split): DataSplit {
  if (split === "file1") {
    return {
      training: cifar10.trainingFiles[0],
      validation: cifar10.trainingFiles[1],
      test: cifar10.test,
    };
  }
  const all = concatenateImageSets(cifar10.trainingFiles);
  const { validationSize } = split;
  if (!Number.isInteger(validationSize) || validationSize < 1 || validationSize >= all.count) {
    throw new RangeError(
      `Cannot hold out ${validationSize} samples for validation from ${all.count}: use an integer from 1 to ${
        all.count - 1
      }`,
    );
  }
  return {
    training: sliceImageSet(all, 0, all.count - validationSize),
    validation: sliceImageSet(all, all.count - validationSize, all.count),
    test: cifar10.test,
  };
}

/**
 * Gathers samples `order[start]` … `order[end − 1]` of `images` into a normalized
 * `Tensor<features, end − start>` (samples as columns) of `dtype`, with their labels. Each
 * value is (pixel / 255 − mean) / std, computed as pixel · scale − offset (in float64, or for
 * a float32 batch in float32 with scale and offset rounded to float32); the
 * WebAssembly SIMD kernel of `wasm_gather.ts` does the work (no permission needed), which keeps
 * a copy of the set's pixels after the first gather from it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { gatherBatch } from "./dataset.ts";
 * const images = { pixels: new Uint8Array([0, 255, 255, 0]), labels: new Uint8Array([1, 0]), count: 2, features: 2, classNames: [] };
 * const normalization = { mean: new Float64Array([0.5, 0.5]), standardDeviation: new Float64Array([0.5, 0.5]) };
 * const { input, labels } = gatherBatch(images, normalization, [1, 0], 0, 2);
 * assert.deepEqual([...input.data], [1, -1, -1, 1]); // row = feature, column = sample
 * assert.deepEqual([...labels], [0, 1]);
 * ```
 */
export function gatherBatch(
  images: ImageSet,
  normalization: Normalization,
  order: ArrayLike<number>,
  start: number,
  end: number,
  dtype: DType = "float64",
): { input: Tensor; labels: Uint8Array } {
  return wasmGatherBatch(images, normalization, order, start, end, dtype);
}

/**
 * 0, 1, …, n − 1: the order that gathers a whole set as it is.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { identityOrder } from "./dataset.ts";
 * assert.deepEqual([...identityOrder(3)], [0, 1, 2]);
 * ```
 */
export function identityOrder(count: number): Uint32Array {
  return Uint32Array.from({ length: count }, (_, i) => i);
}
