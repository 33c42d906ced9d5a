import assert from "node:assert/strict";
import { fc } from "../lib/deps.ts";
import type { Gemm, Gemm32 } from "../lib/ml_matrix_kernel.ts";
import { simdGemmModule } from "../lib/wasm_gemm_bytes.ts";
import {
  wasmGemm,
  wasmGemm32,
  wasmGemm32FromModule,
  wasmGemmFromModule,
} from "../lib/wasm_kernel.ts";
import {
  assertAgrees32OnRandomOperands,
  assertAgreesOnRandomOperands,
  assertAgreesWithMlMatrix,
  type ProductShape,
  randomArray,
  randomArray32,
} from "./gemm_fixture.ts";

/** The products of C = op(A) · op(B) on random operands, checked against ml-matrix. */
type Agrees = (...shape: ProductShape) => void;

/** A build of the kernel in one precision, and what its tests need to know of it. */
interface Kernel {
  name: string;
  /** Says how closely it must agree, in the tests' names. */
  precision: string;
  agrees: Agrees;
  /** A fresh instance's check, its memory one page until the first product. */
  freshAgrees: () => Agrees;
  /** The inner dimension that crosses more than one block and is no multiple of a step. */
  blocksDepth: number;
}

/** What differs between the precisions: how to check a product, and a fresh build. */
interface PrecisionCheck<G> {
  precision: string;
  assertAgrees: (gemm: G, ...shape: ProductShape) => void;
  fromModule: (encodedModule: string) => G;
  blocksDepth: number;
}

const float64Check: PrecisionCheck<Gemm> = {
  precision: "",
  assertAgrees: assertAgreesOnRandomOperands,
  fromModule: wasmGemmFromModule,
  // More than one block of 120 rows, 256 steps and 512 columns, none a multiple of the 5 × 4
  // tile, k odd.
  blocksDepth: 263,
};

const float32Check: PrecisionCheck<Gemm32> = {
  precision: " to float32 precision",
  assertAgrees: assertAgrees32OnRandomOperands,
  fromModule: wasmGemm32FromModule,
  // More than one block of 120 rows, 512 steps and 512 columns, none a multiple of the 5 × 8
  // tile, k neither even nor a multiple of the 4-step transposes.
  blocksDepth: 1031,
};

function kernel<G>(name: string, gemm: G, check: PrecisionCheck<G>): Kernel {
  const agreesFor = (instance: G): Agrees => (...shape) => check.assertAgrees(instance, ...shape);
  return {
    name,
    precision: check.precision,
    agrees: agreesFor(gemm),
    freshAgrees: () => agreesFor(check.fromModule(simdGemmModule)),
    blocksDepth: check.blocksDepth,
  };
}

/**
 * Both builds in both precisions: the default (fused multiply-add here) and plain SIMD, each
 * its own instance.
 */
const kernels: Kernel[] = [
  kernel("wasmGemm()", wasmGemm, float64Check),
  kernel("wasmGemmFromModule(simdGemmModule)", wasmGemmFromModule(simdGemmModule), float64Check),
  kernel("wasmGemm32()", wasmGemm32, float32Check),
  kernel(
    "wasmGemm32FromModule(simdGemmModule)",
    wasmGemm32FromModule(simdGemmModule),
    float32Check,
  ),
];

const transpositions = [[false, false], [false, true], [true, false], [true, true]] as const;

for (const { name, precision, agrees, blocksDepth } of kernels) {
  Deno.test(`${name} equals mlMatrixGemm()${precision} for every shape up to 40 and every transposition`, () => {
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
          agrees(transposeA, transposeB, m, n, k, seed),
      ),
      { numRuns: 400 },
    );
  });

  Deno.test(`${name} equals mlMatrixGemm()${precision} at the first layer's shapes (50×3072, batch 100)`, () => {
    agrees(false, false, 50, 100, 3072, 1); // W · X
    agrees(false, true, 50, 3072, 100, 2); // G · Xᵀ
    agrees(true, false, 3072, 100, 50, 3); // Wᵀ · G
  });

  Deno.test(
    `${name} equals mlMatrixGemm()${precision} across several blocks and edges in every dimension`,
    () => {
      for (const [transposeA, transposeB] of transpositions) {
        agrees(transposeA, transposeB, 243, 517, blocksDepth, 4);
      }
    },
  );
}

for (const { name, precision, freshAgrees } of [kernels[1], kernels[3]]) {
  Deno.test(`${name} grows its memory and stays correct${precision} across calls of any size`, () => {
    const agrees = freshAgrees();
    const shapes = [
      [3, 2, 1],
      [300, 400, 350], // about 3 MB of float64 operands: the memory must grow
      [7, 5, 3],
      [123, 45, 678],
      [1, 1, 1],
      [301, 399, 351],
      [40, 40, 40],
    ];
    shapes.forEach(([m, n, k], index) => {
      const [transposeA, transposeB] = transpositions[index % 4];
      agrees(transposeA, transposeB, m, n, k, 10 + index);
    });
  });
}

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

Deno.test("wasmGemm() and wasmGemm32() share one instance and stay correct in turn", () => {
  const shapes = [[130, 70, 300], [9, 600, 17], [61, 3, 1100], [5, 8, 4]];
  shapes.forEach(([m, n, k], index) => {
    const [transposeA, transposeB] = transpositions[index % 4];
    assertAgrees32OnRandomOperands(wasmGemm32, transposeA, transposeB, m, n, k, 30 + index);
    assertAgreesOnRandomOperands(wasmGemm, transposeB, transposeA, n, m, k, 40 + index);
  });
});

Deno.test("wasmGemm32() keeps infinities and NaN in their own rows and columns", () => {
  // 7×11 = (7×9)·(9×11): an edge tile in both directions and a 4-step transpose with one step
  // left over; one infinite entry in A and a NaN in B.
  const m = 7, n = 11, k = 9;
  for (const [transposeA, transposeB] of transpositions) {
    const a = randomArray32(m * k, 20).map(Math.abs), b = randomArray32(k * n, 21).map(Math.abs);
    a[2 * k + 3] = Infinity; // A[2][3], or A[3][2] read transposed: one row of C is infinite
    b[4] = NaN;
    assertAgreesWithMlMatrix(wasmGemm32, transposeA, transposeB, m, n, k, a, b);
  }
});

Deno.test("wasmGemm32() zero-fills the result when k = 0 and rejects arrays too short", () => {
  const c = new Float32Array(6).fill(NaN);
  wasmGemm32(false, false, 2, 3, 0, new Float32Array(0), new Float32Array(0), c);
  assert.deepEqual([...c], [0, 0, 0, 0, 0, 0]);
  const untouched = new Float32Array(1).fill(7);
  wasmGemm32(false, false, 3, 0, 4, new Float32Array(12), new Float32Array(0), untouched);
  assert.deepEqual([...untouched], [7]);
  assert.throws(
    () =>
      wasmGemm32(false, false, 2, 2, 2, new Float32Array(4), new Float32Array(4), c.subarray(3)),
    (error: unknown) =>
      error instanceof RangeError &&
      /WebAssembly kernel: for m=2, n=2, k=2 the arrays need at least 4, 4 and 4 elements but have 4, 4 and 3/
        .test(error.message),
  );
});

Deno.test("wasmGemm32() reads only the first m·k and k·n elements of longer arrays", () => {
  const a = new Float32Array([1, 2, 99]), b = new Float32Array([3, 4, 99]);
  const c = new Float32Array(1);
  wasmGemm32(false, false, 1, 1, 2, a, b, c);
  assert.equal(c[0], 11);
});
