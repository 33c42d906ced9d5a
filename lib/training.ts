/**
 * Mini-batch gradient descent on an image set: shuffled every epoch from an explicit key,
 * SGD with optional momentum, a learning-rate schedule, L2 λ, batch-norm moving averages, and a
 * history of training and validation metrics.
 *
 * @module
 */
import { gatherBatch, sliceImageSet } from "./dataset.ts";
import { evaluateImageSet, type Metrics } from "./evaluation.ts";
import { assertSchedule, learningRateAt, type LearningRateSchedule } from "./learning_rate.ts";
import type { Network } from "./network.ts";
import type { Normalization } from "./normalization.ts";
import { trainingGradients } from "./objective.ts";
import { permutation, type RandomKey } from "./random.ts";
import { initialSgdState, sgdStep } from "./sgd.ts";
import type { ImageSet } from "./image_set.ts";

/** Options of {@linkcode train}. */
export interface TrainingOptions {
  readonly batchSize: number;
  /** λ of the L2 term. */
  readonly lambda: number;
  readonly schedule: LearningRateSchedule;
  /** ρ of SGD with momentum; 0 for plain SGD. */
  readonly momentum: number;
  /** Total number of updates (mini-batches); epochs = ⌈updates / ⌊n / batchSize⌋⌉. */
  readonly updates: number;
  /** Shuffles the training set, a new permutation every epoch. */
  readonly key: RandomKey;
  /** Record metrics every this many updates (default: once per epoch), and at the end. */
  readonly recordEvery?: number;
  /** Training metrics are measured on the first this many training samples (default 5000). */
  readonly trainingMetricsSize?: number;
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
  | { readonly kind: "epoch"; readonly epoch: number; readonly seconds: number };

/** The trained network, its history, and the training time of each epoch. */
export interface TrainingResult {
  readonly network: Network;
  readonly history: readonly HistoryPoint[];
  /** Seconds spent in each epoch's updates (gathering, forward, backward, step); evaluation excluded. */
  readonly epochSeconds: readonly number[];
}

/**
 * Trains `network` on `data.training`, recording metrics on a training subset and on
 * `data.validation`. The same network, data, options and key give the same result, bit for bit.
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
  const { batchSize, lambda, schedule, momentum, updates } = options;
  const { training, validation } = data;
  assertSchedule(schedule);
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

  const history: HistoryPoint[] = [];
  const epochSeconds: number[] = [];
  let key = options.key;
  let optimizerState = initialSgdState;
  let update = 0;
  for (let epoch = 0; update < updates; epoch++) {
    const shuffled = permutation(key, training.count);
    key = shuffled.key;
    const epochStart = performance.now();
    let evaluationMilliseconds = 0;
    for (let batch = 0; batch < updatesPerEpoch && update < updates; batch++) {
      const { input, labels } = gatherBatch(
        training,
        normalization,
        shuffled.indices,
        batch * batchSize,
        (batch + 1) * batchSize,
      );
      const result = trainingGradients(network, input, labels, lambda);
      const step = sgdStep(network.parameters, result.gradients, optimizerState, {
        learningRate: learningRateAt(schedule, update, updatesPerEpoch),
        momentum,
      });
      network = { ...network, parameters: step.parameters, movingAverages: result.movingAverages };
      optimizerState = step.state;
      update++;
      onEvent({ kind: "update", update, updates, epoch, loss: result.loss });
      if (update % recordEvery === 0 && update !== updates) {
        const evaluationStart = performance.now();
        history.push(record(network, update));
        evaluationMilliseconds += performance.now() - evaluationStart;
      }
    }
    const seconds = (performance.now() - epochStart - evaluationMilliseconds) / 1000;
    epochSeconds.push(seconds);
    onEvent({ kind: "epoch", epoch, seconds });
  }
  history.push(record(network, update));
  return { network, history, epochSeconds };
}
