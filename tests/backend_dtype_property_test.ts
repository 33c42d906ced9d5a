/**
 * Every backend and number type computes what the reference does: random k-layer networks
 * (batch norm before or after the ReLU, dropout, λ) evaluated forward and backward by each
 * kernel in float64 and float32, in reused training buffers, against ml-matrix in float64.
 *
 * Errors are normwise, ‖candidate − reference‖ / max(‖reference‖, ‖all‖) per tensor, where ‖all‖
 * is the norm of all the network's reference gradients (for a gradient; a forward output is
 * judged against itself): a gradient that is zero in exact arithmetic (a bias before batch norm)
 * or a difference of nearly equal terms (P − Y with P ≈ Y) is rounding noise in both, and is
 * judged against the size of the whole gradient, as a normwise error bound does. float64
 * kernels sum in another order than ml-matrix, a few units of 2⁻⁵³ per operation, which batch
 * norm over two or three samples amplifies (up to 2e−12 seen): 1e−11.
 * float32 stores every value rounded to 2⁻²⁴ ≈ 6e−8, and batch norm over two or three samples
 * amplifies that: 1e−4.
 */
import assert from "node:assert/strict";
import { type BackendName, useBackend } from "../lib/backend.ts";
import { BufferPool, withBufferPool } from "../lib/buffer_pool.ts";
import { fc } from "../lib/deps.ts";
import { buildNetworkCase, networkCaseDescriptions } from "../lib/network_cases.ts";
import { castNetwork, parameterNames } from "../lib/network.ts";
import { trainingGradients } from "../lib/objective.ts";
import { castTensor, type DType, type Tensor } from "../lib/tensor.ts";

const ffiGranted = Deno.permissions.querySync({ name: "ffi" }).state === "granted";
const backends: BackendName[] = ["ml-matrix", "wasm"];
try {
  if (ffiGranted) {
    useBackend("openblas");
    backends.push("openblas");
  }
} catch {
  // OpenBLAS is not installed here; the other backends are still checked.
}

const tolerance: Record<DType, number> = { float64: 1e-11, float32: 1e-4 };

function norm(values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i] ** 2;
  return Math.sqrt(sum);
}

function relativeError(candidate: Tensor, reference: Tensor, scale: number): number {
  const difference = reference.data.map((value, i) => candidate.data[i] - value);
  return norm(difference) / Math.max(norm(reference.data), scale, 1e-300);
}

for (const backend of backends) {
  for (const dtype of ["float64", "float32"] as const) {
    Deno.test(`${backend} ${dtype}: forward and backward of random networks match the float64 reference`, () => {
      let worst = 0;
      try {
        fc.assert(
          fc.property(
            networkCaseDescriptions({ maximumDepth: 6, maximumWidth: 20, maximumInputSize: 40 }),
            (description) => {
              const { network, input, labels, lambda, dropoutKey } = buildNetworkCase(description);
              useBackend("ml-matrix");
              const reference = trainingGradients(
                network,
                input,
                labels,
                lambda,
                undefined,
                dropoutKey,
              );
              useBackend(backend);
              // Three steps in one buffer pool: the third reuses the first's buffers, stale
              // values and all, as training does; every result must be written in full.
              const pool = new BufferPool();
              const step = () => {
                pool.beginStep();
                return withBufferPool(pool, () =>
                  trainingGradients(
                    castNetwork(network, dtype),
                    castTensor(input, dtype),
                    labels,
                    lambda,
                    undefined,
                    dropoutKey,
                  ));
              };
              step();
              step();
              const candidate = step();
              const gradientScale = norm(
                reference.gradients.flatMap((layer) =>
                  parameterNames.flatMap((name) => [...(layer[name]?.data ?? [])])
                ),
              );
              const check = (value: Tensor, expected: Tensor, what: string, scale: number) => {
                assert.ok(
                  dtype === "float64"
                    ? value.data instanceof Float64Array
                    : value.data instanceof Float32Array,
                  `${what} is not ${dtype}`,
                );
                const error = relativeError(value, expected, scale);
                worst = Math.max(worst, error);
                assert.ok(error <= tolerance[dtype], `${what}: relative error ${error}`);
              };
              check(
                candidate.probabilities,
                reference.probabilities,
                "probabilities",
                norm(reference.probabilities.data),
              );
              assert.ok(
                Math.abs(candidate.loss - reference.loss) <=
                  tolerance[dtype] * Math.max(1, reference.loss),
                `loss ${candidate.loss} vs ${reference.loss}`,
              );
              reference.gradients.forEach((layer, index) => {
                for (const name of parameterNames) {
                  const expected = layer[name];
                  if (expected) {
                    check(
                      candidate.gradients[index][name]!,
                      expected,
                      `layer ${index} ${name}`,
                      gradientScale,
                    );
                  }
                }
              });
              reference.movingAverages.forEach((statistics, index) => {
                if (!statistics) return;
                const { mean, variance } = candidate.movingAverages[index]!;
                check(mean, statistics.mean, `layer ${index} μ`, norm(statistics.mean.data));
                check(
                  variance,
                  statistics.variance,
                  `layer ${index} σ²`,
                  norm(statistics.variance.data),
                );
              });
            },
          ),
          { numRuns: 60 },
        );
      } finally {
        useBackend("auto");
      }
      console.log(`${backend} ${dtype}: worst relative error ${worst.toExponential(2)}`);
    });
  }
}
