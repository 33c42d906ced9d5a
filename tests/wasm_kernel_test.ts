import assert from "node:assert/strict";
import { fc } from "../lib/deps.ts";
import type { Gemm } from "../lib/ml_matrix_kernel.ts";
import { simdGemmModule } from "../lib/wasm_gemm_bytes.ts";
import { wasmGemm, wasmGemmFromModule } from "../lib/wasm_kernel.ts";
import {
  assertAgreesOnRandomOperands,
  assertAgreesWithMlMatrix,
  randomArray,
} from "./gemm_fixture.ts";

/** Both builds: the default (fused multiply-add here) and plain SIMD, each its own instance. */
const kernels: { name: string; gemm: Gemm }[] = [
  { name: "wasmGemm()", gemm: wasmGemm },
  { name: "wasmGemmFromModule(simdGemmModule)", gemm: wasmGemmFromModule(simdGemmModule) },
];

const transpositions = [[false, false], [false, true], [true, false], [true, true]] as const;

for (const { name, gemm } of kernels) {
  Deno.test(`${name} equals mlMatrixGemm() for every shape up to 40 and every transposition`, () => {
    fc.assert(
      fc.property(
        fc.record({
          m: fc.integer({ min: 0, max: 40 }),
          n: fc.integer({ min: 0, max: 40 }),
          k: fc.integer({ min: 0, max: 40 }),
          transposeA: fc.boolean(),
          transposeB: fc.boolean(),
          seed: fc.integer({ min: 0, max: 100_000 }),
        }),
        ({ m, n, k, transposeA, transposeB, seed }) =>
          assertAgreesOnRandomOperands(gemm, transposeA, transposeB, m, n, k, seed),
      ),
      { numRuns: 400 },
    );
  });

  Deno.test(`${name} equals mlMatrixGemm() at the first layer's shapes (50×3072, batch 100)`, () => {
    assertAgreesOnRandomOperands(gemm, false, false, 50, 100, 3072, 1); // W · X
    assertAgreesOnRandomOperands(gemm, false, true, 50, 3072, 100, 2); // G · Xᵀ
    assertAgreesOnRandomOperands(gemm, true, false, 3072, 100, 50, 3); // Wᵀ · G
  });

  Deno.test(
    `${name} equals mlMatrixGemm() across several blocks and edges in every dimension`,
    () => {
      // More than one block of 120 rows, 256 steps and 512 columns, none a multiple of the
      // 5 × 4 tile, k odd.
      for (const [transposeA, transposeB] of transpositions) {
        assertAgreesOnRandomOperands(gemm, transposeA, transposeB, 243, 517, 263, 4);
      }
    },
  );
}

Deno.test("wasmGemmFromModule() grows its memory and stays correct across calls of any size", () => {
  const gemm = wasmGemmFromModule(simdGemmModule); // a fresh instance, memory of one page
  const shapes = [
    [3, 2, 1],
    [300, 400, 350], // about 3 MB of operands: the memory must grow
    [7, 5, 3],
    [123, 45, 678],
    [1, 1, 1],
    [301, 399, 351],
    [40, 40, 40],
  ];
  shapes.forEach(([m, n, k], index) => {
    const [transposeA, transposeB] = transpositions[index % 4];
    assertAgreesOnRandomOperands(gemm, transposeA, transposeB, m, n, k, 10 + index);
  });
});

Deno.test("wasmGemm() keeps infinities and NaN in their own rows and columns", () => {
  // 7×6 = (7×9)·(9×6), one infinite entry in A and a NaN in B, so that a lane mixed up in
  // packing, or an edge tile's padding written to C, shows as a non-finite entry elsewhere.
  const m = 7, n = 6, k = 9;
  for (const [transposeA, transposeB] of transpositions) {
    const a = randomArray(m * k, 20).map(Math.abs), b = randomArray(k * n, 21).map(Math.abs);
    a[2 * k + 3] = Infinity; // A[2][3], or A[3][2] read transposed: one row of C is infinite
    b[4] = NaN;
    assertAgreesWithMlMatrix(wasmGemm, transposeA, transposeB, m, n, k, a, b);
  }
});

Deno.test("wasmGemm() zero-fills the result when k = 0 and rejects arrays too short", () => {
  const c = new Float64Array(6).fill(NaN);
  wasmGemm(false, false, 2, 3, 0, new Float64Array(0), new Float64Array(0), c);
  assert.deepEqual([...c], [0, 0, 0, 0, 0, 0]);
  const untouched = new Float64Array(1).fill(7);
  wasmGemm(false, false, 0, 3, 4, new Float64Array(0), new Float64Array(12), untouched);
  assert.deepEqual([...untouched], [7]);
  assert.throws(
    () => wasmGemm(false, false, 2, 2, 2, new Float64Array(3), new Float64Array(4), c),
    (error: unknown) =>
      error instanceof RangeError &&
      /WebAssembly kernel: for m=2, n=2, k=2 the arrays need at least 4, 4 and 4 elements but have 3, 4 and 6/
        .test(error.message),
  );
});

Deno.test("wasmGemm() reads only the first m·k and k·n elements of longer arrays", () => {
  const a = new Float64Array([1, 2, 99]), b = new Float64Array([3, 4, 99]);
  const c = new Float64Array(1);
  wasmGemm(false, false, 1, 1, 2, a, b, c);
  assert.equal(c[0], 11);
});
