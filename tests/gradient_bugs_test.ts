/**
 * The gradient property can fail: each test injects a realistic bug into the analytic
 * gradients, asserts that the property over random networks fails, and that fast-check
 * shrinks the failure to a small network.
 */
import assert from "node:assert/strict";
import type { BatchNormCache, BatchNormParameters } from "../lib/batch_norm.ts";
import { fc } from "../lib/deps.ts";
import { gradCheck, type GradientFunction } from "../lib/gradient_check.ts";
import type { LinearCache, LinearParameters } from "../lib/linear.ts";
import {
  buildNetworkCase,
  type NetworkCaseDescription,
  networkCaseDescriptions,
} from "../lib/network_cases.ts";
import { layerBackwards } from "../lib/network.ts";
import { trainingGradients } from "../lib/objective.ts";
import {
  matmulTransposedLeft,
  matmulTransposedRight,
  multiply,
  multiplyColumn,
  scale,
  subtractColumn,
  sumRows,
} from "../lib/primitives.ts";
import type { DropoutCache } from "../lib/dropout.ts";
import { type Tensor, tensor } from "../lib/tensor.ts";

/** Runs the gradient property with `gradients` in place of the library's and returns the shrunk counterexample. */
function shrunkCounterexample(gradients: GradientFunction): NetworkCaseDescription | undefined {
  const details = fc.check(
    fc.property(networkCaseDescriptions(), (description) => {
      const { network, input, labels, lambda, dropoutKey } = buildNetworkCase(description);
      return gradCheck(network, input, labels, { lambda, method: "ridders", gradients, dropoutKey })
        .passed;
    }),
    { numRuns: 200, seed: 20261122 },
  );
  if (!details.failed) return undefined;
  const counterexample = details.counterexample?.[0];
  console.log(`shrunk after ${details.numShrinks} steps to ${JSON.stringify(counterexample)}`);
  return counterexample;
}

/** Linear parameters in the counterexample: a measure of its size. */
function parameterCount(description: NetworkCaseDescription): number {
  const sizes = [description.inputSize, ...description.hiddenSizes, description.classes];
  return sizes.slice(1).reduce((total, size, i) => total + size * (sizes[i] + 1), 0);
}

/** Batch-norm backward that forgets the −x̂ ⊙ mean(ĝ ⊙ x̂) term of the input gradient. */
function batchNormBackwardWithoutProjection(
  cache: BatchNormCache,
  outputGradient: Tensor,
): { inputGradient: Tensor; parameterGradients: BatchNormParameters } {
  const { normalized, inverseStandardDeviation, scale: gamma } = cache;
  const normalizedGradient = gamma ? multiplyColumn(outputGradient, gamma) : outputGradient;
  const meanGradient = scale(sumRows(normalizedGradient), 1 / normalized.columns);
  const centered = subtractColumn(normalizedGradient, meanGradient);
  return {
    inputGradient: multiplyColumn(centered, inverseStandardDeviation),
    parameterGradients: gamma
      ? { scale: sumRows(multiply(outputGradient, normalized)), shift: sumRows(outputGradient) }
      : {},
  };
}

/** Linear backward that computes X Gᵀ (in × out) and lays it out as out × in. */
function linearBackwardWithTransposedWeightGradient(
  cache: LinearCache,
  outputGradient: Tensor,
): { inputGradient: Tensor; parameterGradients: LinearParameters } {
  const { parameters: { weight }, input } = cache;
  const transposed = matmulTransposedRight(input, outputGradient);
  return {
    inputGradient: matmulTransposedLeft(weight, outputGradient),
    parameterGradients: {
      weight: tensor(weight.rows, weight.columns, transposed.data),
      bias: sumRows(outputGradient),
    },
  };
}

Deno.test("gradCheck() property fails and shrinks when batch-norm backward drops a term", () => {
  const counterexample = shrunkCounterexample((network, input, labels, lambda, dropoutKey) =>
    trainingGradients(network, input, labels, lambda, {
      ...layerBackwards,
      batchNorm: batchNormBackwardWithoutProjection,
    }, dropoutKey).gradients
  );
  assert.ok(counterexample, "the property passed with a wrong batch-norm backward");
  assert.notEqual(counterexample.batchNorm, "none");
  assert.ok(counterexample.hiddenSizes.length <= 1, JSON.stringify(counterexample));
  assert.ok(parameterCount(counterexample) <= 12, JSON.stringify(counterexample));
});

Deno.test("gradCheck() property fails and shrinks when a weight gradient is transposed", () => {
  const counterexample = shrunkCounterexample((network, input, labels, lambda, dropoutKey) =>
    trainingGradients(network, input, labels, lambda, {
      ...layerBackwards,
      linear: linearBackwardWithTransposedWeightGradient,
    }, dropoutKey).gradients
  );
  assert.ok(counterexample, "the property passed with a transposed weight gradient");
  assert.ok(counterexample.hiddenSizes.length <= 1, JSON.stringify(counterexample));
  assert.ok(parameterCount(counterexample) <= 12, JSON.stringify(counterexample));
});

/** Dropout backward that forgets the 1/(1 − p) scale of the kept entries. */
function dropoutBackwardWithoutScale(
  cache: DropoutCache,
  outputGradient: Tensor,
): { inputGradient: Tensor; parameterGradients: Record<never, never> } {
  const data = outputGradient.data.map((value, i) => (cache.mask.data[i] === 0 ? 0 : value));
  return {
    inputGradient: tensor(outputGradient.rows, outputGradient.columns, data),
    parameterGradients: {},
  };
}

Deno.test("gradCheck() property fails and shrinks when dropout backward drops the 1/(1 − p) scale", () => {
  const counterexample = shrunkCounterexample((network, input, labels, lambda, dropoutKey) =>
    trainingGradients(network, input, labels, lambda, {
      ...layerBackwards,
      dropout: dropoutBackwardWithoutScale,
    }, dropoutKey).gradients
  );
  assert.ok(counterexample, "the property passed with a wrong dropout backward");
  assert.ok((counterexample.dropout ?? 0) > 0, JSON.stringify(counterexample));
  assert.equal(counterexample.hiddenSizes.length, 1, JSON.stringify(counterexample));
  assert.ok(parameterCount(counterexample) <= 12, JSON.stringify(counterexample));
});

Deno.test("gradCheck() property fails and shrinks when the λ term is missing", () => {
  const counterexample = shrunkCounterexample((network, input, labels, _lambda, dropoutKey) =>
    trainingGradients(network, input, labels, 0, undefined, dropoutKey).gradients
  );
  assert.ok(counterexample, "the property passed without the 2λW gradient term");
  assert.ok(counterexample.lambda > 0);
  assert.deepEqual(counterexample.hiddenSizes, []);
  assert.ok(parameterCount(counterexample) <= 12, JSON.stringify(counterexample));
});

Deno.test("gradCheck() reports the failing layer and parameter of a wrong gradient", () => {
  const { network, input, labels, lambda } = buildNetworkCase({
    inputSize: 3,
    hiddenSizes: [4],
    classes: 3,
    batchSize: 5,
    batchNorm: "affine",
    lambda: 0.01,
    initialization: "he",
    seed: 7,
  });
  const result = gradCheck(network, input, labels, {
    lambda,
    gradients: (network, input, labels, lambda) =>
      trainingGradients(network, input, labels, lambda, {
        ...layerBackwards,
        batchNorm: batchNormBackwardWithoutProjection,
      }).gradients,
  });
  assert.equal(result.passed, false);
  const failing = result.parameters.filter((check) => check.failures > 0).map((check) =>
    `${check.layer} ${check.parameter}`
  );
  // The dropped term only changes what flows into the layers below the batch norm.
  assert.deepEqual(failing, ["Linear layer 1 weight"]);
});
