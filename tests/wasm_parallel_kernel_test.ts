import assert from "node:assert/strict";
import { fc } from "../lib/deps.ts";
import type { Gemm, Gemm32 } from "../lib/ml_matrix_kernel.ts";
import {
  relaxedSimdGemmModule,
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
import {
  adaptiveSplitPolicy,
  alwaysSplitPolicy,
  explorationBurst,
  explorationPeriod,
  minimumSplitMultiplyAdds,
  type ParallelWasmGemms,
  wasmGemm32Parallel,
  wasmGemmParallel,
  wasmParallelGemmsFromModule,
} from "../lib/wasm_parallel_kernel.ts";
import { assertAgreesOnRandomOperands, type ProductShape, randomArray } from "./gemm_fixture.ts";

/**
 * Each shared-memory build beside the one-thread build of the same source: the two-thread
 * kernel computes every entry with the same operations in the same order, so their results
 * must be equal bit for bit (and the one-thread kernels are compared with ml-matrix in
 * wasm_kernel_test.ts).
 */
const builds = [
  {
    name: "simdSharedMemoryGemmModule",
    parallel: simdSharedMemoryGemmModule,
    single: simdGemmModule,
  },
  ...(relaxedSimdSupported()
    ? [{
      name: "relaxedSimdSharedMemoryGemmModule",
      parallel: relaxedSimdSharedMemoryGemmModule,
      single: relaxedSimdGemmModule,
    }]
    : []),
];

const transpositions = [[false, false], [false, true], [true, false], [true, true]] as const;

/** Random products: m and n up to `side`, k from `minimumDepth` to `depth`, a seed for operands. */
function products(
  { side, minimumDepth, depth }: { side: number; minimumDepth: number; depth: number },
) {
  return fc.record({
    m: fc.integer({ min: 1, max: side }),
    n: fc.integer({ min: 1, max: side }),
    k: fc.integer({ min: minimumDepth, max: depth }),
    transposeA: fc.boolean(),
    transposeB: fc.boolean(),
    seed: fc.integer({ min: 0, max: 100_000 }),
  });
}

/**
 * Asserts that `parallel` and `single` give the same bits for C = op(A) · op(B) in float64 and
 * in float32, on standard-normal operands drawn from `seed`.
 */
function assertSameBits(
  parallel: { gemm: Gemm; gemm32: Gemm32 },
  single: { gemm: Gemm; gemm32: Gemm32 },
  ...[transposeA, transposeB, m, n, k, seed]: ProductShape
): void {
  const a = randomArray(m * k, seed), b = randomArray(k * n, seed + 1);
  const expected = new Float64Array(m * n), actual = new Float64Array(m * n).fill(NaN);
  single.gemm(transposeA, transposeB, m, n, k, a, b, expected);
  parallel.gemm(transposeA, transposeB, m, n, k, a, b, actual);
  const a32 = Float32Array.from(a), b32 = Float32Array.from(b);
  const expected32 = new Float32Array(m * n), actual32 = new Float32Array(m * n).fill(NaN);
  single.gemm32(transposeA, transposeB, m, n, k, a32, b32, expected32);
  parallel.gemm32(transposeA, transposeB, m, n, k, a32, b32, actual32);
  const shape = `${m}×${n} (k=${k}, transposeA=${transposeA}, transposeB=${transposeB})`;
  assert.deepEqual(actual, expected, `float64 ${shape}`);
  assert.deepEqual(actual32, expected32, `float32 ${shape}`);
}

/**
 * Multiplies until the helper thread has done a part of a product, and checks that product
 * against `single`; fails after 20 s.
 */
async function untilHelperWorks(gemms: ParallelWasmGemms, single: Gemm): Promise<void> {
  const size = 200; // 8,000,000 multiply-adds: long enough for a sleeping helper to wake
  const a = randomArray(size * size, 1), b = randomArray(size * size, 2);
  const expected = new Float64Array(size * size);
  single(false, true, size, size, size, a, b, expected);
  const deadline = Date.now() + 20_000;
  while (gemms.helperParts() === 0) {
    if (Date.now() > deadline) assert.fail("the helper thread multiplied nothing in 20 s");
    const c = new Float64Array(size * size);
    gemms.gemm(false, true, size, size, size, a, b, c);
    if (gemms.helperParts() > 0) assert.deepEqual(c, expected);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

for (const build of builds) {
  // Splitting every large product, whatever the machine's load, to test the split.
  const parallel = wasmParallelGemmsFromModule(build.parallel, alwaysSplitPolicy);
  const single = {
    gemm: wasmGemmFromModule(build.single),
    gemm32: wasmGemm32FromModule(build.single),
  };

  Deno.test(
    `wasmParallelGemmsFromModule(${build.name}) gives the one-thread kernel's bits for random shapes`,
    async () => {
      await untilHelperWorks(parallel, single.gemm);
      const helperPartsBefore = parallel.helperParts();
      fc.assert(
        fc.property(
          products({ side: 260, minimumDepth: 0, depth: 200 }),
          ({ m, n, k, transposeA, transposeB, seed }) =>
            assertSameBits(parallel, single, transposeA, transposeB, m, n, k, seed),
        ),
        { numRuns: 150 },
      );
      assert.ok(
        parallel.helperParts() > helperPartsBefore,
        "the helper thread multiplied no part of the random products",
      );
    },
  );

  Deno.test(
    `wasmParallelGemmsFromModule(${build.name}) multiplies operands in its arena in place, on both threads`,
    async () => {
      await untilHelperWorks(parallel, single.gemm);
      const arena = parallel.arena();
      const helperPartsBefore = parallel.helperParts();
      fc.assert(
        fc.property(
          products({ side: 120, minimumDepth: 1, depth: 300 }),
          ({ m, n, k, transposeA, transposeB, seed }) => {
            const a = randomArray(m * k, seed), b = randomArray(k * n, seed + 1);
            const expected = new Float64Array(m * n);
            single.gemm(transposeA, transposeB, m, n, k, a, b, expected);
            const [inA, inB, inC] = [
              arena.allocate("float64", m * k)!,
              arena.allocate("float64", k * n)!,
              arena.allocate("float64", m * n)!,
            ];
            inA.set(a);
            inB.set(b);
            inC.fill(NaN);
            parallel.gemm(transposeA, transposeB, m, n, k, inA, inB, inC);
            assert.deepEqual(inC, expected, `${m}×${n} (k=${k})`);
            for (const block of [inA, inB, inC]) arena.release(block);
          },
        ),
        { numRuns: 60 },
      );
      assert.ok(
        parallel.helperParts() > helperPartsBefore,
        "the helper thread multiplied no part of the products in the arena",
      );
    },
  );

  Deno.test(
    `wasmParallelGemmsFromModule(${build.name}) splits at every edge: a tile, a partial tile, none`,
    async () => {
      await untilHelperWorks(parallel, single.gemm);
      // k makes each product just large enough to split; the longer side is cut at whole
      // tiles (5 rows; 4 float64 or 8 float32 columns), where depends on the threads' speeds.
      const shapes = [
        [11, 3, 2000], // rows: 3 tiles, the last partial
        [3, 9, 2500], // columns: float64 3 tiles, float32 2, the last one column wide
        [4, 5, 3300], // columns: float64 2 tiles, the last partial; float32 1 tile, not split
        [5, 4, 3300], // columns: float64 1 tile, not split
        [10, 10, 700], // a tie splits the columns
        [257, 255, 3], // many tiles each way, k small
      ];
      shapes.forEach(([m, n, k], index) => {
        assert.ok(m * n * k >= minimumSplitMultiplyAdds);
        for (const [transposeA, transposeB] of transpositions) {
          assertSameBits(parallel, single, transposeA, transposeB, m, n, k, 100 + index);
        }
      });
    },
  );
}

Deno.test("the two-thread kernel keeps one split policy per shape and precision of product", async () => {
  const asked: string[] = [];
  let policies = 0;
  const counted = () => {
    const policy = ++policies;
    return {
      shouldSplit: () => {
        asked.push(`policy ${policy}`);
        return true;
      },
      record: () => {},
    };
  };
  const gemms = wasmParallelGemmsFromModule(simdSharedMemoryGemmModule, counted);
  await untilHelperWorks(gemms, wasmGemmFromModule(simdGemmModule));
  const policiesBefore = policies;
  asked.length = 0;
  const multiply = (transposeB: boolean, m: number, n: number, k: number, float32 = false) => {
    const a = randomArray(m * k, 3), b = randomArray(k * n, 4);
    if (float32) {
      gemms.gemm32(
        false,
        transposeB,
        m,
        n,
        k,
        Float32Array.from(a),
        Float32Array.from(b),
        new Float32Array(m * n),
      );
    } else gemms.gemm(false, transposeB, m, n, k, a, b, new Float64Array(m * n));
  };
  multiply(false, 50, 100, 400); // a new shape: a new policy
  multiply(false, 50, 100, 400); // the same shape: the same policy
  multiply(true, 50, 100, 400); // transposed B: another
  multiply(false, 100, 50, 400); // m and n swapped: another
  multiply(false, 50, 100, 400, true); // float32: another
  multiply(false, 50, 100, 400); // the first again
  multiply(false, 5, 5, 5); // too small to split: asks no policy
  const first = policiesBefore + 1;
  assert.deepEqual(
    asked,
    [first, first, first + 1, first + 2, first + 3, first].map((p) => `policy ${p}`),
  );
});

Deno.test("adaptiveSplitPolicy() takes the faster way, trying the other in ever rarer bursts", () => {
  const policy = adaptiveSplitPolicy();
  /** Decides `count` products: the `index`th takes `milliseconds(split, index)` for 1000. */
  const run = (count: number, milliseconds: (split: boolean, index: number) => number) =>
    Array.from({ length: count }, (_, index) => {
      const split = policy.shouldSplit();
      policy.record(split, milliseconds(split, index), 1000);
      return split;
    });
  const burst = explorationBurst;
  // A burst of each way first. The first split, waking the helper, takes 100 ms but is not
  // timed; the others take 1 ms, products on one thread 2 ms.
  assert.deepEqual(
    run(2 * burst, (split, index) => split ? (index === 0 ? 100 : 1) : 2),
    [...Array(burst).fill(true), ...Array(burst).fill(false)],
  );
  // Splitting is faster and wins, but for a burst on one thread after explorationPeriod
  // products, then, since that changed nothing, after twice as many.
  const decisions = run(3 * explorationPeriod + 3 * burst, (split) => split ? 1 : 2);
  const firstBurst = explorationPeriod - 1;
  // The products of a burst after its first do not count towards the period.
  const secondBurst = firstBurst + burst + 2 * explorationPeriod - 1;
  assert.deepEqual(
    decisions.flatMap((split, index) => split ? [] : [index]),
    Array.from(
      { length: 2 * burst },
      (_, product) => product < burst ? firstBurst + product : secondBurst + product - burst,
    ),
  );
  // One split taking 50 ms (a hiccup) changes nothing; once split products take 4 ms, the
  // median of the last 5 (1, 1, 50, 4, 4) passes one thread's 2 ms on the second.
  assert.deepEqual(run(1, () => 50), [true]);
  assert.deepEqual(run(1, () => 4), [true]);
  assert.deepEqual(run(1, () => 4), [true]);
  assert.equal(policy.shouldSplit(), false);
});

Deno.test("adaptiveSplitPolicy() tries the way it left again soon after a change of mind", () => {
  const policy = adaptiveSplitPolicy();
  let slowSplits = false;
  /** Decides `count` products: split 1 ms (4 ms while `slowSplits`), one thread 2 ms. */
  const run = (count: number) =>
    Array.from({ length: count }, () => {
      const split = policy.shouldSplit();
      policy.record(split, split ? (slowSplits ? 4 : 1) : 2, 1000);
      return split;
    });
  // A steady machine: every try on one thread changes nothing, and the tries grow rare
  // (64, 128, 256, 512, then 1024 products apart). Run until just after a try on one thread
  // once they are 1024 apart, so that the next would come 1024 products later.
  run(2 * explorationBurst + 2000);
  let triedOneThread = false;
  for (;;) {
    const [split] = run(1);
    if (!split) triedOneThread = true;
    else if (triedOneThread) break;
  }
  // A hiccup: three slow splits turn the median of the last five, and one thread takes over.
  slowSplits = true;
  const during = run(3);
  slowSplits = false;
  assert.deepEqual(during, [true, true, true]);
  const after = run(2 * explorationPeriod);
  assert.equal(after[0], false, "the slow splits should have turned the policy");
  // It tries splitting again within explorationPeriod products, not 1024, and keeps it (but
  // for at most one burst trying one thread again).
  const firstSplit = after.indexOf(true);
  assert.ok(firstSplit >= 0 && firstSplit < explorationPeriod, `first split at ${firstSplit}`);
  const singlesAfter = after.slice(firstSplit).filter((split) => !split).length;
  assert.ok(singlesAfter <= explorationBurst, `${singlesAfter} products on one thread after it`);
});

Deno.test("wasmGemmParallel() equals mlMatrixGemm() at the first layer's shapes", async () => {
  // The default kernels start their own helper on the first of these products.
  for (let repeat = 0; repeat < 3; repeat++) {
    assertAgreesOnRandomOperands(wasmGemmParallel, false, false, 50, 100, 3072, 1); // W · X
    assertAgreesOnRandomOperands(wasmGemmParallel, false, true, 50, 3072, 100, 2); // G · Xᵀ
    assertAgreesOnRandomOperands(wasmGemmParallel, true, false, 3072, 100, 50, 3); // Wᵀ · G
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
});

Deno.test("wasmGemm32Parallel() gives wasmGemm32()'s bits at the first layer's shapes", async () => {
  for (let repeat = 0; repeat < 3; repeat++) {
    for (
      const [transposeA, transposeB, m, n, k] of [[false, false, 50, 100, 3072], [
        false,
        true,
        50,
        3072,
        100,
      ], [true, false, 3072, 100, 50]] as const
    ) {
      assertSameBits(
        { gemm: wasmGemmParallel, gemm32: wasmGemm32Parallel },
        { gemm: wasmGemm, gemm32: wasmGemm32 },
        transposeA,
        transposeB,
        m,
        n,
        k,
        4 + repeat,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
});

Deno.test("wasmGemmParallel() zero-fills when k = 0, skips empty products, rejects short arrays", () => {
  const c = new Float64Array(6).fill(NaN);
  wasmGemmParallel(false, false, 2, 3, 0, new Float64Array(0), new Float64Array(0), c);
  assert.deepEqual([...c], [0, 0, 0, 0, 0, 0]);
  const untouched = new Float32Array(1).fill(7);
  wasmGemm32Parallel(false, false, 0, 3, 4, new Float32Array(0), new Float32Array(12), untouched);
  assert.deepEqual([...untouched], [7]);
  assert.throws(
    () =>
      wasmGemm32Parallel(
        false,
        false,
        2,
        2,
        2,
        new Float32Array(4),
        new Float32Array(3),
        new Float32Array(4),
      ),
    (error: unknown) =>
      error instanceof RangeError &&
      /WebAssembly kernel: for m=2, n=2, k=2 the arrays need at least 4, 4 and 4 elements but have 4, 3 and 4/
        .test(error.message),
  );
});

Deno.test(
  "a script using wasmGemm32Parallel() exits on its own, without any permission",
  async () => {
    // The script waits until the helper thread has multiplied a part of a product, so that it
    // ends with the helper alive (spinning or asleep in Atomics.wait).
    const kernelUrl = new URL("../lib/wasm_parallel_kernel.ts", import.meta.url).href;
    const bytesUrl = new URL("../lib/wasm_gemm_bytes.ts", import.meta.url).href;
    const script = `
      import { wasmGemm32Parallel, wasmParallelGemmsFromModule } from ${JSON.stringify(kernelUrl)};
      import { simdSharedMemoryGemmModule } from ${JSON.stringify(bytesUrl)};
      const { gemm32, helperParts } = wasmParallelGemmsFromModule(simdSharedMemoryGemmModule);
      const a = new Float32Array(50 * 3072).fill(0.5), b = new Float32Array(3072 * 100).fill(2);
      const deadline = Date.now() + 20_000;
      while (helperParts() === 0 && Date.now() < deadline) {
        gemm32(false, false, 50, 100, 3072, a, b, new Float32Array(5000));
      }
      const c = new Float32Array(5000);
      wasmGemm32Parallel(false, false, 50, 100, 3072, a, b, c);
      console.log("helper parts", helperParts(), "c[4999]", c[4999]);
    `;
    const started = performance.now();
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-prompt", "-"],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
      signal: AbortSignal.timeout(60_000),
    }).spawn();
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(script));
    await writer.close();
    const { code, signal, stdout, stderr } = await child.output();
    const seconds = (performance.now() - started) / 1000;
    const output = new TextDecoder().decode(stdout), errors = new TextDecoder().decode(stderr);
    assert.equal(signal, null, `the script was killed after ${seconds} s: ${output}${errors}`);
    assert.equal(code, 0, `the script failed: ${output}${errors}`);
    assert.match(output, /^helper parts [1-9]\d* c\[4999\] 3072\n$/);
    assert.equal(errors, "");
  },
);
