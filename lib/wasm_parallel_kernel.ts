/**
 * {@linkcode Gemm} and {@linkcode Gemm32} by the WebAssembly SIMD kernel on two threads: the
 * calling thread and one helper thread, sharing one `WebAssembly.Memory` (`shared: true`).
 * About 1.6–1.8× the one-thread kernel of `wasm_kernel.ts` at the first layer's shapes when
 * the machine has a core to spare, and about as fast as it (never splitting) when it has not.
 * Needs no permission, also when the library is imported from a URL.
 *
 * How it works. A product's operands are copied into the shared memory as by the one-thread
 * kernel, except those that already lie there: arrays from the memory's arena
 * ({@linkcode wasmParallelArena}, where a training step's buffer pool takes its buffers with
 * this backend) are read, and C written, in place. C is then cut in two across its longer
 * side (at whole tiles), and the helper multiplies one part
 * while the calling thread multiplies the other, each with its own packing workspace. Each
 * entry of C is computed by the same operations in the same order as by the one-thread
 * kernel, so the results are the same bit for bit, wherever the cut.
 *
 * The hand-off is a few words at the start of the memory: the caller writes the job and bumps
 * a sequence number; the helper, which polls that word for {@linkcode helperSpinMilliseconds}
 * after each job before sleeping in `Atomics.wait` (whose wake-up costs 25–100 µs here),
 * claims the job with a compare-and-swap, multiplies, and marks it done. A caller that
 * finishes its part before the helper has claimed the other (the helper asleep or
 * descheduled) claims it and multiplies it itself, so it never waits on a thread that has not
 * started.
 *
 * Two things are learnt as it runs, for each shape of product, because the two cores of a
 * shared virtual machine are seldom equal: where to cut (each thread's last speed, in
 * multiply-adds per millisecond, moves the cut towards the point where both would finish
 * together), and whether to split at all ({@linkcode adaptiveSplitPolicy}: on a busy machine
 * the helper may share the caller's core, and one thread is faster; small products lose more
 * to the hand-off than they gain).
 *
 * The helper is a `node:worker_threads` Worker, started on the first product large enough to
 * split (starting it takes 25–50 ms of the calling thread, once) from a `data:` URL, which
 * needs no permission (a Worker from a file or https URL needs --allow-read or --allow-net).
 * It is `unref()`'d, so a script using this kernel exits on its own when its work is done
 * (Deno's Web `Worker` has no `unref()`, and an idle one keeps the process alive). Until the
 * helper has started, products run on the calling thread alone; so do products smaller than
 * {@linkcode minimumSplitMultiplyAdds}, and every product where the engine reports one CPU
 * or the Worker cannot be created.
 *
 * Each importer of this module (the main thread, and each Worker that imports it) gets its own
 * helper. A pool of Workers that each use this kernel runs two threads a Worker: on two cores,
 * give a pool the one-thread kernel instead.
 *
 * @module
 */
import { Worker } from "node:worker_threads";
import type { Axpy, Gemm, Gemm32, GemmOf } from "./ml_matrix_kernel.ts";
import {
  relaxedSimdSharedMemoryGemmModule,
  simdSharedMemoryGemmModule,
} from "./wasm_gemm_bytes.ts";
import { WasmArena } from "./wasm_arena.ts";
import {
  decodeGemmModule,
  float32,
  float64,
  type GemmKernel,
  instantiateGemmKernel,
  multiplyInKernelMemory,
  type Precision,
} from "./wasm_kernel.ts";

/** Products with fewer multiply-adds (m·n·k) than this run on the calling thread alone. */
export const minimumSplitMultiplyAdds = 65_536;

/**
 * How long the helper keeps polling for the next job after one, in milliseconds, before it
 * sleeps in `Atomics.wait` (waking takes 25–100 µs, and the scheduler may then run it on the
 * caller's core for a few milliseconds).
 */
export const helperSpinMilliseconds = 5;

/**
 * How long the calling thread polls for the helper to finish its part of a product, once its
 * own is done, before it sleeps in waits of a millisecond at most, in milliseconds. Polling
 * keeps both threads runnable, so that a scheduler which put the helper on the caller's core
 * moves one of them to the other core; a caller that slept whenever it waited, and a helper
 * that woke it, would look to the scheduler like one thread handing work to another, and be
 * kept on one core.
 */
export const callerSpinMilliseconds = 2;

/**
 * Every this many large products, {@linkcode adaptiveSplitPolicy} tries the way it judges
 * slower, for {@linkcode explorationBurst} products in a row; twice as many after a try that
 * changed nothing, up to {@linkcode maximumExplorationPeriod}.
 */
export const explorationPeriod = 64;

/** The longest period between two tries of {@linkcode adaptiveSplitPolicy}, in products. */
export const maximumExplorationPeriod = 1024;

/**
 * How many products in a row {@linkcode adaptiveSplitPolicy} tries a way for; it does not
 * time the first, which wakes a sleeping helper.
 */
export const explorationBurst = 4;

/**
 * The control block's words (indices into an Int32Array at offset 0 of the shared memory),
 * each group on its own 64-byte cache line: the job's sequence number and description, the
 * sequence number of the last job claimed; of the last job done, of the last that failed, how
 * many the helper has done and how long its last took (µs); and whether the helper is ready.
 */
const controlWords = {
  sequence: 0,
  /** 13 words: bits (64 or 32), then the arguments of `gemm64`/`gemm32`. */
  job: 1,
  claimed: 16,
  done: 32,
  failed: 33,
  helperParts: 34,
  helperMicroseconds: 35,
  ready: 48,
} as const;

/**
 * How many shapes of product a kernel remembers what it learnt of (see {@linkcode SplitPolicy});
 * past that it forgets them all and starts again.
 */
const maximumLearntShapes = 64;

/** Bytes reserved for the control block before the operands. */
const controlBytes = 256;

/** What the helper thread receives as its `workerData`. */
interface HelperData {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  words: typeof controlWords;
  spinMilliseconds: number;
}

/**
 * The helper thread's whole program, serialized into its source with `toString()`: it sees
 * nothing of this module but its argument. Instantiates the kernel on the shared memory, says
 * it is ready, then forever: waits for a new job (polling, then sleeping), claims it unless
 * the calling thread already has, multiplies and marks it done.
 */
function helperThread({ module, memory, words, spinMilliseconds }: HelperData): void {
  const { gemm64, gemm32 } = new WebAssembly.Instance(module, { env: { memory } }).exports;
  if (typeof gemm64 !== "function" || typeof gemm32 !== "function") return;
  const control = new Int32Array(memory.buffer, 0, 64);
  Atomics.store(control, words.ready, 1);
  let seen = 0, idleSince = performance.now();
  for (;;) {
    const sequence = Atomics.load(control, words.sequence);
    if (sequence === seen) {
      if (performance.now() - idleSince < spinMilliseconds) Atomics.pause();
      else Atomics.wait(control, words.sequence, seen);
      continue;
    }
    seen = sequence;
    const previous = (sequence - 1) | 0; // sequence numbers wrap around as int32 do
    if (Atomics.compareExchange(control, words.claimed, previous, sequence) === previous) {
      const job = Array.from(control.subarray(words.job, words.job + 13));
      try {
        const started = performance.now();
        (job[0] === 64 ? gemm64 : gemm32)(...job.slice(1));
        const microseconds = Math.round(1000 * (performance.now() - started));
        Atomics.store(control, words.helperMicroseconds, microseconds);
        Atomics.add(control, words.helperParts, 1);
      } catch {
        Atomics.store(control, words.failed, sequence);
      }
      Atomics.store(control, words.done, sequence);
      Atomics.notify(control, words.done);
    }
    idleSince = performance.now();
  }
}

/**
 * The shared memory, the calling thread's instance on it, the arena that allocates in it past
 * the control block, and the helper once started.
 */
interface TwoThreadKernel {
  kernel: GemmKernel;
  arena: WasmArena;
  control: Int32Array<SharedArrayBuffer>;
  /** Starts the helper if it is not started; whether it is ready for jobs. */
  helperReady: () => boolean;
}

/**
 * Whether the two-thread kernel splits the next large product (one of at least
 * {@linkcode minimumSplitMultiplyAdds} multiply-adds, once the helper has started), told how
 * long each took. One policy serves one shape (m, n, k and transpositions) of one precision of
 * one kernel: whether splitting pays differs from shape to shape (in a training step, the
 * first layer's products gain from it while the hidden layers' smaller ones lose), and a
 * policy fed the times of both would judge by whichever came last.
 */
export interface SplitPolicy {
  shouldSplit: () => boolean;
  /** A large product's multiplication took `milliseconds`, split or on one thread. */
  record: (split: boolean, milliseconds: number, multiplyAdds: number) => void;
}

/**
 * The default {@linkcode SplitPolicy}: split when that has lately been faster. On an idle
 * machine splitting is nearly twice as fast; on a busy one the helper may share a core with
 * the caller, or be descheduled in the middle of its part, and splitting is slower than one
 * thread. Keeps the milliseconds per multiply-add of the last 5 split and the last 5
 * one-thread products, and takes the way whose median is lower (a product that a hiccup of
 * the machine made ten times slower counts for nothing), but every
 * {@linkcode explorationPeriod}th product tries the other for {@linkcode explorationBurst}
 * products, not timing the first: after products on one thread the helper is asleep, and
 * waking it (and the scheduler moving it off the caller's core) would make splitting look
 * slower than it is. A try that changes nothing doubles the period (up to
 * {@linkcode maximumExplorationPeriod}), so that a machine busy for long pays for few; a change
 * of mind between tries (the last 5 times of one way turned) brings it back to
 * {@linkcode explorationPeriod}, so that a hiccup of a few products does not settle the way for
 * a thousand. Starts with a burst of each way.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { adaptiveSplitPolicy, explorationBurst } from "./wasm_parallel_kernel.ts";
 * const policy = adaptiveSplitPolicy();
 * for (let product = 0; product < explorationBurst; product++) {
 *   assert.equal(policy.shouldSplit(), true); // first a burst of splits: 2 ms each
 *   policy.record(true, 2, 1e6);
 * }
 * for (let product = 0; product < explorationBurst; product++) {
 *   assert.equal(policy.shouldSplit(), false); // then on one thread: 1 ms each
 *   policy.record(false, 1, 1e6);
 * }
 * assert.equal(policy.shouldSplit(), false); // one thread is faster
 * ```
 */
export function adaptiveSplitPolicy(): SplitPolicy {
  /** The last milliseconds per multiply-add of each way, at most `window` of them. */
  const rates = { split: [] as number[], single: [] as number[] };
  const window = 5;
  const median = (values: number[]) => [...values].sort((x, y) => x - y)[values.length >> 1];
  let period = explorationPeriod, untilExploration = explorationPeriod;
  let burstSplits = false, burstLeft = 0, timeNext = true;
  /** The way the last decision outside a burst took. */
  let decided: boolean | undefined;
  /** The way the last exploring burst tried, until the decision after it. */
  let explored: boolean | undefined;
  const startBurst = (split: boolean, exploring: boolean) => {
    burstSplits = split;
    burstLeft = explorationBurst - 1;
    timeNext = false;
    explored = exploring ? split : undefined;
    return split;
  };
  return {
    shouldSplit: () => {
      if (burstLeft > 0) {
        burstLeft--;
        return burstSplits;
      }
      if (rates.split.length === 0) return startBurst(true, false);
      if (rates.single.length === 0) return startBurst(false, false);
      const splitIsFaster = median(rates.split) <= median(rates.single);
      if (explored !== undefined) {
        period = explored === splitIsFaster
          ? explorationPeriod
          : Math.min(2 * period, maximumExplorationPeriod);
        untilExploration = period;
        explored = undefined;
      } else if (decided !== undefined && decided !== splitIsFaster) {
        // The times changed its mind between tries, perhaps for a hiccup of a few products:
        // try the way it left again soon, not after a period grown long on a steady machine.
        period = explorationPeriod;
        untilExploration = Math.min(untilExploration, period);
      }
      decided = splitIsFaster;
      untilExploration--;
      return untilExploration === 0 ? startBurst(!splitIsFaster, true) : splitIsFaster;
    },
    record: (split, milliseconds, multiplyAdds) => {
      if (!timeNext) {
        timeNext = true;
        return;
      }
      const recent = split ? rates.split : rates.single;
      recent.push(milliseconds / multiplyAdds);
      if (recent.length > window) recent.shift();
    },
  };
}

/**
 * A {@linkcode SplitPolicy} that splits every large product: for tests of the split, and for
 * benchmarks of two threads whatever they cost.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { alwaysSplitPolicy } from "./wasm_parallel_kernel.ts";
 * const policy = alwaysSplitPolicy();
 * policy.record(true, 1000, 1); // however slow
 * assert.equal(policy.shouldSplit(), true);
 * ```
 */
export function alwaysSplitPolicy(): SplitPolicy {
  return { shouldSplit: () => true, record: () => {} };
}

/** A {@linkcode TwoThreadKernel} of a shared-memory build; the helper starts when asked. */
function makeTwoThreadKernel(encodedModule: string): TwoThreadKernel {
  const module = new WebAssembly.Module(decodeGemmModule(encodedModule));
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 65_536, shared: true });
  const buffer = memory.buffer;
  if (!(buffer instanceof SharedArrayBuffer)) {
    throw new TypeError(
      "Cannot use the two-thread WebAssembly kernel: this engine's shared WebAssembly.Memory " +
        "is not backed by a SharedArrayBuffer; use wasmGemm or wasmGemm32",
    );
  }
  const control = new Int32Array(buffer, 0, 64);
  let helper: "not started" | "started" | "unavailable" = navigator.hardwareConcurrency > 1
    ? "not started"
    : "unavailable";
  const helperReady = () => {
    if (helper === "not started") {
      helper = startHelper({
        module,
        memory,
        words: controlWords,
        spinMilliseconds: helperSpinMilliseconds,
      });
    }
    return helper === "started" && Atomics.load(control, controlWords.ready) === 1;
  };
  return {
    kernel: instantiateGemmKernel(module, memory),
    arena: new WasmArena(memory, controlBytes),
    control,
    helperReady,
  };
}

/** Starts the helper thread; "unavailable" where a Worker cannot be created. */
function startHelper(data: HelperData): "started" | "unavailable" {
  const source = `import { workerData } from "node:worker_threads";\n` +
    `(${helperThread.toString()})(workerData);\n`;
  try {
    const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(source)}`), {
      workerData: data,
    });
    // Without a listener an error in the helper would be rethrown here; with one, the helper
    // never says it is ready and products stay on the calling thread.
    worker.on("error", () => {});
    worker.unref();
    return "started";
  } catch {
    return "unavailable";
  }
}

/** A kernel call: the arguments of `gemm64`/`gemm32`, workspace excepted. */
type Call = [
  transposeA: number,
  transposeB: number,
  m: number,
  n: number,
  k: number,
  a: number,
  lda: number,
  b: number,
  ldb: number,
  c: number,
  ldc: number,
];

/**
 * `call` split into two calls that each compute a part of C, cut across its longer side at a
 * whole number of tiles (5 rows, or `tileWidth` columns), the first part about `firstShare` of
 * that side; undefined when that side is a single tile.
 */
function splitCall(
  call: Call,
  elementBytes: number,
  tileWidth: number,
  firstShare: number,
): [Call, Call] | undefined {
  const [transposeA, transposeB, m, n, k, a, lda, b, ldb, c, ldc] = call;
  const splitRows = m > n, tile = splitRows ? 5 : tileWidth;
  const tiles = Math.ceil((splitRows ? m : n) / tile);
  if (tiles < 2) return undefined;
  const cut = tile * Math.min(Math.max(Math.round(tiles * firstShare), 1), tiles - 1);
  if (splitRows) {
    const aRest = a + elementBytes * cut * (transposeA ? 1 : lda);
    const cRest = c + elementBytes * cut * ldc;
    return [
      [transposeA, transposeB, cut, n, k, a, lda, b, ldb, c, ldc],
      [transposeA, transposeB, m - cut, n, k, aRest, lda, b, ldb, cRest, ldc],
    ];
  }
  const bRest = b + elementBytes * cut * (transposeB ? ldb : 1);
  return [
    [transposeA, transposeB, m, cut, k, a, lda, b, ldb, c, ldc],
    [transposeA, transposeB, m, n - cut, k, a, lda, bRest, ldb, c + elementBytes * cut, ldc],
  ];
}

/**
 * The share of a split product's longer side the calling thread should take next, moved
 * halfway from `share` towards the share at which both threads would have finished together,
 * given how fast each multiplied its last part (multiply-adds per millisecond); between 0.1 and
 * 0.9. The two cores of a virtual machine can run at different speeds, for hundreds of
 * milliseconds at a time.
 */
function balancedShare(
  share: number,
  callerMultiplyAdds: number,
  callerMilliseconds: number,
  helperMultiplyAdds: number,
  helperMilliseconds: number,
): number {
  if (callerMilliseconds <= 0 || helperMilliseconds <= 0) return share;
  const callerSpeed = callerMultiplyAdds / callerMilliseconds;
  const helperSpeed = helperMultiplyAdds / helperMilliseconds;
  const target = callerSpeed / (callerSpeed + helperSpeed);
  return Math.min(Math.max(share + (target - share) / 2, 0.1), 0.9);
}

/**
 * Returns when the helper has marked job `sequence` done: polls for
 * {@linkcode callerSpinMilliseconds}, then sleeps in waits of a millisecond at most, which let
 * a helper that a busy machine has put on the caller's core have it.
 */
function waitForHelper(control: Int32Array<SharedArrayBuffer>, sequence: number): void {
  const spinEnd = performance.now() + callerSpinMilliseconds;
  for (;;) {
    const done = Atomics.load(control, controlWords.done);
    if (done === sequence) return;
    if (performance.now() < spinEnd) Atomics.pause();
    else Atomics.wait(control, controlWords.done, done, 1);
  }
}

/** {@linkcode GemmOf} on two threads (see the module's documentation), from a lazy kernel. */
function twoThreadGemm<Values extends Float64Array | Float32Array>(
  twoThreadKernel: () => TwoThreadKernel,
  precision: Precision<Values>,
  splitPolicy: () => SplitPolicy,
): GemmOf<Values> {
  const bits = precision.elementBytes * 8;
  const tileWidth = precision.elementBytes === 8 ? 4 : 8;
  /** What is learnt of each shape: whether to split it, and where to cut. */
  const shapes = new Map<string, { policy: SplitPolicy; callerShare: number }>();
  const learnt = (key: string) => {
    let shape = shapes.get(key);
    if (shape === undefined) {
      // A caller of many shapes (a gradient check) would otherwise grow the map forever.
      if (shapes.size >= maximumLearntShapes) shapes.clear();
      shape = { policy: splitPolicy(), callerShare: 0.5 };
      shapes.set(key, shape);
    }
    return shape;
  };
  return (transposeA, transposeB, m, n, k, a, b, c) => {
    const { kernel, arena, control, helperReady } = twoThreadKernel();
    const product = precision.product(kernel);
    multiplyInKernelMemory(
      kernel,
      precision,
      arena,
      2,
      m,
      n,
      k,
      a,
      b,
      c,
      (layout) => {
        const [mainWorkspace, helperWorkspace] = layout.workspaces;
        const call: Call = [
          transposeA ? 1 : 0,
          transposeB ? 1 : 0,
          m,
          n,
          k,
          layout.a,
          transposeA ? m : k,
          layout.b,
          transposeB ? k : n,
          layout.c,
          n,
        ];
        const shape = m * n * k >= minimumSplitMultiplyAdds && helperReady()
          ? learnt(`${transposeA ? "T" : "N"}${transposeB ? "T" : "N"} ${m}×${n}×${k}`)
          : undefined;
        const parts = shape &&
          splitCall(call, precision.elementBytes, tileWidth, shape.callerShare);
        if (shape === undefined || parts === undefined) {
          product(...call, mainWorkspace);
          return;
        }
        const { policy } = shape;
        const started = performance.now();
        if (!policy.shouldSplit()) {
          product(...call, mainWorkspace);
          policy.record(false, performance.now() - started, m * n * k);
          return;
        }
        const [mainPart, helperPart] = parts;
        const previous = control[controlWords.sequence], sequence = (previous + 1) | 0;
        control.set([bits, ...helperPart, helperWorkspace], controlWords.job);
        Atomics.store(control, controlWords.sequence, sequence);
        Atomics.notify(control, controlWords.sequence);
        product(...mainPart, mainWorkspace);
        const callerMilliseconds = performance.now() - started;
        const claimedHere =
          Atomics.compareExchange(control, controlWords.claimed, previous, sequence) === previous;
        if (!claimedHere) waitForHelper(control, sequence);
        if (claimedHere || Atomics.load(control, controlWords.failed) === sequence) {
          product(...helperPart, mainWorkspace);
        } else {
          shape.callerShare = balancedShare(
            shape.callerShare,
            mainPart[2] * mainPart[3] * mainPart[4],
            callerMilliseconds,
            helperPart[2] * helperPart[3] * helperPart[4],
            control[controlWords.helperMicroseconds] / 1000,
          );
        }
        policy.record(true, performance.now() - started, m * n * k);
      },
    );
  };
}

/** The two products of one two-thread kernel, and a count of the helper's work. */
export interface ParallelWasmGemms {
  gemm: Gemm;
  gemm32: Gemm32;
  /**
   * How many parts of products the helper thread has multiplied: 0 until its first, and
   * behind the count of split products where the calling thread took the helper's part.
   */
  helperParts: () => number;
  /**
   * The arena of the kernel's memory (making the kernel if it is not made): operands and
   * results allocated there are used in place, without copies.
   */
  arena: () => WasmArena;
  /**
   * y ← y + α·x by the kernel's SIMD loop where both lie in its arena, else by a TypeScript
   * loop; the same bits either way (see `axpy64`/`axpy32` in `kernels/gemm.wat`).
   */
  axpy: Axpy;
}

/** Both products on two threads, sharing one kernel made on the first call. */
function twoThreadGemms(
  encodedModule: () => string,
  splitPolicy: () => SplitPolicy,
): ParallelWasmGemms {
  let made: TwoThreadKernel | undefined;
  const twoThreadKernel = () => made ??= makeTwoThreadKernel(encodedModule());
  return {
    gemm: twoThreadGemm(twoThreadKernel, float64, splitPolicy),
    gemm32: twoThreadGemm(twoThreadKernel, float32, splitPolicy),
    helperParts: () =>
      made === undefined ? 0 : Atomics.load(made.control, controlWords.helperParts),
    arena: () => twoThreadKernel().arena,
    axpy: (alpha, x, y) => {
      if (x.length !== y.length || (x instanceof Float32Array) !== (y instanceof Float32Array)) {
        throw new RangeError(
          `Cannot add ${x.constructor.name} of ${x.length} values to ${y.constructor.name} of ` +
            `${y.length}: they must have one type and length`,
        );
      }
      const { kernel, arena } = twoThreadKernel();
      const xAt = arena.addressOf(x), yAt = arena.addressOf(y);
      if (xAt !== undefined && yAt !== undefined) {
        (y instanceof Float32Array ? kernel.axpy32 : kernel.axpy64)(y.length, alpha, xAt, yAt);
      } else for (let i = 0; i < y.length; i++) y[i] = y[i] + alpha * x[i];
    },
  };
}

/**
 * {@linkcode Gemm} and {@linkcode Gemm32} on two threads by the given shared-memory build of
 * `kernels/gemm.wat` (`relaxedSimdSharedMemoryGemmModule` or `simdSharedMemoryGemmModule` of
 * `wasm_gemm_bytes.ts`): one memory and one helper thread for both, made on the first
 * non-empty product, each shape of product of each precision with its own `splitPolicy()`
 * ({@linkcode adaptiveSplitPolicy} unless given). Checks lengths and throws like `wasmGemmFromModule`.
 * `helperParts()` counts the product parts the helper has multiplied, for tests and
 * benchmarks. Most callers want {@linkcode wasmGemmParallel} and {@linkcode wasmGemm32Parallel},
 * which pick the build.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { wasmParallelGemmsFromModule } from "./wasm_parallel_kernel.ts";
 * import { simdSharedMemoryGemmModule } from "./wasm_gemm_bytes.ts";
 * const { gemm, gemm32 } = wasmParallelGemmsFromModule(simdSharedMemoryGemmModule);
 * const c = new Float64Array(1), c32 = new Float32Array(1);
 * gemm(false, false, 1, 1, 2, new Float64Array([1, 2]), new Float64Array([3, 4]), c);
 * gemm32(false, false, 1, 1, 2, new Float32Array([1, 2]), new Float32Array([3, 4]), c32);
 * assert.deepEqual([c[0], c32[0]], [11, 11]);
 * ```
 */
export function wasmParallelGemmsFromModule(
  encodedModule: string,
  splitPolicy: () => SplitPolicy = adaptiveSplitPolicy,
): ParallelWasmGemms {
  return twoThreadGemms(() => encodedModule, splitPolicy);
}

/** The kernels behind {@linkcode wasmGemmParallel} and {@linkcode wasmGemm32Parallel}. */
const defaultGemms = twoThreadGemms(
  () =>
    WebAssembly.validate(decodeGemmModule(relaxedSimdSharedMemoryGemmModule))
      ? relaxedSimdSharedMemoryGemmModule
      : simdSharedMemoryGemmModule,
  adaptiveSplitPolicy,
);

/**
 * {@linkcode Gemm} by WebAssembly SIMD on two threads (see the module's documentation), with
 * fused multiply-add where the engine supports relaxed SIMD; needs no permission. Its results
 * are bit for bit those of `wasmGemm` (one thread), which it falls back to for small products.
 * Shares its memory and helper thread with {@linkcode wasmGemm32Parallel}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { wasmGemmParallel } from "./wasm_parallel_kernel.ts";
 * import { wasmGemm } from "./wasm_kernel.ts";
 * const m = 50, n = 300, k = 200;
 * const a = Float64Array.from({ length: m * k }, (_, i) => Math.sin(i));
 * const b = Float64Array.from({ length: k * n }, (_, i) => Math.cos(i));
 * const parallel = new Float64Array(m * n), single = new Float64Array(m * n);
 * wasmGemmParallel(false, false, m, n, k, a, b, parallel);
 * wasmGemm(false, false, m, n, k, a, b, single);
 * assert.deepEqual(parallel, single);
 * ```
 */
export const wasmGemmParallel: Gemm = defaultGemms.gemm;

/**
 * {@linkcode Gemm32} by WebAssembly SIMD on two threads, like {@linkcode wasmGemmParallel}:
 * bit for bit the results of `wasmGemm32`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { wasmGemm32Parallel } from "./wasm_parallel_kernel.ts";
 * // [[1, 2], [3, 4]]ᵀ · [[1, 0], [0, 1]]
 * const c = new Float32Array(4);
 * wasmGemm32Parallel(true, false, 2, 2, 2, new Float32Array([1, 2, 3, 4]), new Float32Array([1, 0, 0, 1]), c);
 * assert.deepEqual([...c], [1, 3, 2, 4]);
 * ```
 */
export const wasmGemm32Parallel: Gemm32 = defaultGemms.gemm32;

/**
 * The arena of the memory behind {@linkcode wasmGemmParallel} and
 * {@linkcode wasmGemm32Parallel}: arrays allocated there are multiplied in place, without
 * copies in or out (see `wasm_arena.ts`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { wasmGemmParallel, wasmParallelArena } from "./wasm_parallel_kernel.ts";
 * const arena = wasmParallelArena();
 * const [a, b, c] = [arena.allocate("float64", 2)!, arena.allocate("float64", 2)!, arena.allocate("float64", 1)!];
 * a.set([1, 2]);
 * b.set([3, 4]);
 * wasmGemmParallel(false, false, 1, 1, 2, a, b, c);
 * assert.equal(c[0], 11);
 * ```
 */
export function wasmParallelArena(): WasmArena {
  return defaultGemms.arena();
}

/**
 * {@linkcode Axpy} (y ← y + α·x) for the WebAssembly backend: by the kernel's SIMD loop when x
 * and y lie in {@linkcode wasmParallelArena} (a training step's buffers do), else by a
 * TypeScript loop, with the same bits either way: each product and sum rounded as the loop
 * rounds them (float32 values are added in float64 and rounded once, as in TypeScript).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { wasmParallelArena, wasmParallelAxpy } from "./wasm_parallel_kernel.ts";
 * const arena = wasmParallelArena();
 * const x = arena.allocate("float32", 5)!, y = arena.allocate("float32", 5)!;
 * x.set([1, 2, 3, 4, 5]);
 * y.fill(1);
 * wasmParallelAxpy(0.5, x, y);
 * assert.deepEqual([...y], [1.5, 2, 2.5, 3, 3.5]);
 * ```
 */
export const wasmParallelAxpy: Axpy = defaultGemms.axpy;
