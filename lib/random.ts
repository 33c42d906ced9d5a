/**
 * Seeded, explicit randomness: a {@linkcode RandomKey} is plain data, every function that
 * draws numbers takes a key and returns the key to use next. Same seed, same bits, on any
 * machine: the generator is xoshiro128** on 32-bit integer arithmetic, and the normal
 * transform uses only `Math.sqrt` (exact in IEEE 754) and V8's `Math.log`/`Math.cos`, which are
 * the same fdlibm port on every platform Deno runs on.
 *
 * @module
 */

/** The state of the generator: four 32-bit words. Immutable; pass it on, never reuse it. */
export interface RandomKey {
  readonly state: readonly [number, number, number, number];
}

/** The mutable generator that the public functions run on a copy of a key's state. */
class Xoshiro128 {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  constructor(key: RandomKey) {
    [this.#a, this.#b, this.#c, this.#d] = key.state;
  }

  /** The next 32 random bits as an unsigned integer. */
  next(): number {
    const result = Math.imul(rotateLeft(Math.imul(this.#b, 5), 7), 9) >>> 0;
    const t = this.#b << 9;
    this.#c ^= this.#a;
    this.#d ^= this.#b;
    this.#b ^= this.#c;
    this.#a ^= this.#d;
    this.#c ^= t;
    this.#d = rotateLeft(this.#d, 11);
    return result;
  }

  /** A uniform float64 in [0, 1) with 53 random bits. */
  uniform(): number {
    const high = this.next() >>> 5; // 27 bits
    const low = this.next() >>> 6; // 26 bits
    return (high * 67108864 + low) / 9007199254740992;
  }

  key(): RandomKey {
    return Object.freeze({ state: Object.freeze([this.#a, this.#b, this.#c, this.#d] as const) });
  }
}

function rotateLeft(x: number, bits: number): number {
  return (x << bits) | (x >>> (32 - bits));
}

/** SplitMix32: spreads a seed over the state words so that nearby seeds give unrelated keys. */
function splitMix32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/**
 * The key for a seed. Seeds are integers in [0, 2³²).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { randomKey, uniforms } from "./random.ts";
 * const first = uniforms(randomKey(1), 3).values;
 * const again = uniforms(randomKey(1), 3).values;
 * assert.ok(first.every((value, i) => value === again[i]));
 * ```
 */
export function randomKey(seed: number): RandomKey {
  if (!Number.isInteger(seed) || seed < 0 || seed >= 2 ** 32) {
    throw new RangeError(`Cannot seed the generator with ${seed}: use an integer in [0, 2^32)`);
  }
  const mix = splitMix32(seed);
  const state = [mix(), mix(), mix(), mix()] as const;
  // xoshiro must not start from all zeros; splitMix32 never yields four zeros, but be explicit.
  if (state.every((word) => word === 0)) return randomKey(seed ^ 1);
  return Object.freeze({ state: Object.freeze(state) });
}

/**
 * `count` independent keys derived from one: use one per consumer (initialisation,
 * shuffling, …) so that adding draws to one does not shift the others.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { randomKey, splitKey } from "./random.ts";
 * const [a, b] = splitKey(randomKey(7), 2);
 * assert.ok(a.state[0] !== b.state[0]);
 * ```
 */
export function splitKey(key: RandomKey, count: number): RandomKey[] {
  const generator = new Xoshiro128(key);
  return Array.from({ length: count }, () => {
    const mix = splitMix32(generator.next() ^ Math.imul(generator.next(), 0x27d4eb2d));
    const state = [mix(), mix() | 1, mix(), mix()] as const;
    return Object.freeze({ state: Object.freeze(state) });
  });
}

/**
 * `count` uniform numbers in [0, 1), and the key to use next.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { randomKey, uniforms } from "./random.ts";
 * const { values } = uniforms(randomKey(1), 1000);
 * assert.ok(values.every((value) => value >= 0 && value < 1));
 * ```
 */
export function uniforms(key: RandomKey, count: number): { values: Float64Array; key: RandomKey } {
  const generator = new Xoshiro128(key);
  const values = new Float64Array(count);
  for (let i = 0; i < count; i++) values[i] = generator.uniform();
  return { values, key: generator.key() };
}

/**
 * `count` normally distributed numbers with mean 0 and the given standard deviation
 * (Box–Muller), and the key to use next.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { normals, randomKey } from "./random.ts";
 * const { values } = normals(randomKey(1), 10000, 2);
 * const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
 * assert.ok(Math.abs(mean) < 0.1);
 * ```
 */
export function normals(
  key: RandomKey,
  count: number,
  standardDeviation = 1,
): { values: Float64Array; key: RandomKey } {
  const generator = new Xoshiro128(key);
  const values = new Float64Array(count);
  for (let i = 0; i < count; i += 2) {
    const radius = Math.sqrt(-2 * Math.log(1 - generator.uniform())) * standardDeviation;
    const angle = 2 * Math.PI * generator.uniform();
    values[i] = radius * Math.cos(angle);
    if (i + 1 < count) values[i + 1] = radius * Math.sin(angle);
  }
  return { values, key: generator.key() };
}

/**
 * A uniformly random permutation of 0 … n−1 (Fisher–Yates), and the key to use next.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { permutation, randomKey } from "./random.ts";
 * const { indices } = permutation(randomKey(3), 5);
 * assert.ok([...indices].sort().join() === "0,1,2,3,4");
 * ```
 */
export function permutation(key: RandomKey, n: number): { indices: Uint32Array; key: RandomKey } {
  const generator = new Xoshiro128(key);
  const indices = new Uint32Array(n);
  for (let i = 0; i < n; i++) indices[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(generator.uniform() * (i + 1));
    const swap = indices[i];
    indices[i] = indices[j];
    indices[j] = swap;
  }
  return { indices, key: generator.key() };
}
