/**
 * Running one study trial: a training run (train, record curves, evaluate on the test set) or
 * a gradient check. The result depends on the trial and the data alone — the seed is part of
 * the trial — so a trial gives the same result in any worker, in any order. Only `timing`
 * varies from run to run.
 *
 * A training trial's options reach {@linkcode train} and the network as `deno task train`'s
 * flags do (`--dropout`, `--bn-placement`, `--optimizer adam --weight-decay`, `--schedule
 * cosine --warmup`, `--flip`, `--translate`, `--bn-statistics`), with the same keys drawn from
 * the seed, so a trial on the full study's split can be rerun from the command line.
 *
 * @module
 */
import { multilayerPerceptron } from "./architecture.ts";
import { gatherBatch, identityOrder, sliceImageSet } from "./dataset.ts";
import { confusionMatrix, evaluateImageSet, type Metrics } from "./evaluation.ts";
import { gradCheck } from "./gradient_check.ts";
import type { ImageSet } from "./image_set.ts";
import { initializeNetwork, type Network } from "./network.ts";
import { type Normalization, normalizationOf } from "./normalization.ts";
import { adaptiveBatchNorm, preciseBatchNorm } from "./precise_batch_norm.ts";
import { type RandomKey, randomKey, splitKey } from "./random.ts";
import type { GradCheckTrial, SampleRange, TrainingTrial, Trial } from "./study_plan.ts";
import { DivergenceError, type HistoryPoint, train } from "./training.ts";

/** The images a study runs on. */
export interface StudyData {
  /** CIFAR-10's training images in file order (data_batch_1 … data_batch_5). */
  readonly pool: ImageSet;
  readonly test: ImageSet;
}

/** Wall-clock figures of a trial: they vary between runs and are left out of comparisons. */
export interface TrialTiming {
  readonly seconds: number;
  /** Mean seconds of an epoch's updates (training runs only). */
  readonly meanEpochSeconds?: number;
}

/** What a training trial gives. */
export interface TrainingTrialResult {
  readonly kind: "training";
  /** Training and validation metrics every `recordEvery` updates, and at the end. */
  readonly history: readonly HistoryPoint[];
  /**
   * Test metrics of the trained network, with the trial's batch-norm statistics; absent when
   * training diverged.
   */
  readonly test?: Metrics;
  /**
   * The test metrics with each kind of batch-norm statistics, for trials that choose PreciseBN
   * or Adaptive BN (`batchNormStatistics`): the moving averages, PreciseBN and Adaptive BN, all of
   * the same trained network.
   */
  readonly testByBatchNormStatistics?: {
    readonly moving: Metrics;
    readonly precise: Metrics;
    readonly adaptive: Metrics;
  };
  /** Test confusion matrix, [true class][predicted class]; absent when training diverged. */
  readonly confusionMatrix?: readonly (readonly number[])[];
  /** Set when a loss or parameter became NaN or infinite: where, and the library's message. */
  readonly diverged?: { readonly update: number; readonly message: string };
  readonly timing: TrialTiming;
}

/** One row of a gradient check: a parameter of a layer. */
export interface GradCheckRow {
  /** e.g. `Linear layer 2`. */
  readonly layer: string;
  /** `weight`, `bias`, `scale` (γ) or `shift` (β). */
  readonly parameter: string;
  /**
   * True for the bias of a linear layer followed by batch norm: batch norm subtracts the batch
   * mean, so that bias's true gradient is 0 and its relative error measures rounding noise.
   */
  readonly feedsBatchNorm: boolean;
  readonly entries: number;
  readonly kinks: number;
  readonly failures: number;
  readonly maximumAbsoluteError: number;
  readonly maximumRelativeError: number;
  readonly meanRelativeError: number;
}

/** What a gradient-check trial gives. */
export interface GradCheckTrialResult {
  readonly kind: "gradcheck";
  readonly passed: boolean;
  readonly method: string;
  readonly step: number;
  readonly rows: readonly GradCheckRow[];
  readonly timing: TrialTiming;
}

/** Any trial's result. */
export type TrialResult = TrainingTrialResult | GradCheckTrialResult;

/** The data, and the normalization statistics of each training range, computed once each. */
export interface TrialContext {
  readonly data: StudyData;
  /** The per-feature statistics of `range`'s training samples (memoized). */
  normalizationFor(range: SampleRange): Normalization;
}

/**
 * A context that computes each training range's normalization once.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { trialContext } from "./study_trial.ts";
 * const pool = { pixels: new Uint8Array([0, 255, 0, 255]), labels: new Uint8Array(4), count: 4, features: 1, classNames: ["a"] };
 * const context = trialContext({ pool, test: pool });
 * const normalization = context.normalizationFor({ start: 0, end: 4 });
 * assert.equal(normalization.mean[0], 0.5);
 * assert.equal(context.normalizationFor({ start: 0, end: 4 }), normalization);
 * ```
 */
export function trialContext(data: StudyData): TrialContext {
  const normalizations = new Map<string, Normalization>();
  return {
    data,
    normalizationFor(range) {
      const key = `${range.start}-${range.end}`;
      let normalization = normalizations.get(key);
      if (normalization === undefined) {
        normalization = normalizationOf(sliceImageSet(data.pool, range.start, range.end));
        normalizations.set(key, normalization);
      }
      return normalization;
    },
  };
}

/**
 * Runs a trial. `onUpdate` hears the number of updates done (training trials only).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { quickScale, twoLayerTrial } from "./study_plan.ts";
 * import { runTrial, trialContext } from "./study_trial.ts";
 * const pixels = Uint8Array.from({ length: 40 * 3072 }, (_, i) => (i * 37 + (i % 3072 < 1536 ? Math.floor(i / 3072) % 2 * 90 : 0)) % 256);
 * const labels = Uint8Array.from({ length: 40 }, (_, i) => i % 2);
 * const pool = { pixels, labels, count: 40, features: 3072, classNames: ["a", "b"] };
 * const trial = { ...twoLayerTrial(quickScale, 1), batchSize: 10, updates: 8, recordEvery: 4,
 *   training: { start: 0, end: 30 }, validation: { start: 30, end: 40 } };
 * const result = runTrial(trial, trialContext({ pool, test: pool }));
 * assert.ok(result.kind === "training" && result.history.length === 2 && result.test !== undefined);
 * ```
 */
export function runTrial(
  trial: Trial,
  context: TrialContext,
  onUpdate: (update: number) => void = () => {},
): TrialResult {
  return trial.kind === "training"
    ? runTrainingTrial(trial, context, onUpdate)
    : runGradCheckTrial(trial, context);
}

function runTrainingTrial(
  trial: TrainingTrial,
  context: TrialContext,
  onUpdate: (update: number) => void,
): TrainingTrialResult {
  const start = performance.now();
  const { pool, test } = context.data;
  if (trial.optimizer !== undefined && trial.momentum !== 0) {
    throw new RangeError(
      `Cannot run trial ${trial.id} with momentum ${trial.momentum} and Adam: Adam has its own moments; set momentum to 0`,
    );
  }
  const training = sliceImageSet(pool, trial.training.start, trial.training.end);
  const validation = sliceImageSet(pool, trial.validation.start, trial.validation.end);
  const normalization = context.normalizationFor(trial.training);
  const architecture = multilayerPerceptron({
    inputSize: pool.features,
    hiddenSizes: trial.hiddenSizes,
    classes: pool.classNames.length,
    batchNorm: trial.batchNorm,
    batchNormPlacement: trial.batchNormPlacement,
    dropout: trial.dropout,
  });
  // The same keys as `deno task train --seed N`, so a trial can be rerun from the command line.
  const [networkKey, shuffleKey, noiseKey, preciseKey] = splitKey(randomKey(trial.seed), 4);
  const history: HistoryPoint[] = [];
  let result;
  try {
    result = train(
      initializeNetwork(architecture, networkKey, trial.initialization),
      { training, validation },
      normalization,
      {
        batchSize: trial.batchSize,
        lambda: trial.lambda,
        schedule: trial.schedule,
        optimizer: trial.optimizer ?? { kind: "sgd", momentum: trial.momentum },
        updates: trial.updates,
        key: shuffleKey,
        noiseKey,
        augmentation: trial.augmentation,
        recordEvery: trial.recordEvery,
        trainingMetricsSize: trial.trainingMetricsSize,
      },
      (event) => {
        if (event.kind === "update") onUpdate(event.update);
        else if (event.kind === "record") history.push(event.point);
      },
    );
  } catch (error) {
    if (!(error instanceof DivergenceError)) throw error;
    return {
      kind: "training",
      history,
      diverged: { update: error.update, message: error.message },
      timing: { seconds: (performance.now() - start) / 1000 },
    };
  }
  const { evaluation, testByBatchNormStatistics } = testEvaluation(
    trial,
    result.network,
    training,
    test,
    normalization,
    preciseKey,
  );
  const epochs = result.epochSeconds;
  return {
    kind: "training",
    history: result.history,
    test: evaluation.metrics,
    ...(testByBatchNormStatistics && { testByBatchNormStatistics }),
    confusionMatrix: confusionMatrix(evaluation.predicted, test.labels, pool.classNames.length),
    timing: {
      seconds: (performance.now() - start) / 1000,
      meanEpochSeconds: epochs.reduce((sum, value) => sum + value, 0) / Math.max(1, epochs.length),
    },
  };
}

/**
 * The trained network's test evaluation with the trial's batch-norm statistics, and — when the
 * trial chooses PreciseBN or Adaptive BN — the test metrics with each of the three, as
 * `deno task train --bn-statistics` computes them.
 */
function testEvaluation(
  trial: TrainingTrial,
  network: Network,
  training: ImageSet,
  test: ImageSet,
  normalization: Normalization,
  preciseKey: RandomKey,
): {
  evaluation: ReturnType<typeof evaluateImageSet>;
  testByBatchNormStatistics?: TrainingTrialResult["testByBatchNormStatistics"];
} {
  const evaluate = (evaluated: Network) =>
    evaluateImageSet(evaluated, test, normalization, trial.lambda);
  const moving = evaluate(network);
  if (trial.batchNormStatistics === undefined) return { evaluation: moving };
  const updatesPerEpoch = Math.floor(training.count / trial.batchSize);
  const precise = evaluate(preciseBatchNorm(network, training, normalization, {
    batchSize: trial.batchSize,
    batches: Math.min(trial.preciseBatches ?? 200, updatesPerEpoch),
    key: preciseKey,
  }));
  const adaptive = evaluate(adaptiveBatchNorm(network, test, normalization, trial.batchSize));
  return {
    evaluation: trial.batchNormStatistics === "precise" ? precise : adaptive,
    testByBatchNormStatistics: {
      moving: moving.metrics,
      precise: precise.metrics,
      adaptive: adaptive.metrics,
    },
  };
}

function runGradCheckTrial(trial: GradCheckTrial, context: TrialContext): GradCheckTrialResult {
  const start = performance.now();
  const { pool } = context.data;
  const { features, samples } = trial;
  if (features > pool.features) {
    throw new RangeError(
      `Cannot gradient-check on ${features} features: the images have ${pool.features}`,
    );
  }
  // The first `features` dimensions of every training sample, normalized with their statistics.
  const { start: first, end } = trial.training;
  const count = end - first;
  const pixels = new Uint8Array(count * features);
  for (let i = 0; i < count; i++) {
    const offset = (first + i) * pool.features;
    pixels.set(pool.pixels.subarray(offset, offset + features), i * features);
  }
  const reduced: ImageSet = {
    pixels,
    labels: pool.labels.subarray(first, end),
    count,
    features,
    classNames: pool.classNames,
  };
  const { input, labels } = gatherBatch(
    reduced,
    normalizationOf(reduced),
    identityOrder(samples),
    0,
    samples,
  );
  const architecture = multilayerPerceptron({
    inputSize: features,
    hiddenSizes: trial.hiddenSizes,
    classes: pool.classNames.length,
    batchNorm: true,
  });
  const [networkKey] = splitKey(randomKey(trial.seed), 2);
  const network = initializeNetwork(architecture, networkKey, "he");
  const result = gradCheck(network, input, labels, { lambda: trial.lambda, method: trial.method });
  return {
    kind: "gradcheck",
    passed: result.passed,
    method: result.method,
    step: result.step,
    rows: result.parameters.map((check) => ({
      layer: check.layer,
      parameter: check.parameter,
      feedsBatchNorm: check.parameter === "bias" &&
        architecture.layers[check.layerIndex + 1]?.kind === "batchNorm",
      entries: check.entries,
      kinks: check.kinks,
      failures: check.failures,
      maximumAbsoluteError: check.maximumAbsoluteError,
      maximumRelativeError: check.maximumRelativeError,
      meanRelativeError: check.meanRelativeError,
    })),
    timing: { seconds: (performance.now() - start) / 1000 },
  };
}
