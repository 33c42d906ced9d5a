/**
 * The library's error classes. Messages say what could not be done first, then the values.
 *
 * @module
 */

/** A shape, written `[rows, columns]` in messages. */
export type Shape = readonly [rows: number, columns: number];

/** Formats a shape the way every message in this library writes it: `[3072, 100]`. */
export function formatShape(shape: Shape): string {
  return `[${shape[0]}, ${shape[1]}]`;
}

/**
 * A tensor of the wrong shape reached a layer or a primitive.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ShapeError } from "./errors.ts";
 * const error = new ShapeError("Linear layer 2", [3072, 100], [3000, 100], "input rows must equal weight columns (3072)");
 * assert.ok(error.message.includes("[3000, 100]"));
 * ```
 */
export class ShapeError extends TypeError {
  /** The layer or operation that rejected the tensor, e.g. `Linear layer 2`. */
  readonly layer: string;
  /** The shape the layer needed. */
  readonly expected: Shape;
  /** The shape it was given. */
  readonly actual: Shape;

  constructor(layer: string, expected: Shape, actual: Shape, reason: string) {
    super(
      `Cannot run ${layer}: expected shape ${formatShape(expected)} but got ${
        formatShape(actual)
      }; ${reason}`,
    );
    this.name = "ShapeError";
    this.layer = layer;
    this.expected = expected;
    this.actual = actual;
  }
}

/**
 * A data file (data set, model, checkpoint) is missing, truncated or corrupt. The message names
 * the file and the problem.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DataError } from "./errors.ts";
 * const error = new DataError("data_batch_1.bin", "size 3072 is not a multiple of 3073 bytes");
 * assert.ok(error.message.startsWith("data_batch_1.bin: "));
 * ```
 */
export class DataError extends Error {
  /** The file (or tensor) at fault. */
  readonly path: string;

  constructor(path: string, problem: string) {
    super(`${path}: ${problem}`);
    this.name = "DataError";
    this.path = path;
  }
}
