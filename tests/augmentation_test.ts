import assert from "node:assert/strict";
import {
  assertAugmentation,
  cifar10ImageShape,
  gatherAugmentedBatch,
  type ImageAugmentation,
} from "../lib/augmentation.ts";
import { gatherBatch, identityOrder } from "../lib/dataset.ts";
import type { ImageSet } from "../lib/image_set.ts";
import { normalizationOf } from "../lib/normalization.ts";
import { randomKey, splitKey, uniforms } from "../lib/random.ts";

/** Random 3 × 4 × 5 images (channel-planar). */
const shape = { channels: 3, height: 4, width: 5 };
const features = 60;
const images: ImageSet = {
  pixels: Uint8Array.from(uniforms(randomKey(1), 6 * features).values, (value) => value * 256),
  labels: Uint8Array.from({ length: 6 }, (_, i) => i % 3),
  count: 6,
  features,
  classNames: ["a", "b", "c"],
};
const normalization = normalizationOf(images);
const order = [5, 0, 3, 1];
const pixel = (set: ImageSet, sample: number, c: number, y: number, x: number) =>
  set.pixels[sample * features + c * 20 + y * 5 + x];
/** The normalized value of raw pixel `value` at feature f. */
const normalized = (value: number, f: number) =>
  value * (1 / (255 * normalization.standardDeviation[f])) -
  normalization.mean[f] / normalization.standardDeviation[f];

Deno.test("gatherAugmentedBatch() without flips or shifts is gatherBatch(), bit for bit", () => {
  const none: ImageAugmentation = { shape, flipProbability: 0, maximumShift: 0 };
  for (const dtype of ["float64", "float32"] as const) {
    const augmented = gatherAugmentedBatch(
      images,
      normalization,
      order,
      0,
      4,
      none,
      randomKey(2),
      dtype,
    );
    const plain = gatherBatch(images, normalization, order, 0, 4, dtype);
    assert.deepEqual(augmented.input.data, plain.input.data, dtype);
    assert.deepEqual(augmented.labels, plain.labels);
  }
});

Deno.test("gatherAugmentedBatch() always flipping mirrors every row of every channel", () => {
  const flip: ImageAugmentation = { shape, flipProbability: 1, maximumShift: 0 };
  const { input } = gatherAugmentedBatch(images, normalization, order, 0, 4, flip, randomKey(3));
  order.forEach((sample, j) => {
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < 4; y++) {
        for (let x = 0; x < 5; x++) {
          const f = c * 20 + y * 5 + x;
          assert.equal(input.data[f * 4 + j], normalized(pixel(images, sample, c, y, 4 - x), f));
        }
      }
    }
  });
});

Deno.test("gatherAugmentedBatch() shifts are whole-pixel translations within ±s, filled with the mean", () => {
  const shift: ImageAugmentation = { shape, flipProbability: 0, maximumShift: 2 };
  const seen = new Set<string>();
  for (const key of splitKey(randomKey(4), 20)) {
    const { input } = gatherAugmentedBatch(images, normalization, order, 0, 4, shift, key);
    order.forEach((sample, j) => {
      // Find the (dy, dx) in −2 … 2 that explains this column.
      const matches = [];
      for (let dy = -2; dy <= 2; dy++) {
        for (let dx = -2; dx <= 2; dx++) {
          let all = true;
          for (let f = 0; f < features && all; f++) {
            const c = Math.floor(f / 20), y = Math.floor((f % 20) / 5), x = f % 5;
            const sy = y - dy, sx = x - dx;
            const expected = sy >= 0 && sy < 4 && sx >= 0 && sx < 5
              ? normalized(pixel(images, sample, c, sy, sx), f)
              : 0;
            all = input.data[f * 4 + j] === expected;
          }
          if (all) matches.push(`${dy},${dx}`);
        }
      }
      assert.ok(matches.length >= 1, `sample ${sample} is no translation by ±2`);
      seen.add(matches[0]);
    });
  }
  assert.ok(seen.size >= 15, `only ${seen.size} of 25 shifts seen in 80 draws`);
});

Deno.test("gatherAugmentedBatch() gives one batch per key", () => {
  const both: ImageAugmentation = { shape, flipProbability: 0.5, maximumShift: 1 };
  const batch = (key: number) =>
    gatherAugmentedBatch(images, normalization, identityOrder(6), 0, 6, both, randomKey(key)).input
      .data;
  assert.deepEqual(batch(7), batch(7));
  assert.notDeepEqual(batch(7), batch(8));
});

Deno.test("assertAugmentation() names a shape that does not fit and out-of-range numbers", () => {
  const augmentation = { shape: cifar10ImageShape, flipProbability: 0.5, maximumShift: 4 };
  assert.throws(() => assertAugmentation(augmentation, 784), /784 features as 3 × 32 × 32 = 3072/);
  assert.throws(
    () => assertAugmentation({ ...augmentation, flipProbability: 2 }, 3072),
    /probability 2/,
  );
  assert.throws(
    () => assertAugmentation({ ...augmentation, maximumShift: 1.5 }, 3072),
    /up to 1.5 pixels/,
  );
});
