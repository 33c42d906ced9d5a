/**
 * A {@linkcode Gemm} computed by a WebAssembly SIMD kernel: `kernels/gemm.wat`, assembled into
 * `wasm_gemm_bytes.ts`, so it loads with no permission and no file read, including when the
 * library is imported from a URL. About 20–24 GFLOP/s on one x86-64 core at the first layer's
 * shapes (50 × 3072, batch 100), 8 to 20 times ml-matrix.
 *
 * Each call copies A and B into the module's memory, multiplies there (packing panels of A and
 * B, then a register-blocked 5 × 4 micro-kernel; see the source's header), and copies C out.
 * The memory grows to the largest product asked of it and is kept for the next call.
 *
 * @module
 */
import type { Gemm } from "./ml_matrix_kernel.ts";
import { relaxedSimdGemmModule, simdGemmModule } from "./wasm_gemm_bytes.ts";

/** The exports of `kernels/gemm.wat`. */
interface GemmKernel {
  memory: WebAssembly.Memory;
  /** Bytes of scratch space `gemm` needs after its `workspace` argument. */
  workspaceBytes: number;
  gemm: (
    transposeA: number,
    transposeB: number,
    m: number,
    n: number,
    k: number,
    a: number,
    b: number,
    c: number,
    workspace: number,
  ) => void;
}

/** A 32-bit WebAssembly memory holds at most 65,536 pages of 64 KiB. */
const pageBytes = 65_536;
const maximumMemoryBytes = 65_536 * pageBytes;

function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(text), (character) => character.charCodeAt(0));
}

function instantiateKernel(encodedModule: string): GemmKernel {
  const instance = new WebAssembly.Instance(new WebAssembly.Module(decodeBase64(encodedModule)));
  const { memory, workspaceBytes, gemm } = instance.exports;
  if (
    !(memory instanceof WebAssembly.Memory) || !(workspaceBytes instanceof WebAssembly.Global) ||
    typeof gemm !== "function"
  ) {
    throw new TypeError(
      "Cannot use the WebAssembly kernel: the embedded module does not export memory, " +
        "workspaceBytes and gemm; rebuild lib/wasm_gemm_bytes.ts with `deno task build:wasm`",
    );
  }
  return { memory, workspaceBytes: workspaceBytes.value, gemm: (...values) => gemm(...values) };
}

/** Grows `memory` to at least `neededBytes`; returns why it could not, or undefined. */
function growMemory(memory: WebAssembly.Memory, neededBytes: number): string | undefined {
  if (neededBytes > maximumMemoryBytes) return "more than the 4 GiB a WebAssembly memory can hold";
  try {
    memory.grow(Math.ceil((neededBytes - memory.buffer.byteLength) / pageBytes));
    return undefined;
  } catch (error) {
    return `which it could not grow to (${error instanceof Error ? error.message : error})`;
  }
}

/** `offset` rounded up to a multiple of 64 bytes, a cache line. */
function alignToCacheLine(offset: number): number {
  return Math.ceil(offset / 64) * 64;
}

/**
 * {@linkcode Gemm} computed by the given build of `kernels/gemm.wat` (one of the base64 strings
 * of `wasm_gemm_bytes.ts`), compiled and instantiated on the first non-empty product. Checks
 * the array lengths against m, n, k like the OpenBLAS kernel, and throws a RangeError when a
 * product needs more than the 4 GiB a WebAssembly memory can hold. Most callers want
 * {@linkcode wasmGemm}, which picks the build.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { wasmGemmFromModule } from "./wasm_kernel.ts";
 * import { simdGemmModule } from "./wasm_gemm_bytes.ts";
 * const gemm = wasmGemmFromModule(simdGemmModule); // without fused multiply-add
 * const c = new Float64Array(1);
 * gemm(false, false, 1, 1, 2, new Float64Array([1, 2]), new Float64Array([3, 4]), c);
 * assert.equal(c[0], 11);
 * ```
 */
export function wasmGemmFromModule(encodedModule: string): Gemm {
  let kernel: GemmKernel | undefined;
  return (transposeA, transposeB, m, n, k, a, b, c) => {
    if (a.length < m * k || b.length < k * n || c.length < m * n) {
      throw new RangeError(
        `Cannot multiply with the WebAssembly kernel: for m=${m}, n=${n}, k=${k} the arrays ` +
          `need at least ${m * k}, ${k * n} and ${m * n} elements but have ${a.length}, ` +
          `${b.length} and ${c.length}`,
      );
    }
    if (m === 0 || n === 0) return;
    if (k === 0) {
      c.fill(0);
      return;
    }
    kernel ??= instantiateKernel(encodedModule);
    const { memory } = kernel;
    const aOffset = 0;
    const bOffset = alignToCacheLine(aOffset + 8 * m * k);
    const cOffset = alignToCacheLine(bOffset + 8 * k * n);
    const workspaceOffset = alignToCacheLine(cOffset + 8 * m * n);
    const neededBytes = workspaceOffset + kernel.workspaceBytes;
    if (neededBytes > memory.buffer.byteLength) {
      const failure = growMemory(memory, neededBytes);
      if (failure !== undefined) {
        throw new RangeError(
          `Cannot multiply with the WebAssembly kernel: for m=${m}, n=${n}, k=${k} it needs ` +
            `${neededBytes} bytes of WebAssembly memory, ${failure}; use the OpenBLAS or ` +
            "ml-matrix backend for products this large",
        );
      }
    }
    const heap = new Float64Array(memory.buffer);
    heap.set(a.length === m * k ? a : a.subarray(0, m * k), aOffset / 8);
    heap.set(b.length === k * n ? b : b.subarray(0, k * n), bOffset / 8);
    kernel.gemm(
      transposeA ? 1 : 0,
      transposeB ? 1 : 0,
      m,
      n,
      k,
      aOffset,
      bOffset,
      cOffset,
      workspaceOffset,
    );
    c.set(heap.subarray(cOffset / 8, cOffset / 8 + m * n));
  };
}

/**
 * Whether this engine compiles the relaxed-SIMD build (V8 has since 2023, so Deno 1.35 on;
 * its `f64x2.relaxed_madd` is a fused multiply-add on CPUs with FMA).
 */
function relaxedSimdSupported(): boolean {
  return WebAssembly.validate(decodeBase64(relaxedSimdGemmModule));
}

/**
 * {@linkcode Gemm} by WebAssembly SIMD, needing no permission: the build with fused
 * multiply-add where the engine supports relaxed SIMD (about 20% faster), the plain SIMD build
 * otherwise. Chosen and instantiated on the first non-empty product; rounding may differ from
 * other kernels' in the last bits.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { wasmGemm } from "./wasm_kernel.ts";
 * // [[1, 2], [3, 4]]ᵀ · [[1, 0], [0, 1]]
 * const c = new Float64Array(4);
 * wasmGemm(true, false, 2, 2, 2, new Float64Array([1, 2, 3, 4]), new Float64Array([1, 0, 0, 1]), c);
 * assert.deepEqual([...c], [1, 3, 2, 4]);
 * ```
 */
export const wasmGemm: Gemm = (() => {
  let chosen: Gemm | undefined;
  return (transposeA, transposeB, m, n, k, a, b, c) => {
    chosen ??= wasmGemmFromModule(
      relaxedSimdSupported() ? relaxedSimdGemmModule : simdGemmModule,
    );
    chosen(transposeA, transposeB, m, n, k, a, b, c);
  };
})();
