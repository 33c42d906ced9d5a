/**
 * Softmax over the classes of each sample (column) and the mean cross-entropy loss.
 *
 * p = exp(s − max s) / Σ exp(s − max s) per column; L = −(1/n) Σ_samples log p[label].
 * Backward: ∂L/∂s = (p − Y) / n, with Y the one-hot labels.
 *
 * @module
 */
import { DataError } from "./errors.ts";
import { dtypeOf, resultArray, type Tensor, tensor } from "./tensor.ts";

/** One class index per sample, each an integer in [0, classes). */
export type Labels = ArrayLike<number>;

/** What {@linkcode softmaxCrossEntropyBackward} reads. */
export interface SoftmaxCrossEntropyCache<
  Classes extends number = number,
  Batch extends number = number,
> {
  readonly probabilities: Tensor<Classes, Batch>;
  readonly labels: Labels;
}

/**
 * Throws a {@linkcode DataError} unless there is one integer label in [0, classes) per sample.
 *
 * @example
 * ```ts
 * import { assertLabels } from "./softmax_cross_entropy.ts";
 * assertLabels([0, 2], 3, 2);
 * ```
 */
export function assertLabels(labels: Labels, classes: number, samples: number): void {
  if (labels.length !== samples) {
    throw new DataError("labels", `there are ${labels.length} labels for ${samples} samples`);
  }
  for (let j = 0; j < labels.length; j++) {
    const label = labels[j];
    if (!Number.isInteger(label) || label < 0 || label >= classes) {
      throw new DataError(
        "labels",
        `label ${j} is ${label}; labels must be integers in [0, ${classes - 1}]`,
      );
    }
  }
}

/**
 * The softmax of every column: non-negative, each column summing to 1.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { softmax } from "./softmax_cross_entropy.ts";
 * import { fromRows } from "./tensor.ts";
 * const probabilities = softmax(fromRows([[0], [0]]));
 * assert.ok(probabilities.data[0] === 0.5);
 * ```
 */
export function softmax<Classes extends number, Batch extends number>(
  logits: Tensor<Classes, Batch>,
): Tensor<Classes, Batch> {
  const { rows, columns } = logits;
  const data = resultArray(dtypeOf(logits), rows * columns);
  for (let j = 0; j < columns; j++) {
    let largest = -Infinity;
    for (let i = 0; i < rows; i++) largest = Math.max(largest, logits.data[i * columns + j]);
    let sum = 0;
    for (let i = 0; i < rows; i++) {
      const value = Math.exp(logits.data[i * columns + j] - largest);
      data[i * columns + j] = value;
      sum += value;
    }
    for (let i = 0; i < rows; i++) data[i * columns + j] /= sum;
  }
  return tensor(rows, columns, data);
}

/**
 * Softmax probabilities and the mean cross-entropy loss of a batch of logits.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { softmaxCrossEntropyForward } from "./softmax_cross_entropy.ts";
 * import { fromRows } from "./tensor.ts";
 * const { loss } = softmaxCrossEntropyForward(fromRows([[0], [0]]), [1]);
 * assert.ok(Math.abs(loss - Math.log(2)) < 1e-15);
 * ```
 */
export function softmaxCrossEntropyForward<Classes extends number, Batch extends number>(
  logits: Tensor<Classes, Batch>,
  labels: Labels,
): {
  loss: number;
  probabilities: Tensor<Classes, Batch>;
  cache: SoftmaxCrossEntropyCache<Classes, Batch>;
} {
  assertLabels(labels, logits.rows, logits.columns);
  const { rows, columns } = logits;
  let loss = 0;
  for (let j = 0; j < columns; j++) {
    let largest = -Infinity;
    for (let i = 0; i < rows; i++) largest = Math.max(largest, logits.data[i * columns + j]);
    let sum = 0;
    for (let i = 0; i < rows; i++) sum += Math.exp(logits.data[i * columns + j] - largest);
    // log p[label] computed as s[label] − max − log Σ exp(s − max): exact even where p underflows.
    loss -= logits.data[labels[j] * columns + j] - largest - Math.log(sum);
  }
  const probabilities = softmax(logits);
  return { loss: loss / columns, probabilities, cache: { probabilities, labels } };
}

/**
 * The gradient of the mean cross-entropy with respect to the logits, (p − Y) / n.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { softmaxCrossEntropyBackward, softmaxCrossEntropyForward } from "./softmax_cross_entropy.ts";
 * import { fromRows } from "./tensor.ts";
 * const { cache } = softmaxCrossEntropyForward(fromRows([[0], [0]]), [1]);
 * assert.ok(softmaxCrossEntropyBackward(cache).data[1] === -0.5);
 * ```
 */
export function softmaxCrossEntropyBackward<Classes extends number, Batch extends number>(
  cache: SoftmaxCrossEntropyCache<Classes, Batch>,
): Tensor<Classes, Batch> {
  const { probabilities, labels } = cache;
  const { rows, columns } = probabilities;
  const data = probabilities.data.map((value) => value / columns);
  for (let j = 0; j < columns; j++) data[labels[j] * columns + j] -= 1 / columns;
  return tensor(rows, columns, data);
}
