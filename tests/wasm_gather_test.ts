import assert from "node:assert/strict";
import { gatherBatch } from "../lib/dataset.ts";
import { fc } from "../lib/deps.ts";
import type { ImageSet } from "../lib/image_set.ts";
import { type Normalization, normalizationOf } from "../lib/normalization.ts";
import type { DType, FloatArray } from "../lib/tensor.ts";
import { wasmGatherBatch } from "../lib/wasm_gather.ts";

/**
 * The gather written as a plain TypeScript loop (value (f, j) = pixel · scale[f] − offset[f]
 * in float64; in float32 with scale and offset rounded to float32 and each operation rounded as
 * float32 rounds it), kept here so the comparison stays meaningful when `gatherBatch` itself
 * runs the WebAssembly kernel.
 */
function referenceGather(
  images: ImageSet,
  normalization: Normalization,
  order: ArrayLike<number>,
  start: number,
  end: number,
  dtype: DType,
): { data: FloatArray; labels: Uint8Array } {
  const { features, pixels } = images;
  const { mean, standardDeviation } = normalization;
  const size = end - start;
  const data = dtype === "float64"
    ? new Float64Array(features * size)
    : new Float32Array(features * size);
  const labels = new Uint8Array(size);
  for (let j = 0; j < size; j++) {
    const sample = order[start + j];
    labels[j] = images.labels[sample];
    for (let f = 0; f < features; f++) {
      const scale = 1 / (255 * standardDeviation[f]), offset = mean[f] / standardDeviation[f];
      const pixel = pixels[sample * features + f];
      data[f * size + j] = dtype === "float64"
        ? pixel * scale - offset
        : Math.fround(Math.fround(pixel * Math.fround(scale)) - Math.fround(offset));
    }
  }
  return { data, labels };
}

/** The bytes of a float array, for bit-for-bit comparison. */
function bytesOf(values: FloatArray): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

/** Asserts that wasmGatherBatch() returns what gatherBatch() and the reference loop do, to the bit. */
function assertGathersIdentically(
  images: ImageSet,
  normalization: Normalization,
  order: ArrayLike<number>,
  start: number,
  end: number,
  dtype: DType,
): void {
  const actual = wasmGatherBatch(images, normalization, order, start, end, dtype);
  const expected = gatherBatch(images, normalization, order, start, end, dtype);
  const reference = referenceGather(images, normalization, order, start, end, dtype);
  const where = `${images.features} features × ${end - start} samples, ${dtype}`;
  assert.equal(actual.input.rows, images.features, where);
  assert.equal(actual.input.columns, end - start, where);
  assert.equal(actual.input.data.constructor, reference.data.constructor, where);
  assert.deepEqual(bytesOf(actual.input.data), bytesOf(reference.data), where);
  assert.deepEqual(bytesOf(actual.input.data), bytesOf(expected.input.data), where);
  assert.deepEqual(actual.labels, reference.labels, where);
  assert.deepEqual(actual.labels, expected.labels, where);
}

/** Deterministic pseudo-random bytes (a 32-bit linear congruential generator). */
function randomBytes(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  let state = seed >>> 0;
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    bytes[i] = state >>> 24;
  }
  return bytes;
}

/** An image set of `count` random samples of `features` bytes, labelled i mod 10. */
function randomImageSet(count: number, features: number, seed: number): ImageSet {
  return {
    pixels: randomBytes(count * features, seed),
    labels: Uint8Array.from({ length: count }, (_, i) => i % 10),
    count,
    features,
    classNames: [],
  };
}

const dtypes: readonly DType[] = ["float64", "float32"];

Deno.test("wasmGatherBatch() equals the plain TypeScript gather bit for bit on random sets, orders and batches", () => {
  fc.assert(
    fc.property(
      fc.record({
        features: fc.integer({ min: 1, max: 50 }),
        count: fc.integer({ min: 1, max: 40 }),
        size: fc.integer({ min: 1, max: 37 }),
        start: fc.integer({ min: 0, max: 5 }),
        // where the set's pixels start in a larger buffer, as for a sliced set
        viewOffset: fc.integer({ min: 0, max: 7 }),
        seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        dtype: fc.constantFrom(...dtypes),
      }).chain((shape) =>
        fc.record({
          shape: fc.constant(shape),
          order: fc.array(fc.integer({ min: 0, max: shape.count - 1 }), {
            minLength: shape.start + shape.size,
            maxLength: shape.start + shape.size + 3,
          }),
          mean: fc.array(fc.double({ min: -1, max: 2, noNaN: true }), {
            minLength: shape.features,
            maxLength: shape.features,
          }),
          standardDeviation: fc.array(fc.double({ min: 1e-6, max: 10, noNaN: true }), {
            minLength: shape.features,
            maxLength: shape.features,
          }),
        })
      ),
      ({ shape, order, mean, standardDeviation }) => {
        const { features, count, size, start, viewOffset, seed, dtype } = shape;
        const backing = randomBytes(viewOffset + count * features + 5, seed);
        const images: ImageSet = {
          ...randomImageSet(count, features, seed),
          pixels: backing.subarray(viewOffset, viewOffset + count * features),
        };
        const normalization = {
          mean: Float64Array.from(mean),
          standardDeviation: Float64Array.from(standardDeviation),
        };
        assertGathersIdentically(images, normalization, order, start, start + size, dtype);
        // A second batch from the same (now cached) set, with other statistics and the other dtype.
        const other = dtype === "float64" ? "float32" : "float64";
        const shifted = {
          mean: normalization.mean.map((value) => value + 0.25),
          standardDeviation: normalization.standardDeviation.map((value) => value * 3),
        };
        assertGathersIdentically(images, shifted, order, 0, size, other);
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("wasmGatherBatch() equals the plain TypeScript gather at every block edge: features and sizes 1 to 40", () => {
  for (const features of [1, 7, 8, 15, 16, 17, 24, 31, 32, 33, 40]) {
    const images = randomImageSet(45, features, features);
    const normalization = normalizationOf(images);
    const order = Array.from({ length: 45 }, (_, i) => (i * 17 + 3) % 45);
    for (let size = 1; size <= 40; size++) {
      for (const dtype of dtypes) {
        assertGathersIdentically(images, normalization, order, 2, 2 + size, dtype);
      }
    }
  }
});

Deno.test("wasmGatherBatch() equals the plain TypeScript gather on CIFAR-10-sized batches of 100 and 37", () => {
  const images = randomImageSet(1000, 3072, 7);
  const normalization = normalizationOf(images);
  const order = Array.from({ length: 1000 }, (_, i) => (i * 7919 + 11) % 1000);
  for (const dtype of dtypes) {
    assertGathersIdentically(images, normalization, order, 0, 100, dtype);
    assertGathersIdentically(images, normalization, order, 900, 1000, dtype);
    assertGathersIdentically(images, normalization, order, 13, 50, dtype);
  }
});

Deno.test("wasmGatherBatch() gathers empty batches and defaults to float64", () => {
  const images = randomImageSet(4, 3, 1);
  const normalization = normalizationOf(images);
  const empty = wasmGatherBatch(images, normalization, [0, 1], 1, 1, "float32");
  assert.equal(empty.input.rows, 3);
  assert.equal(empty.input.columns, 0);
  assert.ok(empty.input.data instanceof Float32Array);
  assert.equal(empty.labels.length, 0);
  assert.ok(wasmGatherBatch(images, normalization, [3], 0, 1).input.data instanceof Float64Array);
});

Deno.test("wasmGatherBatch() names a sample out of range and mismatched statistics, like gatherBatch()", () => {
  const images = randomImageSet(5, 20, 3);
  const normalization = normalizationOf(images);
  for (const dtype of dtypes) {
    for (const [order, sample] of [[[0, 5], 5], [[-1, 2], -1], [[1], undefined]] as const) {
      const message = `Cannot gather sample ${sample} from a set of 5`;
      assert.throws(() => gatherBatch(images, normalization, order, 0, 2, dtype), {
        name: "RangeError",
        message,
      });
      assert.throws(() => wasmGatherBatch(images, normalization, order, 0, 2, dtype), {
        name: "RangeError",
        message,
      });
    }
  }
  const shortStatistics = {
    mean: normalization.mean.subarray(0, 19),
    standardDeviation: normalization.standardDeviation,
  };
  const message = "Cannot normalize 20 features with statistics of 19";
  assert.throws(() => gatherBatch(images, shortStatistics, [0], 0, 1), {
    name: "RangeError",
    message,
  });
  assert.throws(() => wasmGatherBatch(images, shortStatistics, [0], 0, 1), {
    name: "RangeError",
    message,
  });
});

Deno.test("wasmGatherBatch() refuses what gatherBatch() would turn into NaN", () => {
  const images = randomImageSet(5, 20, 3);
  const normalization = normalizationOf(images);
  // A fractional sample: the TypeScript loop reads past a sample's bytes or gets undefined.
  assert.throws(() => wasmGatherBatch(images, normalization, [1.5], 0, 1), {
    name: "RangeError",
    message: "Cannot gather sample 1.5 from a set of 5",
  });
  // Pixels shorter than count × features.
  const truncated = { ...images, pixels: images.pixels.subarray(0, 99) };
  assert.throws(() => wasmGatherBatch(truncated, normalization, [0], 0, 1), {
    name: "RangeError",
    message:
      "Cannot gather from an image set of 5 samples of 20 features: its pixels hold 99 bytes, " +
      "not 5 × 20 = 100",
  });
});

Deno.test("wasmGatherBatch() explains an image set too large for WebAssembly memory", () => {
  // Claims 5 GB of pixels; the kernel refuses before reading any of them.
  const pixels = Object.defineProperty(new Uint8Array(1), "length", { value: 5e9 });
  const images = { pixels, labels: new Uint8Array(1), count: 1, features: 1, classNames: [] };
  const normalization = { mean: new Float64Array(1), standardDeviation: new Float64Array([1]) };
  assert.throws(() => wasmGatherBatch(images, normalization, [0], 0, 1), {
    name: "RangeError",
    message:
      /an image set of 5000000000 bytes needs 5000000000 bytes of WebAssembly memory, more than the 4 GiB/,
  });
});
