/**
 * Immutable two-dimensional float64 or float32 tensors whose sizes are part of their type.
 *
 * A `Tensor<Rows, Columns>` keeps its values row-major in one contiguous `Float64Array` (the
 * default) or `Float32Array` (for faster training; see {@linkcode castTensor}). Every operation
 * returns a tensor of its first operand's type.
 * Samples are columns everywhere in this library: a batch of 100 CIFAR-10 images is a
 * `Tensor<3072, 100>`. Where sizes are numeric literals, a mismatch is a compile-time error;
 * everywhere else the functions that combine tensors throw a {@linkcode ShapeError}.
 *
 * No function in this library writes into a tensor it was given: treat `data` as read-only.
 *
 * @module
 */
import { allocateFloats } from "./buffer_pool.ts";
import { DataError, ShapeError } from "./errors.ts";

/** The two number types a tensor may hold. */
export type DType = "float64" | "float32";

/** The values of a tensor: float64 or float32. */
export type FloatArray = Float64Array | Float32Array;

/** An immutable `rows × columns` matrix of float64 (or float32) values, stored row-major. */
export interface Tensor<Rows extends number = number, Columns extends number = number> {
  readonly rows: Rows;
  readonly columns: Columns;
  /** Row-major values: entry (i, j) is `data[i * columns + j]`. Never write into it. */
  readonly data: FloatArray;
}

/** The names {@linkcode DType} takes, for checking user input. */
export const dtypes: readonly DType[] = ["float64", "float32"];

/**
 * The number type of a tensor's values.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dtypeOf, zeros } from "./tensor.ts";
 * assert.equal(dtypeOf(zeros(2, 2)), "float64");
 * assert.equal(dtypeOf(zeros(2, 2, "float32")), "float32");
 * ```
 */
export function dtypeOf(value: Tensor): DType {
  return value.data instanceof Float32Array ? "float32" : "float64";
}

/**
 * A zeroed array of `length` values of `dtype` (inside a training step, from its buffer pool;
 * see `buffer_pool.ts`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { floatArray } from "./tensor.ts";
 * assert.ok(floatArray("float32", 3) instanceof Float32Array);
 * ```
 */
export function floatArray(dtype: DType, length: number): FloatArray {
  return allocateFloats(dtype, length);
}

/**
 * An array of `length` values of `dtype` for a result that its maker writes in full before
 * anyone reads it: inside a training step its values are whatever a step before left there
 * (zeroing costs a pass over memory that nothing needs); elsewhere it is zeroed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resultArray } from "./tensor.ts";
 * const values = resultArray("float64", 2);
 * values.set([1, 2]);
 * assert.deepEqual([...values], [1, 2]);
 * ```
 */
export function resultArray(dtype: DType, length: number): FloatArray {
  return allocateFloats(dtype, length, false);
}

/**
 * The tensor with its values converted to `dtype` (rounded to nearest for float32), or the
 * tensor itself when it already has that type.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { castTensor, column, dtypeOf } from "./tensor.ts";
 * const single = castTensor(column([0.1, 2]), "float32");
 * assert.equal(dtypeOf(single), "float32");
 * assert.equal(single.data[0], Math.fround(0.1));
 * ```
 */
export function castTensor<Rows extends number, Columns extends number>(
  value: Tensor<Rows, Columns>,
  dtype: DType,
): Tensor<Rows, Columns> {
  if (dtypeOf(value) === dtype) return value;
  const data = floatArray(dtype, value.data.length);
  data.set(value.data);
  return tensor(value.rows, value.columns, data);
}

/**
 * Wraps `data` (row-major, length rows × columns) as a tensor. The array is taken over, not
 * copied: do not write into it afterwards.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tensor } from "./tensor.ts";
 * const t = tensor(2, 3, new Float64Array([1, 2, 3, 4, 5, 6]));
 * assert.ok(t.rows === 2 && t.columns === 3);
 * ```
 */
export function tensor<Rows extends number, Columns extends number>(
  rows: Rows,
  columns: Columns,
  data: FloatArray,
): Tensor<Rows, Columns> {
  if (!Number.isInteger(rows) || rows < 0 || !Number.isInteger(columns) || columns < 0) {
    throw new RangeError(
      `Cannot create a tensor of ${rows} × ${columns}: sizes must be non-negative integers`,
    );
  }
  if (data.length !== rows * columns) {
    throw new ShapeError(
      "tensor()",
      [rows, columns],
      [data.length, 1],
      `the data has ${data.length} values, not ${rows} × ${columns} = ${rows * columns}`,
    );
  }
  return Object.freeze({ rows, columns, data });
}

/**
 * A tensor of zeros, float64 unless `dtype` says otherwise.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { zeros } from "./tensor.ts";
 * assert.ok(zeros(3, 1).data.every((value) => value === 0));
 * ```
 */
export function zeros<Rows extends number, Columns extends number>(
  rows: Rows,
  columns: Columns,
  dtype: DType = "float64",
): Tensor<Rows, Columns> {
  return tensor(rows, columns, floatArray(dtype, rows * columns));
}

/**
 * A tensor with every entry equal to `value`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { filled } from "./tensor.ts";
 * assert.ok(filled(2, 2, 1).data.every((value) => value === 1));
 * ```
 */
export function filled<Rows extends number, Columns extends number>(
  rows: Rows,
  columns: Columns,
  value: number,
): Tensor<Rows, Columns> {
  return tensor(rows, columns, new Float64Array(rows * columns).fill(value));
}

/**
 * A tensor from nested arrays, one inner array per row.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows } from "./tensor.ts";
 * const t = fromRows([[1, 2], [3, 4], [5, 6]]);
 * assert.ok(t.rows === 3 && t.columns === 2 && t.data[2] === 3);
 * ```
 */
export function fromRows(values: readonly (readonly number[])[]): Tensor {
  const rows = values.length;
  const columns = rows === 0 ? 0 : values[0].length;
  const data = new Float64Array(rows * columns);
  values.forEach((row, i) => {
    if (row.length !== columns) {
      throw new ShapeError(
        "fromRows()",
        [rows, columns],
        [rows, row.length],
        `row ${i} has ${row.length} values but row 0 has ${columns}`,
      );
    }
    data.set(row, i * columns);
  });
  return tensor(rows, columns, data);
}

/**
 * A column vector (n × 1), the shape of biases, batch-norm parameters and statistics.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { column } from "./tensor.ts";
 * const bias = column([1, 2, 3]);
 * assert.ok(bias.rows === 3 && bias.columns === 1);
 * ```
 */
export function column(values: readonly number[]): Tensor<number, 1> {
  return tensor(values.length, 1, Float64Array.from(values));
}

/**
 * The tensor's values as nested arrays, one inner array per row.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows, toRows } from "./tensor.ts";
 * assert.ok(toRows(fromRows([[1, 2]]))[0][1] === 2);
 * ```
 */
export function toRows(value: Tensor): number[][] {
  return Array.from(
    { length: value.rows },
    (_, i) => Array.from(value.data.subarray(i * value.columns, (i + 1) * value.columns)),
  );
}

/**
 * Entry (row, column) of a tensor.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { at, fromRows } from "./tensor.ts";
 * assert.ok(at(fromRows([[1, 2], [3, 4]]), 1, 0) === 3);
 * ```
 */
export function at(value: Tensor, row: number, column: number): number {
  return value.data[row * value.columns + column];
}

/**
 * Throws a {@linkcode ShapeError} unless `value` has exactly the shape `[rows, columns]`.
 * `operation` names the layer or function for the message, `reason` says why the shape is
 * needed.
 *
 * @example
 * ```ts
 * import { assertShape, zeros } from "./tensor.ts";
 * assertShape(zeros(2, 3), 2, 3, "example", "it must be 2 × 3");
 * ```
 */
export function assertShape(
  value: Tensor,
  rows: number,
  columns: number,
  operation: string,
  reason: string,
): void {
  if (value.rows !== rows || value.columns !== columns) {
    throw new ShapeError(operation, [rows, columns], [value.rows, value.columns], reason);
  }
}

/**
 * Throws a {@linkcode DataError} naming `name` if any entry is NaN or ±Infinity.
 *
 * @example
 * ```ts
 * import { assertFinite, zeros } from "./tensor.ts";
 * assertFinite(zeros(2, 2), "input");
 * ```
 */
export function assertFinite(value: Tensor, name: string): void {
  const index = value.data.findIndex((entry) => !Number.isFinite(entry));
  if (index >= 0) {
    const row = Math.floor(index / value.columns);
    const column = index % value.columns;
    throw new DataError(name, `entry (${row}, ${column}) is ${value.data[index]}`);
  }
}
