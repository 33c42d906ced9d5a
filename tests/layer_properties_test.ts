import assert from "node:assert/strict";
import { multilayerPerceptron } from "../lib/architecture.ts";
import { batchNormTrainingForward, batchStatistics } from "../lib/batch_norm.ts";
import { fc } from "../lib/deps.ts";
import { buildNetworkCase, networkCaseDescriptions } from "../lib/network_cases.ts";
import { initializeNetwork, networkBackward, networkTrainingForward } from "../lib/network.ts";
import {
  accuracy,
  evaluate,
  trainingCost,
  trainingGradients,
  weightPenalty,
} from "../lib/objective.ts";
import { sumOfSquares } from "../lib/primitives.ts";
import { normals, randomKey, splitKey, uniforms } from "../lib/random.ts";
import { initialSgdState, sgdStep } from "../lib/sgd.ts";
import {
  softmax,
  softmaxCrossEntropyBackward,
  softmaxCrossEntropyForward,
} from "../lib/softmax_cross_entropy.ts";
import { tensor } from "../lib/tensor.ts";

const sizes = fc.record({
  units: fc.integer({ min: 1, max: 12 }),
  batch: fc.integer({ min: 2, max: 12 }),
  seed: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
  spread: fc.constantFrom(1e-2, 1, 1e3),
});

Deno.test("batchNormTrainingForward() output has per-unit mean 0 and variance σ²/(σ² + ε) ≈ 1", () => {
  fc.assert(fc.property(sizes, ({ units, batch, seed, spread }) => {
    const input = tensor(units, batch, normals(randomKey(seed), units * batch, spread).values);
    const epsilon = 1e-5;
    const { output } = batchNormTrainingForward({}, input, epsilon);
    const inputVariance = batchStatistics(input).variance.data;
    const { mean, variance } = batchStatistics(output);
    for (let i = 0; i < units; i++) {
      assert.ok(Math.abs(mean.data[i]) < 1e-12, `unit ${i} has mean ${mean.data[i]}`);
      const expected = inputVariance[i] / (inputVariance[i] + epsilon);
      assert.ok(
        Math.abs(variance.data[i] - expected) < 1e-12,
        `unit ${i} variance ${variance.data[i]} ≠ ${expected}`,
      );
      if (inputVariance[i] > 1e-1) assert.ok(Math.abs(variance.data[i] - 1) < 1e-3);
    }
  }));
});

Deno.test("softmax() columns are non-negative and sum to 1, even for logits of ±1000", () => {
  fc.assert(fc.property(sizes, ({ units, batch, seed, spread }) => {
    const logits = tensor(units, batch, normals(randomKey(seed), units * batch, spread).values);
    const probabilities = softmax(logits);
    for (let j = 0; j < batch; j++) {
      let sum = 0;
      for (let i = 0; i < units; i++) {
        const value = probabilities.data[i * batch + j];
        assert.ok(value >= 0 && Number.isFinite(value));
        sum += value;
      }
      assert.ok(Math.abs(sum - 1) < 1e-12, `column ${j} sums to ${sum}`);
    }
  }));
});

Deno.test("trainingCost() cost equals loss + λ·Σ‖W‖² and the loss ignores λ", () => {
  fc.assert(
    fc.property(networkCaseDescriptions({ maximumDepth: 4 }), (description) => {
      const { network, input, labels, lambda, dropoutKey } = buildNetworkCase(description);
      const { loss, cost } = trainingCost(network, input, labels, lambda, dropoutKey);
      const squares = network.parameters.reduce(
        (total, layer) => total + (layer.weight ? sumOfSquares(layer.weight) : 0),
        0,
      );
      assert.ok(Math.abs(cost - (loss + lambda * squares)) <= 1e-12 * Math.max(1, cost));
      assert.equal(weightPenalty(network.parameters, lambda), lambda * squares);
      assert.equal(trainingCost(network, input, labels, 0, dropoutKey).loss, loss);
    }),
    { numRuns: 50 },
  );
});

Deno.test("a 3-layer batch-norm network overfits 100 samples to 100 % training accuracy", () => {
  const [dataKey, labelKey, networkKey] = splitKey(randomKey(2026), 3);
  const features = 64, samples = 100, classes = 10;
  const input = tensor(features, samples, normals(dataKey, features * samples).values);
  const labels = Uint8Array.from(
    uniforms(labelKey, samples).values,
    (value) => Math.floor(value * classes),
  );
  const architecture = multilayerPerceptron({
    inputSize: features,
    hiddenSizes: [50, 50],
    classes,
    batchNorm: true,
  });
  let network = initializeNetwork(architecture, networkKey, "he");
  let state = initialSgdState;
  let loss = Infinity;
  for (let step = 0; step < 200; step++) {
    const result = trainingGradients(network, input, labels, 0);
    loss = result.loss;
    const update = sgdStep(network.parameters, result.gradients, state, {
      learningRate: 0.1,
      momentum: 0.9,
    });
    network = { ...network, parameters: update.parameters, movingAverages: result.movingAverages };
    state = update.state;
  }
  const { probabilities } = trainingCost(network, input, labels, 0);
  assert.equal(accuracy(probabilities, labels), 1);
  assert.ok(loss < 0.01, `training loss is still ${loss}`);
});

Deno.test("networkBackward() input gradient matches centered differences of the cost", () => {
  fc.assert(
    fc.property(networkCaseDescriptions({ maximumDepth: 4 }), (description) => {
      const { network, input, labels, dropoutKey } = buildNetworkCase(description);
      const { output, caches } = networkTrainingForward(network, input, dropoutKey);
      const { cache } = softmaxCrossEntropyForward(output, labels);
      const { inputGradient } = networkBackward(
        network,
        caches,
        softmaxCrossEntropyBackward(cache),
      );
      const step = 1e-6;
      const lossAt = (index: number, delta: number) => {
        const data = input.data.slice();
        data[index] += delta;
        const shifted = tensor(input.rows, input.columns, data);
        const { output } = networkTrainingForward(network, shifted, dropoutKey);
        return softmaxCrossEntropyForward(output, labels).loss;
      };
      for (let index = 0; index < input.data.length; index++) {
        const numerical = (lossAt(index, step) - lossAt(index, -step)) / (2 * step);
        const analytic = inputGradient.data[index];
        assert.ok(
          Math.abs(analytic - numerical) <= 1e-8 + 1e-6 * Math.abs(numerical),
          `entry ${index}: analytic ${analytic}, numerical ${numerical}`,
        );
      }
    }),
    { numRuns: 30, seed: 42 },
  );
});

Deno.test("trainingCost() and evaluate() name the input entry that is NaN or infinite", () => {
  const { network, input, labels } = buildNetworkCase({
    inputSize: 3,
    hiddenSizes: [4],
    classes: 2,
    batchSize: 4,
    batchNorm: "affine",
    lambda: 0,
    initialization: "he",
    seed: 3,
  });
  const data = input.data.slice();
  data[1 * 4 + 2] = NaN;
  const poisoned = tensor(3, 4, data);
  assert.throws(() => trainingCost(network, poisoned, labels, 0), {
    name: "DataError",
    message: "input: entry (1, 2) is NaN",
  });
  const trained = {
    ...network,
    movingAverages: trainingCost(network, input, labels, 0).movingAverages,
  };
  data[1 * 4 + 2] = -Infinity;
  assert.throws(() => evaluate(trained, tensor(3, 4, data), labels, 0), {
    name: "DataError",
    message: "input: entry (1, 2) is -Infinity",
  });
});
