/**
 * WasmArena hands out blocks of a shared WebAssembly memory as typed arrays: zeroed, apart,
 * reused after release, valid across growth; and the two-thread kernel multiplies arrays that
 * lie there in place, with the bits it gives ordinary arrays.
 */
import assert from "node:assert/strict";
import { useBackend } from "../lib/backend.ts";
import { BufferPool, withBufferPool } from "../lib/buffer_pool.ts";
import { floatArray } from "../lib/tensor.ts";
import { WasmArena } from "../lib/wasm_arena.ts";
import {
  wasmGemm32Parallel,
  wasmGemmParallel,
  wasmParallelArena,
  wasmParallelAxpy,
} from "../lib/wasm_parallel_kernel.ts";
import { sameBits } from "./backend_fixture.ts";

function sharedMemory(pages = 1): WebAssembly.Memory {
  return new WebAssembly.Memory({ initial: pages, maximum: 65_536, shared: true });
}

Deno.test("WasmArena.allocate() gives zeroed, aligned, separate blocks of the memory", () => {
  const memory = sharedMemory();
  const arena = new WasmArena(memory, 100);
  const a = arena.allocate("float64", 5)!, b = arena.allocate("float32", 7)!;
  assert.ok(a instanceof Float64Array && a.length === 5);
  assert.ok(b instanceof Float32Array && b.length === 7);
  assert.ok(a.buffer instanceof SharedArrayBuffer);
  assert.ok(a.byteOffset >= 100 && a.byteOffset % 64 === 0 && b.byteOffset % 64 === 0);
  assert.ok(a.byteOffset + a.byteLength <= b.byteOffset, "blocks overlap");
  assert.ok([...a, ...b].every((value) => value === 0));
  assert.equal(arena.addressOf(a), a.byteOffset);
  assert.equal(arena.addressOf(b.subarray(2)), b.byteOffset + 8);
  assert.equal(arena.addressOf(new Float64Array(5)), undefined);
  assert.equal(arena.addressOf(new Float64Array(sharedMemory().buffer, 0, 1)), undefined);
});

Deno.test("WasmArena.release() makes a block's size reusable, zeroed again", () => {
  const arena = new WasmArena(sharedMemory(), 0);
  const first = arena.allocate("float64", 100)!;
  first.fill(7);
  arena.release(first);
  const other = arena.allocate("float64", 50)!; // another size: a new block
  assert.notEqual(other.byteOffset, first.byteOffset);
  const again = arena.allocate("float64", 100)!;
  assert.equal(again.byteOffset, first.byteOffset);
  assert.ok(again.every((value) => value === 0));
});

Deno.test("WasmArena keeps earlier arrays valid when it grows the memory", () => {
  const memory = sharedMemory();
  const arena = new WasmArena(memory, 0);
  const early = arena.allocate("float32", 16)!;
  early.set([1, 2, 3]);
  const pages = memory.buffer.byteLength / 65_536;
  const large = arena.allocate("float64", 300_000)!; // 2.4 MB: past the first page
  assert.ok(memory.buffer.byteLength / 65_536 > pages);
  large[0] = 4;
  assert.deepEqual([...early.subarray(0, 3)], [1, 2, 3]);
  assert.equal(arena.addressOf(early), early.byteOffset);
  assert.equal(arena.addressOf(large), large.byteOffset);
  assert.equal(new Float64Array(memory.buffer, large.byteOffset, 1)[0], 4);
});

Deno.test("WasmArena.scratch() keeps its block while large enough, and refuses past 4 GiB", () => {
  const arena = new WasmArena(sharedMemory(), 0);
  const first = arena.scratch(1000, "for a test");
  assert.equal(arena.scratch(500, "for a test"), first);
  const larger = arena.scratch(100_000, "for a test");
  assert.notEqual(larger, first);
  assert.equal(arena.allocate("float64", 1000 / 8)!.byteOffset, first); // the old one, reused
  assert.equal(arena.allocate("float64", 2 ** 30), undefined); // 8 GiB
  assert.throws(
    () => arena.scratch(2 ** 33, "for m=1, n=1, k=2³³"),
    /for m=1, n=1, k=2³³ it needs .* could not grow/,
  );
});

Deno.test("WasmArena refuses an unshared memory, which growing would detach", () => {
  assert.throws(
    () => new WasmArena(new WebAssembly.Memory({ initial: 1 }), 0),
    /unshared WebAssembly memory/,
  );
});

for (
  const [name, gemm, dtype] of [
    ["wasmGemmParallel", wasmGemmParallel, "float64"],
    ["wasmGemm32Parallel", wasmGemm32Parallel, "float32"],
  ] as const
) {
  Deno.test(`${name}() multiplies arrays in its arena in place, with the bits of ordinary arrays`, () => {
    const arena = wasmParallelArena();
    const ordinary = (length: number, seed: number) => {
      const values = dtype === "float64" ? new Float64Array(length) : new Float32Array(length);
      return values.map((_, i) => Math.sin(seed + i));
    };
    const inArena = (values: Float64Array | Float32Array) => {
      const copy = arena.allocate(dtype, values.length)!;
      copy.set(values);
      return copy;
    };
    // The first layer's products: W·X and G·Xᵀ, with every mix of places.
    for (const [transposeB, m, n, k] of [[false, 50, 100, 3072], [true, 50, 3072, 100]] as const) {
      const a = ordinary(m * k, 1), b = ordinary(k * n, 2);
      const expected = dtype === "float64" ? new Float64Array(m * n) : new Float32Array(m * n);
      // deno-lint-ignore no-explicit-any
      const multiply = gemm as (...args: any[]) => void;
      multiply(false, transposeB, m, n, k, a, b, expected);
      for (const places of ["aBc", "AbC", "ABc", "ABC"]) {
        const left = places[0] === "A" ? inArena(a) : a;
        const right = places[1] === "B" ? inArena(b) : b;
        const c = places[2] === "C" ? arena.allocate(dtype, m * n)! : expected.slice().fill(0);
        multiply(false, transposeB, m, n, k, left, right, c);
        assert.ok(sameBits(c, expected), `${places}: ${m}×${n}×${k}`);
        assert.ok(sameBits(left, a) && sameBits(right, b), `${places}: an operand changed`);
      }
    }
    // A C that overlaps A is computed aside and copied out: written in place, it would
    // overwrite the second half of A before the kernel's second block of k reads it.
    const block = inArena(ordinary(600, 3));
    const a = block.subarray(0, 600), c = block.subarray(300, 600);
    const b = ordinary(600 * 300, 4), before = a.slice();
    const expected = dtype === "float64" ? new Float64Array(300) : new Float32Array(300);
    // deno-lint-ignore no-explicit-any
    const multiply = gemm as (...args: any[]) => void;
    multiply(false, false, 1, 300, 600, before, b, expected);
    multiply(false, false, 1, 300, 600, a, b, c);
    assert.ok(sameBits(c, expected), "C overlapping A");
  });
}

Deno.test("a buffer pool takes its buffers from the wasm backend's arena, and gives them back", () => {
  useBackend("wasm");
  try {
    const pool = new BufferPool();
    pool.beginStep();
    const first = withBufferPool(pool, () => floatArray("float64", 4096));
    assert.equal(wasmParallelArena().addressOf(first), first.byteOffset);
    pool.release();
    pool.beginStep();
    const again = withBufferPool(pool, () => floatArray("float64", 4096));
    assert.equal(again.byteOffset, first.byteOffset);
  } finally {
    useBackend("ml-matrix");
  }
  const pool = new BufferPool();
  pool.beginStep();
  const elsewhere = withBufferPool(pool, () => floatArray("float64", 4096));
  assert.ok(!(elsewhere.buffer instanceof SharedArrayBuffer), "ml-matrix has no arena");
});

Deno.test("wasmParallelAxpy() on arrays in the arena gives the TypeScript loop's bits", () => {
  const arena = wasmParallelArena();
  for (const dtype of ["float64", "float32"] as const) {
    // Lengths around the SIMD widths (2 doubles, 4 floats) and one past the axpy threshold.
    for (const length of [1, 2, 3, 4, 5, 7, 8, 9, 4097]) {
      for (const alpha of [0.1, -1, 2 * 0.005, 1e-300]) {
        const x = arena.allocate(dtype, length)!, y = arena.allocate(dtype, length)!;
        x.set(x.map((_, i) => Math.sin(7 * i + length) * 10 ** ((i % 9) - 4)));
        y.set(y.map((_, i) => Math.cos(3 * i + length)));
        const expected = dtype === "float64" ? new Float64Array(y) : new Float32Array(y);
        for (let i = 0; i < length; i++) expected[i] = expected[i] + alpha * x[i];
        wasmParallelAxpy(alpha, x, y);
        assert.ok(sameBits(y, expected), `${dtype}, ${length} values, α = ${alpha}`);
        arena.release(x);
        arena.release(y);
      }
    }
  }
  // Outside the arena, the loop; a mismatch is refused before anything is written.
  const y = new Float64Array([1, 2]);
  wasmParallelAxpy(2, new Float64Array([3, 4]), y);
  assert.deepEqual([...y], [7, 10]);
  assert.throws(() => wasmParallelAxpy(1, new Float64Array(3), y), /one type and length/);
  assert.throws(() => wasmParallelAxpy(1, new Float32Array(2), y), /one type and length/);
});
