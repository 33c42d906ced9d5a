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
