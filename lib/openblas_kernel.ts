/**
 * A {@linkcode Gemm} computed by OpenBLAS's `cblas_dgemm`, called through Deno's FFI.
 *
 * Opening the library needs `--allow-ffi` (and the Debian/Ubuntu package
 * `libopenblas0-pthread`, or any OpenBLAS build named by the `OPENBLAS_LIBRARY` environment
 * variable). The typed arrays are handed to BLAS as pointers, without copies; each call costs
 * about 0.13 µs on top of the arithmetic.
 *
 * @module
 */
import type { Axpy, Gemm, Gemm32, GemmOf } from "./ml_matrix_kernel.ts";

/** `CblasRowMajor` from cblas.h. */
const cblasRowMajor = 101;
/** `CblasNoTrans` from cblas.h. */
const cblasNoTranspose = 111;
/** `CblasTrans` from cblas.h. */
const cblasTranspose = 112;

/**
 * The CBLAS functions we bind: `cblas_dgemm` backs {@linkcode openBlasGemm}, `cblas_sgemm`
 * {@linkcode openBlasGemm32}, `cblas_daxpy` and `cblas_saxpy` {@linkcode openBlasAxpy}.
 */
const openBlasSymbols = {
  /** C = α op(A) op(B) + β C in float64. */
  cblas_dgemm: {
    parameters: [
      "i32", // layout
      "i32", // transA
      "i32", // transB
      "i32", // M
      "i32", // N
      "i32", // K
      "f64", // alpha
      "buffer", // A
      "i32", // lda
      "buffer", // B
      "i32", // ldb
      "f64", // beta
      "buffer", // C
      "i32", // ldc
    ],
    result: "void",
    nonblocking: false,
  },
  /** C = α op(A) op(B) + β C in float32. */
  cblas_sgemm: {
    parameters: [
      "i32", // layout
      "i32", // transA
      "i32", // transB
      "i32", // M
      "i32", // N
      "i32", // K
      "f32", // alpha
      "buffer", // A
      "i32", // lda
      "buffer", // B
      "i32", // ldb
      "f32", // beta
      "buffer", // C
      "i32", // ldc
    ],
    result: "void",
    nonblocking: false,
  },
  /** y = α x + y in float64. */
  cblas_daxpy: {
    parameters: ["i32", "f64", "buffer", "i32", "buffer", "i32"], // n, alpha, x, incx, y, incy
    result: "void",
    nonblocking: false,
  },
  /** y = α x + y in float32. */
  cblas_saxpy: {
    parameters: ["i32", "f32", "buffer", "i32", "buffer", "i32"], // n, alpha, x, incx, y, incy
    result: "void",
    nonblocking: false,
  },
  /** The name of the CPU whose kernels OpenBLAS chose (absent from other CBLAS libraries). */
  openblas_get_corename: { parameters: [], result: "pointer", optional: true },
} as const;

/** An opened OpenBLAS shared library with the CBLAS functions this library binds. */
export type OpenBlas = Deno.DynamicLibrary<typeof openBlasSymbols>;

/** Where Debian and Ubuntu install OpenBLAS (`libopenblas0-pthread`, then the generic names). */
const knownOpenBlasPaths: readonly string[] = [
  "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0",
  "/usr/lib/x86_64-linux-gnu/libopenblas.so.0",
  "/usr/lib/aarch64-linux-gnu/openblas-pthread/libopenblas.so.0",
  "/usr/lib/aarch64-linux-gnu/libopenblas.so.0",
];

/**
 * The paths to try, in order: `libraryFromEnvironment` (the caller's reading of the
 * `OPENBLAS_LIBRARY` environment variable) when given, then the Debian/Ubuntu install
 * locations for x86_64 and aarch64, then the bare name `libopenblas.so.0` for the dynamic
 * loader's own search.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openBlasCandidatePaths } from "./openblas_kernel.ts";
 * const paths = openBlasCandidatePaths("/opt/blas/libopenblas.so");
 * assert.equal(paths[0], "/opt/blas/libopenblas.so");
 * assert.equal(paths.at(-1), "libopenblas.so.0");
 * ```
 */
export function openBlasCandidatePaths(libraryFromEnvironment?: string): string[] {
  const fromEnvironment = libraryFromEnvironment === undefined || libraryFromEnvironment === ""
    ? []
    : [libraryFromEnvironment];
  return [...fromEnvironment, ...knownOpenBlasPaths, "libopenblas.so.0"];
}

/** The outcome of {@linkcode openOpenBlas}: the library and where it was found, or why not. */
export type OpenBlasOpening =
  | { library: OpenBlas; path: string }
  | { library: undefined; failures: { path: string; message: string }[] };

/**
 * Opens the first of `candidatePaths` that loads and exports the CBLAS functions; never
 * throws for a missing library, but reports each path tried and why it failed. Needs
 * `--allow-ffi` (without it every path fails with a permission error; callers should check
 * the permission first so that Deno does not prompt). Close the library when done with
 * `library.close()`; a {@linkcode Gemm} made from it must not be called afterwards.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openOpenBlas } from "./openblas_kernel.ts";
 * const opening = openOpenBlas(["/nonexistent/libopenblas.so.0"]);
 * assert.equal(opening.library, undefined);
 * assert.ok("failures" in opening && opening.failures[0].path === "/nonexistent/libopenblas.so.0");
 * ```
 */
export function openOpenBlas(
  candidatePaths: readonly string[] = openBlasCandidatePaths(),
): OpenBlasOpening {
  const failures: { path: string; message: string }[] = [];
  for (const path of candidatePaths) {
    try {
      return { library: Deno.dlopen(path, openBlasSymbols), path };
    } catch (error) {
      failures.push({ path, message: error instanceof Error ? error.message : String(error) });
    }
  }
  return { library: undefined, failures };
}

/**
 * The CPU whose kernels an opened OpenBLAS runs, as OpenBLAS names it ("Haswell", "SkylakeX",
 * "Zen", …): OpenBLAS chooses them when loaded, and the `OPENBLAS_CORETYPE` environment variable
 * overrides its choice. `undefined` for a CBLAS library that does not say.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openBlasKernels, openOpenBlas } from "./openblas_kernel.ts";
 * const opening = openOpenBlas();
 * if (opening.library !== undefined) {
 *   const kernels = openBlasKernels(opening.library);
 *   assert.ok(kernels === undefined || kernels.length > 0);
 *   opening.library.close();
 * }
 * ```
 */
export function openBlasKernels(library: OpenBlas): string | undefined {
  const corename = library.symbols.openblas_get_corename;
  const pointer = corename ? corename() : null;
  return pointer === null ? undefined : new Deno.UnsafePointerView(pointer).getCString();
}

/**
 * {@linkcode Gemm} through `cblas_dgemm` (row-major, α = 1, β = 0) of an opened OpenBLAS.
 * (The example multiplies only where `--allow-ffi` is granted and OpenBLAS is installed.)
 * It checks the array lengths against m, n, k before handing pointers to native code, since
 * an overrun there would read or write outside the arrays instead of throwing.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openBlasGemm, openOpenBlas } from "./openblas_kernel.ts";
 * const opening = openOpenBlas();
 * if (opening.library !== undefined) {
 *   const gemm = openBlasGemm(opening.library);
 *   const c = new Float64Array(1);
 *   gemm(false, false, 1, 1, 2, new Float64Array([1, 2]), new Float64Array([3, 4]), c);
 *   assert.equal(c[0], 11);
 *   opening.library.close();
 * }
 * ```
 */
export function openBlasGemm(library: OpenBlas): Gemm {
  return cblasGemm(library.symbols.cblas_dgemm);
}

/**
 * {@linkcode Gemm32} through `cblas_sgemm`, with the same checks as {@linkcode openBlasGemm}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openBlasGemm32, openOpenBlas } from "./openblas_kernel.ts";
 * const opening = openOpenBlas();
 * if (opening.library !== undefined) {
 *   const c = new Float32Array(1);
 *   openBlasGemm32(opening.library)(false, false, 1, 1, 1, new Float32Array([0.5]), new Float32Array([3]), c);
 *   assert.equal(c[0], 1.5);
 *   opening.library.close();
 * }
 * ```
 */
export function openBlasGemm32(library: OpenBlas): Gemm32 {
  return cblasGemm(library.symbols.cblas_sgemm);
}

/**
 * {@linkcode Axpy} through `cblas_daxpy` / `cblas_saxpy`: a tenth of the time of a TypeScript
 * loop over a float32 array, a half of one over float64.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openBlasAxpy, openOpenBlas } from "./openblas_kernel.ts";
 * const opening = openOpenBlas();
 * if (opening.library !== undefined) {
 *   const y = new Float32Array([1, 2]);
 *   openBlasAxpy(opening.library)(0.5, new Float32Array([4, 8]), y);
 *   assert.deepEqual([...y], [3, 6]);
 *   opening.library.close();
 * }
 * ```
 */
export function openBlasAxpy(library: OpenBlas): Axpy {
  const { cblas_daxpy: daxpy, cblas_saxpy: saxpy } = library.symbols;
  return (alpha, x, y) => {
    if (x.length !== y.length) {
      throw new RangeError(
        `Cannot add arrays of ${x.length} and ${y.length} values with OpenBLAS: they must match`,
      );
    }
    if (x instanceof Float32Array && y instanceof Float32Array) saxpy(x.length, alpha, x, 1, y, 1);
    else if (x instanceof Float64Array && y instanceof Float64Array) {
      daxpy(x.length, alpha, x, 1, y, 1);
    } else throw new TypeError("Cannot add a float32 and a float64 array with OpenBLAS");
  };
}

/** The row-major, α = 1, β = 0 {@linkcode GemmOf} over one CBLAS `?gemm`. */
function cblasGemm<Values extends Float64Array | Float32Array>(
  multiply: (
    layout: number,
    transA: number,
    transB: number,
    m: number,
    n: number,
    k: number,
    alpha: number,
    a: Values,
    lda: number,
    b: Values,
    ldb: number,
    beta: number,
    c: Values,
    ldc: number,
  ) => void,
): GemmOf<Values> {
  return (transposeA, transposeB, m, n, k, a, b, c) => {
    if (a.length < m * k || b.length < k * n || c.length < m * n) {
      throw new RangeError(
        `Cannot multiply with OpenBLAS: for m=${m}, n=${n}, k=${k} the arrays need at least ` +
          `${m * k}, ${k * n} and ${
            m * n
          } elements but have ${a.length}, ${b.length} and ${c.length}`,
      );
    }
    if (m === 0 || n === 0) return;
    if (k === 0) {
      c.fill(0);
      return;
    }
    multiply(
      cblasRowMajor,
      transposeA ? cblasTranspose : cblasNoTranspose,
      transposeB ? cblasTranspose : cblasNoTranspose,
      m,
      n,
      k,
      1,
      a,
      Math.max(1, transposeA ? m : k),
      b,
      Math.max(1, transposeB ? k : n),
      0,
      c,
      Math.max(1, n),
    );
  };
}
