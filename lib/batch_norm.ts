/**
 * Batch normalization, per unit (row) over the batch (columns).
 *
 * Training: μ and σ² are the batch mean and the biased batch variance (divided by n),
 * x̂ = (x − μ)/√(σ² + ε), and y = γ ⊙ x̂ + β where the layer has a scale γ and shift β
 * (without them, y = x̂). Evaluation: μ and σ² are moving averages kept during training,
 * avg ← α·avg + (1 − α)·batch, initialised from the first batch.
 *
 * Backward in training mode, with g = ∂L/∂y, ĝ = γ ⊙ g (or g without γ), and means over the
 * batch: ∂L/∂x = (ĝ − mean(ĝ) − x̂ ⊙ mean(ĝ ⊙ x̂)) / √(σ² + ε), ∂L/∂γ = Σ g ⊙ x̂, ∂L/∂β = Σ g.
 *
 * @module
 */
import {
  centerAndScaleRows,
  projectOutRows,
  rowMeansAndVariances,
  rowSumsAndDots,
  scale,
  scaleAndShiftRows,
  zip,
} from "./primitives.ts";
import { assertShape, type Tensor, tensor } from "./tensor.ts";

/** The scale γ and shift β (units × 1); both absent in the variant without them. */
export interface BatchNormParameters<Units extends number = number> {
  readonly scale?: Tensor<Units, 1>;
  readonly shift?: Tensor<Units, 1>;
}

/** Per-unit mean and (biased) variance, of one batch or as moving averages. */
export interface BatchNormStatistics<Units extends number = number> {
  readonly mean: Tensor<Units, 1>;
  readonly variance: Tensor<Units, 1>;
}

/** What {@linkcode batchNormBackward} reads. */
export interface BatchNormCache<Units extends number = number, Batch extends number = number> {
  readonly normalized: Tensor<Units, Batch>;
  readonly inverseStandardDeviation: Tensor<Units, 1>;
  readonly scale: Tensor<Units, 1> | undefined;
  readonly name: string;
}

function checkParameters(
  parameters: BatchNormParameters,
  units: number,
  name: string,
): void {
  if ((parameters.scale === undefined) !== (parameters.shift === undefined)) {
    throw new TypeError(
      `Cannot run ${name}: it has a ${parameters.scale ? "scale" : "shift"} but no ${
        parameters.scale ? "shift" : "scale"
      }; give both or neither`,
    );
  }
  for (const key of ["scale", "shift"] as const) {
    const value = parameters[key];
    if (value) {
      assertShape(value, units, 1, name, `the ${key} must have one entry per unit (${units})`);
    }
  }
}

/** 1/√(σ² + ε) per unit. */
function inverseStandardDeviationOf<Units extends number>(
  variance: Tensor<Units, 1>,
  epsilon: number,
): Tensor<Units, 1> {
  return tensor(variance.rows, 1, variance.data.map((value) => 1 / Math.sqrt(value + epsilon)));
}

function applyAffine<Units extends number, Batch extends number>(
  parameters: BatchNormParameters<Units>,
  normalized: Tensor<Units, Batch>,
): Tensor<Units, Batch> {
  if (!parameters.scale || !parameters.shift) return normalized;
  return scaleAndShiftRows(normalized, parameters.scale, parameters.shift);
}

/**
 * The per-unit mean and biased variance of a batch.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { batchStatistics } from "./batch_norm.ts";
 * import { column, fromRows } from "./tensor.ts";
 * const { mean, variance } = batchStatistics(fromRows([[1, 3]]));
 * assert.ok(mean.data[0] === 2 && variance.data[0] === 1);
 * ```
 */
export function batchStatistics<Units extends number, Batch extends number>(
  input: Tensor<Units, Batch>,
): BatchNormStatistics<Units> {
  return rowMeansAndVariances(input);
}

/**
 * Batch normalization in training mode: normalizes with the batch's own statistics, which it
 * also returns so that the caller can update the moving averages.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { batchNormTrainingForward } from "./batch_norm.ts";
 * import { column, fromRows } from "./tensor.ts";
 * const { output } = batchNormTrainingForward({}, fromRows([[1, 3]]), 0);
 * assert.ok(output.data[0] === -1 && output.data[1] === 1);
 * ```
 */
export function batchNormTrainingForward<Units extends number, Batch extends number>(
  parameters: BatchNormParameters<Units>,
  input: Tensor<NoInfer<Units>, Batch>,
  epsilon: number,
  name = "BatchNorm layer",
): {
  output: Tensor<Units, Batch>;
  cache: BatchNormCache<Units, Batch>;
  statistics: BatchNormStatistics<Units>;
} {
  checkParameters(parameters, input.rows, `${name} forward`);
  const statistics = batchStatistics(input);
  const inverseStandardDeviation = inverseStandardDeviationOf(statistics.variance, epsilon);
  const normalized = centerAndScaleRows(input, statistics.mean, inverseStandardDeviation);
  return {
    output: applyAffine(parameters, normalized),
    cache: { normalized, inverseStandardDeviation, scale: parameters.scale, name },
    statistics,
  };
}

/**
 * Batch normalization in evaluation mode: normalizes with the given (moving-average)
 * statistics.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { batchNormEvaluationForward } from "./batch_norm.ts";
 * import { column, fromRows } from "./tensor.ts";
 * const statistics = { mean: column([1]), variance: column([4]) };
 * const output = batchNormEvaluationForward({}, statistics, fromRows([[5]]), 0);
 * assert.ok(output.data[0] === 2);
 * ```
 */
export function batchNormEvaluationForward<Units extends number, Batch extends number>(
  parameters: BatchNormParameters<Units>,
  statistics: BatchNormStatistics<Units>,
  input: Tensor<NoInfer<Units>, Batch>,
  epsilon: number,
  name = "BatchNorm layer",
): Tensor<Units, Batch> {
  checkParameters(parameters, input.rows, `${name} forward`);
  const reason = "the moving averages must have one entry per unit of the input";
  assertShape(statistics.mean, input.rows, 1, `${name} forward`, reason);
  assertShape(statistics.variance, input.rows, 1, `${name} forward`, reason);
  const normalized = centerAndScaleRows(
    input,
    statistics.mean,
    inverseStandardDeviationOf(statistics.variance, epsilon),
  );
  return applyAffine(parameters, normalized);
}

/**
 * The moving averages after one more batch: avg ← α·avg + (1 − α)·batch, where α is
 * `momentum`. Without previous averages, the batch's statistics are the averages.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { updateMovingAverages } from "./batch_norm.ts";
 * import { column, fromRows } from "./tensor.ts";
 * const previous = { mean: column([0]), variance: column([1]) };
 * const batch = { mean: column([10]), variance: column([3]) };
 * assert.ok(updateMovingAverages(previous, batch, 0.5).mean.data[0] === 5);
 * ```
 */
export function updateMovingAverages<Units extends number>(
  previous: BatchNormStatistics<Units> | undefined,
  batch: BatchNormStatistics<Units>,
  momentum: number,
): BatchNormStatistics<Units> {
  if (!previous) return batch;
  const blend = (average: number, value: number) => momentum * average + (1 - momentum) * value;
  return {
    mean: zip(previous.mean, batch.mean, blend),
    variance: zip(previous.variance, batch.variance, blend),
  };
}

/**
 * Gradients of the loss with respect to the input, γ and β of a batch-normalization layer in
 * training mode.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { batchNormBackward, batchNormTrainingForward } from "./batch_norm.ts";
 * import { column, fromRows } from "./tensor.ts";
 * const { cache } = batchNormTrainingForward({}, fromRows([[1, 3]]), 0);
 * // A gradient constant over the batch is removed by the mean subtraction.
 * const { inputGradient } = batchNormBackward(cache, fromRows([[1, 1]]));
 * assert.ok(inputGradient.data.every((value) => value === 0));
 * ```
 */
export function batchNormBackward<Units extends number, Batch extends number>(
  cache: BatchNormCache<Units, Batch>,
  outputGradient: Tensor<NoInfer<Units>, NoInfer<Batch>>,
): { inputGradient: Tensor<Units, Batch>; parameterGradients: BatchNormParameters<Units> } {
  const { normalized, inverseStandardDeviation, scale: gamma, name } = cache;
  assertShape(
    outputGradient,
    normalized.rows,
    normalized.columns,
    `${name} backward`,
    "the output gradient must have the shape of the layer's output",
  );
  const count = normalized.columns;
  // The gradient with respect to the normalized input is Ĝ = G·γ (G without γ); one pass finds
  // the sums and dots of both G and Ĝ, and the input gradient forms Ĝ as it goes.
  const sums = rowSumsAndDots(outputGradient, normalized, gamma);
  const meanGradient = scale(sums.scaledSum, 1 / count);
  const meanProjection = scale(sums.scaledDot, 1 / count);
  const inputGradient = projectOutRows(
    outputGradient,
    normalized,
    meanGradient,
    meanProjection,
    inverseStandardDeviation,
    gamma,
  );
  const parameterGradients: BatchNormParameters<Units> = gamma
    ? { scale: sums.dot, shift: sums.sum }
    : {};
  return { inputGradient, parameterGradients };
}
