import assert from "node:assert/strict";
import { dropout, multilayerPerceptron } from "../lib/architecture.ts";
import { dropoutBackward, dropoutMask, dropoutTrainingForward } from "../lib/dropout.ts";
import {
  initializeNetwork,
  networkEvaluationForward,
  networkTrainingForward,
  withDropout,
  withoutDropout,
} from "../lib/network.ts";
import { trainingCost } from "../lib/objective.ts";
import { normals, randomKey, uniforms } from "../lib/random.ts";
import { filled, tensor } from "../lib/tensor.ts";

const architecture = multilayerPerceptron({
  inputSize: 6,
  hiddenSizes: [8, 5],
  classes: 3,
  batchNorm: true,
  dropout: 0.4,
});
const network = initializeNetwork(architecture, randomKey(1), "he");
const input = tensor(6, 7, normals(randomKey(2), 42).values);

Deno.test("dropoutMask() keeps about 1 − p of the entries, scaled by 1/(1 − p), the same for one key", () => {
  const mask = dropoutMask(randomKey(5), 200, 100, 0.3);
  const kept = mask.data.filter((value) => value !== 0);
  assert.ok(kept.every((value) => value === 1 / 0.7));
  assert.ok(Math.abs(kept.length / 20000 - 0.7) < 0.02, `${kept.length} kept`);
  assert.deepEqual(dropoutMask(randomKey(5), 200, 100, 0.3).data, mask.data);
  // Entry i is kept exactly where the key's i-th uniform number is below 1 − p.
  const draws = uniforms(randomKey(5), 20000).values;
  assert.ok(mask.data.every((value, i) => value === (draws[i] < 0.7 ? 1 / 0.7 : 0)));
  assert.notDeepEqual(dropoutMask(randomKey(6), 200, 100, 0.3).data, mask.data);
  assert.ok(dropoutMask(randomKey(5), 3, 3, 0).data.every((value) => value === 1));
  assert.throws(() => dropoutMask(randomKey(5), 3, 3, 1), /rate 1: it must be in \[0, 1\)/);
});

Deno.test("dropoutTrainingForward() keeps the mean of a constant input, and dropoutBackward() masks the gradient", () => {
  const size: number = 100;
  const { output, cache } = dropoutTrainingForward(filled(size, size, 2), 0.5, randomKey(3));
  const mean = [...output.data].reduce((sum, value) => sum + value, 0) / output.data.length;
  assert.ok(Math.abs(mean - 2) < 0.1, `mean ${mean}`);
  const gradient = dropoutBackward(cache, filled(size, size, 1)).inputGradient;
  assert.deepEqual(gradient.data, cache.mask.data);
  assert.throws(
    () => dropoutBackward(cache, filled(size - 1, size, 1)),
    /Dropout layer backward.*output gradient/,
  );
});

Deno.test("networkTrainingForward() needs a dropout key, and one key gives one output", () => {
  assert.throws(() => networkTrainingForward(network, input), /Dropout layer 1.*random key/);
  const first = networkTrainingForward(network, input, randomKey(9)).output;
  assert.deepEqual(networkTrainingForward(network, input, randomKey(9)).output.data, first.data);
  assert.notDeepEqual(
    networkTrainingForward(network, input, randomKey(10)).output.data,
    first.data,
  );
  const cost = trainingCost(network, input, [0, 1, 2, 0, 1, 2, 0], 0, randomKey(9)).loss;
  assert.equal(trainingCost(network, input, [0, 1, 2, 0, 1, 2, 0], 0, randomKey(9)).loss, cost);
});

Deno.test("networkEvaluationForward() treats dropout as the identity", () => {
  const trained = {
    ...network,
    movingAverages: networkTrainingForward(network, input, randomKey(4)).movingAverages,
  };
  const { network: plain, dropout: placements } = withoutDropout(trained);
  assert.deepEqual(placements, [{ index: 3, rate: 0.4 }, { index: 7, rate: 0.4 }]);
  assert.deepEqual(
    networkEvaluationForward(trained, input).data,
    networkEvaluationForward(plain, input).data,
  );
  const restored = withDropout(plain, placements);
  assert.deepEqual(restored.architecture, trained.architecture);
  assert.deepEqual(restored.parameters, trained.parameters);
  assert.deepEqual(restored.movingAverages, trained.movingAverages);
  assert.throws(() => withDropout(plain, [{ index: 0, rate: 0.1 }]), /dropout layer at index 0/);
  assert.throws(() => dropout(4, -0.1), /rate -0.1/);
});
