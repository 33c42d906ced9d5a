/**
 * Batch-norm statistics for evaluation, recomputed after training instead of the moving
 * averages:
 *
 * - PreciseBN ({@linkcode preciseBatchNorm}): the mean over many training batches of each
 *   batch-norm layer's batch mean and (biased) batch variance, with the final weights. The
 *   moving averages mix statistics of weights from many updates ago; these do not.
 * - Adaptive BN ({@linkcode adaptiveBatchNorm}): the same average over batches of the data
 *   being evaluated, so that its statistics replace the training set's (a form of test-time
 *   adaptation; it needs the evaluation inputs, not their labels).
 *
 * Both run the network the way evaluation sees it except for batch norm: batch norm on the
 * batch's statistics, dropout the identity (so a batch-norm layer after dropout gets the
 * statistics evaluation will feed it). Each batch-norm layer's input depends on the layers
 * before it only, so one pass per batch gives every layer's statistics.
 *
 * @module
 */
import type { BatchNormStatistics } from "./batch_norm.ts";
import { gatherBatch, identityOrder } from "./dataset.ts";
import type { ImageSet } from "./image_set.ts";
import {
  type Network,
  networkDType,
  networkTrainingForward,
  withDropout,
  withoutDropout,
} from "./network.ts";
import type { Normalization } from "./normalization.ts";
import { permutation, type RandomKey } from "./random.ts";
import { castTensor, tensor } from "./tensor.ts";

/** Options of {@linkcode preciseBatchNorm}. */
export interface PreciseBatchNormOptions {
  /** Samples per batch, like training's (statistics of small batches differ from large ones). */
  readonly batchSize: number;
  /** How many batches to average over (each a disjoint slice of one shuffle of the set). */
  readonly batches: number;
  /** Shuffles the training set before slicing it into batches. */
  readonly key: RandomKey;
}

/**
 * The network with each batch-norm layer's moving averages replaced by the mean of its batch
 * statistics over `batches` training batches of `batchSize` samples (PreciseBN).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { multilayerPerceptron } from "./architecture.ts";
 * import { initializeNetwork } from "./network.ts";
 * import { normalizationOf } from "./normalization.ts";
 * import { preciseBatchNorm } from "./precise_batch_norm.ts";
 * import { randomKey } from "./random.ts";
 * const images = { pixels: Uint8Array.from({ length: 40 * 4 }, (_, i) => (i * 37) % 256), labels: new Uint8Array(40), count: 40, features: 4, classNames: ["a", "b"] };
 * const architecture = multilayerPerceptron({ inputSize: 4, hiddenSizes: [3], classes: 2, batchNorm: true });
 * const network = initializeNetwork(architecture, randomKey(1), "he");
 * const precise = preciseBatchNorm(network, images, normalizationOf(images), { batchSize: 10, batches: 4, key: randomKey(2) });
 * assert.equal(precise.movingAverages[1]?.mean.rows, 3);
 * ```
 */
export function preciseBatchNorm<In extends number, Out extends number>(
  network: Network<In, Out>,
  training: ImageSet,
  normalization: Normalization,
  options: PreciseBatchNormOptions,
): Network<In, Out> {
  const { batchSize, batches, key } = options;
  assertBatching(batchSize, batches, training.count);
  const { indices } = permutation(key, training.count);
  return averagedStatistics(network, training, normalization, indices, batchSize, batches);
}

/**
 * The network with each batch-norm layer's moving averages replaced by the mean of its batch
 * statistics over `images` itself, in order, in batches of `batchSize` (the last, partial
 * batch left out unless it is the only one): Adaptive BN.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { multilayerPerceptron } from "./architecture.ts";
 * import { initializeNetwork } from "./network.ts";
 * import { normalizationOf } from "./normalization.ts";
 * import { adaptiveBatchNorm } from "./precise_batch_norm.ts";
 * import { randomKey } from "./random.ts";
 * const images = { pixels: Uint8Array.from({ length: 30 * 4 }, (_, i) => (i * 37) % 256), labels: new Uint8Array(30), count: 30, features: 4, classNames: ["a", "b"] };
 * const architecture = multilayerPerceptron({ inputSize: 4, hiddenSizes: [3], classes: 2, batchNorm: true });
 * const network = initializeNetwork(architecture, randomKey(1), "he");
 * // One batch of all 30 samples: the first batch-norm layer's mean is that of its inputs.
 * const adapted = adaptiveBatchNorm(network, images, normalizationOf(images), 30);
 * assert.ok(adapted.movingAverages[1] !== undefined);
 * ```
 */
export function adaptiveBatchNorm<In extends number, Out extends number>(
  network: Network<In, Out>,
  images: ImageSet,
  normalization: Normalization,
  batchSize: number,
): Network<In, Out> {
  const size = Math.min(batchSize, images.count);
  const batches = Math.floor(images.count / size);
  assertBatching(size, batches, images.count);
  return averagedStatistics(
    network,
    images,
    normalization,
    identityOrder(images.count),
    size,
    batches,
  );
}

function assertBatching(batchSize: number, batches: number, count: number): void {
  if (!Number.isInteger(batchSize) || batchSize < 2) {
    throw new RangeError(
      `Cannot recompute batch-norm statistics with batch size ${batchSize}: use an integer ≥ 2`,
    );
  }
  if (!Number.isInteger(batches) || batches < 1 || batches * batchSize > count) {
    throw new RangeError(
      `Cannot recompute batch-norm statistics from ${batches} batches of ${batchSize}: the set has ${count} samples`,
    );
  }
}

function averagedStatistics<In extends number, Out extends number>(
  network: Network<In, Out>,
  images: ImageSet,
  normalization: Normalization,
  order: ArrayLike<number>,
  batchSize: number,
  batches: number,
): Network<In, Out> {
  const { network: plain, dropout } = withoutDropout(network);
  // Without previous averages, a training-mode pass returns the batch's own statistics.
  const fresh: Network = { ...plain, movingAverages: plain.movingAverages.map(() => undefined) };
  const dtype = networkDType(network);
  const sums: ({ mean: Float64Array; variance: Float64Array } | undefined)[] = plain
    .movingAverages.map(() => undefined);
  for (let batch = 0; batch < batches; batch++) {
    const { input } = gatherBatch(
      images,
      normalization,
      order,
      batch * batchSize,
      (batch + 1) * batchSize,
      dtype,
    );
    const { movingAverages } = networkTrainingForward(fresh, input);
    movingAverages.forEach((statistics, index) => {
      if (!statistics) return;
      const sum = sums[index] ??= {
        mean: new Float64Array(statistics.mean.rows),
        variance: new Float64Array(statistics.variance.rows),
      };
      for (let i = 0; i < sum.mean.length; i++) {
        sum.mean[i] += statistics.mean.data[i];
        sum.variance[i] += statistics.variance.data[i];
      }
    });
  }
  const movingAverages = sums.map((sum): BatchNormStatistics | undefined =>
    sum && {
      mean: castTensor(tensor(sum.mean.length, 1, sum.mean.map((value) => value / batches)), dtype),
      variance: castTensor(
        tensor(sum.variance.length, 1, sum.variance.map((value) => value / batches)),
        dtype,
      ),
    }
  );
  return withDropout({ ...plain, movingAverages: Object.freeze(movingAverages) }, dropout);
}
