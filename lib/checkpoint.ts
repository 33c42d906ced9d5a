/**
 * Training checkpoints: a model file (see `model_file.ts`) whose metadata also holds what
 * resuming needs — the update count, the shuffling key of the current epoch, the key of the
 * next dropout masks and augmentation, the optimizer's state (SGD's velocity, or Adam's step
 * count and moments; float64 bytes, base64), the history so far and the run's options — so a
 * resumed run ends bit-identical to an uninterrupted one. Written atomically like every model
 * file.
 *
 * The network is stored whole, dropout layers included (so a checkpoint of a network with
 * dropout is a model file of format version 2).
 * Checkpoints written before model files had dropout layers held the network without them and
 * listed where they sat in `checkpoint.dropout` (`[{"index": i, "rate": p}, …]`);
 * {@linkcode loadCheckpoint} still puts those back.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { DataError } from "./errors.ts";
import { writeFileAtomically } from "./atomic_write.ts";
import { encodeModel, loadModel } from "./model_file.ts";
import {
  type DropoutPlacement,
  type LayerParameters,
  type NetworkParameters,
  parameterNames,
  withDropout,
} from "./network.ts";
import { isAdamState, type OptimizerState } from "./optimizer.ts";
import type { Normalization } from "./normalization.ts";
import type { RandomKey } from "./random.ts";
import { castTensor, tensor } from "./tensor.ts";
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
 * const state = { network, optimizer: { velocity: undefined }, update: 3, epochKey: randomKey(2), noiseKey: randomKey(3), history: [], epochSeconds: [] };
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
  const optimizer: Record<string, unknown> = isAdamState(state.optimizer)
    ? {
      velocity: null,
      adam: {
        step: state.optimizer.step,
        firstMoment: encodeParameters(state.optimizer.firstMoment),
        secondMoment: encodeParameters(state.optimizer.secondMoment),
      },
    }
    : { velocity: encodeParameters(state.optimizer.velocity) };
  const bytes = encodeModel({
    network: state.network,
    normalization,
    classNames,
    metadata: {
      checkpoint: {
        update: state.update,
        epochKey: [...state.epochKey.state],
        noiseKey: [...state.noiseKey.state],
        ...optimizer,
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
  const { update, epochKey, noiseKey, velocity, adam, dropout, history, epochSeconds } =
    saved as Record<string, unknown>;
  if (!Number.isInteger(update) || (update as number) < 0) fail(`update is ${update}`);
  const readKey = (words: unknown, what: string): RandomKey => {
    if (
      !Array.isArray(words) || words.length !== 4 ||
      !words.every((word) => Number.isInteger(word) && word >= -(2 ** 31) && word < 2 ** 32)
    ) {
      fail(`the ${what} key is not four 32-bit words`);
    }
    return { state: words as unknown as RandomKey["state"] };
  };
  if (!Array.isArray(history)) fail("the history is not a list");
  if (!Array.isArray(epochSeconds)) fail("the epoch times are not a list");
  if (!model.normalization || !model.classNames) fail("it has no normalization or class names");
  // Checkpoints from before model files had dropout layers list them here instead.
  if (dropout !== undefined && !Array.isArray(dropout)) fail("the dropout layers are not a list");
  let network = model.network;
  const placements = (dropout ?? []) as DropoutPlacement[];
  if (
    placements.length > 0 && network.architecture.layers.some((layer) => layer.kind === "dropout")
  ) {
    fail("it lists dropout layers beside a network that already has them");
  }
  try {
    network = withDropout(network, placements);
  } catch (error) {
    fail(`its dropout layers do not fit the network: ${(error as Error).message}`);
  }
  const decode = (encoded: unknown, what: string) =>
    decodeParameters(encoded, network.parameters, what, fail);
  let optimizer: OptimizerState;
  if (adam !== undefined) {
    const { step, firstMoment, secondMoment } = adam as Record<string, unknown>;
    if (!Number.isInteger(step) || (step as number) < 0) fail(`the Adam step count is ${step}`);
    optimizer = {
      step: step as number,
      firstMoment: decode(firstMoment, "Adam first moment"),
      secondMoment: decode(secondMoment, "Adam second moment"),
    };
  } else optimizer = { velocity: decode(velocity, "velocity") };
  const state: TrainingState = {
    network,
    optimizer,
    update: update as number,
    epochKey: readKey(epochKey, "shuffling"),
    // Checkpoints from before dropout and augmentation had no noise key; none was drawn from.
    noiseKey: noiseKey === undefined ? readKey(epochKey, "shuffling") : readKey(noiseKey, "noise"),
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

/** Float64 bytes (base64) of every tensor of a parameter-shaped record, or null. */
function encodeParameters(
  parameters: NetworkParameters | undefined,
): Record<string, string>[] | null {
  return parameters?.map((layer) =>
    Object.fromEntries(
      parameterNames.flatMap((name) => {
        const stored = layer[name];
        if (!stored) return [];
        const { data } = castTensor(stored, "float64");
        return [[
          name,
          Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("base64"),
        ]];
      }),
    )
  ) ?? null;
}

/** The inverse of {@linkcode encodeParameters}, checked against the network's parameter shapes. */
function decodeParameters(
  encoded: unknown,
  parameters: NetworkParameters,
  what: string,
  fail: (problem: string) => never,
): LayerParameters[] | undefined {
  if (encoded === null || encoded === undefined) return undefined;
  if (!Array.isArray(encoded) || encoded.length !== parameters.length) {
    fail(`the ${what} does not have one entry per layer`);
  }
  return parameters.map((layer, layerIndex) => {
    const entry = (encoded as Record<string, unknown>[])[layerIndex];
    const restored: Record<string, unknown> = {};
    for (const name of parameterNames) {
      const value = layer[name];
      if (!value) continue;
      const text = entry?.[name];
      if (typeof text !== "string") fail(`layer ${layerIndex} has no ${what} for ${name}`);
      const bytes = new Uint8Array(Buffer.from(text as string, "base64"));
      if (bytes.length !== value.data.length * 8) {
        fail(
          `layer ${layerIndex} ${name} ${what} has ${bytes.length} bytes, not ${
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
