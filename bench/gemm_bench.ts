/**
 * The three matrix products of the first layer (weight 50 × 3072, batch 100), by each
 * backend, in float64 and float32. Each product is 2·50·3072·100 ≈ 30.7 MFLOP, so GFLOP/s =
 * 30.72 / (time in ms).
 *
 *     deno bench --allow-read --allow-env --allow-ffi bench/gemm_bench.ts
 *
 * Without --allow-ffi or OpenBLAS installed, the OpenBLAS cases are ignored. The WebAssembly
 * kernel runs in both its builds, with relaxed SIMD's fused multiply-add (the default where the
 * engine supports it) and plain SIMD, and on two threads (`wasm_parallel_kernel.ts`; this file
 * waits until its helper threads have started): as `wasmGemmParallel` runs, splitting the
 * products only while that is faster, and splitting every one. Each product writes into a freshly allocated C,
 * as the backends' callers do: the page faults of a new array of 0.6–1.2 MB are part of the
 * time (about 0.25 ms here, a third of a float32 product).
 *
 * @module
 */
import { type GemmOf, mlMatrixGemm } from "../lib/ml_matrix_kernel.ts";
import { openBlasGemm, openBlasGemm32, openOpenBlas } from "../lib/openblas_kernel.ts";
import { normals, randomKey } from "../lib/random.ts";
import {
  relaxedSimdSharedMemoryGemmModule,
  simdGemmModule,
  simdSharedMemoryGemmModule,
} from "../lib/wasm_gemm_bytes.ts";
import {
  relaxedSimdSupported,
  wasmGemm,
  wasmGemm32,
  wasmGemm32FromModule,
  wasmGemmFromModule,
} from "../lib/wasm_kernel.ts";
import { alwaysSplitPolicy, wasmParallelGemmsFromModule } from "../lib/wasm_parallel_kernel.ts";

const ffiGranted = Deno.permissions.querySync({ name: "ffi" }).state === "granted";
const openBlas = ffiGranted ? openOpenBlas().library : undefined;
// The build of wasmGemmParallel and wasmGemm32Parallel, with a count of the helper's work.
const sharedMemoryModule = relaxedSimdSupported()
  ? relaxedSimdSharedMemoryGemmModule
  : simdSharedMemoryGemmModule;
const parallel = wasmParallelGemmsFromModule(sharedMemoryModule);
const alwaysSplit = wasmParallelGemmsFromModule(sharedMemoryModule, alwaysSplitPolicy);

function randomArray(length: number, seed: number): Float64Array {
  return Float64Array.from(normals(randomKey(seed), length).values);
}

const outputs = 50, inputs = 3072, batchSize = 100;
const weight = randomArray(outputs * inputs, 1); // W: 50 × 3072
const input = randomArray(inputs * batchSize, 2); // X: 3072 × 100
const outputGradient = randomArray(outputs * batchSize, 3); // G: 50 × 100

/** The operands in one precision and its backends, by name. */
interface Precision<Values extends Float64Array | Float32Array> {
  label: string;
  allocate: (length: number) => Values;
  weight: Values;
  input: Values;
  outputGradient: Values;
  backends: { name: string; gemm: GemmOf<Values> | undefined; baseline?: boolean }[];
}

const float64: Precision<Float64Array> = {
  label: "f64",
  allocate: (length) => new Float64Array(length),
  weight,
  input,
  outputGradient,
  backends: [
    { name: "ml-matrix", gemm: mlMatrixGemm, baseline: true },
    { name: "wasm", gemm: wasmGemm },
    { name: "wasm without relaxed SIMD", gemm: wasmGemmFromModule(simdGemmModule) },
    { name: "wasm 2 threads", gemm: parallel.gemm },
    { name: "wasm 2 threads always split", gemm: alwaysSplit.gemm },
    { name: "openblas", gemm: openBlas === undefined ? undefined : openBlasGemm(openBlas) },
  ],
};

const float32: Precision<Float32Array> = {
  label: "f32",
  allocate: (length) => new Float32Array(length),
  weight: Float32Array.from(weight),
  input: Float32Array.from(input),
  outputGradient: Float32Array.from(outputGradient),
  backends: [
    { name: "wasm", gemm: wasmGemm32 },
    { name: "wasm without relaxed SIMD", gemm: wasmGemm32FromModule(simdGemmModule) },
    { name: "wasm 2 threads", gemm: parallel.gemm32 },
    { name: "wasm 2 threads always split", gemm: alwaysSplit.gemm32 },
    { name: "openblas", gemm: openBlas === undefined ? undefined : openBlasGemm32(openBlas) },
  ],
};

/** The three products, each as a group, in one precision. */
function benchProducts<Values extends Float64Array | Float32Array>(
  precision: Precision<Values>,
): void {
  const { allocate } = precision;
  const products: { group: string; multiply: (gemm: GemmOf<Values>) => Values }[] = [
    {
      group: "W·X (50×3072 · 3072×100)",
      multiply: (gemm) => {
        const c = allocate(outputs * batchSize);
        gemm(false, false, outputs, batchSize, inputs, precision.weight, precision.input, c);
        return c;
      },
    },
    {
      group: "G·Xᵀ (50×100 · (3072×100)ᵀ)",
      multiply: (gemm) => {
        const c = allocate(outputs * inputs);
        gemm(false, true, outputs, inputs, batchSize, precision.outputGradient, precision.input, c);
        return c;
      },
    },
    {
      group: "Wᵀ·G ((50×3072)ᵀ · 50×100)",
      multiply: (gemm) => {
        const c = allocate(inputs * batchSize);
        gemm(
          true,
          false,
          inputs,
          batchSize,
          outputs,
          precision.weight,
          precision.outputGradient,
          c,
        );
        return c;
      },
    },
  ];
  for (const { group, multiply } of products) {
    for (const { name, gemm, baseline } of precision.backends) {
      Deno.bench({
        name: `${name} ${precision.label} ${group}`,
        group,
        baseline,
        ignore: gemm === undefined,
        fn: () => {
          if (gemm !== undefined) multiply(gemm);
        },
      });
    }
  }
}

benchProducts(float64);
benchProducts(float32);

// Start the two-thread kernels' helpers before the benchmarks: products run on one thread until
// they have.
const deadline = Date.now() + 10_000;
for (const { gemm, helperParts } of [parallel, alwaysSplit]) {
  while (helperParts() === 0 && Date.now() < deadline) {
    gemm(false, false, outputs, batchSize, inputs, weight, input, float64.allocate(5000));
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
