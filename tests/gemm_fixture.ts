/**
 * Comparing a matrix-product kernel with ml-matrix, the reference, for the backend tests.
 */
import assert from "node:assert/strict";
import { type Gemm, mlMatrixGemm } from "../lib/ml_matrix_kernel.ts";
import { normals, randomKey } from "../lib/random.ts";

/** `length` standard-normal values from a seed. */
export function randomArray(length: number, seed: number): Float64Array {
  return Float64Array.from(normals(randomKey(seed), length).values);
}

/**
 * Asserts that `gemm` agrees with ml-matrix on C = op(A) · op(B), entry by entry, to 1e-12
 * relative to Σₖ |A_ik| |B_kj| (the scale of the rounding error, even where the sum cancels).
 * Entries that are not finite must be the same (NaN where ml-matrix has NaN).
 */
export function assertAgreesWithMlMatrix(
  gemm: Gemm,
  transposeA: boolean,
  transposeB: boolean,
  m: number,
  n: number,
  k: number,
  a: Float64Array,
  b: Float64Array,
): void {
  const expected = new Float64Array(m * n), actual = new Float64Array(m * n).fill(NaN);
  const scale = new Float64Array(m * n);
  mlMatrixGemm(transposeA, transposeB, m, n, k, a, b, expected);
  mlMatrixGemm(transposeA, transposeB, m, n, k, a.map(Math.abs), b.map(Math.abs), scale);
  gemm(transposeA, transposeB, m, n, k, a, b, actual);
  for (let i = 0; i < m * n; i++) {
    const agrees = Number.isFinite(expected[i])
      ? Math.abs(actual[i] - expected[i]) <= 1e-12 * scale[i]
      : Object.is(actual[i], expected[i]);
    if (!agrees) {
      assert.fail(
        `entry ${i} (row ${Math.floor(i / n)}, column ${i % n}) of ${m}×${n} (k=${k}, ` +
          `transposeA=${transposeA}, transposeB=${transposeB}): the kernel gives ${actual[i]}, ` +
          `ml-matrix ${expected[i]}`,
      );
    }
  }
}

/** {@linkcode assertAgreesWithMlMatrix} on standard-normal operands drawn from `seed`. */
export function assertAgreesOnRandomOperands(
  gemm: Gemm,
  transposeA: boolean,
  transposeB: boolean,
  m: number,
  n: number,
  k: number,
  seed: number,
): void {
  const a = randomArray(m * k, seed), b = randomArray(k * n, seed + 1);
  assertAgreesWithMlMatrix(gemm, transposeA, transposeB, m, n, k, a, b);
}
