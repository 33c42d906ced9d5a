/**
 * Where a study keeps its finished trials so that a rerun skips them: `trials.jsonl` in the
 * output folder, one JSON line `{ trial, result, finishedAt }` per finished trial, appended as
 * each trial finishes. A trial is found again by its whole specification (its JSON), so a
 * changed setting — another scale, seed or λ — never picks up an old result.
 *
 * A line cut short by a crash is ignored when the file is read, and the next line starts on a
 * fresh line, so the file stays readable whatever happened before.
 *
 * @module
 */
import { join } from "node:path";
import type { Trial } from "./study_plan.ts";
import type { TrialResult } from "./study_trial.ts";

/** The file name of the trial log inside the output folder. */
export const trialLogName = "trials.jsonl";

/** One line of the trial log. */
export interface StoredTrial {
  readonly trial: Trial;
  readonly result: TrialResult;
  /** ISO 8601 time the trial finished. */
  readonly finishedAt: string;
}

/** The finished trials of a study folder. */
export interface TrialStore {
  /** The trial log's path. */
  readonly path: string;
  /** How many finished trials the log held when opened. */
  readonly storedCount: number;
  /** The stored result of exactly this trial, if it finished before. */
  find(trial: Trial): TrialResult | undefined;
  /** Appends a finished trial to the log (writes are queued, one at a time). */
  save(trial: Trial, result: TrialResult): Promise<void>;
}

/**
 * Opens (or starts) the trial log in `directory`, which must exist.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { quickScale, twoLayerTrial } from "./study_plan.ts";
 * import { openTrialStore } from "./study_store.ts";
 * const directory = await Deno.makeTempDir();
 * const trial = twoLayerTrial(quickScale, 1);
 * const result = { kind: "gradcheck", passed: true, method: "centered", step: 1e-6, rows: [], timing: { seconds: 1 } } as const;
 * await (await openTrialStore(directory)).save(trial, result);
 * const reopened = await openTrialStore(directory);
 * assert.deepEqual(reopened.find(trial), result);
 * assert.equal(reopened.find({ ...trial, seed: 2 }), undefined);
 * await Deno.remove(directory, { recursive: true });
 * ```
 */
export async function openTrialStore(directory: string): Promise<TrialStore> {
  const path = join(directory, trialLogName);
  let text = "";
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  const results = new Map<string, TrialResult>();
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    let stored: StoredTrial;
    try {
      stored = JSON.parse(line);
    } catch {
      continue; // a line cut short by a crash
    }
    if (stored?.trial !== undefined && stored.result !== undefined) {
      results.set(JSON.stringify(stored.trial), stored.result);
    }
  }
  const storedCount = results.size;
  let needsNewline = text.length > 0 && !text.endsWith("\n");
  let writing = Promise.resolve();
  return {
    path,
    storedCount,
    find: (trial) => results.get(JSON.stringify(trial)),
    save(trial, result) {
      const key = JSON.stringify(trial);
      const record: StoredTrial = { trial, result, finishedAt: new Date().toISOString() };
      const line = `${needsNewline ? "\n" : ""}${JSON.stringify(record)}\n`;
      needsNewline = false;
      writing = writing.then(async () => {
        const file = await Deno.open(path, { append: true, create: true });
        try {
          const bytes = new TextEncoder().encode(line);
          for (let written = 0; written < bytes.length;) {
            written += await file.write(bytes.subarray(written));
          }
          await file.sync();
        } catch (error) {
          throw new Error(
            `Cannot append trial ${trial.id} to ${path}: ${
              error instanceof Error ? error.message : String(error)
            }`,
            { cause: error },
          );
        } finally {
          file.close();
        }
        results.set(key, result);
      });
      return writing;
    },
  };
}
