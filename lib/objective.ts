/**
 * What training minimises and what it reports: the loss (mean cross-entropy) and the cost
 * J = loss + λ Σ_l ‖W_l‖² (L2 on the weights only), their gradients, and accuracy.
 *
 * @module
 */
import type { BatchNormStatistics } from "./batch_norm.ts";
import { linearBackward } from "./linear.ts";
import {
  type LayerBackwards,
  layerBackwards,
  type LayerCache,
  type LayerParameters,
  mapParameters,
  type Network,
  networkBackward,
  networkEvaluationForward,
  type NetworkParameters,
  networkTrainingForward,
} from "./network.ts";
import { addScaled, sumOfSquares } from "./primitives.ts";
import type { RandomKey } from "./random.ts";
import {
  assertLabels,
  type Labels,
  softmaxCrossEntropyBackward,
  softmaxCrossEntropyForward,
} from "./softmax_cross_entropy.ts";
import { assertFinite, type Tensor } from "./tensor.ts";

/**
 * λ Σ_l ‖W_l‖² over the linear layers' weights.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { weightPenalty } from "./objective.ts";
 * import { column, fromRows } from "./tensor.ts";
 * assert.ok(weightPenalty([{ weight: fromRows([[3, 4]]), bias: column([9]) }], 0.1) === 2.5);
 * ```
 */
export function weightPenalty(parameters: NetworkParameters, lambda: number): number {
  assertLambda(lambda);
  let sum = 0;
  for (const layer of parameters) if (layer.weight) sum += sumOfSquares(layer.weight);
  return lambda * sum;
}

/**
 * Adds the gradient of the weight penalty, 2λW, to the weight gradients.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { addWeightPenaltyGradient } from "./objective.ts";
 * import { column, fromRows } from "./tensor.ts";
 * const parameters = [{ weight: fromRows([[1]]), bias: column([1]) }];
 * const gradients = [{ weight: fromRows([[0]]), bias: column([0]) }];
 * const total = addWeightPenaltyGradient(parameters, gradients, 0.5);
 * assert.ok(total[0].weight?.data[0] === 1 && total[0].bias?.data[0] === 0);
 * ```
 */
export function addWeightPenaltyGradient(
  parameters: NetworkParameters,
  gradients: NetworkParameters,
  lambda: number,
): LayerParameters[] {
  assertLambda(lambda);
  return mapParameters(gradients, (gradient, layerIndex, name) => {
    const weight = parameters[layerIndex].weight;
    return name === "weight" && weight && lambda !== 0
      ? addScaled(gradient, weight, 2 * lambda)
      : gradient;
  });
}

/** Loss, cost and the forward results of one training-mode pass over a batch. */
export interface TrainingEvaluation<Out extends number = number, Batch extends number = number> {
  /** Mean cross-entropy over the batch. */
  readonly loss: number;
  /** loss + λ Σ‖W‖² (computed when first read). */
  readonly cost: number;
  readonly probabilities: Tensor<Out, Batch>;
  readonly caches: LayerCache[];
  /** The moving averages updated with this batch. */
  readonly movingAverages: (BatchNormStatistics | undefined)[];
}

/**
 * Loss and cost of a batch in training mode (batch norm on the batch's statistics, dropout
 * masks drawn from `dropoutKey`, which networks with dropout need).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { multilayerPerceptron } from "./architecture.ts";
 * import { initializeNetwork } from "./network.ts";
 * import { trainingCost } from "./objective.ts";
 * import { randomKey } from "./random.ts";
 * import { zeros } from "./tensor.ts";
 * const architecture = multilayerPerceptron({ inputSize: 4, hiddenSizes: [3], classes: 2, batchNorm: true });
 * const network = initializeNetwork(architecture, randomKey(1), "he");
 * const { loss, cost } = trainingCost(network, zeros(4, 2), [0, 1], 0.01);
 * assert.ok(cost > loss);
 * ```
 */
export function trainingCost<In extends number, Out extends number, Batch extends number>(
  network: Network<In, Out>,
  input: Tensor<NoInfer<In>, Batch>,
  labels: Labels,
  lambda: number,
  dropoutKey?: RandomKey,
): TrainingEvaluation<Out, Batch> {
  const { output, caches, movingAverages } = networkTrainingForward(network, input, dropoutKey);
  const { loss, probabilities } = softmaxCrossEntropyForward(output, labels);
  // A NaN anywhere in the input reaches the loss; only then is it worth finding.
  if (!Number.isFinite(loss)) assertFinite(input, "input");
  assertLambda(lambda);
  let cost: number | undefined;
  return {
    loss,
    // Σ‖W‖² costs a pass over every weight: computed when first read, not on every update.
    get cost() {
      return cost ??= loss + weightPenalty(network.parameters, lambda);
    },
    probabilities,
    caches,
    movingAverages,
  };
}

/**
 * Loss, cost and the gradient of the cost with respect to every parameter, for one batch in
 * training mode. `backwards` replaces layer backward functions (see
 * {@linkcode networkBackward}); `dropoutKey` draws the dropout masks (see
 * {@linkcode trainingCost}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { multilayerPerceptron } from "./architecture.ts";
 * import { initializeNetwork } from "./network.ts";
 * import { trainingGradients } from "./objective.ts";
 * import { randomKey } from "./random.ts";
 * import { zeros } from "./tensor.ts";
 * const architecture = multilayerPerceptron({ inputSize: 4, hiddenSizes: [3], classes: 2, batchNorm: true });
 * const network = initializeNetwork(architecture, randomKey(1), "he");
 * const { gradients } = trainingGradients(network, zeros(4, 2), [0, 1], 0.01);
 * assert.ok(gradients[0].weight?.rows === 3);
 * ```
 */
export function trainingGradients<In extends number, Out extends number, Batch extends number>(
  network: Network<In, Out>,
  input: Tensor<NoInfer<In>, Batch>,
  labels: Labels,
  lambda: number,
  backwards: LayerBackwards = layerBackwards,
  dropoutKey?: RandomKey,
): TrainingEvaluation<Out, Batch> & { gradients: LayerParameters[] } {
  const evaluation = trainingCost(network, input, labels, lambda, dropoutKey);
  const outputGradient = softmaxCrossEntropyBackward({
    probabilities: evaluation.probabilities,
    labels,
  });
  // With the library's own backward functions, each linear layer adds its 2λW in the pass that
  // computes its weight gradient (the same bits as adding it afterwards, without the copy).
  const penaltyInBackward = backwards === layerBackwards && lambda !== 0;
  const { parameterGradients } = networkBackward(
    network,
    evaluation.caches,
    outputGradient,
    penaltyInBackward
      ? {
        ...layerBackwards,
        linear: (cache, gradient) => linearBackward(cache, gradient, 2 * lambda),
      }
      : backwards,
  );
  const gradients = penaltyInBackward
    ? parameterGradients
    : addWeightPenaltyGradient(network.parameters, parameterGradients, lambda);
  return {
    loss: evaluation.loss,
    get cost() {
      return evaluation.cost;
    },
    probabilities: evaluation.probabilities,
    caches: evaluation.caches,
    movingAverages: evaluation.movingAverages,
    gradients,
  };
}

/**
 * The fraction of samples whose highest score is their label.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { accuracy } from "./objective.ts";
 * import { column, fromRows } from "./tensor.ts";
 * assert.ok(accuracy(fromRows([[0.9, 0.2], [0.1, 0.8]]), [0, 0]) === 0.5);
 * ```
 */
export function accuracy(scores: Tensor, labels: Labels): number {
  assertLabels(labels, scores.rows, scores.columns);
  return predictions(scores).filter((predicted, j) => predicted === labels[j]).length /
    scores.columns;
}

/**
 * The predicted class of every sample: the row of its highest score.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { predictions } from "./objective.ts";
 * import { column, fromRows } from "./tensor.ts";
 * assert.ok(predictions(fromRows([[0.9, 0.2], [0.1, 0.8]]))[1] === 1);
 * ```
 */
export function predictions(scores: Tensor): number[] {
  const { rows, columns, data } = scores;
  return Array.from({ length: columns }, (_, j) => {
    let best = 0;
    for (let i = 1; i < rows; i++) if (data[i * columns + j] > data[best * columns + j]) best = i;
    return best;
  });
}

/**
 * Loss, cost and accuracy in evaluation mode (batch norm on the moving averages).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { linear, sequential } from "./architecture.ts";
 * import { initializeNetwork } from "./network.ts";
 * import { evaluate } from "./objective.ts";
 * import { randomKey } from "./random.ts";
 * import { zeros } from "./tensor.ts";
 * const network = initializeNetwork(sequential(linear(4, 2)), randomKey(1), "he");
 * const { loss } = evaluate(network, zeros(4, 2), [0, 1], 0);
 * assert.ok(Math.abs(loss - Math.log(2)) < 1e-12);
 * ```
 */
export function evaluate<In extends number, Out extends number, Batch extends number>(
  network: Network<In, Out>,
  input: Tensor<NoInfer<In>, Batch>,
  labels: Labels,
  lambda: number,
): { loss: number; cost: number; accuracy: number } {
  const output = networkEvaluationForward(network, input);
  const { loss } = softmaxCrossEntropyForward(output, labels);
  if (!Number.isFinite(loss)) assertFinite(input, "input");
  return {
    loss,
    cost: loss + weightPenalty(network.parameters, lambda),
    accuracy: accuracy(output, labels),
  };
}

function assertLambda(lambda: number): void {
  if (!(lambda >= 0) || !Number.isFinite(lambda)) {
    throw new RangeError(`Cannot use λ = ${lambda} for the L2 penalty: it must be finite and ≥ 0`);
  }
}
