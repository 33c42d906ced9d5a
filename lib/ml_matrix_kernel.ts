/**
 * The reference matrix-product kernel, computed by ml-matrix on views of our flat buffers.
 *
 * Faster kernels (BLAS through FFI, WebAssembly SIMD) implement the same {@linkcode Gemm}
 * signature and are tested against this one.
 *
 * @module
 */
import { WrapperMatrix1D } from "./deps.ts";

/**
 * A general matrix product in BLAS terms, row-major: C = op(A) · op(B), where op(X) is X or
 * Xᵀ. `a` holds A (m × k, or k × m when `transposeA`), `b` holds B (k × n, or n × k when
 * `transposeB`), and the m × n result is written into `c`, every entry of it: `c` may hold
 * anything before the call.
 */
export type Gemm = GemmOf<Float64Array>;

/** {@linkcode Gemm} in float32: the same contract on `Float32Array`s. */
export type Gemm32 = GemmOf<Float32Array>;

/**
 * y ← α x + y over two arrays of one type and length (BLAS's axpy), in place: only for a
 * result its caller has just made.
 */
export type Axpy = (
  alpha: number,
  x: Float64Array | Float32Array,
  y: Float64Array | Float32Array,
) => void;

/** A {@linkcode Gemm} over one kind of float array. */
export type GemmOf<Values extends Float64Array | Float32Array> = (
  transposeA: boolean,
  transposeB: boolean,
  m: number,
  n: number,
  k: number,
  a: Values,
  b: Values,
  c: Values,
) => void;

/**
 * {@linkcode Gemm} (and {@linkcode Gemm32}: it takes either array type) computed by ml-matrix's
 * `mmul`, which views the flat arrays through `WrapperMatrix1D` without copying them. Products
 * of float32 arrays are computed in float64 and rounded once when written to C.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mlMatrixGemm } from "./ml_matrix_kernel.ts";
 * const c = new Float64Array(1);
 * mlMatrixGemm(false, false, 1, 1, 2, new Float64Array([1, 2]), new Float64Array([3, 4]), c);
 * assert.ok(c[0] === 11);
 * const single = new Float32Array(1);
 * mlMatrixGemm(false, false, 1, 1, 1, new Float32Array([0.5]), new Float32Array([3]), single);
 * assert.equal(single[0], 1.5);
 * ```
 */
export const mlMatrixGemm: GemmOf<Float64Array | Float32Array> = (
  transposeA,
  transposeB,
  m,
  n,
  k,
  a,
  b,
  c,
) => {
  if (m === 0 || n === 0) return;
  if (k === 0) {
    c.fill(0);
    return;
  }
  const left = new WrapperMatrix1D(a, { rows: transposeA ? k : m });
  const right = new WrapperMatrix1D(b, { rows: transposeB ? n : k });
  const product = (transposeA ? left.transpose() : left).mmul(
    transposeB ? right.transpose() : right,
  );
  for (let i = 0; i < m; i++) c.set(product.getRow(i), i * n);
};
