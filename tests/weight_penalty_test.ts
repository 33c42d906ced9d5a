/**
 * trainingGradients() adds the L2 term's 2λW inside each linear layer's backward pass (one
 * multiply-add into the fresh weight gradient) when it runs the library's own backward
 * functions, and afterwards (addWeightPenaltyGradient) otherwise. Both must give the same bits,
 * on every backend and in both precisions, on both sides of the size where OpenBLAS's axpy
 * takes over from the TypeScript loop.
 */
import assert from "node:assert/strict";
import { useBackend } from "../lib/backend.ts";
import { batchNorm, linear, relu, sequential } from "../lib/architecture.ts";
import { castNetwork, initializeNetwork, layerBackwards } from "../lib/network.ts";
import { trainingGradients } from "../lib/objective.ts";
import {
  addScaled,
  matmulTransposedRight,
  matmulTransposedRightAddScaled,
} from "../lib/primitives.ts";
import { randomKey } from "../lib/random.ts";
import type { Tensor } from "../lib/tensor.ts";
import { availableBackends, randomTensor, sameBits } from "./backend_fixture.ts";

const backends = availableBackends();

for (const backend of backends) {
  for (const dtype of ["float64", "float32"] as const) {
    Deno.test(`${backend} ${dtype}: A·Bᵀ + f·C in one pass has the bits of addScaled(A·Bᵀ, C, f)`, () => {
      useBackend(backend);
      try {
        // 3 × 5 stays below the axpy threshold (4096 entries); 50 × 120 is above it.
        for (const [m, n, k] of [[3, 5, 4], [50, 120, 30]]) {
          const a = randomTensor(m, k, 1, dtype),
            b = randomTensor(n, k, 2, dtype),
            c = randomTensor(m, n, 3, dtype);
          const fused = matmulTransposedRightAddScaled(a, b, c, 0.37);
          const separate = addScaled(matmulTransposedRight(a, b), c, 0.37);
          assert.ok(sameBits(fused.data, separate.data), `${m}×${n} (k=${k})`);
          assert.equal(fused.data.constructor, separate.data.constructor);
        }
        // The types reject a C of the wrong shape; past them (a cast), the run-time check does.
        const wrongShape = randomTensor(2, 5, 3, dtype) as unknown as Tensor<2, 4>;
        assert.throws(
          () =>
            matmulTransposedRightAddScaled(
              randomTensor(2, 3, 1, dtype),
              randomTensor(4, 3, 2, dtype),
              wrongShape,
              1,
            ),
          /C must have the shape of A · Bᵀ/,
        );
      } finally {
        useBackend("ml-matrix");
      }
    });

    Deno.test(`${backend} ${dtype}: trainingGradients() adds 2λW in the backward pass with the same bits`, () => {
      useBackend(backend);
      try {
        // The first weight has 64 × 80 = 5120 entries: past the axpy threshold.
        const architecture = sequential(linear(80, 64), batchNorm(64), relu(64), linear(64, 5));
        const network = castNetwork(initializeNetwork(architecture, randomKey(4), "he"), dtype);
        const input = randomTensor(80, 12, 5, dtype);
        const labels = Array.from({ length: 12 }, (_, j) => j % 5);
        for (const lambda of [0, 0.01]) {
          const inBackward = trainingGradients(network, input, labels, lambda);
          // A table of the same functions that is not the library's own: the penalty is then
          // added after the backward pass.
          const after = trainingGradients(network, input, labels, lambda, { ...layerBackwards });
          inBackward.gradients.forEach((layer, index) => {
            for (const [name, value] of Object.entries(layer)) {
              const other = (after.gradients[index] as Record<string, Tensor>)[name];
              assert.ok(sameBits(value.data, other.data), `λ = ${lambda}, layer ${index} ${name}`);
            }
          });
        }
      } finally {
        useBackend("ml-matrix");
      }
    });
  }
}
