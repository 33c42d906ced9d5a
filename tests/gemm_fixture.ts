/**
 * Comparing a matrix-product kernel, float64 or float32, with ml-matrix, the reference, for the
 * backend tests.
 */
import assert from "node:assert/strict";
import { type Gemm, type Gemm32, type GemmOf, mlMatrixGemm } from "../lib/ml_matrix_kernel.ts";
import { normals, randomKey } from "../lib/random.ts";

/** `length` standard-normal values from a seed. */
export function randomArray(length: number, seed: number): Float64Array {
  return Float64Array.from(normals(randomKey(seed), length).values);
}

// Float32: ml-matrix multiplies the same float32 inputs in float64, whose own error (~1e-16) is
// negligible. A float32 kernel accumulates in float32, rounding once a step with fused
// multiply-add and twice without, so an entry's error is at most k·u·Σₚ |A_ip B_pj| (u = 2⁻²⁴;
// Higham, "Accuracy and Stability of Numerical Algorithms", §3.1), and with rounding errors of
// random sign of the order of √k·u·Σₚ |A_ip B_pj| (Higham and Mary, "A new approach to
// probabilistic rounding error analysis", 2019). The tests allow λ√k·u·Σₚ |A_ip B_pj| with λ = 8:
// the largest ratio seen over thousands of random products is about 1.5, while a missing or
// misplaced term (of size ~Σₚ |A_ip B_pj| / k) is over 10 times the tolerance up to k = 3072.
const unitRoundoff32 = 2 ** -24;
const toleranceFactor32 = 8;

/**
 * Asserts that `gemm` agrees with ml-matrix (in float64) on C = op(A) · op(B), entry by entry,
 * relative to Σₖ |A_ik| |B_kj| (the scale of the rounding error, even where the sum cancels): to
 * 1e-12 for a float64 kernel, to λ√k·u (see above) for a float32 one. Entries that are not
 * finite must be the same (NaN where ml-matrix has NaN).
 */
export function assertAgreesWithMlMatrix<Values extends Float64Array | Float32Array>(
  gemm: GemmOf<Values>,
  transposeA: boolean,
  transposeB: boolean,
  m: number,
  n: number,
  k: number,
  a: Values,
  b: Values,
): void {
  const float32 = a instanceof Float32Array;
  const expected = new Float64Array(m * n), scale = new Float64Array(m * n);
  const actual = (float32 ? new Float32Array(m * n) : new Float64Array(m * n)).fill(NaN) as Values;
  const a64 = Float64Array.from(a), b64 = Float64Array.from(b);
  mlMatrixGemm(transposeA, transposeB, m, n, k, a64, b64, expected);
  mlMatrixGemm(transposeA, transposeB, m, n, k, a64.map(Math.abs), b64.map(Math.abs), scale);
  gemm(transposeA, transposeB, m, n, k, a, b, actual);
  const tolerance = float32 ? toleranceFactor32 * Math.sqrt(k) * unitRoundoff32 : 1e-12;
  for (let i = 0; i < m * n; i++) {
    const agrees = Number.isFinite(expected[i])
      ? Math.abs(actual[i] - expected[i]) <= tolerance * scale[i]
      : Object.is(actual[i], expected[i]);
    if (!agrees) {
      assert.fail(
        `entry ${i} (row ${Math.floor(i / n)}, column ${i % n}) of ${m}×${n} (k=${k}, ` +
          `transposeA=${transposeA}, transposeB=${transposeB}): the kernel gives ${actual[i]}, ` +
          `ml-matrix ${expected[i]}, tolerance ${tolerance * scale[i]}`,
      );
    }
  }
}

/** A product C = op(A) · op(B) to check, and the seed its operands are drawn from. */
export type ProductShape = [
  transposeA: boolean,
  transposeB: boolean,
  m: number,
  n: number,
  k: number,
  seed: number,
];

/** {@linkcode assertAgreesWithMlMatrix} on operands that `draw` makes from `seed` and `seed + 1`. */
function assertAgreesOnDrawnOperands<Values extends Float64Array | Float32Array>(
  draw: (length: number, seed: number) => Values,
  gemm: GemmOf<Values>,
  ...[transposeA, transposeB, m, n, k, seed]: ProductShape
): void {
  const a = draw(m * k, seed), b = draw(k * n, seed + 1);
  assertAgreesWithMlMatrix(gemm, transposeA, transposeB, m, n, k, a, b);
}

/** {@linkcode assertAgreesWithMlMatrix} on standard-normal operands drawn from `seed`. */
export function assertAgreesOnRandomOperands(gemm: Gemm, ...shape: ProductShape): void {
  assertAgreesOnDrawnOperands(randomArray, gemm, ...shape);
}

/** `length` standard-normal values from a seed, rounded to float32. */
export function randomArray32(length: number, seed: number): Float32Array {
  return Float32Array.from(randomArray(length, seed));
}

/** {@linkcode assertAgreesWithMlMatrix} on standard-normal float32 operands drawn from `seed`. */
export function assertAgrees32OnRandomOperands(gemm: Gemm32, ...shape: ProductShape): void {
  assertAgreesOnDrawnOperands(randomArray32, gemm, ...shape);
}
