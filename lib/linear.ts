/**
 * The linear (fully connected) layer: s = W x + b, for every sample x (a column) of the batch.
 *
 * Backward, with G the gradient of the loss with respect to s:
 * ∂L/∂W = G Xᵀ, ∂L/∂b = G 1 (summed over the batch), ∂L/∂X = Wᵀ G.
 *
 * @module
 */
import {
  addColumn,
  matmul,
  matmulTransposedLeft,
  matmulTransposedRight,
  matmulTransposedRightAddScaled,
  sumRows,
} from "./primitives.ts";
import { assertShape, type Tensor } from "./tensor.ts";

/** The weight W (out × in) and bias b (out × 1) of a linear layer. */
export interface LinearParameters<In extends number = number, Out extends number = number> {
  readonly weight: Tensor<Out, In>;
  readonly bias: Tensor<Out, 1>;
}

/** What {@linkcode linearBackward} reads: the parameters and the layer's input. */
export interface LinearCache<
  In extends number = number,
  Out extends number = number,
  Batch extends number = number,
> {
  readonly parameters: LinearParameters<In, Out>;
  readonly input: Tensor<In, Batch>;
  readonly name: string;
}

/**
 * s = W x + b for every column x of `input`. `name` identifies the layer in error messages.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { linearForward } from "./linear.ts";
 * import { column, fromRows } from "./tensor.ts";
 * const parameters = { weight: fromRows([[1, 2]]), bias: column([10]) };
 * const { output } = linearForward(parameters, fromRows([[1], [1]]));
 * assert.ok(output.data[0] === 13);
 * ```
 */
export function linearForward<In extends number, Out extends number, Batch extends number>(
  parameters: LinearParameters<In, Out>,
  input: Tensor<NoInfer<In>, Batch>,
  name = "Linear layer",
): { output: Tensor<Out, Batch>; cache: LinearCache<In, Out, Batch> } {
  const { weight, bias } = parameters;
  assertShape(
    bias,
    weight.rows,
    1,
    `${name} forward`,
    `the bias must be a column with one entry per weight row (${weight.rows})`,
  );
  assertShape(
    input,
    weight.columns,
    input.columns,
    `${name} forward`,
    `input rows must equal weight columns (${weight.columns}); the weight has shape [${weight.rows}, ${weight.columns}]`,
  );
  const output = addColumn(matmul(weight, input), bias);
  return { output, cache: { parameters, input, name } };
}

/**
 * Gradients of the loss with respect to the input, the weight and the bias, given the
 * gradient with respect to the output. The input gradient is computed when first read.
 * `weightPenalty` (default 0) adds that multiple of the weight to the weight gradient: 2λ for
 * an L2 term λ‖W‖² in the cost, in the same pass as the product.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { linearBackward, linearForward } from "./linear.ts";
 * import { column, fromRows } from "./tensor.ts";
 * const parameters = { weight: fromRows([[1, 2]]), bias: column([0]) };
 * const { cache } = linearForward(parameters, fromRows([[3, 4], [5, 6]]));
 * const { parameterGradients } = linearBackward(cache, fromRows([[1, 1]]));
 * assert.ok(parameterGradients.weight.data[0] === 7 && parameterGradients.bias.data[0] === 2);
 * ```
 */
export function linearBackward<In extends number, Out extends number, Batch extends number>(
  cache: LinearCache<In, Out, Batch>,
  outputGradient: Tensor<NoInfer<Out>, NoInfer<Batch>>,
  weightPenalty = 0,
): { inputGradient: Tensor<In, Batch>; parameterGradients: LinearParameters<In, Out> } {
  const { parameters: { weight }, input, name } = cache;
  assertShape(
    outputGradient,
    weight.rows,
    input.columns,
    `${name} backward`,
    "the output gradient must have the shape of the layer's output",
  );
  let inputGradient: Tensor<In, Batch> | undefined;
  return {
    /** ∂L/∂X = Wᵀ G, computed on first read: the first layer of a network never needs it. */
    get inputGradient() {
      return inputGradient ??= matmulTransposedLeft(weight, outputGradient);
    },
    parameterGradients: {
      weight: weightPenalty === 0
        ? matmulTransposedRight(outputGradient, input)
        : matmulTransposedRightAddScaled(outputGradient, input, weight, weightPenalty),
      bias: sumRows(outputGradient),
    },
  };
}
