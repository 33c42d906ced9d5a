/**
 * The three matrix products of the first layer (weight 50 × 3072, batch 100), by each
 * backend. Each product is 2·50·3072·100 ≈ 30.7 MFLOP, so GFLOP/s = 30.72 / (time in ms).
 *
 *     deno bench --allow-read --allow-env --allow-ffi bench/gemm_bench.ts
 *
 * Without --allow-ffi or OpenBLAS installed, the OpenBLAS cases are ignored. The WebAssembly
 * kernel runs in both its builds: with relaxed SIMD's fused multiply-add (the default where the
 * engine supports it) and plain SIMD.
 *
 * @module
 */
import { type Gemm, mlMatrixGemm } from "../lib/ml_matrix_kernel.ts";
import { openBlasGemm, openOpenBlas } from "../lib/openblas_kernel.ts";
import { normals, randomKey } from "../lib/random.ts";
import { simdGemmModule } from "../lib/wasm_gemm_bytes.ts";
import { wasmGemm, wasmGemmFromModule } from "../lib/wasm_kernel.ts";

const ffiGranted = Deno.permissions.querySync({ name: "ffi" }).state === "granted";
const openBlas = ffiGranted ? openOpenBlas().library : undefined;
const plainSimdGemm = wasmGemmFromModule(simdGemmModule);

function randomArray(length: number, seed: number): Float64Array {
  return Float64Array.from(normals(randomKey(seed), length).values);
}

const outputs = 50, inputs = 3072, batchSize = 100;
const weight = randomArray(outputs * inputs, 1); // W: 50 × 3072
const input = randomArray(inputs * batchSize, 2); // X: 3072 × 100
const outputGradient = randomArray(outputs * batchSize, 3); // G: 50 × 100

const products: {
  group: string;
  multiply: (gemm: Gemm) => Float64Array;
}[] = [
  {
    group: "W·X (50×3072 · 3072×100)",
    multiply: (gemm) => {
      const c = new Float64Array(outputs * batchSize);
      gemm(false, false, outputs, batchSize, inputs, weight, input, c);
      return c;
    },
  },
  {
    group: "G·Xᵀ (50×100 · (3072×100)ᵀ)",
    multiply: (gemm) => {
      const c = new Float64Array(outputs * inputs);
      gemm(false, true, outputs, inputs, batchSize, outputGradient, input, c);
      return c;
    },
  },
  {
    group: "Wᵀ·G ((50×3072)ᵀ · 50×100)",
    multiply: (gemm) => {
      const c = new Float64Array(inputs * batchSize);
      gemm(true, false, inputs, batchSize, outputs, weight, outputGradient, c);
      return c;
    },
  },
];

for (const { group, multiply } of products) {
  Deno.bench({
    name: `ml-matrix ${group}`,
    group,
    baseline: true,
    fn: () => {
      multiply(mlMatrixGemm);
    },
  });
  Deno.bench({
    name: `wasm ${group}`,
    group,
    fn: () => {
      multiply(wasmGemm);
    },
  });
  Deno.bench({
    name: `wasm without relaxed SIMD ${group}`,
    group,
    fn: () => {
      multiply(plainSimdGemm);
    },
  });
  const gemm = openBlas === undefined ? undefined : openBlasGemm(openBlas);
  Deno.bench({
    name: `openblas ${group}`,
    group,
    ignore: gemm === undefined,
    fn: () => {
      if (gemm !== undefined) multiply(gemm);
    },
  });
}
