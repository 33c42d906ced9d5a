/**
 * No function mutates its inputs: every byte of every argument (parameters, moving averages,
 * inputs, labels, optimizer state) is the same after forward, backward, cost, gradient check
 * and an SGD step as before.
 */
import assert from "node:assert/strict";
import { fc } from "../lib/deps.ts";
import { gradCheck } from "../lib/gradient_check.ts";
import { buildNetworkCase, networkCaseDescriptions } from "../lib/network_cases.ts";
import {
  type Network,
  networkBackward,
  networkEvaluationForward,
  networkTrainingForward,
} from "../lib/network.ts";
import { evaluate, trainingGradients } from "../lib/objective.ts";
import { initialSgdState, sgdStep } from "../lib/sgd.ts";
import {
  softmaxCrossEntropyBackward,
  softmaxCrossEntropyForward,
} from "../lib/softmax_cross_entropy.ts";
import type { Tensor } from "../lib/tensor.ts";

/** Every float in the network and the batch, copied. */
function snapshot(network: Network, tensors: readonly Tensor[], labels: Uint8Array): Uint8Array[] {
  const all = [
    ...network.parameters.flatMap((layer) => Object.values(layer) as Tensor[]),
    ...network.movingAverages.flatMap((statistics) =>
      statistics ? [statistics.mean, statistics.variance] : []
    ),
    ...tensors,
  ];
  return [...all.map((value) => new Uint8Array(value.data.slice().buffer)), labels.slice()];
}

Deno.test("forward, backward, cost, gradCheck and sgdStep never write into their arguments", () => {
  fc.assert(
    fc.property(networkCaseDescriptions({ maximumDepth: 4, maximumWidth: 6 }), (description) => {
      const { network: fresh, input, labels, lambda, dropoutKey } = buildNetworkCase(description);
      // Give batch-norm layers moving averages so evaluation mode runs too.
      const network = {
        ...fresh,
        movingAverages: networkTrainingForward(fresh, input, dropoutKey).movingAverages,
      };
      const before = snapshot(network, [input], labels);

      const { output, caches } = networkTrainingForward(network, input, dropoutKey);
      const { cache } = softmaxCrossEntropyForward(output, labels);
      const outputGradient = softmaxCrossEntropyBackward(cache);
      const outputBefore = snapshot(network, [output, outputGradient], labels);
      networkBackward(network, caches, outputGradient);
      assert.deepEqual(snapshot(network, [output, outputGradient], labels), outputBefore);

      networkEvaluationForward(network, input);
      evaluate(network, input, labels, lambda);
      const { gradients } = trainingGradients(
        network,
        input,
        labels,
        lambda,
        undefined,
        dropoutKey,
      );
      gradCheck(network, input, labels, { lambda, maximumEntries: 3, dropoutKey });
      const first = sgdStep(network.parameters, gradients, initialSgdState, {
        learningRate: 0.1,
        momentum: 0.9,
      });
      const velocityBefore = first.state.velocity!.flatMap((layer) =>
        Object.values(layer) as Tensor[]
      );
      const velocityBytes = velocityBefore.map((value) => value.data.slice());
      sgdStep(first.parameters, gradients, first.state, { learningRate: 0.1, momentum: 0.9 });
      velocityBefore.forEach((value, i) => assert.deepEqual(value.data, velocityBytes[i]));

      assert.deepEqual(snapshot(network, [input], labels), before);
    }),
    { numRuns: 50 },
  );
});
