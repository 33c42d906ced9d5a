/**
 * momentumStep() — SGD with momentum's v′ = ρ·v + η·g and θ′ = θ − v′, in one pass where the
 * backend has no axpy — must give the bits of the three separate operations it replaces, on
 * every backend and in both precisions, on both sides of the size where OpenBLAS's axpy takes
 * over from the TypeScript loop.
 */
import assert from "node:assert/strict";
import { useBackend } from "../lib/backend.ts";
import { addScaled, momentumStep, scale } from "../lib/primitives.ts";
import type { Tensor } from "../lib/tensor.ts";
import { availableBackends, randomTensor, sameBits } from "./backend_fixture.ts";

const momentum = 0.9, learningRate = 0.013;

for (const backend of availableBackends()) {
  for (const dtype of ["float64", "float32"] as const) {
    Deno.test(`${backend} ${dtype}: momentumStep() has the bits of scale and two addScaled`, () => {
      useBackend(backend);
      try {
        // 3 × 5 stays below the axpy threshold (4096 entries); 50 × 120 is above it.
        for (const [rows, columns] of [[3, 5], [50, 120]]) {
          const value = randomTensor(rows, columns, 1, dtype);
          const velocity = randomTensor(rows, columns, 2, dtype);
          const gradient = randomTensor(rows, columns, 3, dtype);
          const step = momentumStep(value, velocity, gradient, momentum, learningRate);
          const nextVelocity = addScaled(scale(velocity, momentum), gradient, learningRate);
          const nextValue = addScaled(value, nextVelocity, -1);
          assert.ok(sameBits(step.velocity.data, nextVelocity.data), `v′, ${rows}×${columns}`);
          assert.ok(sameBits(step.value.data, nextValue.data), `θ′, ${rows}×${columns}`);
          assert.equal(step.value.data.constructor, value.data.constructor);
          assert.equal(step.velocity.data.constructor, value.data.constructor);
          assert.deepEqual([step.value.rows, step.value.columns], [rows, columns]);
        }
      } finally {
        useBackend("ml-matrix");
      }
    });
  }
}

Deno.test("momentumStep() rejects a velocity or gradient of another shape, naming it", () => {
  const value = randomTensor(2, 3, 1, "float64");
  const other = randomTensor(3, 2, 2, "float64") as unknown as Tensor<2, 3>;
  assert.throws(
    () => momentumStep(value, other, value, momentum, learningRate),
    /v must have θ's shape/,
  );
  assert.throws(() => momentumStep(value, value, other, momentum, learningRate), /\[3, 2\]/);
});

Deno.test("momentumStep() leaves its arguments as they were", () => {
  const [value, velocity, gradient] = [1, 2, 3].map((seed) => randomTensor(4, 5, seed, "float64"));
  const before = [value, velocity, gradient].map((t) => [...t.data]);
  momentumStep(value, velocity, gradient, momentum, learningRate);
  assert.deepEqual([value, velocity, gradient].map((t) => [...t.data]), before);
});
