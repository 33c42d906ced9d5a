/**
 * The study's experiments as data: each trial (one training run or one gradient check) is a
 * plain record that fixes everything its result depends on — architecture, initialization,
 * λ, schedule, number of updates, seed and which samples it trains and validates on — so a
 * trial gives the same result wherever and whenever it runs, and its JSON is the key under
 * which a finished result is kept for resuming.
 *
 * Samples are named by ranges of the "pool": CIFAR-10's 50,000 training images in file order
 * (data_batch_1 first), so samples 0–9,999 are data_batch_1 and 45,000–49,999 the SPEC's 5,000
 * held out for validation. Every trial is tested on the whole test file.
 *
 * Experiments (the SPEC's table):
 * - `bn`: 3-layer [50, 50] and 9-layer [50, 30, 20, 20, 10, 10, 10, 10], with and without
 *   batch norm, λ = 0.005, cyclical η for 2 cycles;
 * - `lambda`: coarse random search of log10 λ in [−5, −1], a fine search around the best three,
 *   and a final run with the best λ for 3 cycles (built by {@linkcode lambdaSearchTrials} and
 *   {@linkcode fineLambdaTrials} as the results come in);
 * - `init`: a fixed σ ∈ {1e−1, 1e−3, 1e−4} for every layer, with and without batch norm;
 * - `learning-rate`: constant η small, medium and large, with and without batch norm;
 * - `two-layer`: the 2-layer [50] baseline trained on one file, λ = 0.01;
 * - `gradcheck`: gradient checks of 2- and 3-layer batch-norm networks on 20 features of 10
 *   real samples, and a 3-layer batch-norm network overfitting 100 samples.
 *
 * Beyond the SPEC, `extensions` takes apart the README's recipe past 60 % (a wide [1024, 512]
 * network with batch norm, dropout 0.1, AdamW with weight decay 0.02 and λ = 0, linear warm-up
 * over one epoch then cosine decay of η from 2e−3 to 1e−5, batch 200, 14 epochs, random flips
 * and 1-pixel translations, PreciseBN over 50 batches), one change per trial, all with the same
 * seed, so each trial's difference from the recipe is what that one option did
 * ({@linkcode extensionsTrials}):
 *
 * - `extensions/recipe`: the whole recipe. It is also evaluated with the moving averages and
 *   with Adaptive BN: the evaluation statistics are the one option that does not change
 *   training, so these two rows of the ablation come from the same trained network (training
 *   it again would give it bit for bit);
 * - `extensions/no-augmentation`: no flips or translations — what augmentation adds;
 * - `extensions/no-dropout`: no dropout layers — what dropout adds;
 * - `extensions/bn-after-relu`: Linear → ReLU → BatchNorm instead of Linear → BatchNorm → ReLU —
 *   whether the placement matters;
 * - `extensions/sgd-momentum`: SGD with momentum 0.9 and L2 λ instead of AdamW, with the same
 *   warm-up and cosine shape but an SGD-sized η_max ({@linkcode extensionsSgd}) — what Adam adds;
 * - `extensions/cyclical`: the SPEC's triangular cyclical η between the same η_min and η_max (3
 *   cycles over the same updates) instead of warm-up and cosine decay — what the schedule adds;
 * - `extensions/narrow`: the recipe on the reference [50, 50] network — what width adds;
 * - `extensions/reference`: the SPEC's reference run ([50, 50], plain SGD, cyclical η, λ =
 *   0.005, batch 100, 2 cycles) — where the library started.
 *
 * Trials carry the extension options only when they differ from the default (no dropout, batch
 * norm before the ReLU, SGD, no augmentation, the moving averages), so the other experiments'
 * trials — and the keys of their finished results in a trial log — are what they were before
 * these options existed.
 *
 * @module
 */
import { cifar10ImageShape, type ImageAugmentation } from "./augmentation.ts";
import type { BatchNormPlacement } from "./architecture.ts";
import type { LearningRateSchedule, TrainingSchedule } from "./learning_rate.ts";
import type { Initialization } from "./network.ts";
import { adam, type AdamOptimizer } from "./optimizer.ts";
import { randomKey, splitKey, uniforms } from "./random.ts";

/** The experiments, by the names `--only` takes. */
export const experimentNames = [
  "bn",
  "lambda",
  "init",
  "learning-rate",
  "two-layer",
  "gradcheck",
  "extensions",
] as const;

/** One of {@linkcode experimentNames}. */
export type ExperimentName = (typeof experimentNames)[number];

/** Samples `start` (inclusive) to `end` (exclusive) of the pool. */
export interface SampleRange {
  readonly start: number;
  readonly end: number;
}

/** One training run: train, record curves, then evaluate on the test set. */
export interface TrainingTrial {
  readonly kind: "training";
  readonly experiment: ExperimentName;
  /** Unique within a study, e.g. `bn/9-layer/no-bn`. */
  readonly id: string;
  /** For people, e.g. `9-layer, no BN`. */
  readonly label: string;
  readonly hiddenSizes: readonly number[];
  readonly batchNorm: boolean;
  readonly initialization: Initialization;
  readonly lambda: number;
  readonly schedule: TrainingSchedule;
  /** ρ of SGD with momentum; 0 for plain SGD (and with `optimizer`). */
  readonly momentum: number;
  readonly batchSize: number;
  readonly updates: number;
  /** Record training and validation metrics every this many updates (and at the end). */
  readonly recordEvery: number;
  /** Training metrics are measured on the first this many training samples. */
  readonly trainingMetricsSize: number;
  /** Seeds initialisation and shuffling, as `deno task train --seed` does. */
  readonly seed: number;
  readonly training: SampleRange;
  readonly validation: SampleRange;
  /** Adam / AdamW instead of SGD with `momentum` (which must then be 0). Absent: SGD. */
  readonly optimizer?: AdamOptimizer;
  /** Inverted dropout with this rate after every hidden block. Absent: no dropout layers. */
  readonly dropout?: number;
  /** Where batch norm sits in a hidden block. Absent: before the ReLU (the SPEC's model). */
  readonly batchNormPlacement?: BatchNormPlacement;
  /** Random flips and translations of every training batch. Absent: none. */
  readonly augmentation?: ImageAugmentation;
  /**
   * The batch-norm statistics the test accuracy is measured with: PreciseBN (recomputed over
   * `preciseBatches` training batches with the final weights) or Adaptive BN (from the test set
   * itself). Absent: the moving averages. When present, the result also holds the test metrics
   * with each of the three (`testByBatchNormStatistics`).
   */
  readonly batchNormStatistics?: "precise" | "adaptive";
  /** PreciseBN's number of training batches (default 200; at most one epoch's). */
  readonly preciseBatches?: number;
}

/** One gradient check on the first `features` input features of `samples` real samples. */
export interface GradCheckTrial {
  readonly kind: "gradcheck";
  readonly experiment: "gradcheck";
  readonly id: string;
  readonly label: string;
  /**
   * `centered`: the SPEC's centered differences with h = 1e−6; `ridders`: centered differences
   * extrapolated to h → 0, which removes most of the numerical side's own error.
   */
  readonly method: "centered" | "ridders";
  readonly hiddenSizes: readonly number[];
  readonly features: number;
  readonly samples: number;
  readonly lambda: number;
  readonly seed: number;
  /** The samples are the first of this range, normalized with its statistics. */
  readonly training: SampleRange;
}

/** Any trial. */
export type Trial = TrainingTrial | GradCheckTrial;

/** How big a study is: the data it uses and how long it trains. */
export interface StudyScale {
  /** `full`, `quick`, or a name of your own. */
  readonly name: string;
  readonly training: SampleRange;
  readonly validation: SampleRange;
  /** The two-layer baseline's training and validation samples (one file). */
  readonly oneFile: { readonly training: SampleRange; readonly validation: SampleRange };
  readonly batchSize: number;
  /** n_s, updates per half cycle of the cyclical schedule. */
  readonly stepSize: number;
  /** Cycles of the `bn` and `init` runs and of each λ-search trial. */
  readonly cycles: number;
  /** Cycles of the final run with the best λ. */
  readonly finalCycles: number;
  /** How many times per epoch the curves are recorded. */
  readonly recordsPerEpoch: number;
  readonly trainingMetricsSize: number;
  readonly coarseTrials: number;
  readonly fineTrials: number;
  /** The constant learning rates compared, small to large. */
  readonly learningRates: readonly number[];
  /** Updates of each constant-η run. */
  readonly learningRateUpdates: number;
  readonly twoLayer: { readonly stepSize: number; readonly cycles: number };
  readonly overfit: {
    readonly samples: number;
    readonly batchSize: number;
    readonly epochs: number;
    readonly learningRate: number;
    /** Validation samples measured every epoch (the first of the validation range). */
    readonly validationSize: number;
  };
  readonly gradCheck: { readonly features: number; readonly samples: number };
  readonly extensions: ExtensionsScale;
}

/** The `extensions` experiment at one scale: the wide network, its batches and its length. */
export interface ExtensionsScale {
  /** The recipe's hidden sizes (the README's [1024, 512] in the full study). */
  readonly hiddenSizes: readonly number[];
  readonly batchSize: number;
  /** The length of every trial but the reference, in epochs of the training range. */
  readonly epochs: number;
  /** Linear warm-up of η, in epochs (0 for none). */
  readonly warmupEpochs: number;
  /** PreciseBN's training batches (at most one epoch's). */
  readonly preciseBatches: number;
}

/**
 * The SPEC's setup: 45,000 / 5,000 split, batch 100, n_s = 5·45000/100 = 2250, 8 + 8 λ trials.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fullScale } from "./study_plan.ts";
 * assert.equal(fullScale.stepSize, 2250);
 * assert.equal(fullScale.training.end - fullScale.training.start, 45000);
 * ```
 */
export const fullScale: StudyScale = Object.freeze({
  name: "full",
  training: { start: 0, end: 45000 },
  validation: { start: 45000, end: 50000 },
  oneFile: { training: { start: 0, end: 10000 }, validation: { start: 10000, end: 20000 } },
  batchSize: 100,
  stepSize: 2250,
  cycles: 2,
  finalCycles: 3,
  recordsPerEpoch: 5,
  trainingMetricsSize: 5000,
  coarseTrials: 8,
  fineTrials: 8,
  learningRates: [0.001, 0.01, 0.1, 0.5],
  learningRateUpdates: 4500,
  twoLayer: { stepSize: 800, cycles: 3 },
  overfit: { samples: 100, batchSize: 10, epochs: 100, learningRate: 0.05, validationSize: 1000 },
  gradCheck: { features: 20, samples: 10 },
  extensions: {
    hiddenSizes: [1024, 512],
    batchSize: 200,
    epochs: 14,
    warmupEpochs: 1,
    preciseBatches: 50,
  },
});

/**
 * A reduced study for a first look in a few minutes: 10,000 training samples (data_batch_1),
 * 1,000 validation samples, the full test set, n_s = 500 (5 epochs), 6 + 6 λ trials; the
 * `extensions` recipe on a [256, 128] network for 12 epochs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { quickScale } from "./study_plan.ts";
 * assert.equal(quickScale.training.end, 10000);
 * ```
 */
export const quickScale: StudyScale = Object.freeze({
  name: "quick",
  training: { start: 0, end: 10000 },
  validation: { start: 49000, end: 50000 },
  oneFile: { training: { start: 0, end: 10000 }, validation: { start: 49000, end: 50000 } },
  batchSize: 100,
  stepSize: 500,
  cycles: 2,
  finalCycles: 3,
  recordsPerEpoch: 5,
  trainingMetricsSize: 1000,
  coarseTrials: 6,
  fineTrials: 6,
  learningRates: [0.001, 0.01, 0.1, 0.5],
  learningRateUpdates: 1000,
  twoLayer: { stepSize: 500, cycles: 2 },
  overfit: { samples: 100, batchSize: 10, epochs: 100, learningRate: 0.05, validationSize: 1000 },
  gradCheck: { features: 20, samples: 10 },
  extensions: {
    hiddenSizes: [256, 128],
    batchSize: 200,
    epochs: 12,
    warmupEpochs: 1,
    preciseBatches: 50,
  },
});

/** The hidden sizes of the SPEC's 3-layer network. */
export const threeLayerHiddenSizes: readonly number[] = Object.freeze([50, 50]);
/** The hidden sizes of the SPEC's 9-layer network. */
export const nineLayerHiddenSizes: readonly number[] = Object.freeze([
  50,
  30,
  20,
  20,
  10,
  10,
  10,
  10,
]);
/** λ of the `bn`, `init` and `learning-rate` experiments. */
export const studyLambda = 0.005;
/** The fixed standard deviations of the `init` experiment. */
export const initialStandardDeviations: readonly number[] = Object.freeze([1e-1, 1e-3, 1e-4]);

/** The range of log10 λ the coarse search draws from. */
export const coarseLogLambdaRange: readonly [number, number] = Object.freeze([-5, -1] as const);
/** How far (in log10 λ) the fine search reaches beyond the best three coarse trials. */
export const fineSearchMargin = 0.25;

function cyclical(scale: StudyScale, stepSize = scale.stepSize): LearningRateSchedule {
  return { kind: "cyclical", minimum: 1e-5, maximum: 1e-1, stepSize };
}

function recordEvery(scale: StudyScale, training: SampleRange): number {
  const updatesPerEpoch = Math.floor((training.end - training.start) / scale.batchSize);
  return Math.max(1, Math.round(updatesPerEpoch / scale.recordsPerEpoch));
}

/** The common fields of the 3-layer, 2-cycle, He-initialised runs. */
function baseTraining(
  scale: StudyScale,
  seed: number,
): Omit<TrainingTrial, "experiment" | "id" | "label"> {
  return {
    kind: "training",
    hiddenSizes: threeLayerHiddenSizes,
    batchNorm: true,
    initialization: "he",
    lambda: studyLambda,
    schedule: cyclical(scale),
    momentum: 0,
    batchSize: scale.batchSize,
    updates: 2 * scale.stepSize * scale.cycles,
    recordEvery: recordEvery(scale, scale.training),
    trainingMetricsSize: scale.trainingMetricsSize,
    seed,
    training: scale.training,
    validation: scale.validation,
  };
}

function batchNormWords(batchNorm: boolean): { id: string; label: string } {
  return batchNorm ? { id: "bn", label: "BN" } : { id: "no-bn", label: "no BN" };
}

/**
 * The `bn` experiment: 3- and 9-layer networks, with and without batch norm.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { batchNormTrials, quickScale } from "./study_plan.ts";
 * const trials = batchNormTrials(quickScale, 1);
 * assert.deepEqual(trials.map((trial) => trial.id), ["bn/3-layer/bn", "bn/3-layer/no-bn", "bn/9-layer/bn", "bn/9-layer/no-bn"]);
 * ```
 */
export function batchNormTrials(scale: StudyScale, seed: number): TrainingTrial[] {
  const networks = [
    { name: "3-layer", hiddenSizes: threeLayerHiddenSizes },
    { name: "9-layer", hiddenSizes: nineLayerHiddenSizes },
  ];
  return networks.flatMap(({ name, hiddenSizes }) =>
    [true, false].map((batchNorm) => {
      const words = batchNormWords(batchNorm);
      return {
        ...baseTraining(scale, seed),
        experiment: "bn" as const,
        id: `bn/${name}/${words.id}`,
        label: `${name}, ${words.label}`,
        hiddenSizes,
        batchNorm,
      };
    })
  );
}

/**
 * The `init` experiment: every layer's weights drawn with one fixed σ, with and without batch
 * norm.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initializationTrials, quickScale } from "./study_plan.ts";
 * const trials = initializationTrials(quickScale, 1);
 * assert.equal(trials.length, 6);
 * assert.deepEqual(trials[0].initialization, { standardDeviation: 0.1 });
 * ```
 */
export function initializationTrials(scale: StudyScale, seed: number): TrainingTrial[] {
  return initialStandardDeviations.flatMap((standardDeviation) =>
    [true, false].map((batchNorm) => {
      const words = batchNormWords(batchNorm);
      return {
        ...baseTraining(scale, seed),
        experiment: "init" as const,
        id: `init/sigma-${standardDeviation}/${words.id}`,
        label: `σ = ${standardDeviation}, ${words.label}`,
        batchNorm,
        initialization: { standardDeviation },
      };
    })
  );
}

/**
 * The `learning-rate` experiment: constant η, plain SGD, with and without batch norm.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { learningRateTrials, quickScale } from "./study_plan.ts";
 * const trials = learningRateTrials(quickScale, 1);
 * assert.equal(trials.length, 2 * quickScale.learningRates.length);
 * assert.equal(trials[0].schedule.kind, "constant");
 * ```
 */
export function learningRateTrials(scale: StudyScale, seed: number): TrainingTrial[] {
  return scale.learningRates.flatMap((learningRate) =>
    [true, false].map((batchNorm) => {
      const words = batchNormWords(batchNorm);
      return {
        ...baseTraining(scale, seed),
        experiment: "learning-rate" as const,
        id: `learning-rate/eta-${learningRate}/${words.id}`,
        label: `η = ${learningRate}, ${words.label}`,
        batchNorm,
        schedule: { kind: "constant" as const, learningRate },
        updates: scale.learningRateUpdates,
      };
    })
  );
}

/**
 * The `two-layer` baseline: [50] without batch norm, one training file, λ = 0.01, cyclical η.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fullScale, twoLayerTrial } from "./study_plan.ts";
 * assert.equal(twoLayerTrial(fullScale, 1).updates, 4800);
 * ```
 */
export function twoLayerTrial(scale: StudyScale, seed: number): TrainingTrial {
  const { stepSize, cycles } = scale.twoLayer;
  return {
    ...baseTraining(scale, seed),
    experiment: "two-layer",
    id: "two-layer/one-file",
    label: "2-layer [50], no BN, one file, λ = 0.01",
    hiddenSizes: [50],
    batchNorm: false,
    lambda: 0.01,
    schedule: cyclical(scale, stepSize),
    updates: 2 * stepSize * cycles,
    recordEvery: recordEvery(scale, scale.oneFile.training),
    training: scale.oneFile.training,
    validation: scale.oneFile.validation,
  };
}

/**
 * The `gradcheck` experiment's checks: 2- and 3-layer batch-norm networks on the first
 * `features` dimensions of `samples` real training samples, λ = 0.005, each by centered
 * differences and by Ridders' extrapolation.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { gradCheckTrials, quickScale } from "./study_plan.ts";
 * const trials = gradCheckTrials(quickScale, 1);
 * assert.deepEqual(trials.map((trial) => trial.id), [
 *   "gradcheck/2-layer/centered", "gradcheck/2-layer/ridders", "gradcheck/3-layer/centered", "gradcheck/3-layer/ridders",
 * ]);
 * ```
 */
export function gradCheckTrials(scale: StudyScale, seed: number): GradCheckTrial[] {
  const { features, samples } = scale.gradCheck;
  const networks = [[50], [50, 50]];
  const methods = ["centered", "ridders"] as const;
  return networks.flatMap((hiddenSizes) =>
    methods.map((method) => ({
      kind: "gradcheck" as const,
      experiment: "gradcheck" as const,
      id: `gradcheck/${hiddenSizes.length + 1}-layer/${method}`,
      label: `${hiddenSizes.length + 1}-layer BN, ${features} features, ${samples} samples`,
      method,
      hiddenSizes,
      features,
      samples,
      lambda: studyLambda,
      seed,
      training: scale.training,
    }))
  );
}

/**
 * The README's recipe past 60 % (`deno task train --hidden 1024,512 --batch-size 200 --dropout
 * 0.1 --optimizer adam --weight-decay 0.02 --lambda 0 --schedule cosine --eta-max 2e-3
 * --eta-min 1e-5 --warmup 225 --epochs 14 --flip 0.5 --translate 1 --bn-statistics precise
 * --precise-batches 50`): the settings that do not depend on the scale. The network, batch
 * size, length, warm-up and PreciseBN batches come from {@linkcode ExtensionsScale}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { extensionsRecipe } from "./study_plan.ts";
 * assert.equal(extensionsRecipe.weightDecay, 0.02);
 * assert.equal(extensionsRecipe.lambda, 0);
 * ```
 */
export const extensionsRecipe = Object.freeze({
  dropout: 0.1,
  /** AdamW's decoupled weight decay w. */
  weightDecay: 0.02,
  lambda: 0,
  maximumLearningRate: 2e-3,
  minimumLearningRate: 1e-5,
  flipProbability: 0.5,
  /** Translations of up to this many pixels in x and y. */
  maximumShift: 1,
});

/**
 * The `extensions/sgd-momentum` trial's optimizer: the usual SGD setting of batch-norm
 * networks, momentum ρ = 0.9, η_max = 0.1 and weight decay 5e−4 as an L2 term (its gradient is
 * 2λ·W, so λ = 2.5e−4), with the recipe's warm-up and cosine shape. Adam's η_max = 2e−3 would
 * starve SGD, whose step is η/(1 − ρ) times the gradient rather than about η: on the quick
 * scale (seed 1, λ = 2e−4), η_max = 0.003, 0.01, 0.03, 0.05 and 0.1 reached 43.9, 47.7, 49.6,
 * 50.4 and 50.8 % test accuracy (these settings: 51.1 %), against AdamW's 50.5 %.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { extensionsSgd } from "./study_plan.ts";
 * assert.equal(2 * extensionsSgd.lambda, 5e-4);
 * ```
 */
export const extensionsSgd = Object.freeze({
  momentum: 0.9,
  maximumLearningRate: 0.1,
  lambda: 2.5e-4,
});

/** The trial without `key` (absent, not undefined, so that its JSON has no such key). */
function withoutOption(trial: TrainingTrial, key: keyof TrainingTrial): TrainingTrial {
  const copy: Record<string, unknown> = { ...trial };
  delete copy[key];
  return copy as unknown as TrainingTrial;
}

/**
 * The `extensions` experiment: the README's recipe ({@linkcode extensionsRecipe}) at
 * `scale.extensions`, then one trial per option changed (see the module documentation for what
 * each isolates), then the SPEC's reference run. Every trial has the same seed, training and
 * validation samples, and — the reference excepted — the same batch size and number of
 * updates.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { extensionsTrials, fullScale } from "./study_plan.ts";
 * const [recipe, ...variants] = extensionsTrials(fullScale, 1);
 * assert.deepEqual(recipe.hiddenSizes, [1024, 512]);
 * assert.equal(recipe.updates, 14 * 225);
 * assert.deepEqual(recipe.schedule, { kind: "warmup", updates: 225,
 *   schedule: { kind: "cosine", maximum: 2e-3, minimum: 1e-5, updates: 3150 } });
 * assert.equal(variants.find((trial) => trial.id === "extensions/no-dropout")?.dropout, undefined);
 * ```
 */
export function extensionsTrials(scale: StudyScale, seed: number): TrainingTrial[] {
  const { hiddenSizes, batchSize, epochs, warmupEpochs, preciseBatches } = scale.extensions;
  const updatesPerEpoch = Math.floor((scale.training.end - scale.training.start) / batchSize);
  const updates = epochs * updatesPerEpoch;
  const {
    dropout,
    weightDecay,
    lambda,
    maximumLearningRate,
    minimumLearningRate,
    flipProbability,
    maximumShift,
  } = extensionsRecipe;
  const warmupAndCosine = (maximum: number): TrainingSchedule => {
    const cosine = { kind: "cosine" as const, maximum, minimum: minimumLearningRate, updates };
    return warmupEpochs === 0
      ? cosine
      : { kind: "warmup", updates: warmupEpochs * updatesPerEpoch, schedule: cosine };
  };
  const trial = (id: string, label: string) => ({
    experiment: "extensions" as const,
    id: `extensions/${id}`,
    label,
  });
  const recipe: TrainingTrial = {
    kind: "training",
    ...trial("recipe", "full recipe"),
    hiddenSizes,
    batchNorm: true,
    initialization: "he",
    lambda,
    schedule: warmupAndCosine(maximumLearningRate),
    momentum: 0,
    batchSize,
    updates,
    recordEvery: updatesPerEpoch,
    trainingMetricsSize: scale.trainingMetricsSize,
    seed,
    training: scale.training,
    validation: scale.validation,
    optimizer: adam(weightDecay),
    dropout,
    augmentation: { shape: cifar10ImageShape, flipProbability, maximumShift },
    batchNormStatistics: "precise",
    preciseBatches: Math.min(preciseBatches, updatesPerEpoch),
  };
  const cycles = 3;
  return [
    recipe,
    {
      ...withoutOption(recipe, "augmentation"),
      ...trial("no-augmentation", "no augmentation"),
    },
    { ...withoutOption(recipe, "dropout"), ...trial("no-dropout", "no dropout") },
    {
      ...recipe,
      ...trial("bn-after-relu", "BN after the ReLU"),
      batchNormPlacement: "afterRelu",
    },
    {
      ...withoutOption(recipe, "optimizer"),
      ...trial("sgd-momentum", "SGD + momentum instead of AdamW"),
      momentum: extensionsSgd.momentum,
      lambda: extensionsSgd.lambda,
      schedule: warmupAndCosine(extensionsSgd.maximumLearningRate),
    },
    {
      ...recipe,
      ...trial("cyclical", "cyclical η instead of warm-up + cosine"),
      schedule: {
        kind: "cyclical",
        minimum: minimumLearningRate,
        maximum: maximumLearningRate,
        stepSize: Math.max(1, Math.round(updates / (2 * cycles))),
      },
    },
    {
      ...recipe,
      ...trial("narrow", `recipe on [${threeLayerHiddenSizes.join(", ")}]`),
      hiddenSizes: threeLayerHiddenSizes,
    },
    {
      ...baseTraining(scale, seed),
      ...trial("reference", "reference [50, 50] (the SPEC's run)"),
    },
  ];
}

/**
 * The sanity check: a 3-layer batch-norm network trained without regularization on
 * `scale.overfit.samples` samples until it fits them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { overfitTrial, quickScale } from "./study_plan.ts";
 * const trial = overfitTrial(quickScale, 1);
 * assert.equal(trial.training.end - trial.training.start, 100);
 * assert.equal(trial.lambda, 0);
 * ```
 */
export function overfitTrial(scale: StudyScale, seed: number): TrainingTrial {
  const { samples, batchSize, epochs, learningRate, validationSize } = scale.overfit;
  const updatesPerEpoch = Math.floor(samples / batchSize);
  const start = scale.training.start;
  const validationStart = scale.validation.start;
  return {
    ...baseTraining(scale, seed),
    experiment: "gradcheck",
    id: "gradcheck/overfit",
    label: `3-layer BN on ${samples} samples, λ = 0`,
    lambda: 0,
    schedule: { kind: "constant", learningRate },
    batchSize,
    updates: epochs * updatesPerEpoch,
    recordEvery: updatesPerEpoch,
    trainingMetricsSize: samples,
    training: { start, end: start + samples },
    validation: {
      start: validationStart,
      end: Math.min(scale.validation.end, validationStart + validationSize),
    },
  };
}

function lambdaTrial(
  scale: StudyScale,
  seed: number,
  stage: "coarse" | "fine" | "final",
  index: number,
  lambda: number,
): TrainingTrial {
  const cycles = stage === "final" ? scale.finalCycles : scale.cycles;
  const base = baseTraining(scale, seed);
  return {
    ...base,
    experiment: "lambda",
    id: stage === "final" ? "lambda/final" : `lambda/${stage}/${index + 1}`,
    label: `${stage === "final" ? "final, " : ""}λ = ${lambda.toExponential(2)}`,
    lambda,
    updates: 2 * scale.stepSize * cycles,
    // Search trials need only their final validation accuracy; the final run is plotted.
    recordEvery: stage === "final" ? base.recordEvery : 2 * scale.stepSize * cycles,
  };
}

/** λ values whose log10 is uniform in [low, high], drawn from a key derived from `seed`. */
function sampleLambdas(
  seed: number,
  stream: number,
  count: number,
  low: number,
  high: number,
): number[] {
  const key = splitKey(randomKey(seed), 3)[stream];
  return [...uniforms(key, count).values].map((u) => 10 ** (low + (high - low) * u));
}

/**
 * The coarse λ search: `scale.coarseTrials` values with log10 λ uniform in [−5, −1].
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { lambdaSearchTrials, quickScale } from "./study_plan.ts";
 * const trials = lambdaSearchTrials(quickScale, 1);
 * assert.equal(trials.length, quickScale.coarseTrials);
 * assert.ok(trials.every((trial) => trial.lambda >= 1e-5 && trial.lambda <= 1e-1));
 * ```
 */
export function lambdaSearchTrials(scale: StudyScale, seed: number): TrainingTrial[] {
  const [low, high] = coarseLogLambdaRange;
  return sampleLambdas(seed, 0, scale.coarseTrials, low, high).map((lambda, index) =>
    lambdaTrial(scale, seed, "coarse", index, lambda)
  );
}

/** A finished search trial: its λ and the validation accuracy it reached. */
export interface LambdaOutcome {
  readonly lambda: number;
  readonly validationAccuracy: number;
}

/**
 * The best `count` outcomes by validation accuracy (ties: the smaller λ first).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bestLambdas } from "./study_plan.ts";
 * const best = bestLambdas([{ lambda: 1, validationAccuracy: 0.2 }, { lambda: 2, validationAccuracy: 0.5 }], 1);
 * assert.equal(best[0].lambda, 2);
 * ```
 */
export function bestLambdas(outcomes: readonly LambdaOutcome[], count: number): LambdaOutcome[] {
  return [...outcomes]
    .sort((a, b) => b.validationAccuracy - a.validationAccuracy || a.lambda - b.lambda)
    .slice(0, count);
}

/**
 * The fine λ search: `scale.fineTrials` values with log10 λ uniform between the smallest and
 * largest of the best three coarse λ, widened by {@linkcode fineSearchMargin} on each side.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fineLambdaTrials, quickScale } from "./study_plan.ts";
 * const coarse = [1e-4, 1e-3, 3e-3, 1e-2].map((lambda, i) => ({ lambda, validationAccuracy: [0.1, 0.5, 0.52, 0.4][i] }));
 * const { trials, range } = fineLambdaTrials(quickScale, 1, coarse);
 * assert.deepEqual(range, [-3.25, -1.75]);
 * assert.ok(trials.every((trial) => Math.log10(trial.lambda) >= -3.25 && Math.log10(trial.lambda) <= -1.75));
 * ```
 */
export function fineLambdaTrials(
  scale: StudyScale,
  seed: number,
  coarse: readonly LambdaOutcome[],
): { trials: TrainingTrial[]; range: [number, number] } {
  if (coarse.length === 0) {
    throw new RangeError("Cannot plan the fine λ search without coarse results");
  }
  const logs = bestLambdas(coarse, 3).map((outcome) => Math.log10(outcome.lambda));
  const low = Math.max(coarseLogLambdaRange[0], Math.min(...logs) - fineSearchMargin);
  const high = Math.min(coarseLogLambdaRange[1], Math.max(...logs) + fineSearchMargin);
  const trials = sampleLambdas(seed, 1, scale.fineTrials, low, high).map((lambda, index) =>
    lambdaTrial(scale, seed, "fine", index, lambda)
  );
  return { trials, range: [low, high] };
}

/**
 * The final run: the best λ of both searches, trained for `scale.finalCycles` cycles.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { finalLambdaTrial, quickScale } from "./study_plan.ts";
 * const trial = finalLambdaTrial(quickScale, 1, [{ lambda: 0.002, validationAccuracy: 0.5 }]);
 * assert.equal(trial.lambda, 0.002);
 * assert.equal(trial.updates, 2 * quickScale.stepSize * quickScale.finalCycles);
 * ```
 */
export function finalLambdaTrial(
  scale: StudyScale,
  seed: number,
  outcomes: readonly LambdaOutcome[],
): TrainingTrial {
  const [best] = bestLambdas(outcomes, 1);
  if (best === undefined) throw new RangeError("Cannot choose the final λ without search results");
  return lambdaTrial(scale, seed, "final", 0, best.lambda);
}

/**
 * Throws a RangeError naming the problem if a scale's ranges do not fit a pool of `poolSize`
 * samples or its numbers are out of range.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { assertScale, fullScale } from "./study_plan.ts";
 * assertScale(fullScale, 50000);
 * assert.throws(() => assertScale(fullScale, 20000), /45000/);
 * ```
 */
export function assertScale(scale: StudyScale, poolSize: number): void {
  const ranges: [string, SampleRange][] = [
    ["training", scale.training],
    ["validation", scale.validation],
    ["one-file training", scale.oneFile.training],
    ["one-file validation", scale.oneFile.validation],
  ];
  for (const [name, { start, end }] of ranges) {
    if (!(Number.isInteger(start) && Number.isInteger(end) && 0 <= start && start < end)) {
      throw new RangeError(`The ${name} range ${start}–${end} of scale "${scale.name}" is empty`);
    }
    if (end > poolSize) {
      throw new RangeError(
        `The ${name} range ${start}–${end} of scale "${scale.name}" needs ${end} training images but the data has ${poolSize}`,
      );
    }
  }
  const positiveIntegers: [string, number][] = [
    ["batch size", scale.batchSize],
    ["step size", scale.stepSize],
    ["cycles", scale.cycles],
    ["final cycles", scale.finalCycles],
    ["records per epoch", scale.recordsPerEpoch],
    ["training metrics size", scale.trainingMetricsSize],
    ["coarse trials", scale.coarseTrials],
    ["fine trials", scale.fineTrials],
    ["learning-rate updates", scale.learningRateUpdates],
    ["overfit samples", scale.overfit.samples],
    ["overfit epochs", scale.overfit.epochs],
    ["gradient-check samples", scale.gradCheck.samples],
    ["gradient-check features", scale.gradCheck.features],
    ["extensions batch size", scale.extensions.batchSize],
    ["extensions epochs", scale.extensions.epochs],
    ["extensions PreciseBN batches", scale.extensions.preciseBatches],
    ...scale.extensions.hiddenSizes.map((
      size,
    ): [string, number] => ["extensions hidden size", size]),
  ];
  for (const [name, value] of positiveIntegers) {
    if (!Number.isInteger(value) || value < 1) {
      throw new RangeError(
        `The ${name} of scale "${scale.name}" is ${value}; it must be a positive integer`,
      );
    }
  }
  const { warmupEpochs } = scale.extensions;
  if (!Number.isInteger(warmupEpochs) || warmupEpochs < 0) {
    throw new RangeError(
      `The extensions warm-up of scale "${scale.name}" is ${warmupEpochs} epochs; it must be a non-negative integer`,
    );
  }
  const trainingSize = scale.training.end - scale.training.start;
  if (scale.extensions.batchSize > trainingSize) {
    throw new RangeError(
      `Scale "${scale.name}" trains the extensions in batches of ${scale.extensions.batchSize} but has only ${trainingSize} training samples`,
    );
  }
  if (scale.overfit.samples > trainingSize || scale.gradCheck.samples > trainingSize) {
    throw new RangeError(
      `Scale "${scale.name}" overfits ${scale.overfit.samples} and gradient-checks ${scale.gradCheck.samples} samples but trains on only ${trainingSize}`,
    );
  }
}
