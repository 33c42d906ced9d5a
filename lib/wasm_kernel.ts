/**
 * {@linkcode Gemm} and {@linkcode Gemm32} computed by a WebAssembly SIMD kernel:
 * `kernels/gemm.wat`, assembled into `wasm_gemm_bytes.ts`, so it loads with no permission and
 * no file read, including when the library is imported from a URL. On one x86-64 core at the
 * first layer's shapes (50 × 3072, batch 100): about 20–24 GFLOP/s in float64, 8 to 20 times
 * ml-matrix, and about twice that in float32.
 *
 * Each call copies A and B into the module's memory, multiplies there (packing panels of A and
 * B, then a register-blocked micro-kernel: 5 × 4 doubles or 5 × 8 floats; see the source's
 * header), and copies C out. The memory grows to the largest product asked of it and is kept
 * for the next call.
 *
 * @module
 */
import type { Gemm, Gemm32, GemmOf } from "./ml_matrix_kernel.ts";
import { relaxedSimdGemmModule, simdGemmModule } from "./wasm_gemm_bytes.ts";
import { growMemory, productMemoryError } from "./wasm_memory.ts";

/**
 * One of the products `kernels/gemm.wat` exports: C = op(A) · op(B), C m × n, where `a`, `b`,
 * `c` and `workspace` are byte offsets into the kernel's memory, and `lda`, `ldb`, `ldc` the
 * elements between consecutive rows of A, B and C as stored (BLAS's leading dimensions).
 * Transpositions are 1 or 0; m, n, k are at least 1.
 */
export type KernelProduct = (
  transposeA: number,
  transposeB: number,
  m: number,
  n: number,
  k: number,
  a: number,
  lda: number,
  b: number,
  ldb: number,
  c: number,
  ldc: number,
  workspace: number,
) => void;

/** An instance of `kernels/gemm.wat`: its memory and its exports. */
export interface GemmKernel {
  memory: WebAssembly.Memory;
  /** Bytes of scratch space a product needs at its `workspace` argument. */
  workspaceBytes: number;
  /** The float64 product: 5 × 4 tiles of f64x2 lanes. */
  gemm64: KernelProduct;
  /** The float32 product: 5 × 8 tiles of f32x4 lanes. */
  gemm32: KernelProduct;
  /** y ← y + α·x over n doubles at byte offsets x and y, with the TypeScript loop's bits. */
  axpy64: KernelAxpy;
  /** y ← y + α·x over n floats, each computed in float64 and rounded once, as in TypeScript. */
  axpy32: KernelAxpy;
}

/** One of the axpy exports of `kernels/gemm.wat`: n values, α, and the byte offsets of x and y. */
export type KernelAxpy = (n: number, alpha: number, x: number, y: number) => void;

/**
 * The bytes of one of the base64-encoded modules of `wasm_gemm_bytes.ts`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeGemmModule } from "./wasm_kernel.ts";
 * import { simdGemmModule } from "./wasm_gemm_bytes.ts";
 * assert.ok(WebAssembly.validate(decodeGemmModule(simdGemmModule)));
 * ```
 */
export function decodeGemmModule(encodedModule: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(encodedModule), (character) => character.charCodeAt(0));
}

/**
 * Instantiates a compiled build of `kernels/gemm.wat`: with its own memory, or, for the
 * shared-memory builds, with `memory` as its `env.memory`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeGemmModule, instantiateGemmKernel } from "./wasm_kernel.ts";
 * import { simdGemmModule } from "./wasm_gemm_bytes.ts";
 * const kernel = instantiateGemmKernel(new WebAssembly.Module(decodeGemmModule(simdGemmModule)));
 * assert.ok(kernel.workspaceBytes > 0);
 * ```
 */
export function instantiateGemmKernel(
  module: WebAssembly.Module,
  memory?: WebAssembly.Memory,
): GemmKernel {
  const instance = new WebAssembly.Instance(
    module,
    memory === undefined ? {} : { env: { memory } },
  );
  const { workspaceBytes, gemm64, gemm32, axpy64, axpy32 } = instance.exports;
  const kernelMemory = memory ?? instance.exports.memory;
  if (
    !(kernelMemory instanceof WebAssembly.Memory) ||
    !(workspaceBytes instanceof WebAssembly.Global) ||
    typeof gemm64 !== "function" || typeof gemm32 !== "function" ||
    typeof axpy64 !== "function" || typeof axpy32 !== "function"
  ) {
    throw new TypeError(
      "Cannot use the WebAssembly kernel: the embedded module does not export memory, " +
        "workspaceBytes, gemm64, gemm32, axpy64 and axpy32; rebuild lib/wasm_gemm_bytes.ts " +
        "with `deno task build:wasm`",
    );
  }
  return {
    memory: kernelMemory,
    workspaceBytes: workspaceBytes.value,
    gemm64: (...values) => gemm64(...values),
    gemm32: (...values) => gemm32(...values),
    axpy64: (...values) => axpy64(...values),
    axpy32: (...values) => axpy32(...values),
  };
}

/** What differs between the float64 and the float32 product. */
export interface Precision<Values extends Float64Array | Float32Array> {
  /** Bytes an element. */
  elementBytes: 8 | 4;
  /** A view of the kernel's memory as elements. */
  view: (buffer: ArrayBufferLike) => Values;
  /** The kernel's export for this precision. */
  product: (kernel: GemmKernel) => KernelProduct;
}

/** The float64 product, `gemm64`. */
export const float64: Precision<Float64Array> = {
  elementBytes: 8,
  view: (buffer) => new Float64Array(buffer),
  product: (kernel) => kernel.gemm64,
};

/** The float32 product, `gemm32`. */
export const float32: Precision<Float32Array> = {
  elementBytes: 4,
  view: (buffer) => new Float32Array(buffer),
  product: (kernel) => kernel.gemm32,
};

/** Where a product's operands lie in the kernel's memory, as byte offsets. */
export interface GemmLayout {
  a: number;
  b: number;
  c: number;
  /** One workspace of `workspaceBytes` for each thread that multiplies. */
  workspaces: number[];
}

/** `offset` rounded up to a multiple of 64 bytes, a cache line. */
function alignToCacheLine(offset: number): number {
  return Math.ceil(offset / 64) * 64;
}

/**
 * Where a product's operands go in a kernel's memory: `addressOf` gives the byte offset of an
 * array that already lies in it (a `WasmArena` block: used where it is, without a copy), and
 * `scratch(bytes, product)` the offset of a region of at least that many bytes for the copies
 * of the others and the workspaces (throwing a RangeError naming `product`, such as
 * "for m=50, n=100, k=3072", when the memory cannot hold it).
 */
export interface KernelPlacement {
  addressOf: (values: Float64Array | Float32Array) => number | undefined;
  scratch: (bytes: number, product: string) => number;
}

/**
 * The placement of a kernel that owns its memory: every operand copied to the region after
 * the first `reservedBytes`, the memory grown as needed (to 4 GiB at most).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { copyingPlacement } from "./wasm_kernel.ts";
 * const memory = new WebAssembly.Memory({ initial: 1 });
 * const placement = copyingPlacement(memory, 256);
 * assert.equal(placement.scratch(200_000, "for m=1, n=1, k=1"), 256);
 * assert.ok(memory.buffer.byteLength >= 256 + 200_000);
 * assert.equal(placement.addressOf(new Float64Array(memory.buffer, 0, 1)), undefined);
 * ```
 */
export function copyingPlacement(
  memory: WebAssembly.Memory,
  reservedBytes: number,
): KernelPlacement {
  const start = alignToCacheLine(reservedBytes);
  return {
    addressOf: () => undefined,
    scratch: (bytes, product) => {
      const failure = growMemory(memory, start + bytes);
      if (failure === undefined) return start;
      throw productMemoryError(product, start + bytes, failure);
    },
  };
}

/**
 * The frame of every WebAssembly product: checks the array lengths against m, n, k (a
 * RangeError, like the OpenBLAS kernel), handles the empty products (k = 0 writes zeros), lays
 * out in `kernel.memory`, by `placement`, A, B and C (where they are when they already lie
 * there, else copies) and `threads` workspaces, copies in the A and B that were not there, lets
 * `compute` fill C, and copies C out when it was not there.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { copyingPlacement, decodeGemmModule, float32, instantiateGemmKernel, multiplyInKernelMemory } from "./wasm_kernel.ts";
 * import { simdGemmModule } from "./wasm_gemm_bytes.ts";
 * const kernel = instantiateGemmKernel(new WebAssembly.Module(decodeGemmModule(simdGemmModule)));
 * const c = new Float32Array(1);
 * multiplyInKernelMemory(kernel, float32, copyingPlacement(kernel.memory, 0), 1, 1, 1, 2, new Float32Array([1, 2]), new Float32Array([3, 4]), c, (layout) =>
 *   kernel.gemm32(0, 0, 1, 1, 2, layout.a, 2, layout.b, 1, layout.c, 1, layout.workspaces[0]));
 * assert.equal(c[0], 11);
 * ```
 */
export function multiplyInKernelMemory<Values extends Float64Array | Float32Array>(
  kernel: GemmKernel,
  precision: Precision<Values>,
  placement: KernelPlacement,
  threads: number,
  m: number,
  n: number,
  k: number,
  a: Values,
  b: Values,
  c: Values,
  compute: (layout: GemmLayout) => void,
): void {
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
  const { elementBytes } = precision;
  const aAt = placement.addressOf(a), bAt = placement.addressOf(b);
  // C is written in place only where it shares no memory with A or B.
  const cInPlace = placement.addressOf(c);
  const overlaps = (at: number | undefined, values: Values) =>
    at !== undefined && cInPlace !== undefined && at < cInPlace + c.byteLength &&
    cInPlace < at + values.byteLength;
  const cAt = overlaps(aAt, a) || overlaps(bAt, b) ? undefined : cInPlace;
  // The scratch region: copies of the operands not in the memory, then the workspaces.
  let scratchBytes = 0;
  const reserve = (bytes: number) => {
    const offset = scratchBytes;
    scratchBytes = alignToCacheLine(scratchBytes + bytes);
    return offset;
  };
  const aCopy = aAt === undefined ? reserve(elementBytes * m * k) : 0;
  const bCopy = bAt === undefined ? reserve(elementBytes * k * n) : 0;
  const cCopy = cAt === undefined ? reserve(elementBytes * m * n) : 0;
  const workspaceCopies = Array.from({ length: threads }, () => reserve(kernel.workspaceBytes));
  const start = placement.scratch(scratchBytes, `for m=${m}, n=${n}, k=${k}`);
  const heap = precision.view(kernel.memory.buffer);
  if (aAt === undefined) {
    heap.set(a.length === m * k ? a : a.subarray(0, m * k), (start + aCopy) / elementBytes);
  }
  if (bAt === undefined) {
    heap.set(b.length === k * n ? b : b.subarray(0, k * n), (start + bCopy) / elementBytes);
  }
  compute({
    a: aAt ?? start + aCopy,
    b: bAt ?? start + bCopy,
    c: cAt ?? start + cCopy,
    workspaces: workspaceCopies.map((offset) => start + offset),
  });
  if (cAt === undefined) {
    c.set(heap.subarray((start + cCopy) / elementBytes, (start + cCopy) / elementBytes + m * n));
  }
}

/** {@linkcode GemmOf} by one kernel export on the current thread, from a lazily made kernel. */
function singleThreadGemm<Values extends Float64Array | Float32Array>(
  kernel: () => GemmKernel,
  precision: Precision<Values>,
): GemmOf<Values> {
  return (transposeA, transposeB, m, n, k, a, b, c) => {
    const instance = kernel();
    multiplyInKernelMemory(
      instance,
      precision,
      copyingPlacement(instance.memory, 0),
      1,
      m,
      n,
      k,
      a,
      b,
      c,
      (layout) =>
        precision.product(instance)(
          transposeA ? 1 : 0,
          transposeB ? 1 : 0,
          m,
          n,
          k,
          layout.a,
          transposeA ? m : k,
          layout.b,
          transposeB ? k : n,
          layout.c,
          n,
          layout.workspaces[0],
        ),
    );
  };
}

/** The kernel of `encodedModule`, compiled and instantiated on the first call. */
function lazyKernel(encodedModule: () => string): () => GemmKernel {
  let kernel: GemmKernel | undefined;
  return () =>
    kernel ??= instantiateGemmKernel(
      new WebAssembly.Module(decodeGemmModule(encodedModule())),
    );
}

/**
 * {@linkcode Gemm} computed by the given build of `kernels/gemm.wat` (one of the base64 strings
 * of `wasm_gemm_bytes.ts` with its own memory), compiled and instantiated on the first
 * non-empty product. Checks the array lengths against m, n, k like the OpenBLAS kernel, and
 * throws a RangeError when a product needs more than the 4 GiB a WebAssembly memory can hold.
 * Most callers want {@linkcode wasmGemm}, which picks the build.
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
  return singleThreadGemm(lazyKernel(() => encodedModule), float64);
}

/**
 * {@linkcode Gemm32} computed by the given build of `kernels/gemm.wat`, like
 * {@linkcode wasmGemmFromModule} for float32 (each call its own instance). Most callers want
 * {@linkcode wasmGemm32}, which picks the build.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { wasmGemm32FromModule } from "./wasm_kernel.ts";
 * import { simdGemmModule } from "./wasm_gemm_bytes.ts";
 * const gemm = wasmGemm32FromModule(simdGemmModule); // without fused multiply-add
 * const c = new Float32Array(1);
 * gemm(false, false, 1, 1, 2, new Float32Array([1, 2]), new Float32Array([3, 4]), c);
 * assert.equal(c[0], 11);
 * ```
 */
export function wasmGemm32FromModule(encodedModule: string): Gemm32 {
  return singleThreadGemm(lazyKernel(() => encodedModule), float32);
}

/**
 * Whether this engine compiles the relaxed-SIMD builds (V8 has since 2023, so Deno 1.35 on;
 * their `relaxed_madd` are fused multiply-adds on CPUs with FMA).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { relaxedSimdSupported } from "./wasm_kernel.ts";
 * assert.equal(typeof relaxedSimdSupported(), "boolean");
 * ```
 */
export function relaxedSimdSupported(): boolean {
  return WebAssembly.validate(decodeGemmModule(relaxedSimdGemmModule));
}

/** The one instance behind {@linkcode wasmGemm} and {@linkcode wasmGemm32}. */
const defaultKernel = lazyKernel(() =>
  relaxedSimdSupported() ? relaxedSimdGemmModule : simdGemmModule
);

/**
 * {@linkcode Gemm} by WebAssembly SIMD, needing no permission: the build with fused
 * multiply-add where the engine supports relaxed SIMD (about 20% faster), the plain SIMD build
 * otherwise. Chosen and instantiated on the first non-empty product, one instance (and memory)
 * with {@linkcode wasmGemm32}; rounding may differ from other kernels' in the last bits.
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
export const wasmGemm: Gemm = singleThreadGemm(defaultKernel, float64);

/**
 * {@linkcode Gemm32} by WebAssembly SIMD (f32x4 lanes, twice the float64 kernel's speed),
 * needing no permission; the build chosen as for {@linkcode wasmGemm}, whose instance it
 * shares. Accumulates in float32: an entry's error is of the order of √k · 6e-8 · Σ |A_ip B_pj|.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { wasmGemm32 } from "./wasm_kernel.ts";
 * // [[1, 2], [3, 4]] · [[1, 0], [0, 1]]ᵀ
 * const c = new Float32Array(4);
 * wasmGemm32(false, true, 2, 2, 2, new Float32Array([1, 2, 3, 4]), new Float32Array([1, 0, 0, 1]), c);
 * assert.deepEqual([...c], [1, 2, 3, 4]);
 * ```
 */
export const wasmGemm32: Gemm32 = singleThreadGemm(defaultKernel, float32);
