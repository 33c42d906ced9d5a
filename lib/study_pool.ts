/**
 * A pool of Workers that run study trials in parallel. The images are copied once into
 * `SharedArrayBuffer`s that every worker reads without a copy of its own. Trials are handed
 * out first come, first served; since a trial's result depends on the trial alone (its seed
 * included), the results are the same with any number of workers, in any order.
 *
 * Workers inherit the program's permissions and choose their matrix-product backend
 * themselves (`useBackend` in each). With several workers calling OpenBLAS at once, set
 * `OPENBLAS_NUM_THREADS=1` in the environment before the pool starts, so that the workers do
 * not oversubscribe the cores (the CLI does this).
 *
 * @module
 */
import type { BackendPreference } from "./backend.ts";
import type { ImageSet } from "./image_set.ts";
import type { Trial } from "./study_plan.ts";
import type { StudyData, TrialResult } from "./study_trial.ts";
import type { WorkerReply, WorkerRequest } from "./study_worker.ts";

/** Options of {@linkcode startTrialPool}. */
export interface TrialPoolOptions {
  /** How many Workers (≥ 1). */
  readonly workers: number;
  readonly data: StudyData;
  /** Each worker's matrix-product backend (default `"auto"`). */
  readonly backend?: BackendPreference;
}

/** A running pool. */
export interface TrialPool {
  /** The matrix-product backend the workers chose, as their notice words it. */
  readonly backend: string;
  /** Runs a trial on the next free worker. */
  run(trial: Trial, options?: RunOptions): Promise<TrialResult>;
  /** Stops every worker; pending and later runs are rejected. */
  close(): void;
}

/** Options of {@linkcode TrialPool.run}. */
export interface RunOptions {
  /** Called when a worker takes the trial up. */
  readonly onStart?: () => void;
  /** Hears the number of updates done, about 100 times a training trial. */
  readonly onUpdate?: (update: number) => void;
  /** Put the trial ahead of the trials waiting (behind other urgent ones). */
  readonly urgent?: boolean;
}

interface Task {
  readonly index: number;
  readonly trial: Trial;
  readonly onStart: () => void;
  readonly onUpdate: (update: number) => void;
  readonly urgent: boolean;
  readonly resolve: (result: TrialResult) => void;
  readonly reject: (error: Error) => void;
}

/**
 * An image set whose pixels and labels live in `SharedArrayBuffer`s (copied once; a set
 * already shared is returned as it is).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sharedImageSet } from "./study_pool.ts";
 * const set = { pixels: new Uint8Array([1, 2]), labels: new Uint8Array([0]), count: 1, features: 2, classNames: ["a"] };
 * const shared = sharedImageSet(set);
 * assert.ok(shared.pixels.buffer instanceof SharedArrayBuffer);
 * assert.deepEqual([...shared.pixels], [1, 2]);
 * ```
 */
export function sharedImageSet(set: ImageSet): ImageSet {
  const share = (bytes: Uint8Array): Uint8Array => {
    if (bytes.buffer instanceof SharedArrayBuffer) return bytes;
    const shared = new Uint8Array(new SharedArrayBuffer(bytes.length));
    shared.set(bytes);
    return shared;
  };
  return {
    pixels: share(set.pixels.subarray(0, set.count * set.features)),
    labels: share(set.labels.subarray(0, set.count)),
    count: set.count,
    features: set.features,
    classNames: [...set.classNames],
  };
}

/**
 * Starts `options.workers` Workers, sends them the data, and resolves once all are ready.
 * A trial that throws rejects its `run` with an Error naming the trial; a worker that dies
 * rejects everything and closes the pool.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { startTrialPool } from "./study_pool.ts";
 * import { quickScale, twoLayerTrial } from "./study_plan.ts";
 * const pixels = Uint8Array.from({ length: 40 * 8 }, (_, i) => (i * 37) % 256);
 * const images = { pixels, labels: Uint8Array.from({ length: 40 }, (_, i) => i % 2), count: 40, features: 8, classNames: ["a", "b"] };
 * const trial = { ...twoLayerTrial(quickScale, 1), batchSize: 10, updates: 6, recordEvery: 3,
 *   training: { start: 0, end: 30 }, validation: { start: 30, end: 40 } };
 * const pool = await startTrialPool({ workers: 2, data: { pool: images, test: images } });
 * try {
 *   const [first, second] = await Promise.all([pool.run(trial), pool.run({ ...trial, seed: 2 })]);
 *   assert.ok(first.kind === "training" && second.kind === "training");
 *   assert.equal(first.history.length, 2);
 *   const again = await pool.run(trial); // the same trial gives the same result
 *   assert.deepEqual(again.kind === "training" && again.history, first.history);
 * } finally {
 *   pool.close();
 * }
 * ```
 */
export async function startTrialPool(options: TrialPoolOptions): Promise<TrialPool> {
  const { workers: count, backend = "auto" } = options;
  if (!Number.isInteger(count) || count < 1) {
    throw new RangeError(`Cannot start ${count} workers: give a positive integer`);
  }
  const data: StudyData = {
    pool: sharedImageSet(options.data.pool),
    test: sharedImageSet(options.data.test),
  };
  const queue: Task[] = [];
  const running = new Map<Worker, Task>();
  const idle: Worker[] = [];
  let failure: Error | undefined;
  let nextIndex = 0;

  const workers = Array.from(
    { length: count },
    () => new Worker(new URL("./study_worker.ts", import.meta.url), { type: "module" }),
  );
  const close = (error: Error) => {
    failure ??= error;
    for (const worker of workers) worker.terminate();
    for (const task of [...running.values(), ...queue.splice(0)]) task.reject(failure);
    running.clear();
  };
  const dispatch = () => {
    while (failure === undefined && idle.length > 0 && queue.length > 0) {
      const worker = idle.pop()!;
      const task = queue.shift()!;
      running.set(worker, task);
      task.onStart();
      const request: WorkerRequest = { kind: "trial", index: task.index, trial: task.trial };
      worker.postMessage(request);
    }
  };

  const backends = await Promise.all(
    workers.map((worker) =>
      new Promise<string>((resolve, reject) => {
        worker.onerror = (event) => {
          event.preventDefault();
          const error = new Error(`A study worker stopped: ${event.message}`);
          reject(error);
          close(error);
        };
        worker.onmessage = ({ data: reply }: MessageEvent<WorkerReply>) => {
          if (reply.kind === "ready") {
            idle.push(worker);
            resolve(reply.backend);
            dispatch();
            return;
          }
          if (reply.kind === "failure" && reply.index === -1) {
            const error = new Error(`Cannot start a study worker: ${reply.message}`);
            reject(error);
            close(error);
            return;
          }
          const task = running.get(worker);
          if (task === undefined) return;
          if (reply.kind === "progress") {
            task.onUpdate(reply.update);
            return;
          }
          running.delete(worker);
          idle.push(worker);
          if (reply.kind === "result") task.resolve(reply.result);
          else task.reject(new Error(`Trial ${task.trial.id} failed: ${reply.message}`));
          dispatch();
        };
        const request: WorkerRequest = { kind: "start", data, backend };
        worker.postMessage(request);
      })
    ),
  ).catch((error) => {
    close(error);
    throw error;
  });

  return {
    backend: backends[0],
    run(trial, { onStart = () => {}, onUpdate = () => {}, urgent = false } = {}) {
      return new Promise<TrialResult>((resolve, reject) => {
        if (failure !== undefined) {
          reject(failure);
          return;
        }
        const task = { index: nextIndex++, trial, onStart, onUpdate, urgent, resolve, reject };
        const position = urgent ? queue.findIndex((waiting) => !waiting.urgent) : -1;
        if (position >= 0) queue.splice(position, 0, task);
        else queue.push(task);
        dispatch();
      });
    },
    close() {
      close(new Error("The trial pool was closed"));
    },
  };
}
