/**
 * Reuse of tensor buffers between training steps, so that a step does not pay for fresh
 * memory: allocating a 1–2 MB typed array costs more than the arithmetic done in it (the
 * allocator hands back new pages, and the kernel faults each one in).
 *
 * While a step runs inside {@linkcode withBufferPool}, every tensor buffer the library
 * allocates ({@linkcode floatArray} in `tensor.ts`) comes from the pool. The pool keeps two
 * generations and alternates them step by step: step k takes buffers from the generation
 * that step k − 2 used. That is safe when nothing made in step k − 2 is still in use, which
 * holds in a training loop where each step replaces the parameters, moving averages and
 * optimizer state of the step before; {@linkcode BufferPool.keep} copies any tensor that is
 * carried over unchanged, and {@linkcode BufferPool.detach} copies what leaves the loop.
 *
 * Tensors stay immutable to everyone outside the loop: only the loop that owns the pool sees
 * pooled buffers, and it hands out detached copies.
 *
 * Where the backend has an arena (the WebAssembly backend: its kernel's memory, whose arrays
 * it multiplies without copying them), new buffers come from there, and
 * {@linkcode BufferPool.release} gives them back when the loop ends.
 *
 * @module
 */
import { currentArena } from "./backend.ts";
import type { DType, FloatArray, Tensor } from "./tensor.ts";
import type { WasmArena } from "./wasm_arena.ts";

/** Buffers shorter than this are left to the allocator: they are cheap and many. */
const smallestPooledLength = 256;

interface Generation {
  /** Buffers free for this generation's next step, by `${dtype}:${length}`. */
  readonly free: Map<string, FloatArray[]>;
  /** Buffers handed out during this generation's current step. */
  used: FloatArray[];
}

/**
 * Two generations of reusable buffers; see the module documentation.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BufferPool, withBufferPool } from "./buffer_pool.ts";
 * import { floatArray } from "./tensor.ts";
 * const pool = new BufferPool();
 * const take = () => withBufferPool(pool, () => floatArray("float64", 4096));
 * pool.beginStep();
 * const first = take();
 * pool.beginStep();
 * const second = take();
 * pool.beginStep();
 * assert.equal(take(), first); // two steps later, step 1's buffer is reused
 * assert.notEqual(second, first);
 * ```
 */
export class BufferPool {
  readonly #generations: [Generation, Generation] = [
    { free: new Map(), used: [] },
    { free: new Map(), used: [] },
  ];
  /** Which generation each pooled buffer belongs to. */
  readonly #owner = new WeakMap<FloatArray, 0 | 1>();
  /** The buffers allocated in an arena (the WebAssembly kernel's memory), to give back. */
  #arenaBuffers: { arena: WasmArena; buffer: FloatArray }[] = [];
  #current: 0 | 1 = 1;

  /**
   * Starts a step: switches generation and frees every buffer that generation handed out
   * two steps ago.
   */
  beginStep(): void {
    this.#current = this.#current === 0 ? 1 : 0;
    const generation = this.#generations[this.#current];
    for (const buffer of generation.used) {
      const key = poolKey(buffer);
      const list = generation.free.get(key);
      if (list) list.push(buffer);
      else generation.free.set(key, [buffer]);
    }
    generation.used = [];
  }

  /**
   * A buffer of the current generation: zeroed, or with `zeroed` false holding whatever a
   * step before left in it, for a result that will be written in full.
   */
  take(dtype: DType, length: number, zeroed = true): FloatArray {
    if (length < smallestPooledLength) return freshArray(dtype, length);
    const generation = this.#generations[this.#current];
    const reused = generation.free.get(`${dtype}:${length}`)?.pop();
    const buffer = reused ? (zeroed ? reused.fill(0) : reused) : this.#allocate(dtype, length);
    if (!reused) this.#owner.set(buffer, this.#current);
    generation.used.push(buffer);
    return buffer;
  }

  /** A new buffer: in the backend's arena where it has one (zeroed there too), else fresh. */
  #allocate(dtype: DType, length: number): FloatArray {
    const arena = currentArena();
    const buffer = arena?.allocate(dtype, length);
    if (arena === undefined || buffer === undefined) return freshArray(dtype, length);
    this.#arenaBuffers.push({ arena, buffer });
    return buffer;
  }

  /**
   * Gives the buffers that came from an arena back to it, and forgets every buffer: for when
   * the loop that owns the pool ends, having detached what leaves it (nothing the pool handed
   * out may be read afterwards: an arena's block can be handed out again). The pool may be used
   * again afterwards, starting afresh.
   */
  release(): void {
    for (const { arena, buffer } of this.#arenaBuffers) arena.release(buffer);
    this.#arenaBuffers = [];
    for (const generation of this.#generations) {
      generation.free.clear();
      generation.used = [];
    }
  }

  /**
   * `value`, or a copy in the current generation when its buffer belongs to the other one:
   * what a step carries over unchanged from the step before must not be overwritten by the
   * step after.
   */
  keep<T extends Tensor>(value: T): T {
    const owner = this.#owner.get(value.data);
    if (owner === undefined || owner === this.#current) return value;
    const data = this.take(dtypeOfArray(value.data), value.data.length, false);
    data.set(value.data);
    return Object.freeze({ ...value, data }) as T;
  }

  /** `value`, or a copy outside the pool when its buffer is pooled: for what leaves the loop. */
  detach<T extends Tensor>(value: T): T {
    if (!this.#owner.has(value.data)) return value;
    // A copy into a fresh array: slice() of one in a shared (arena) buffer goes entry by entry.
    const data = freshArray(dtypeOfArray(value.data), value.data.length);
    data.set(value.data);
    return Object.freeze({ ...value, data }) as T;
  }
}

function poolKey(buffer: FloatArray): string {
  return `${dtypeOfArray(buffer)}:${buffer.length}`;
}

function dtypeOfArray(buffer: FloatArray): DType {
  return buffer instanceof Float32Array ? "float32" : "float64";
}

function freshArray(dtype: DType, length: number): FloatArray {
  return dtype === "float32" ? new Float32Array(length) : new Float64Array(length);
}

/** The pool that {@linkcode floatArray} draws from, while {@linkcode withBufferPool} runs. */
let activePool: BufferPool | undefined;

/**
 * Runs `step` with every tensor buffer drawn from `pool`, and returns its result.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BufferPool, withBufferPool } from "./buffer_pool.ts";
 * import { zeros } from "./tensor.ts";
 * const pool = new BufferPool();
 * pool.beginStep();
 * const inside = withBufferPool(pool, () => zeros(64, 64));
 * assert.notEqual(pool.detach(inside).data, inside.data);
 * assert.equal(pool.detach(zeros(64, 64)).data.length, 4096);
 * ```
 */
export function withBufferPool<T>(pool: BufferPool, step: () => T): T {
  const previous = activePool;
  activePool = pool;
  try {
    return step();
  } finally {
    activePool = previous;
  }
}

/**
 * An array of `length` values of `dtype`, from the active pool inside
 * {@linkcode withBufferPool}, newly allocated (so zeroed) otherwise; zeroed in any case unless
 * `zeroed` is false. `floatArray` and `resultArray` in `tensor.ts` are the faces of this.
 */
export function allocateFloats(dtype: DType, length: number, zeroed = true): FloatArray {
  return activePool ? activePool.take(dtype, length, zeroed) : freshArray(dtype, length);
}
