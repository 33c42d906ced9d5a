/**
 * Softmax over the classes of each sample (column) and the mean cross-entropy loss.
 *
 * p = exp(s − max s) / Σ exp(s − max s) per column; L = −(1/n) Σ_samples log p[label].
 * Backward: ∂L/∂s = (p − Y) / n, with Y the one-hot labels.
 *
 * @module
 */
import { DataError } from "./errors.ts";
import { dtypeOf, type FloatArray, resultArray, type Tensor, tensor } from "./tensor.ts";

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
  const { data, sums } = shiftedExponentials(logits);
  return tensor(logits.rows, logits.columns, normalizeColumns(data, sums));
}

/**
 * exp(s − max s) of every entry, and per column its max s and the sum of its exponentials
 * (added in row order). Walks the rows in memory order, one running max and sum per column.
 */
function shiftedExponentials(
  logits: Tensor,
): { data: FloatArray; largest: Float64Array; sums: Float64Array } {
  const { rows, columns, data: values } = logits;
  const data = resultArray(dtypeOf(logits), rows * columns);
  const largest = new Float64Array(columns).fill(-Infinity), sums = new Float64Array(columns);
  for (let i = 0; i < rows; i++) {
    for (let j = 0, at = i * columns; j < columns; j++, at++) {
      largest[j] = Math.max(largest[j], values[at]);
    }
  }
  for (let i = 0; i < rows; i++) {
    for (let j = 0, at = i * columns; j < columns; j++, at++) {
      const value = Math.exp(values[at] - largest[j]);
      data[at] = value;
      sums[j] += value;
    }
  }
  return { data, largest, sums };
}

/** Divides each column of `data` (row-major, `sums.length` columns) by its sum, in place. */
function normalizeColumns(data: FloatArray, sums: Float64Array): FloatArray {
  const columns = sums.length;
  for (let at = 0; at < data.length; at += columns) {
    for (let j = 0; j < columns; j++) data[at + j] /= sums[j];
  }
  return data;
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
  const { data, largest, sums } = shiftedExponentials(logits);
  let loss = 0;
  for (let j = 0; j < columns; j++) {
    // log p[label] computed as s[label] − max − log Σ exp(s − max): exact even where p underflows.
    loss -= logits.data[labels[j] * columns + j] - largest[j] - Math.log(sums[j]);
  }
  const probabilities = tensor(rows, columns, normalizeColumns(data, sums));
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
  const data = resultArray(dtypeOf(probabilities), rows * columns);
  for (let at = 0; at < data.length; at++) data[at] = probabilities.data[at] / columns;
  for (let j = 0; j < columns; j++) data[labels[j] * columns + j] -= 1 / columns;
  return tensor(rows, columns, data);
}
