/**
 * The rectified linear unit, max(0, x) entry by entry. Its derivative is taken as 0 at x = 0.
 *
 * @module
 */
import { keepWherePositive, positivePart } from "./primitives.ts";
import { assertShape, type Tensor } from "./tensor.ts";

/** What {@linkcode reluBackward} reads: the layer's input. */
export interface ReluCache<Units extends number = number, Batch extends number = number> {
  readonly input: Tensor<Units, Batch>;
  readonly name: string;
}

/**
 * max(0, x) for every entry.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { reluForward } from "./relu.ts";
 * import { fromRows } from "./tensor.ts";
 * assert.ok(reluForward(fromRows([[-1, 2]])).output.data[0] === 0);
 * ```
 */
export function reluForward<Units extends number, Batch extends number>(
  input: Tensor<Units, Batch>,
  name = "ReLU layer",
): { output: Tensor<Units, Batch>; cache: ReluCache<Units, Batch> } {
  // positivePart lets NaN through (as NumPy's maximum does), so bad input is not hidden.
  return { output: positivePart(input), cache: { input, name } };
}

/**
 * Passes the gradient through where the input was positive, zero elsewhere.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { reluBackward, reluForward } from "./relu.ts";
 * import { fromRows } from "./tensor.ts";
 * const { cache } = reluForward(fromRows([[-1, 2]]));
 * assert.ok(reluBackward(cache, fromRows([[5, 5]])).inputGradient.data[0] === 0);
 * ```
 */
export function reluBackward<Units extends number, Batch extends number>(
  cache: ReluCache<Units, Batch>,
  outputGradient: Tensor<NoInfer<Units>, NoInfer<Batch>>,
): { inputGradient: Tensor<Units, Batch>; parameterGradients: Record<never, never> } {
  const { input, name } = cache;
  assertShape(
    outputGradient,
    input.rows,
    input.columns,
    `${name} backward`,
    "the output gradient must have the shape of the layer's input",
  );
  return {
    inputGradient: keepWherePositive(input, outputGradient),
    parameterGradients: {},
  };
}
