/**
 * Which kernel computes the library's matrix products: OpenBLAS through FFI when it is
 * permitted and installed, the WebAssembly SIMD kernel (no permission needed) otherwise, or
 * ml-matrix, the reference, when asked for.
 *
 * {@linkcode selectBackend} is pure apart from opening the library. The process-wide choice
 * ({@linkcode currentGemm}, {@linkcode useBackend}) is this library's one piece of
 * module-level mutable state, kept deliberately, as NumPy keeps its BLAS: every matrix
 * product in `primitives.ts` reads it, so that callers need not thread a kernel through
 * every layer. It is set once, lazily, from the `NN_BACKEND` environment variable
 * (`openblas`, `wasm`, `ml-matrix` or `auto`, read only where `--allow-env` grants it), and
 * changed only by {@linkcode useBackend}.
 *
 * @module
 */
import { type Axpy, type Gemm, type Gemm32, mlMatrixGemm } from "./ml_matrix_kernel.ts";
import {
  openBlasAxpy,
  openBlasCandidatePaths,
  openBlasGemm,
  openBlasGemm32,
  openBlasKernels,
  openOpenBlas,
} from "./openblas_kernel.ts";
import type { WasmArena } from "./wasm_arena.ts";
import {
  wasmGemm32Parallel,
  wasmGemmParallel,
  wasmParallelArena,
  wasmParallelAxpy,
} from "./wasm_parallel_kernel.ts";

/** A kernel that computes matrix products. */
export type BackendName = "openblas" | "wasm" | "ml-matrix";

/** A kernel by name, or `"auto"`: OpenBLAS where it can be loaded, WebAssembly otherwise. */
export type BackendPreference = BackendName | "auto";

/**
 * A chosen kernel — its float64 and float32 products, and its axpy where it has one (else the
 * primitives loop in TypeScript) — with a one-line notice saying which and why.
 */
export interface Backend {
  name: BackendName;
  gemm: Gemm;
  gemm32: Gemm32;
  axpy?: Axpy;
  /**
   * Whether `axpy` gains on these arrays (absent: on any): the WebAssembly one only on arrays in
   * its arena, which it adds in place; on others a TypeScript loop of the caller's is as fast.
   */
  axpyTakes?: (x: ArrayBufferView, y: ArrayBufferView) => boolean;
  /** Which CPU's kernels OpenBLAS runs ("Haswell", "SkylakeX", …), where it says. */
  kernels?: string;
  /**
   * Where a training step's tensors are best allocated, where that is not ordinary memory: the
   * WebAssembly kernel's memory, whose arrays it multiplies without copies.
   */
  arena?: () => WasmArena;
  reason: string;
}

/** Where {@linkcode selectBackend} looks for OpenBLAS. */
export interface SelectBackendOptions {
  /**
   * The shared-library paths to try, in order. Defaults to the `OPENBLAS_LIBRARY`
   * environment variable (where `--allow-env` grants it) followed by the usual Debian/Ubuntu
   * locations; see `openBlasCandidatePaths`.
   */
  libraryPaths?: readonly string[];
}

/** Every {@linkcode BackendPreference}, as `--backend` and `NN_BACKEND` take them. */
export const backendPreferences: readonly BackendPreference[] = [
  "auto",
  "openblas",
  "wasm",
  "ml-matrix",
];

/** The value of an environment variable, or undefined when unset or not permitted. */
function permittedEnvironmentVariable(variable: string): string | undefined {
  if (Deno.permissions.querySync({ name: "env", variable }).state !== "granted") return undefined;
  return Deno.env.get(variable);
}

/** `true` when `Deno.dlopen` may run without prompting. */
function ffiGranted(): boolean {
  return Deno.permissions.querySync({ name: "ffi" }).state === "granted";
}

/**
 * Chooses the matrix-product kernel. `"auto"` (the default) picks OpenBLAS when `--allow-ffi`
 * is granted and the library loads, the WebAssembly SIMD kernel otherwise; `"openblas"` throws
 * an Error saying why when it cannot be loaded; `"wasm"` and `"ml-matrix"` always succeed.
 * Never prompts for a permission.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { selectBackend } from "./backend.ts";
 * const backend = selectBackend("ml-matrix");
 * assert.equal(backend.name, "ml-matrix");
 * const c = new Float64Array(1);
 * backend.gemm(false, false, 1, 1, 2, new Float64Array([1, 2]), new Float64Array([3, 4]), c);
 * assert.equal(c[0], 11);
 * assert.equal(selectBackend("wasm").reason, "matrix products: WebAssembly SIMD (two threads)");
 * assert.throws(
 *   () => selectBackend("openblas", { libraryPaths: ["/nonexistent/libopenblas.so.0"] }),
 *   /Cannot use the OpenBLAS backend/,
 * );
 * ```
 */
export function selectBackend(
  preference: BackendPreference = "auto",
  options: SelectBackendOptions = {},
): Backend {
  if (!backendPreferences.includes(preference)) {
    throw new RangeError(
      `Cannot select the matrix-product backend "${preference}": use one of ${
        backendPreferences.map((name) => `"${name}"`).join(", ")
      }`,
    );
  }
  const mlMatrix: Backend = {
    name: "ml-matrix",
    gemm: mlMatrixGemm,
    gemm32: mlMatrixGemm,
    reason: "matrix products: ml-matrix",
  };
  const wasm: Backend = {
    name: "wasm",
    gemm: wasmGemmParallel,
    gemm32: wasmGemm32Parallel,
    axpy: wasmParallelAxpy,
    axpyTakes: (x, y) => {
      const arena = wasmParallelArena();
      return arena.addressOf(x) !== undefined && arena.addressOf(y) !== undefined;
    },
    arena: wasmParallelArena,
    reason: "matrix products: WebAssembly SIMD (two threads)",
  };
  if (preference === "ml-matrix") return mlMatrix;
  if (preference === "wasm") return wasm;
  const installHint = "run with --allow-ffi and install libopenblas0-pthread for OpenBLAS";
  if (!ffiGranted()) {
    if (preference === "openblas") {
      throw new Error(
        "Cannot use the OpenBLAS backend: FFI is not permitted; run with --allow-ffi " +
          "(and install libopenblas0-pthread), or choose the wasm or ml-matrix backend",
      );
    }
    return { ...wasm, reason: `${wasm.reason} (${installHint})` };
  }
  const paths = options.libraryPaths ??
    openBlasCandidatePaths(permittedEnvironmentVariable("OPENBLAS_LIBRARY"));
  const opening = openOpenBlas(paths);
  if (opening.library !== undefined) {
    const kernels = openBlasKernels(opening.library);
    return {
      name: "openblas",
      gemm: openBlasGemm(opening.library),
      gemm32: openBlasGemm32(opening.library),
      axpy: openBlasAxpy(opening.library),
      kernels,
      reason: `matrix products: OpenBLAS via FFI (${opening.path}${
        kernels === undefined ? "" : `, ${kernels} kernels`
      })`,
    };
  }
  if (preference === "openblas") {
    throw new Error(
      "Cannot use the OpenBLAS backend: no OpenBLAS library loaded from the paths tried (" +
        opening.failures.map(({ path, message }) => `${path}: ${message}`).join("; ") +
        "); install libopenblas0-pthread or set OPENBLAS_LIBRARY to the library's path",
    );
  }
  return {
    ...wasm,
    reason: `${wasm.reason} (OpenBLAS not found at ${paths.join(", ")}; ` +
      "install libopenblas0-pthread or set OPENBLAS_LIBRARY)",
  };
}

/**
 * The preference named by the `NN_BACKEND` environment variable, or `"auto"` when it is
 * unset, empty, or `--allow-env` does not grant reading it. Throws a RangeError quoting an
 * unknown value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { backendPreferenceFromEnvironment } from "./backend.ts";
 * assert.ok(
 *   ["auto", "openblas", "wasm", "ml-matrix"].includes(backendPreferenceFromEnvironment()),
 * );
 * ```
 */
export function backendPreferenceFromEnvironment(): BackendPreference {
  const value = permittedEnvironmentVariable("NN_BACKEND");
  if (value === undefined || value === "") return "auto";
  const preference = backendPreferences.find((name) => name === value);
  if (preference === undefined) {
    throw new RangeError(
      `Cannot read NN_BACKEND="${value}": use one of ${backendPreferences.join(", ")}`,
    );
  }
  return preference;
}

/**
 * The process-wide backend; undefined until the first {@linkcode currentGemm} or
 * {@linkcode useBackend}. The one deliberate piece of module-level mutable state: see the
 * module documentation.
 */
let processBackend: Backend | undefined;

/**
 * Sets the process-wide matrix-product backend and returns its name, the kernels OpenBLAS runs
 * (for the OpenBLAS backend, where it says) and its notice. With no
 * argument, uses `NN_BACKEND` (else `"auto"`). Throws like {@linkcode selectBackend}, leaving
 * the previous choice in place.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { currentGemm, useBackend } from "./backend.ts";
 * const { name, reason } = useBackend("ml-matrix");
 * assert.equal(name, "ml-matrix");
 * assert.match(reason, /ml-matrix/);
 * const c = new Float64Array(1);
 * currentGemm()(false, false, 1, 1, 1, new Float64Array([2]), new Float64Array([3]), c);
 * assert.equal(c[0], 6);
 * ```
 */
export function useBackend(
  preference: BackendPreference = backendPreferenceFromEnvironment(),
): { name: BackendName; kernels?: string; reason: string } {
  const backend = selectBackend(preference);
  processBackend = backend;
  return { name: backend.name, kernels: backend.kernels, reason: backend.reason };
}

/**
 * The process-wide {@linkcode Gemm}: on first call chosen by {@linkcode useBackend}'s
 * default (`NN_BACKEND`, else `"auto"`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { currentGemm } from "./backend.ts";
 * const c = new Float64Array(4);
 * // [[1, 2], [3, 4]] · [[1, 0], [0, 1]]
 * currentGemm()(false, false, 2, 2, 2, new Float64Array([1, 2, 3, 4]), new Float64Array([1, 0, 0, 1]), c);
 * assert.deepEqual([...c], [1, 2, 3, 4]);
 * ```
 */
export function currentGemm(): Gemm {
  return currentBackend().gemm;
}

/**
 * The process-wide {@linkcode Gemm32}, from the same backend as {@linkcode currentGemm}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { currentGemm32 } from "./backend.ts";
 * const c = new Float32Array(1);
 * currentGemm32()(false, false, 1, 1, 2, new Float32Array([1, 2]), new Float32Array([3, 4]), c);
 * assert.equal(c[0], 11);
 * ```
 */
export function currentGemm32(): Gemm32 {
  return currentBackend().gemm32;
}

/**
 * The process-wide {@linkcode Axpy} for y ← y + α·x on these arrays, or undefined when the
 * backend has none that gains on them (see {@linkcode Backend.axpyTakes}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { currentAxpy, useBackend } from "./backend.ts";
 * import { wasmParallelArena } from "./wasm_parallel_kernel.ts";
 * useBackend("ml-matrix");
 * assert.equal(currentAxpy(new Float64Array(2), new Float64Array(2)), undefined);
 * useBackend("wasm");
 * assert.equal(currentAxpy(new Float64Array(2), new Float64Array(2)), undefined); // not in its arena
 * const arena = wasmParallelArena();
 * assert.ok(currentAxpy(arena.allocate("float64", 2)!, arena.allocate("float64", 2)!));
 * ```
 */
export function currentAxpy(x: ArrayBufferView, y: ArrayBufferView): Axpy | undefined {
  const { axpy, axpyTakes } = currentBackend();
  return axpy && (axpyTakes?.(x, y) ?? true) ? axpy : undefined;
}

/**
 * The process-wide backend's arena for a training step's tensors, or undefined when ordinary
 * memory serves it best (see {@linkcode Backend.arena}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { currentArena, useBackend } from "./backend.ts";
 * useBackend("ml-matrix");
 * assert.equal(currentArena(), undefined);
 * useBackend("wasm");
 * assert.ok(currentArena()?.allocate("float32", 4) instanceof Float32Array);
 * ```
 */
export function currentArena(): WasmArena | undefined {
  return currentBackend().arena?.();
}

function currentBackend(): Backend {
  processBackend ??= selectBackend(backendPreferenceFromEnvironment());
  return processBackend;
}
