/**
 * The Worker side of the study's trial pool: receives the data once, then runs trials one at a
 * time and posts their results. Loaded by `startTrialPool` with
 * `new Worker(new URL("./study_worker.ts", import.meta.url), { type: "module" })`; permissions
 * are inherited, and each worker chooses its own matrix-product backend.
 *
 * @module
 */
import { type BackendPreference, useBackend } from "./backend.ts";
import type { Trial } from "./study_plan.ts";
import { runTrial, type StudyData, type TrialContext, trialContext } from "./study_trial.ts";
import type { TrialResult } from "./study_trial.ts";

/** What the pool sends a worker. */
export type WorkerRequest =
  | { readonly kind: "start"; readonly data: StudyData; readonly backend: BackendPreference }
  | { readonly kind: "trial"; readonly index: number; readonly trial: Trial };

/** What a worker sends back. */
export type WorkerReply =
  | { readonly kind: "ready"; readonly backend: string }
  | { readonly kind: "progress"; readonly index: number; readonly update: number }
  | { readonly kind: "result"; readonly index: number; readonly result: TrialResult }
  /** `index` is −1 when starting failed. */
  | { readonly kind: "failure"; readonly index: number; readonly message: string };

/** The part of a worker's global scope that {@linkcode serveTrials} uses. */
export interface TrialScope {
  onmessage: ((event: { readonly data: WorkerRequest }) => void) | null;
  postMessage(reply: WorkerReply): void;
}

/**
 * Answers the pool's requests on `scope`: `start` chooses the backend and keeps the data,
 * `trial` runs a trial and posts progress (about 100 times a trial) and then its result or the
 * error's message.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { quickScale, twoLayerTrial } from "./study_plan.ts";
 * import { serveTrials, type TrialScope, type WorkerReply } from "./study_worker.ts";
 * const replies: WorkerReply[] = [];
 * const scope: TrialScope = { onmessage: null, postMessage: (reply) => replies.push(reply) };
 * serveTrials(scope);
 * const pixels = Uint8Array.from({ length: 20 * 3072 }, (_, i) => (i * 7) % 256);
 * const pool = { pixels, labels: Uint8Array.from({ length: 20 }, (_, i) => i % 2), count: 20, features: 3072, classNames: ["a", "b"] };
 * scope.onmessage!({ data: { kind: "start", data: { pool, test: pool }, backend: "ml-matrix" } });
 * const trial = { ...twoLayerTrial(quickScale, 1), batchSize: 5, updates: 2, recordEvery: 2,
 *   training: { start: 0, end: 10 }, validation: { start: 10, end: 20 } };
 * scope.onmessage!({ data: { kind: "trial", index: 0, trial } });
 * assert.equal(replies[0].kind, "ready");
 * assert.equal(replies.at(-1)?.kind, "result");
 * ```
 */
export function serveTrials(scope: TrialScope): void {
  let context: TrialContext | undefined;
  scope.onmessage = ({ data: request }) => {
    if (request.kind === "start") {
      try {
        const { reason } = useBackend(request.backend);
        context = trialContext(request.data);
        scope.postMessage({ kind: "ready", backend: reason });
      } catch (error) {
        scope.postMessage({ kind: "failure", index: -1, message: messageOf(error) });
      }
      return;
    }
    const { index, trial } = request;
    if (context === undefined) {
      scope.postMessage({
        kind: "failure",
        index,
        message: "the worker received a trial before its data",
      });
      return;
    }
    const every = trial.kind === "training" ? Math.max(1, Math.floor(trial.updates / 100)) : 1;
    try {
      const result = runTrial(trial, context, (update) => {
        if (update % every === 0) scope.postMessage({ kind: "progress", index, update });
      });
      scope.postMessage({ kind: "result", index, result });
    } catch (error) {
      scope.postMessage({ kind: "failure", index, message: messageOf(error) });
    }
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

// Serve only when loaded as a Worker (a worker's global scope has `WorkerGlobalScope`).
if (typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope === "function") {
  serveTrials(globalThis as unknown as TrialScope);
}
