/**
 * Inverted dropout: in training, y = x ⊙ m with m_ij = 1/(1 − p) with probability 1 − p and 0
 * otherwise, drawn from an explicit {@linkcode RandomKey}; in evaluation, y = x. Scaling the
 * kept entries by 1/(1 − p) keeps E[y] = x, so evaluation needs no rescaling.
 *
 * The mask is part of the cache, and the same key gives the same mask: a gradient check
 * that evaluates the cost at θ ± h with one key sees one fixed mask, so the cost is a smooth
 * function of θ and the backward, ∂L/∂x = ∂L/∂y ⊙ m, is checked like any other layer's.
 *
 * @module
 */
import type { RandomKey } from "./random.ts";
import { uniforms } from "./random.ts";
import { assertShape, dtypeOf, resultArray, type Tensor, tensor } from "./tensor.ts";

/** What {@linkcode dropoutBackward} reads: the mask (0 or 1/(1 − p) per entry). */
export interface DropoutCache<Units extends number = number, Batch extends number = number> {
  readonly mask: Tensor<Units, Batch>;
  readonly name: string;
}

/**
 * The mask of inverted dropout with rate p for a `rows × columns` input: each entry is 0
 * with probability p, else 1/(1 − p). The same key gives the same mask.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dropoutMask } from "./dropout.ts";
 * import { randomKey } from "./random.ts";
 * const mask = dropoutMask(randomKey(1), 100, 100, 0.5);
 * assert.ok(mask.data.every((value) => value === 0 || value === 2));
 * const kept = mask.data.filter((value) => value !== 0).length;
 * assert.ok(kept > 4700 && kept < 5300);
 * ```
 */
export function dropoutMask<Rows extends number, Columns extends number>(
  key: RandomKey,
  rows: Rows,
  columns: Columns,
  rate: number,
): Tensor<Rows, Columns> {
  if (!(rate >= 0 && rate < 1)) {
    throw new RangeError(`Cannot draw a dropout mask with rate ${rate}: it must be in [0, 1)`);
  }
  const keep = 1 - rate, kept = 1 / keep;
  const { values } = uniforms(key, rows * columns);
  const data = new Float64Array(values.length);
  // Indexed by the comparison rather than branching on it: a kept or dropped entry is a coin
  // toss that the processor's branch prediction gets wrong a third of the time or more.
  const choice = new Float64Array([0, kept]);
  for (let i = 0; i < data.length; i++) data[i] = choice[+(values[i] < keep)];
  return tensor(rows, columns, data);
}

/**
 * Dropout in training mode: multiplies the input by a mask drawn from `key` with rate p.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dropoutTrainingForward } from "./dropout.ts";
 * import { randomKey } from "./random.ts";
 * import { filled } from "./tensor.ts";
 * const { output, cache } = dropoutTrainingForward(filled(4, 5, 3), 0.25, randomKey(2));
 * assert.ok(output.data.every((value, i) => value === 3 * cache.mask.data[i]));
 * ```
 */
export function dropoutTrainingForward<Units extends number, Batch extends number>(
  input: Tensor<Units, Batch>,
  rate: number,
  key: RandomKey,
  name = "Dropout layer",
): { output: Tensor<Units, Batch>; cache: DropoutCache<Units, Batch> } {
  const mask = dropoutMask(key, input.rows, input.columns, rate);
  const data = resultArray(dtypeOf(input), input.data.length);
  for (let i = 0; i < data.length; i++) data[i] = input.data[i] * mask.data[i];
  return { output: tensor(input.rows, input.columns, data), cache: { mask, name } };
}

/**
 * ∂L/∂x = ∂L/∂y ⊙ m: the gradient flows through the kept entries, scaled like them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dropoutBackward, dropoutTrainingForward } from "./dropout.ts";
 * import { randomKey } from "./random.ts";
 * import { filled } from "./tensor.ts";
 * const { cache } = dropoutTrainingForward(filled(2, 3, 1), 0.5, randomKey(3));
 * const { inputGradient } = dropoutBackward(cache, filled(2, 3, 1));
 * assert.deepEqual([...inputGradient.data], [...cache.mask.data]);
 * ```
 */
export function dropoutBackward<Units extends number, Batch extends number>(
  cache: DropoutCache<Units, Batch>,
  outputGradient: Tensor<NoInfer<Units>, NoInfer<Batch>>,
): { inputGradient: Tensor<Units, Batch>; parameterGradients: Record<never, never> } {
  const { mask, name } = cache;
  assertShape(
    outputGradient,
    mask.rows,
    mask.columns,
    `${name} backward`,
    "the output gradient must have the shape of the layer's input",
  );
  const data = resultArray(dtypeOf(outputGradient), mask.data.length);
  for (let i = 0; i < data.length; i++) data[i] = outputGradient.data[i] * mask.data[i];
  return { inputGradient: tensor(mask.rows, mask.columns, data), parameterGradients: {} };
}
