/**
 * Growing a `WebAssembly.Memory`, for the kernels and the arena that lay data out in one.
 *
 * @module
 */

/** A 32-bit WebAssembly memory holds at most 65,536 pages of 64 KiB. */
const pageBytes = 65_536;
const maximumMemoryBytes = 65_536 * pageBytes;

/**
 * Grows `memory` to hold at least `neededBytes`; undefined when it does (or already did), else
 * why not, as the end of a sentence ("… needs N bytes of WebAssembly memory, <reason>").
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { growMemory } from "./wasm_memory.ts";
 * const memory = new WebAssembly.Memory({ initial: 1 });
 * assert.equal(growMemory(memory, 100_000), undefined);
 * assert.ok(memory.buffer.byteLength >= 100_000);
 * assert.match(growMemory(memory, 2 ** 33)!, /more than the 4 GiB/);
 * ```
 */
export function growMemory(memory: WebAssembly.Memory, neededBytes: number): string | undefined {
  const available = memory.buffer.byteLength;
  if (neededBytes <= available) return undefined;
  if (neededBytes > maximumMemoryBytes) return "more than the 4 GiB a WebAssembly memory can hold";
  try {
    memory.grow(Math.ceil((neededBytes - available) / pageBytes));
    return undefined;
  } catch (error) {
    return `which it could not grow to (${error instanceof Error ? error.message : error})`;
  }
}

/**
 * The RangeError of a product that the WebAssembly kernel's memory cannot hold: `product` names
 * it ("for m=50, n=100, k=3072"), `failure` is why the memory could not grow (as
 * {@linkcode growMemory} says it).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { productMemoryError } from "./wasm_memory.ts";
 * const error = productMemoryError("for m=1, n=2, k=3", 10, "which it could not grow to");
 * assert.match(error.message, /for m=1, n=2, k=3 it needs 10 bytes of WebAssembly memory/);
 * ```
 */
export function productMemoryError(
  product: string,
  neededBytes: number,
  failure: string,
): RangeError {
  return new RangeError(
    `Cannot multiply with the WebAssembly kernel: ${product} it needs ${neededBytes} bytes of ` +
      `WebAssembly memory, ${failure}; use the OpenBLAS or ml-matrix backend for products this ` +
      "large",
  );
}
