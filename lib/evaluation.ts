/**
 * Evaluating a network on a whole image set in evaluation mode: loss, cost, accuracy, the
 * predictions, and a confusion matrix.
 *
 * @module
 */
import { gatherBatch, identityOrder } from "./dataset.ts";
import type { ImageSet } from "./image_set.ts";
import type { Network } from "./network.ts";
import { networkDType, networkEvaluationForward } from "./network.ts";
import type { Normalization } from "./normalization.ts";
import { predictions, weightPenalty } from "./objective.ts";
import { softmaxCrossEntropyForward } from "./softmax_cross_entropy.ts";

/** Loss (mean cross-entropy), cost (loss + λΣ‖W‖²) and accuracy over a set. */
export interface Metrics {
  readonly loss: number;
  readonly cost: number;
  readonly accuracy: number;
}

/**
 * Metrics and per-sample predictions of `network` on every sample of `images`, computed in
 * chunks of `chunkSize` samples.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { linear, sequential } from "./architecture.ts";
 * import { evaluateImageSet } from "./evaluation.ts";
 * import { initializeNetwork } from "./network.ts";
 * import { randomKey } from "./random.ts";
 * const images = { pixels: new Uint8Array([0, 255, 255, 0]), labels: new Uint8Array([1, 0]), count: 2, features: 2, classNames: [] };
 * const normalization = { mean: new Float64Array([0.5, 0.5]), standardDeviation: new Float64Array([0.5, 0.5]) };
 * const network = initializeNetwork(sequential(linear(2, 2)), randomKey(1), "he");
 * const { metrics, predicted } = evaluateImageSet(network, images, normalization, 0);
 * assert.equal(predicted.length, 2);
 * assert.ok(metrics.accuracy >= 0 && metrics.accuracy <= 1);
 * ```
 */
export function evaluateImageSet(
  network: Network,
  images: ImageSet,
  normalization: Normalization,
  lambda: number,
  chunkSize = 1000,
): { metrics: Metrics; predicted: Uint8Array } {
  const order = identityOrder(images.count);
  const dtype = networkDType(network);
  const predicted = new Uint8Array(images.count);
  let lossSum = 0;
  for (let start = 0; start < images.count; start += chunkSize) {
    const end = Math.min(images.count, start + chunkSize);
    const { input, labels } = gatherBatch(images, normalization, order, start, end, dtype);
    const output = networkEvaluationForward(network, input);
    lossSum += softmaxCrossEntropyForward(output, labels).loss * (end - start);
    predicted.set(predictions(output), start);
  }
  const loss = lossSum / images.count;
  const correct = predicted.filter((label, i) => label === images.labels[i]).length;
  return {
    metrics: {
      loss,
      cost: loss + weightPenalty(network.parameters, lambda),
      accuracy: correct / images.count,
    },
    predicted,
  };
}

/**
 * The confusion matrix: entry [true][predicted] counts the samples of class `true` predicted
 * as `predicted`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { confusionMatrix } from "./evaluation.ts";
 * assert.deepEqual(confusionMatrix([0, 1, 1], [0, 0, 1], 2), [[1, 1], [0, 1]]);
 * ```
 */
export function confusionMatrix(
  predicted: ArrayLike<number>,
  labels: ArrayLike<number>,
  classes: number,
): number[][] {
  const matrix = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  for (let i = 0; i < labels.length; i++) matrix[labels[i]][predicted[i]]++;
  return matrix;
}
