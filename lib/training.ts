/**
 * Mini-batch training on an image set: shuffled every epoch from an explicit key, SGD with
 * optional momentum or Adam/AdamW, a learning-rate schedule, L2 λ, batch-norm moving averages,
 * dropout and on-the-fly augmentation drawn from a second explicit key, and a history of
 * training and validation metrics.
 *
 * @module
 */
import {
  assertAugmentation,
  gatherAugmentedBatch,
  type ImageAugmentation,
} from "./augmentation.ts";
import { gatherBatch, sliceImageSet } from "./dataset.ts";
import { evaluateImageSet, type Metrics } from "./evaluation.ts";
import { assertSchedule, learningRateAt, type TrainingSchedule } from "./learning_rate.ts";
import {
  castNetwork,
  mapNetworkTensors,
  type Network,
  networkDType,
  parameterNames,
} from "./network.ts";
import { layerName } from "./architecture.ts";
import type { Normalization } from "./normalization.ts";
import { trainingGradients } from "./objective.ts";
import {
  castOptimizerState,
  initialOptimizerState,
  mapOptimizerTensors,
  type Optimizer,
  type OptimizerState,
  optimizerStep,
} from "./optimizer.ts";
import { permutation, type RandomKey, splitKey } from "./random.ts";
import { BufferPool, withBufferPool } from "./buffer_pool.ts";
import type { ImageSet } from "./image_set.ts";
import type { FloatArray } from "./tensor.ts";

/** Options of {@linkcode train}. */
export interface TrainingOptions {
  readonly batchSize: number;
  /** λ of the L2 term. */
  readonly lambda: number;
  readonly schedule: TrainingSchedule;
  /** ρ of SGD with momentum (default 0, plain SGD); give this or `optimizer`, not both. */
  readonly momentum?: number;
  /** The optimizer (default SGD with `momentum`). */
  readonly optimizer?: Optimizer;
  /** Total number of updates (mini-batches); epochs = ⌈updates / ⌊n / batchSize⌋⌉. */
  readonly updates: number;
  /** Shuffles the training set, a new permutation every epoch. */
  readonly key: RandomKey;
  /**
   * Draws the dropout masks and the augmentation of every update (default: a key split from
   * `key`); each update splits it into its dropout key, its augmentation key and the next one.
   */
  readonly noiseKey?: RandomKey;
  /** Random flips and translations of every training batch (default: none). */
  readonly augmentation?: ImageAugmentation;
  /** Record metrics every this many updates (default: once per epoch), and at the end. */
  readonly recordEvery?: number;
  /** Training metrics are measured on the first this many training samples (default 5000). */
  readonly trainingMetricsSize?: number;
  /** Emit a `checkpoint` event with the {@linkcode TrainingState} every this many updates. */
  readonly checkpointEvery?: number;
  /** Continue from a state a checkpoint or a stop gave; the other options must be the same. */
  readonly resumeFrom?: TrainingState;
  /** Asked after every update; `true` ends training early with `stopped` set. */
  readonly shouldStop?: () => boolean;
  /**
   * Reuse tensor buffers from update to update (default `true`, faster: see
   * `buffer_pool.ts`); `false` allocates every tensor afresh. The results are the same, bit for bit.
   */
  readonly reuseBuffers?: boolean;
}

/** Metrics at one point of training. */
export interface HistoryPoint {
  /** Updates done so far. */
  readonly update: number;
  /** Epochs done so far (fractional between epochs). */
  readonly epoch: number;
  /** The learning rate of the last update. */
  readonly learningRate: number;
  readonly training: Metrics;
  readonly validation: Metrics;
}

/** What {@linkcode train} reports as it goes. */
export type TrainingEvent =
  | {
    readonly kind: "update";
    readonly update: number;
    readonly updates: number;
    readonly epoch: number;
    readonly loss: number;
  }
  | { readonly kind: "record"; readonly point: HistoryPoint }
  | { readonly kind: "epoch"; readonly epoch: number; readonly seconds: number }
  | { readonly kind: "checkpoint"; readonly state: TrainingState };

/** The trained network, its history, and the training time of each epoch. */
export interface TrainingResult {
  readonly network: Network;
  readonly history: readonly HistoryPoint[];
  /**
   * Seconds spent in each epoch's updates (gathering, forward, backward, step); evaluation
   * excluded. An epoch split by a stop and a resume counts only its part after the resume.
   */
  readonly epochSeconds: readonly number[];
  /** Set when `shouldStop` ended training early: the state to resume from. */
  readonly stopped?: TrainingState;
}

/**
 * Everything needed to continue training bit-identically: the network (parameters and moving
 * averages), the optimizer's state (SGD's velocity, or Adam's moments and step count), how many
 * updates are done, the key that shuffles the epoch the next update belongs to (its
 * permutation is drawn again from it), and the key of the next update's dropout masks and
 * augmentation.
 */
export interface TrainingState {
  readonly network: Network;
  readonly optimizer: OptimizerState;
  readonly update: number;
  readonly epochKey: RandomKey;
  readonly noiseKey: RandomKey;
  readonly history: readonly HistoryPoint[];
  readonly epochSeconds: readonly number[];
}

/**
 * Trains `network` on `data.training`, recording metrics on a training subset and on
 * `data.validation`. Training runs in the network's number type: pass
 * `castNetwork(network, "float32")` to train in float32. The same network, data, options and
 * key give the same result, bit for bit, also when the run is stopped and resumed from a
 * {@linkcode TrainingState}. A NaN or infinite loss throws a {@linkcode DivergenceError} at
 * once, naming the parameter the update before left non-finite where there is one; no
 * checkpoint or result ever holds one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { multilayerPerceptron } from "./architecture.ts";
 * import { initializeNetwork } from "./network.ts";
 * import { normalizationOf } from "./normalization.ts";
 * import { randomKey } from "./random.ts";
 * import { train } from "./training.ts";
 * const pixels = Uint8Array.from({ length: 40 * 4 }, (_, i) => (i * 37) % 256);
 * const labels = Uint8Array.from({ length: 40 }, (_, i) => i % 2);
 * const images = { pixels, labels, count: 40, features: 4, classNames: ["a", "b"] };
 * const architecture = multilayerPerceptron({ inputSize: 4, hiddenSizes: [8], classes: 2, batchNorm: true });
 * const result = train(initializeNetwork(architecture, randomKey(1), "he"), { training: images, validation: images }, normalizationOf(images), {
 *   batchSize: 10, lambda: 0.001, schedule: { kind: "constant", learningRate: 0.05 }, momentum: 0.9, updates: 40, key: randomKey(2),
 * });
 * assert.equal(result.history.length, 10);
 * assert.equal(result.epochSeconds.length, 10);
 * ```
 */
export function train(
  network: Network,
  data: { readonly training: ImageSet; readonly validation: ImageSet },
  normalization: Normalization,
  options: TrainingOptions,
  onEvent: (event: TrainingEvent) => void = () => {},
): TrainingResult {
  const { batchSize, lambda, schedule, updates, augmentation } = options;
  const { training, validation } = data;
  assertSchedule(schedule);
  if (options.optimizer !== undefined && options.momentum !== undefined) {
    throw new TypeError(
      `Cannot train with both momentum ${options.momentum} and an optimizer: give the momentum in the SGD optimizer`,
    );
  }
  const optimizerSpec: Optimizer = options.optimizer ??
    { kind: "sgd", momentum: options.momentum ?? 0 };
  if (augmentation) assertAugmentation(augmentation, training.features);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > training.count) {
    throw new RangeError(
      `Cannot train with batch size ${batchSize}: it must be an integer from 1 to the ${training.count} training samples`,
    );
  }
  if (!Number.isInteger(updates) || updates < 0) {
    throw new RangeError(`Cannot train for ${updates} updates: give a non-negative integer`);
  }
  const updatesPerEpoch = Math.floor(training.count / batchSize);
  const recordEvery = options.recordEvery ?? updatesPerEpoch;
  if (!Number.isInteger(recordEvery) || recordEvery < 1) {
    throw new RangeError(
      `Cannot record metrics every ${recordEvery} updates: give a positive integer`,
    );
  }
  const trainingSubset = sliceImageSet(
    training,
    0,
    Math.min(training.count, options.trainingMetricsSize ?? 5000),
  );
  const record = (current: Network, update: number): HistoryPoint => {
    const point = {
      update,
      epoch: update / updatesPerEpoch,
      learningRate: learningRateAt(schedule, Math.max(0, update - 1), updatesPerEpoch),
      training: evaluateImageSet(current, trainingSubset, normalization, lambda).metrics,
      validation: evaluateImageSet(current, validation, normalization, lambda).metrics,
    };
    onEvent({ kind: "record", point });
    return point;
  };

  const dtype = networkDType(network);
  const resume = options.resumeFrom;
  if (
    resume && !(Number.isInteger(resume.update) && resume.update >= 0 && resume.update <= updates)
  ) {
    throw new RangeError(
      `Cannot resume at update ${resume.update}: the run has ${updates} updates`,
    );
  }
  const history: HistoryPoint[] = [...(resume?.history ?? [])];
  const epochSeconds: number[] = [...(resume?.epochSeconds ?? [])];
  let epochKey = resume?.epochKey ?? options.key;
  let noiseKey = resume?.noiseKey ?? options.noiseKey ?? splitKey(options.key, 2)[1];
  let optimizer = initialOptimizerState(optimizerSpec);
  let update = resume?.update ?? 0;
  if (resume) {
    // A state read back from a checkpoint is float64; continue in the network's own type.
    network = castNetwork(resume.network, dtype);
    optimizer = castOptimizerState(resume.optimizer, dtype);
  }
  // Each update's tensors come from two alternating generations of buffers (buffer_pool.ts);
  // whatever leaves the loop is detached from them first.
  const pool = options.reuseBuffers === false ? undefined : new BufferPool();
  /** Throws when the last update left a parameter NaN or infinite (see assertFiniteParameters). */
  const checkParameters = () => {
    if (update === 0) return;
    assertFiniteParameters(network, update, learningRateAt(schedule, update - 1, updatesPerEpoch));
  };
  const detachedNetwork = (): Network => {
    checkParameters();
    return pool ? mapNetworkTensors(network, (value) => pool.detach(value)) : network;
  };
  const stateAt = (nextEpochKey: RandomKey): TrainingState => ({
    network: detachedNetwork(),
    optimizer: pool ? mapOptimizerTensors(optimizer, (value) => pool.detach(value)) : optimizer,
    update,
    epochKey: nextEpochKey,
    noiseKey,
    history: [...history],
    epochSeconds: [...epochSeconds],
  });
  try {
    while (update < updates) {
      const epoch = Math.floor(update / updatesPerEpoch);
      const shuffled = permutation(epochKey, training.count);
      const epochStart = performance.now();
      let evaluationMilliseconds = 0;
      for (
        let batch = update % updatesPerEpoch;
        batch < updatesPerEpoch && update < updates;
        batch++
      ) {
        const [dropoutKey, augmentationKey, nextNoiseKey] = splitKey(noiseKey, 3);
        const first = batch * batchSize, last = (batch + 1) * batchSize;
        const learningRate = learningRateAt(schedule, update, updatesPerEpoch);
        const takeStep = () => {
          const { input, labels } = augmentation
            ? gatherAugmentedBatch(
              training,
              normalization,
              shuffled.indices,
              first,
              last,
              augmentation,
              augmentationKey,
              dtype,
            )
            : gatherBatch(training, normalization, shuffled.indices, first, last, dtype);
          const result = trainingGradients(network, input, labels, lambda, undefined, dropoutKey);
          if (!Number.isFinite(result.loss)) {
            checkParameters();
            throw new DivergenceError(
              update + 1,
              "the loss",
              "(cross-entropy)",
              result.loss,
              learningRate,
            );
          }
          const step = optimizerStep(
            optimizerSpec,
            network.parameters,
            result.gradients,
            optimizer,
            learningRate,
          );
          return { loss: result.loss, movingAverages: result.movingAverages, ...step };
        };
        pool?.beginStep();
        const step = pool ? withBufferPool(pool, takeStep) : takeStep();
        network = { ...network, parameters: step.parameters, movingAverages: step.movingAverages };
        optimizer = step.state;
        if (pool) {
          network = mapNetworkTensors(network, (value) => pool.keep(value));
          optimizer = mapOptimizerTensors(optimizer, (value) => pool.keep(value));
        }
        noiseKey = nextNoiseKey;
        update++;
        onEvent({ kind: "update", update, updates, epoch, loss: step.loss });
        const endsEpoch = batch === updatesPerEpoch - 1;
        if (endsEpoch) {
          epochSeconds.push((performance.now() - epochStart - evaluationMilliseconds) / 1000);
          onEvent({ kind: "epoch", epoch, seconds: epochSeconds[epochSeconds.length - 1] });
        }
        if (update % recordEvery === 0 && update !== updates) {
          const evaluationStart = performance.now();
          history.push(record(network, update));
          evaluationMilliseconds += performance.now() - evaluationStart;
        }
        const nextEpochKey = endsEpoch ? shuffled.key : epochKey;
        if (options.checkpointEvery !== undefined && update % options.checkpointEvery === 0) {
          onEvent({ kind: "checkpoint", state: stateAt(nextEpochKey) });
        }
        if (options.shouldStop?.() && update < updates) {
          const stopped = stateAt(nextEpochKey);
          return { network: stopped.network, history, epochSeconds, stopped };
        }
      }
      if (update % updatesPerEpoch === 0) epochKey = shuffled.key;
      else if (update === updates) {
        epochSeconds.push((performance.now() - epochStart - evaluationMilliseconds) / 1000);
        onEvent({ kind: "epoch", epoch, seconds: epochSeconds[epochSeconds.length - 1] });
      }
    }
    history.push(record(network, update));
    return { network: detachedNetwork(), history, epochSeconds };
  } finally {
    // What left the loop is detached; the pool's buffers can go back to where they came from.
    pool?.release();
  }
}

/**
 * Training diverged: a loss or parameter became NaN or ±Infinity. Says where and what to try.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DivergenceError } from "./training.ts";
 * const error = new DivergenceError(12, "Linear layer 1", "weight", NaN, 0.5);
 * assert.match(error.message, /update 12.*Linear layer 1 weight/);
 * ```
 */
export class DivergenceError extends Error {
  constructor(
    readonly update: number,
    readonly layer: string,
    readonly parameter: string,
    readonly value: number,
    readonly learningRate: number,
  ) {
    super(
      `Training diverged at update ${update}: ${layer} ${parameter} became ${value} (learning rate ${learningRate}); ` +
        "try a smaller learning rate (--eta-max or --learning-rate), a larger λ, batch norm, or a smaller initial σ",
    );
    this.name = "DivergenceError";
  }
}

/**
 * Throws a {@linkcode DivergenceError} naming the first non-finite parameter entry, made by
 * `update` with `learningRate`. (Every update checks its loss; a parameter that went NaN or
 * infinite makes the next loss so, and this then finds it. It also runs before a network
 * leaves training, so no checkpoint or result holds one.)
 */
function assertFiniteParameters(
  network: Network,
  update: number,
  learningRate: number,
): void {
  network.parameters.forEach((layer, layerIndex) => {
    for (const name of parameterNames) {
      const value = layer[name];
      if (!value) continue;
      // A sum is finite exactly when every entry is (short of overflow, itself divergence);
      // a plain loop costs a tenth of findIndex with a callback.
      if (Number.isFinite(sumOf(value.data))) continue;
      const index = value.data.findIndex((entry) => !Number.isFinite(entry));
      if (index >= 0) {
        throw new DivergenceError(
          update,
          layerName(network.architecture.layers, layerIndex),
          `${name} entry ${index}`,
          value.data[index],
          learningRate,
        );
      }
    }
  });
}

/** Σ entries, in a loop of its own so that V8 compiles it for one array type. */
function sumOf(data: FloatArray): number {
  let sum = 0;
  for (let i = 0; i < data.length; i++) sum += data[i];
  return sum;
}
