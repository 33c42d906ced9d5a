/**
 * Gathering one training batch: 100 samples in shuffled order out of a 45,000 × 3072 image set
 * (CIFAR-10's training split), normalized into a 3072 × 100 tensor, in float64 and float32, by
 * `gatherBatch` (the WebAssembly kernel of `wasm_gather.ts`) and by the TypeScript loop that
 * remains for augmented batches (`gatherAugmentedBatch` with no flip or shift).
 * Each batch runs in a buffer pool's step, as in training, so its tensor's array is a reused
 * one rather than fresh pages. Each iteration gathers the next batch of the shuffled order, so the samples
 * come from memory, not cache, as in an epoch.
 *
 *     deno bench bench/gather_bench.ts
 *
 * The first gather from the set, which copies its 138 MB into the kernel's memory, happens
 * before the measurements.
 *
 * @module
 */
import { gatherAugmentedBatch } from "../lib/augmentation.ts";
import { BufferPool, withBufferPool } from "../lib/buffer_pool.ts";
import { randomKey } from "../lib/random.ts";
import { gatherBatch } from "../lib/dataset.ts";
import type { ImageSet } from "../lib/image_set.ts";
import { normalizationOf } from "../lib/normalization.ts";
import { dtypes } from "../lib/tensor.ts";

const count = 45_000, features = 3072, batchSize = 100;

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

const images: ImageSet = {
  pixels: randomBytes(count * features, 1),
  labels: randomBytes(count, 2).map((value) => value % 10),
  count,
  features,
  classNames: [],
};
const normalization = normalizationOf(images);
// A fixed shuffle (Fisher–Yates with the generator's bytes), as an epoch's order.
const order = Uint32Array.from({ length: count }, (_, i) => i);
const swaps = randomBytes(4 * count, 3);
for (let i = count - 1; i > 0; i--) {
  const draw = new DataView(swaps.buffer).getUint32(4 * i) % (i + 1);
  [order[i], order[draw]] = [order[draw], order[i]];
}
gatherBatch(images, normalization, order, 0, batchSize);

const unaugmented = {
  shape: { channels: 3, height: 32, width: 32 },
  flipProbability: 0,
  maximumShift: 0,
};
const gathers = [
  {
    name: "gatherAugmentedBatch, no flip or shift (TypeScript)",
    gather: (
      ...[images, normalization, order, start, end, dtype]: Parameters<typeof gatherBatch>
    ) =>
      gatherAugmentedBatch(
        images,
        normalization,
        order,
        start,
        end,
        unaugmented,
        randomKey(1),
        dtype,
      ),
    baseline: true,
  },
  { name: "gatherBatch (WebAssembly SIMD)", gather: gatherBatch, baseline: false },
];

for (const dtype of dtypes) {
  for (const { name, gather, baseline } of gathers) {
    const pool = new BufferPool();
    let start = 0;
    Deno.bench({
      name: `${name}, ${dtype}`,
      group: `gather ${features} × ${batchSize} ${dtype}`,
      baseline,
      fn: () => {
        pool.beginStep();
        withBufferPool(
          pool,
          () => gather(images, normalization, order, start, start + batchSize, dtype),
        );
        start = start + 2 * batchSize <= count ? start + batchSize : 0;
      },
    });
  }
}
