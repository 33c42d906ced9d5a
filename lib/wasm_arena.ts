/**
 * Blocks of a shared `WebAssembly.Memory` handed out as typed arrays, so that a training
 * step's tensors can live where the WebAssembly kernel reads and writes: a product whose
 * operands and result lie in its memory needs no copy in or out (in a float64 training step
 * of the reference network those copies took 0.35 of 2.4 ms).
 *
 * A block is a typed array over the memory's `SharedArrayBuffer`; the kernel addresses it by
 * its `byteOffset`. The memory must be shared: growing a shared memory keeps the arrays made
 * before valid (growing an unshared one would detach them). Freed blocks are kept by size and
 * handed out again, zeroed, for an allocation of the same size; the arena never shrinks.
 *
 * @module
 */
import { growMemory, productMemoryError } from "./wasm_memory.ts";

/** Blocks start at multiples of 64 bytes, a cache line. */
const alignmentBytes = 64;

/** Bytes rounded up to a whole number of cache lines. */
function aligned(bytes: number): number {
  return Math.ceil(bytes / alignmentBytes) * alignmentBytes;
}

/** The bytes of the block that holds `length` elements of `elementBytes` each. */
function blockBytes(length: number, elementBytes: number): number {
  return aligned(Math.max(1, length) * elementBytes);
}

/**
 * Allocation in a shared WebAssembly memory from `firstByte` up (below it the memory's owner
 * keeps what it needs, such as a control block); see the module documentation.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { WasmArena } from "./wasm_arena.ts";
 * const memory = new WebAssembly.Memory({ initial: 1, maximum: 1024, shared: true });
 * const arena = new WasmArena(memory, 256);
 * const values = arena.allocate("float64", 3)!;
 * values.set([1, 2, 3]);
 * assert.equal(arena.addressOf(values), values.byteOffset);
 * assert.deepEqual([...new Float64Array(memory.buffer, arena.addressOf(values), 3)], [1, 2, 3]);
 * assert.equal(arena.addressOf(new Float64Array(3)), undefined); // not in the memory
 * arena.release(values);
 * assert.equal(arena.allocate("float64", 3)!.byteOffset, values.byteOffset); // reused, zeroed
 * ```
 */
export class WasmArena {
  readonly #memory: WebAssembly.Memory;
  /** The first byte no block has used yet. */
  #top: number;
  /** Offsets of freed blocks, by their size in bytes. */
  readonly #free = new Map<number, number[]>();
  /** The memory's buffers that blocks have been made over (a grown memory has a new one). */
  readonly #buffers = new WeakSet<ArrayBufferLike>();
  /** The block {@linkcode scratch} hands out, and its size. */
  #scratch: { offset: number; bytes: number } | undefined;

  constructor(memory: WebAssembly.Memory, firstByte: number) {
    if (!(memory.buffer instanceof SharedArrayBuffer)) {
      throw new TypeError(
        "Cannot allocate tensors in an unshared WebAssembly memory: growing it would detach them",
      );
    }
    this.#memory = memory;
    this.#top = aligned(firstByte);
  }

  /**
   * A zeroed array of `length` values of `dtype` in the memory, or undefined when the memory
   * cannot grow to hold it (4 GiB at most).
   */
  allocate(dtype: "float64", length: number): Float64Array | undefined;
  allocate(dtype: "float32", length: number): Float32Array | undefined;
  allocate(dtype: "float64" | "float32", length: number): Float64Array | Float32Array | undefined;
  allocate(dtype: "float64" | "float32", length: number): Float64Array | Float32Array | undefined {
    const elementBytes = dtype === "float64" ? 8 : 4;
    const offset = this.#block(blockBytes(length, elementBytes));
    if (offset === undefined) return undefined;
    const buffer = this.#memory.buffer;
    this.#buffers.add(buffer);
    const values = dtype === "float64"
      ? new Float64Array(buffer, offset, length)
      : new Float32Array(buffer, offset, length);
    return values.fill(0);
  }

  /** The byte offset in the memory of `values`' first entry, or undefined when they lie elsewhere. */
  addressOf(values: ArrayBufferView): number | undefined {
    return this.#buffers.has(values.buffer) ? values.byteOffset : undefined;
  }

  /**
   * Gives back a block that {@linkcode allocate} made, for a later allocation of its size.
   * Nothing may read or write `values` afterwards.
   */
  release(values: Float64Array | Float32Array): void {
    this.#giveBack(values.byteOffset, blockBytes(values.length, values.BYTES_PER_ELEMENT));
  }

  /**
   * The offset of a block of at least `bytes` for a product's own use (copies of operands from
   * outside the memory, workspaces), the same block again while it is large enough. Throws a
   * RangeError naming `product` ("for m=50, n=100, k=3072") when the memory cannot grow to hold
   * it.
   */
  scratch(bytes: number, product: string): number {
    if (this.#scratch !== undefined && this.#scratch.bytes >= bytes) return this.#scratch.offset;
    const size = aligned(bytes);
    const offset = this.#block(size);
    if (offset === undefined) {
      throw productMemoryError(product, this.#top + size, "which it could not grow to");
    }
    if (this.#scratch !== undefined) this.#giveBack(this.#scratch.offset, this.#scratch.bytes);
    this.#scratch = { offset, bytes: size };
    return offset;
  }

  /** The offset of a free block of `bytes` (a multiple of the alignment), growing the memory. */
  #block(bytes: number): number | undefined {
    const reused = this.#free.get(bytes)?.pop();
    if (reused !== undefined) {
      new Uint8Array(this.#memory.buffer, reused, bytes).fill(0);
      return reused;
    }
    const end = this.#top + bytes;
    if (growMemory(this.#memory, end) !== undefined) return undefined;
    const offset = this.#top;
    this.#top = end;
    return offset;
  }

  /** Puts the block of `bytes` at `offset` on the free list of its size. */
  #giveBack(offset: number, bytes: number): void {
    const list = this.#free.get(bytes);
    if (list) list.push(offset);
    else this.#free.set(bytes, [offset]);
  }
}
