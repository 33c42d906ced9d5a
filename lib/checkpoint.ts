/**
 * Training checkpoints: a model file (see `model_file.ts`) whose metadata also holds what
 * resuming needs — the update count, the shuffling key of the current epoch, the optimizer's
 * velocity (float64 bytes, base64), the history so far and the run's options — so a resumed
 * run ends bit-identical to an uninterrupted one. Written atomically like every model file.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { DataError } from "./errors.ts";
import { writeFileAtomically } from "./atomic_write.ts";
import { encodeModel, loadModel } from "./model_file.ts";
import { type LayerParameters, parameterNames } from "./network.ts";
import type { Normalization } from "./normalization.ts";
import type { RandomKey } from "./random.ts";
import { tensor } from "./tensor.ts";
import type { HistoryPoint, TrainingState } from "./training.ts";

/** A training state with the data normalization, the class names and the run's options. */
export interface Checkpoint {
  readonly state: TrainingState;
  readonly normalization: Normalization;
  readonly classNames: readonly string[];
  /** The options the run was started with (JSON), so a resume continues the same run. */
  readonly options: Record<string, unknown>;
}

/**
 * Writes a checkpoint to `path` atomically (temporary file, fsync, rename), synchronously: it
 * is called from inside the training loop.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { linear, sequential } from "./architecture.ts";
 * import { loadCheckpoint, saveCheckpoint } from "./checkpoint.ts";
 * import { initializeNetwork } from "./network.ts";
 * import { randomKey } from "./random.ts";
 * const network = initializeNetwork(sequential(linear(2, 2)), randomKey(1), "he");
 * const state = { network, optimizer: { velocity: undefined }, update: 3, epochKey: randomKey(2), history: [], epochSeconds: [] };
 * const normalization = { mean: new Float64Array(2), standardDeviation: new Float64Array([1, 1]) };
 * const directory = await Deno.makeTempDir();
 * saveCheckpoint(`${directory}/checkpoint.fcnn`, { state, normalization, classNames: ["a", "b"], options: { seed: 1 } });
 * const loaded = await loadCheckpoint(`${directory}/checkpoint.fcnn`);
 * assert.equal(loaded.state.update, 3);
 * assert.deepEqual(loaded.state.epochKey, randomKey(2));
 * await Deno.remove(directory, { recursive: true });
 * ```
 */
export function saveCheckpoint(path: string, checkpoint: Checkpoint): void {
  const { state, normalization, classNames, options } = checkpoint;
  const velocity = state.optimizer.velocity?.map((layer) =>
    Object.fromEntries(
      parameterNames.flatMap((name) => {
        const value = layer[name];
        return value
          ? [[
            name,
            Buffer.from(value.data.buffer, value.data.byteOffset, value.data.byteLength).toString(
              "base64",
            ),
          ]]
          : [];
      }),
    )
  ) ?? null;
  const bytes = encodeModel({
    network: state.network,
    normalization,
    classNames,
    metadata: {
      checkpoint: {
        update: state.update,
        epochKey: [...state.epochKey.state],
        velocity,
        history: state.history,
        epochSeconds: state.epochSeconds,
      },
      options,
    },
  });
  writeFileAtomically(path, bytes, `Cannot save the checkpoint to ${path}`);
}

/**
 * Reads a checkpoint written by {@linkcode saveCheckpoint}; a missing, corrupt or non-checkpoint
 * file is a {@linkcode DataError} naming `path`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadCheckpoint } from "./checkpoint.ts";
 * import { DataError } from "./errors.ts";
 * await assert.rejects(loadCheckpoint("no/such/checkpoint.fcnn"), DataError);
 * ```
 */
export async function loadCheckpoint(path: string): Promise<Checkpoint> {
  const model = await loadModel(path);
  const fail = (problem: string): never => {
    throw new DataError(path, `not a usable checkpoint: ${problem}`);
  };
  const metadata = model.metadata ?? fail("it has no metadata");
  const saved = metadata.checkpoint as Record<string, unknown> | undefined;
  if (typeof saved !== "object" || saved === null) fail("it has no checkpoint section");
  const { update, epochKey, velocity, history, epochSeconds } = saved as Record<string, unknown>;
  if (!Number.isInteger(update) || (update as number) < 0) fail(`update is ${update}`);
  if (
    !Array.isArray(epochKey) || epochKey.length !== 4 ||
    !epochKey.every((word) => Number.isInteger(word) && word >= -(2 ** 31) && word < 2 ** 32)
  ) {
    fail("the shuffling key is not four 32-bit words");
  }
  if (!Array.isArray(history)) fail("the history is not a list");
  if (!Array.isArray(epochSeconds)) fail("the epoch times are not a list");
  if (!model.normalization || !model.classNames) fail("it has no normalization or class names");
  const network = model.network;
  let restoredVelocity: LayerParameters[] | undefined;
  if (velocity !== null) {
    if (!Array.isArray(velocity) || velocity.length !== network.parameters.length) {
      fail("the velocity does not have one entry per layer");
    }
    restoredVelocity = network.parameters.map((layer, layerIndex) => {
      const entry = (velocity as Record<string, unknown>[])[layerIndex];
      const restored: Record<string, unknown> = {};
      for (const name of parameterNames) {
        const value = layer[name];
        if (!value) continue;
        const encoded = entry?.[name];
        if (typeof encoded !== "string") fail(`layer ${layerIndex} has no velocity for ${name}`);
        const bytes = new Uint8Array(Buffer.from(encoded as string, "base64"));
        if (bytes.length !== value.data.length * 8) {
          fail(
            `layer ${layerIndex} ${name} velocity has ${bytes.length} bytes, not ${
              value.data.length * 8
            }`,
          );
        }
        const data = new Float64Array(bytes.buffer, bytes.byteOffset, value.data.length).slice();
        restored[name] = tensor(value.rows, value.columns, data);
      }
      return restored as LayerParameters;
    });
  }
  const state: TrainingState = {
    network,
    optimizer: { velocity: restoredVelocity },
    update: update as number,
    epochKey: { state: epochKey as unknown as RandomKey["state"] },
    history: history as HistoryPoint[],
    epochSeconds: epochSeconds as number[],
  };
  return {
    state,
    normalization: model.normalization!,
    classNames: model.classNames!,
    options: (metadata.options ?? {}) as Record<string, unknown>,
  };
}
