/**
 * The few numeric primitives every layer is built from: matrix products, elementwise maps,
 * reductions along rows, and broadcasting of a column over a batch.
 *
 * Layers call only these, so a faster kernel can serve them without the layers knowing.
 * Every primitive checks shapes at its boundary, allocates its result and never writes into
 * its arguments. Results have the number type of the first operand; a matrix product of a
 * float32 and a float64 tensor is an error.
 *
 * @module
 */
import { currentAxpy, currentGemm, currentGemm32 } from "./backend.ts";
import type { Axpy } from "./ml_matrix_kernel.ts";
import {
  assertShape,
  dtypeOf,
  type FloatArray,
  floatArray,
  resultArray,
  type Tensor,
  tensor,
} from "./tensor.ts";

/**
 * The matrix product A · B.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { matmul } from "./primitives.ts";
 * import { fromRows } from "./tensor.ts";
 * const product = matmul(fromRows([[1, 2]]), fromRows([[3], [4]]));
 * assert.ok(product.data[0] === 11);
 * ```
 */
export function matmul<M extends number, K extends number, N extends number>(
  a: Tensor<M, K>,
  b: Tensor<NoInfer<K>, N>,
): Tensor<M, N> {
  assertShape(
    b,
    a.columns,
    b.columns,
    "matmul()",
    `B's rows must equal A's columns (${a.columns})`,
  );
  const data = product(false, false, a.rows, b.columns, a.columns, a, b, "matmul()");
  return tensor(a.rows, b.columns, data);
}

/**
 * The matrix product Aᵀ · B, without forming Aᵀ.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { matmulTransposedLeft } from "./primitives.ts";
 * import { fromRows } from "./tensor.ts";
 * const product = matmulTransposedLeft(fromRows([[1], [2]]), fromRows([[3], [4]]));
 * assert.ok(product.data[0] === 11);
 * ```
 */
export function matmulTransposedLeft<K extends number, M extends number, N extends number>(
  a: Tensor<K, M>,
  b: Tensor<NoInfer<K>, N>,
): Tensor<M, N> {
  assertShape(
    b,
    a.rows,
    b.columns,
    "matmulTransposedLeft()",
    `B's rows must equal A's rows (${a.rows})`,
  );
  const data = product(true, false, a.columns, b.columns, a.rows, a, b, "matmulTransposedLeft()");
  return tensor(a.columns, b.columns, data);
}

/**
 * The matrix product A · Bᵀ, without forming Bᵀ.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { matmulTransposedRight } from "./primitives.ts";
 * import { fromRows } from "./tensor.ts";
 * const product = matmulTransposedRight(fromRows([[1, 2]]), fromRows([[3, 4]]));
 * assert.ok(product.data[0] === 11);
 * ```
 */
export function matmulTransposedRight<M extends number, K extends number, N extends number>(
  a: Tensor<M, K>,
  b: Tensor<N, NoInfer<K>>,
): Tensor<M, N> {
  assertShape(
    b,
    b.rows,
    a.columns,
    "matmulTransposedRight()",
    `B's columns must equal A's columns (${a.columns})`,
  );
  const data = product(false, true, a.rows, b.rows, a.columns, a, b, "matmulTransposedRight()");
  return tensor(a.rows, b.rows, data);
}

/** op(A) · op(B) (m × n) by the process-wide kernel of A's and B's number type. */
function product(
  transposeA: boolean,
  transposeB: boolean,
  m: number,
  n: number,
  k: number,
  a: Tensor,
  b: Tensor,
  operation: string,
): FloatArray {
  if (a.data instanceof Float32Array && b.data instanceof Float32Array) {
    const c = resultArray("float32", m * n) as Float32Array;
    currentGemm32()(transposeA, transposeB, m, n, k, a.data, b.data, c);
    return c;
  }
  if (a.data instanceof Float64Array && b.data instanceof Float64Array) {
    const c = resultArray("float64", m * n) as Float64Array;
    currentGemm()(transposeA, transposeB, m, n, k, a.data, b.data, c);
    return c;
  }
  throw new TypeError(
    `Cannot compute ${operation} of a ${dtypeOf(a)} ${a.rows} × ${a.columns} A and a ` +
      `${dtypeOf(b)} ${b.rows} × ${b.columns} B: cast both to one type with castTensor()`,
  );
}

/**
 * Applies `f` to every entry.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { map } from "./primitives.ts";
 * import { fromRows } from "./tensor.ts";
 * assert.ok(map(fromRows([[-1, 2]]), Math.abs).data[0] === 1);
 * ```
 */
export function map<R extends number, C extends number>(
  a: Tensor<R, C>,
  f: (value: number) => number,
): Tensor<R, C> {
  const data = resultArray(dtypeOf(a), a.data.length);
  for (let i = 0; i < data.length; i++) data[i] = f(a.data[i]);
  return tensor(a.rows, a.columns, data);
}

/**
 * Combines two tensors of one shape entry by entry.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { zip } from "./primitives.ts";
 * import { fromRows } from "./tensor.ts";
 * assert.ok(zip(fromRows([[1, 2]]), fromRows([[3, 4]]), (x, y) => x * y).data[1] === 8);
 * ```
 */
export function zip<R extends number, C extends number>(
  a: Tensor<R, C>,
  b: Tensor<NoInfer<R>, NoInfer<C>>,
  f: (x: number, y: number) => number,
): Tensor<R, C> {
  assertShape(b, a.rows, a.columns, "zip()", "both tensors must have one shape");
  const data = resultArray(dtypeOf(a), a.data.length);
  for (let i = 0; i < data.length; i++) data[i] = f(a.data[i], b.data[i]);
  return tensor(a.rows, a.columns, data);
}

/**
 * [0, x]: ReLU's loops below pick `choice[1]` (x) or `choice[0]` (0) by indexing with the
 * comparison, rather than with a conditional. The comparison's outcome on a layer's
 * activations is a coin toss that the processor cannot predict, and each wrong guess at a
 * branch costs more than the rest of the element's work: 25 µs against 4 µs for 5000 entries.
 * Only the loops write it, and only index 1.
 */
const choice = new Float64Array(2);

/**
 * max(A, 0) entry by entry, letting NaN through (as NumPy's `maximum` does): ReLU's forward
 * pass, in a loop of its own rather than {@linkcode map} with a callback, since it runs on
 * every activation of every update.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { positivePart } from "./primitives.ts";
 * import { fromRows } from "./tensor.ts";
 * assert.deepEqual([...positivePart(fromRows([[-1, 2, NaN]])).data], [0, 2, NaN]);
 * ```
 */
export function positivePart<R extends number, C extends number>(a: Tensor<R, C>): Tensor<R, C> {
  const data = resultArray(dtypeOf(a), a.data.length);
  const values = a.data;
  for (let i = 0; i < data.length; i++) {
    choice[1] = values[i];
    data[i] = choice[+!(values[i] <= 0)];
  }
  return tensor(a.rows, a.columns, data);
}

/**
 * B where A > 0, and 0 elsewhere: ReLU's backward pass, with A its input.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { keepWherePositive } from "./primitives.ts";
 * import { fromRows } from "./tensor.ts";
 * assert.deepEqual([...keepWherePositive(fromRows([[-1, 2]]), fromRows([[5, 6]])).data], [0, 6]);
 * ```
 */
export function keepWherePositive<R extends number, C extends number>(
  a: Tensor<R, C>,
  b: Tensor<NoInfer<R>, NoInfer<C>>,
): Tensor<R, C> {
  assertShape(b, a.rows, a.columns, "keepWherePositive()", "both tensors must have one shape");
  const data = resultArray(dtypeOf(a), a.data.length);
  const gate = a.data, values = b.data;
  for (let i = 0; i < data.length; i++) {
    choice[1] = values[i];
    data[i] = choice[+(gate[i] > 0)];
  }
  return tensor(a.rows, a.columns, data);
}

/**
 * The entrywise sum A + B.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { add } from "./primitives.ts";
 * import { fromRows } from "./tensor.ts";
 * assert.ok(add(fromRows([[1]]), fromRows([[2]])).data[0] === 3);
 * ```
 */
export function add<R extends number, C extends number>(
  a: Tensor<R, C>,
  b: Tensor<NoInfer<R>, NoInfer<C>>,
): Tensor<R, C> {
  assertShape(b, a.rows, a.columns, "add()", "both tensors must have one shape");
  const data = resultArray(dtypeOf(a), a.data.length);
  for (let i = 0; i < data.length; i++) data[i] = a.data[i] + b.data[i];
  return tensor(a.rows, a.columns, data);
}

/**
 * The entrywise product A ⊙ B.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { multiply } from "./primitives.ts";
 * import { fromRows } from "./tensor.ts";
 * assert.ok(multiply(fromRows([[2]]), fromRows([[3]])).data[0] === 6);
 * ```
 */
export function multiply<R extends number, C extends number>(
  a: Tensor<R, C>,
  b: Tensor<NoInfer<R>, NoInfer<C>>,
): Tensor<R, C> {
  assertShape(b, a.rows, a.columns, "multiply()", "both tensors must have one shape");
  const data = resultArray(dtypeOf(a), a.data.length);
  for (let i = 0; i < data.length; i++) data[i] = a.data[i] * b.data[i];
  return tensor(a.rows, a.columns, data);
}

/**
 * The tensor times a scalar.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { scale } from "./primitives.ts";
 * import { fromRows } from "./tensor.ts";
 * assert.ok(scale(fromRows([[2]]), 3).data[0] === 6);
 * ```
 */
export function scale<R extends number, C extends number>(
  a: Tensor<R, C>,
  factor: number,
): Tensor<R, C> {
  const data = resultArray(dtypeOf(a), a.data.length);
  for (let i = 0; i < data.length; i++) data[i] = a.data[i] * factor;
  return tensor(a.rows, a.columns, data);
}

/** Below this many entries a TypeScript loop costs less than a call into the backend's axpy. */
const smallestAxpyLength = 4096;

/**
 * A + factor · B, in one pass (BLAS's axpy, without writing into B): by the backend's axpy
 * where it has one (OpenBLAS), which may fuse the multiply-add and so round once where the
 * loop rounds twice.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { addScaled } from "./primitives.ts";
 * import { fromRows } from "./tensor.ts";
 * assert.equal(addScaled(fromRows([[1]]), fromRows([[2]]), 3).data[0], 7);
 * ```
 */
export function addScaled<R extends number, C extends number>(
  a: Tensor<R, C>,
  b: Tensor<NoInfer<R>, NoInfer<C>>,
  factor: number,
): Tensor<R, C> {
  assertShape(b, a.rows, a.columns, "addScaled()", "both tensors must have one shape");
  const data = resultArray(dtypeOf(a), a.data.length);
  const axpy = axpyFor(data, b.data);
  if (axpy) {
    data.set(a.data);
    axpy(factor, b.data, data);
  } else for (let i = 0; i < data.length; i++) data[i] = a.data[i] + factor * b.data[i];
  return tensor(a.rows, a.columns, data);
}

/**
 * A · Bᵀ + factor · C, with C shaped like the product: the bits of
 * `addScaled(matmulTransposedRight(a, b), c, factor)`, the multiply-add done in the product's
 * own fresh array rather than in a copy of it. A linear layer's weight gradient with the L2
 * term's 2λW added.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { matmulTransposedRightAddScaled } from "./primitives.ts";
 * import { fromRows } from "./tensor.ts";
 * // [[1, 2]] · [[3, 4]]ᵀ + 10 · [[1]]
 * assert.equal(matmulTransposedRightAddScaled(fromRows([[1, 2]]), fromRows([[3, 4]]), fromRows([[1]]), 10).data[0], 21);
 * ```
 */
export function matmulTransposedRightAddScaled<
  M extends number,
  K extends number,
  N extends number,
>(
  a: Tensor<M, K>,
  b: Tensor<N, NoInfer<K>>,
  c: Tensor<NoInfer<M>, NoInfer<N>>,
  factor: number,
): Tensor<M, N> {
  const operation = "matmulTransposedRightAddScaled()";
  assertShape(b, b.rows, a.columns, operation, `B's columns must equal A's columns (${a.columns})`);
  assertShape(c, a.rows, b.rows, operation, "C must have the shape of A · Bᵀ");
  const data = product(false, true, a.rows, b.rows, a.columns, a, b, operation);
  const axpy = axpyFor(data, c.data);
  if (axpy) axpy(factor, c.data, data);
  else for (let i = 0; i < data.length; i++) data[i] = data[i] + factor * c.data[i];
  return tensor(a.rows, b.rows, data);
}

/**
 * One step of gradient descent with momentum on parameter θ with velocity v and gradient g:
 * v′ = ρ·v + η·g and θ′ = θ − v′. Without an axpy in the backend that gains on these arrays
 * (see `currentAxpy`) it is one pass over the arrays
 * rather than one per operation (the step is memory-bound: a float64 50 × 3072 weight takes
 * 77 µs this way against 265 µs in three passes); with OpenBLAS, ρ·v and then two axpys. Either
 * way the bits are those of `addScaled(scale(v, ρ), g, η)` and `addScaled(θ, v′, −1)`: ρ·v is
 * rounded to the parameters' type before η·g is added, and θ′ subtracts v′ as stored.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { momentumStep } from "./primitives.ts";
 * import { column } from "./tensor.ts";
 * const { value, velocity } = momentumStep(column([1]), column([0.5]), column([2]), 0.5, 0.25);
 * assert.deepEqual([...velocity.data, ...value.data], [0.75, 0.25]);
 * ```
 */
export function momentumStep<R extends number, C extends number>(
  value: Tensor<R, C>,
  velocity: Tensor<NoInfer<R>, NoInfer<C>>,
  gradient: Tensor<NoInfer<R>, NoInfer<C>>,
  momentum: number,
  learningRate: number,
): { value: Tensor<R, C>; velocity: Tensor<R, C> } {
  const operation = "momentumStep()";
  assertShape(velocity, value.rows, value.columns, operation, "v must have θ's shape");
  assertShape(gradient, value.rows, value.columns, operation, "g must have θ's shape");
  const dtype = dtypeOf(value);
  const θ = value.data, v = velocity.data, g = gradient.data;
  const nextValue = resultArray(dtype, θ.length);
  const nextVelocity = resultArray(dtype, θ.length);
  const axpy = axpyFor(nextVelocity, g);
  if (axpy) {
    for (let i = 0; i < v.length; i++) nextVelocity[i] = momentum * v[i];
    axpy(learningRate, g, nextVelocity);
    nextValue.set(θ);
    axpy(-1, nextVelocity, nextValue);
  } else {
    const single = nextVelocity instanceof Float32Array;
    for (let i = 0; i < θ.length; i++) {
      const inertia = single ? Math.fround(momentum * v[i]) : momentum * v[i];
      nextVelocity[i] = inertia + learningRate * g[i];
      nextValue[i] = θ[i] - nextVelocity[i];
    }
  }
  return {
    value: tensor(value.rows, value.columns, nextValue),
    velocity: tensor(value.rows, value.columns, nextVelocity),
  };
}

/** The backend's axpy, where it has one that gains on these arrays and they are long enough. */
function axpyFor(target: FloatArray, source: FloatArray): Axpy | undefined {
  return target.length >= smallestAxpyLength &&
      (target instanceof Float32Array) === (source instanceof Float32Array)
    ? currentAxpy(source, target)
    : undefined;
}

/** Combines A's entry (i, j) with entry i of a column vector, for every j: the loop of the three broadcasts below. */
function broadcastColumn<R extends number, C extends number>(
  a: Tensor<R, C>,
  column: Tensor<NoInfer<R>, 1>,
  operation: string,
  combine: "add" | "subtract" | "multiply",
): Tensor<R, C> {
  assertShape(column, a.rows, 1, `${operation}()`, "the column must have one entry per row of A");
  const data = resultArray(dtypeOf(a), a.data.length);
  const { columns } = a;
  for (let i = 0; i < a.rows; i++) {
    const value = column.data[i];
    const offset = i * columns;
    if (combine === "add") {
      for (let j = 0; j < columns; j++) data[offset + j] = a.data[offset + j] + value;
    } else if (combine === "subtract") {
      for (let j = 0; j < columns; j++) data[offset + j] = a.data[offset + j] - value;
    } else for (let j = 0; j < columns; j++) data[offset + j] = a.data[offset + j] * value;
  }
  return tensor(a.rows, a.columns, data);
}

/**
 * Adds entry i of `column` to row i of A: a per-unit bias or shift broadcast over a batch.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { addColumn } from "./primitives.ts";
 * import { column, fromRows } from "./tensor.ts";
 * assert.deepEqual([...addColumn(fromRows([[1, 2], [3, 4]]), column([10, 20])).data], [11, 12, 23, 24]);
 * ```
 */
export function addColumn<R extends number, C extends number>(
  a: Tensor<R, C>,
  column: Tensor<NoInfer<R>, 1>,
): Tensor<R, C> {
  return broadcastColumn(a, column, "addColumn", "add");
}

/**
 * Subtracts entry i of `column` from row i of A: centring each unit on its batch mean.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { subtractColumn } from "./primitives.ts";
 * import { column, fromRows } from "./tensor.ts";
 * assert.deepEqual([...subtractColumn(fromRows([[1, 2], [3, 4]]), column([1, 3])).data], [0, 1, 0, 1]);
 * ```
 */
export function subtractColumn<R extends number, C extends number>(
  a: Tensor<R, C>,
  column: Tensor<NoInfer<R>, 1>,
): Tensor<R, C> {
  return broadcastColumn(a, column, "subtractColumn", "subtract");
}

/**
 * Multiplies row i of A by entry i of `column`: a per-unit scale broadcast over a batch.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { multiplyColumn } from "./primitives.ts";
 * import { column, fromRows } from "./tensor.ts";
 * assert.deepEqual([...multiplyColumn(fromRows([[1, 2], [3, 4]]), column([2, 0])).data], [2, 4, 0, 0]);
 * ```
 */
export function multiplyColumn<R extends number, C extends number>(
  a: Tensor<R, C>,
  column: Tensor<NoInfer<R>, 1>,
): Tensor<R, C> {
  return broadcastColumn(a, column, "multiplyColumn", "multiply");
}

/**
 * The sum of each row, as a column vector: Σ_j A(i, j). With samples in columns, this sums
 * over the batch.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sumRows } from "./primitives.ts";
 * import { fromRows } from "./tensor.ts";
 * assert.ok(sumRows(fromRows([[1, 2], [3, 4]])).data[1] === 7);
 * ```
 */
export function sumRows<R extends number, C extends number>(a: Tensor<R, C>): Tensor<R, 1> {
  const data = resultArray(dtypeOf(a), a.rows);
  for (let i = 0; i < a.rows; i++) {
    let sum = 0;
    const offset = i * a.columns;
    for (let j = 0; j < a.columns; j++) sum += a.data[offset + j];
    data[i] = sum;
  }
  return tensor(a.rows, 1, data);
}

/**
 * The sum of each column, as a row vector: Σ_i A(i, j). With samples in columns, this sums
 * over the units of each sample.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sumColumns } from "./primitives.ts";
 * import { fromRows } from "./tensor.ts";
 * assert.ok(sumColumns(fromRows([[1, 2], [3, 4]])).data[1] === 6);
 * ```
 */
export function sumColumns<R extends number, C extends number>(a: Tensor<R, C>): Tensor<1, C> {
  const data = floatArray(dtypeOf(a), a.columns);
  for (let i = 0; i < a.rows; i++) {
    const offset = i * a.columns;
    for (let j = 0; j < a.columns; j++) data[j] += a.data[offset + j];
  }
  return tensor(1, a.columns, data);
}

/**
 * The sum of all entries squared, ‖A‖².
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sumOfSquares } from "./primitives.ts";
 * import { fromRows } from "./tensor.ts";
 * assert.ok(sumOfSquares(fromRows([[3, 4]])) === 25);
 * ```
 */
export function sumOfSquares(a: Tensor): number {
  let sum = 0;
  for (let i = 0; i < a.data.length; i++) sum += a.data[i] * a.data[i];
  return sum;
}

/**
 * Per row i, (A(i, j) − center_i) · factor_i: centring and scaling a batch per unit in one
 * pass. For float64 the same bits as `multiplyColumn(subtractColumn(a, center), factor)`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { centerAndScaleRows } from "./primitives.ts";
 * import { column, fromRows } from "./tensor.ts";
 * assert.deepEqual([...centerAndScaleRows(fromRows([[1, 3], [4, 8]]), column([2, 6]), column([1, 0.5])).data], [-1, 1, -1, 1]);
 * ```
 */
export function centerAndScaleRows<R extends number, C extends number>(
  a: Tensor<R, C>,
  center: Tensor<NoInfer<R>, 1>,
  factor: Tensor<NoInfer<R>, 1>,
): Tensor<R, C> {
  const reason = "the column must have one entry per row of A";
  assertShape(center, a.rows, 1, "centerAndScaleRows()", reason);
  assertShape(factor, a.rows, 1, "centerAndScaleRows()", reason);
  const data = resultArray(dtypeOf(a), a.data.length);
  const { columns } = a, values = a.data;
  for (let i = 0; i < a.rows; i++) {
    const shift = center.data[i], multiplier = factor.data[i], offset = i * columns;
    for (let j = offset; j < offset + columns; j++) data[j] = (values[j] - shift) * multiplier;
  }
  return tensor(a.rows, a.columns, data);
}

/**
 * Per row i, A(i, j) · factor_i + shift_i: a per-unit affine map (batch norm's γ and β) in one
 * pass. For float64 the same bits as `addColumn(multiplyColumn(a, factor), shift)`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { scaleAndShiftRows } from "./primitives.ts";
 * import { column, fromRows } from "./tensor.ts";
 * assert.deepEqual([...scaleAndShiftRows(fromRows([[1, 2], [3, 4]]), column([2, 0]), column([1, 5])).data], [3, 5, 5, 5]);
 * ```
 */
export function scaleAndShiftRows<R extends number, C extends number>(
  a: Tensor<R, C>,
  factor: Tensor<NoInfer<R>, 1>,
  shift: Tensor<NoInfer<R>, 1>,
): Tensor<R, C> {
  const reason = "the column must have one entry per row of A";
  assertShape(factor, a.rows, 1, "scaleAndShiftRows()", reason);
  assertShape(shift, a.rows, 1, "scaleAndShiftRows()", reason);
  const data = resultArray(dtypeOf(a), a.data.length);
  const { columns } = a, values = a.data;
  for (let i = 0; i < a.rows; i++) {
    const multiplier = factor.data[i], offset = shift.data[i], start = i * columns;
    for (let j = start; j < start + columns; j++) data[j] = values[j] * multiplier + offset;
  }
  return tensor(a.rows, a.columns, data);
}

/**
 * Per row i, Σ_j A(i, j) · B(i, j), as a column: `sumRows(multiply(a, b))` (the same bits)
 * without the product tensor.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rowDots } from "./primitives.ts";
 * import { fromRows } from "./tensor.ts";
 * assert.deepEqual([...rowDots(fromRows([[1, 2], [3, 4]]), fromRows([[5, 6], [7, 8]])).data], [17, 53]);
 * ```
 */
export function rowDots<R extends number, C extends number>(
  a: Tensor<R, C>,
  b: Tensor<NoInfer<R>, NoInfer<C>>,
): Tensor<R, 1> {
  assertShape(b, a.rows, a.columns, "rowDots()", "both tensors must have one shape");
  const data = resultArray(dtypeOf(a), a.rows);
  const { columns } = a, left = a.data, right = b.data;
  for (let i = 0; i < a.rows; i++) {
    let sum = 0;
    const offset = i * columns;
    for (let j = offset; j < offset + columns; j++) sum += left[j] * right[j];
    data[i] = sum;
  }
  return tensor(a.rows, 1, data);
}

/**
 * Per row i, the mean μ_i = (Σ_j A(i, j)) · (1/n) and the biased variance
 * (Σ_j (A(i, j) − μ_i)²) · (1/n) over the n columns, in two passes and no temporary tensor
 * (for float64 the same bits as computing them through `sumRows`, `subtractColumn` and
 * `multiply`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rowMeansAndVariances } from "./primitives.ts";
 * import { fromRows } from "./tensor.ts";
 * const { mean, variance } = rowMeansAndVariances(fromRows([[1, 3], [2, 2]]));
 * assert.deepEqual([...mean.data, ...variance.data], [2, 2, 1, 0]);
 * ```
 */
export function rowMeansAndVariances<R extends number, C extends number>(
  a: Tensor<R, C>,
): { mean: Tensor<R, 1>; variance: Tensor<R, 1> } {
  const dtype = dtypeOf(a);
  const mean = resultArray(dtype, a.rows), variance = resultArray(dtype, a.rows);
  const { columns } = a, values = a.data, reciprocal = 1 / columns;
  for (let i = 0; i < a.rows; i++) {
    const offset = i * columns;
    let sum = 0;
    for (let j = offset; j < offset + columns; j++) sum += values[j];
    mean[i] = sum * reciprocal;
    const center = mean[i];
    let squares = 0;
    for (let j = offset; j < offset + columns; j++) {
      const centered = values[j] - center;
      squares += centered * centered;
    }
    variance[i] = squares * reciprocal;
  }
  return { mean: tensor(a.rows, 1, mean), variance: tensor(a.rows, 1, variance) };
}

/**
 * Per row i, ((Ĝ(i, j) − a_i) − X(i, j) · b_i) · c_i with Ĝ = G, or with a column `gScale`
 * Ĝ(i, j) = G(i, j) · gScale_i rounded to G's type (the entries of `multiplyColumn(g, gScale)`):
 * batch norm's input gradient from the output gradient G, the normalized input X and per-unit
 * columns, in one pass. For float64 the same bits as `multiplyColumn(addScaled(subtractColumn(ĝ,
 * a), multiplyColumn(x, b), −1), c)`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { projectOutRows } from "./primitives.ts";
 * import { column, fromRows } from "./tensor.ts";
 * const g = fromRows([[3, 5]]), x = fromRows([[1, -1]]);
 * assert.deepEqual([...projectOutRows(g, x, column([4]), column([1]), column([2])).data], [-4, 4]);
 * ```
 */
export function projectOutRows<R extends number, C extends number>(
  g: Tensor<R, C>,
  x: Tensor<NoInfer<R>, NoInfer<C>>,
  a: Tensor<NoInfer<R>, 1>,
  b: Tensor<NoInfer<R>, 1>,
  c: Tensor<NoInfer<R>, 1>,
  gScale?: Tensor<NoInfer<R>, 1>,
): Tensor<R, C> {
  assertShape(x, g.rows, g.columns, "projectOutRows()", "both tensors must have one shape");
  for (const value of gScale ? [a, b, c, gScale] : [a, b, c]) {
    assertShape(value, g.rows, 1, "projectOutRows()", "the columns must have one entry per row");
  }
  const data = resultArray(dtypeOf(g), g.data.length);
  const { columns } = g, gradient = g.data, normalized = x.data;
  const single = gradient instanceof Float32Array;
  for (let i = 0; i < g.rows; i++) {
    const mean = a.data[i], projection = b.data[i], factor = c.data[i], offset = i * columns;
    // Without gScale, Ĝ = G · 1 = G exactly.
    const rowScale = gScale?.data[i] ?? 1;
    for (let j = offset; j < offset + columns; j++) {
      const scaled = single ? Math.fround(gradient[j] * rowScale) : gradient[j] * rowScale;
      data[j] = (scaled - mean - normalized[j] * projection) * factor;
    }
  }
  return tensor(g.rows, g.columns, data);
}

/**
 * Batch norm's backward reductions in one pass over G and X: per row i, Σ_j G(i, j),
 * Σ_j G(i, j) · X(i, j), and the same two of Ĝ(i, j) = G(i, j) · gScale_i rounded to G's type
 * (Ĝ = G without `gScale`). The bits of `sumRows` and `rowDots` on G and on
 * `multiplyColumn(g, gScale)`, which take four passes and a temporary Ĝ.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rowSumsAndDots } from "./primitives.ts";
 * import { column, fromRows } from "./tensor.ts";
 * const sums = rowSumsAndDots(fromRows([[1, 2]]), fromRows([[3, 4]]), column([10]));
 * assert.deepEqual([sums.sum.data[0], sums.dot.data[0], sums.scaledSum.data[0], sums.scaledDot.data[0]], [3, 11, 30, 110]);
 * ```
 */
export function rowSumsAndDots<R extends number, C extends number>(
  g: Tensor<R, C>,
  x: Tensor<NoInfer<R>, NoInfer<C>>,
  gScale?: Tensor<NoInfer<R>, 1>,
): { sum: Tensor<R, 1>; dot: Tensor<R, 1>; scaledSum: Tensor<R, 1>; scaledDot: Tensor<R, 1> } {
  assertShape(x, g.rows, g.columns, "rowSumsAndDots()", "both tensors must have one shape");
  if (gScale) {
    assertShape(gScale, g.rows, 1, "rowSumsAndDots()", "the column must have one entry per row");
  }
  const dtype = dtypeOf(g), { rows, columns } = g, gradient = g.data, normalized = x.data;
  const [sum, dot, scaledSum, scaledDot] = [0, 1, 2, 3].map(() => resultArray(dtype, rows));
  const single = gradient instanceof Float32Array;
  for (let i = 0; i < rows; i++) {
    const offset = i * columns, rowScale = gScale?.data[i] ?? 1;
    let plain = 0, plainDot = 0, scaled = 0, scaledProduct = 0;
    for (let j = offset; j < offset + columns; j++) {
      const value = gradient[j];
      const scaledValue = single ? Math.fround(value * rowScale) : value * rowScale;
      plain += value;
      plainDot += value * normalized[j];
      scaled += scaledValue;
      scaledProduct += scaledValue * normalized[j];
    }
    sum[i] = plain;
    dot[i] = plainDot;
    scaledSum[i] = scaled;
    scaledDot[i] = scaledProduct;
  }
  const column = (data: FloatArray) => tensor(rows, 1, data) as Tensor<R, 1>;
  return {
    sum: column(sum),
    dot: column(dot),
    scaledSum: column(scaledSum),
    scaledDot: column(scaledDot),
  };
}
