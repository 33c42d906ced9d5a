/**
 * The `extensions` experiment read as an ablation: every trial's settings in words, what each
 * trial changed relative to the full recipe, and how far its test accuracy ends from the
 * recipe's. Two rows come from the recipe's own trained network evaluated with other batch-norm
 * statistics (the moving averages, Adaptive BN), since the evaluation statistics do not change
 * training.
 *
 * @module
 */
import type { Metrics } from "./evaluation.ts";
import type { TrainingSchedule } from "./learning_rate.ts";
import type { TrainingRecord } from "./study.ts";
import type { TrainingTrial } from "./study_plan.ts";

/** One setting of a trial, in words: `{ setting: "dropout", value: "0.1" }`. */
export interface TrialSetting {
  readonly setting: string;
  readonly value: string;
}

/** A setting that differs between the recipe and a trial. */
export interface SettingChange {
  readonly setting: string;
  readonly recipe: string;
  readonly trial: string;
}

/** One row of the ablation table. */
export interface AblationRow {
  /** The trial's id; `…/recipe#moving` and `…/recipe#adaptive` for the re-evaluated recipe. */
  readonly id: string;
  readonly label: string;
  /** What differs from the recipe (empty for the recipe itself). */
  readonly changes: readonly SettingChange[];
  /** The trial this row's figures come from. */
  readonly record: TrainingRecord;
  /** The row's test metrics; absent when the trial diverged. */
  readonly test?: Metrics;
  /** Test accuracy minus the recipe's, in percentage points; absent without both. */
  readonly difference?: number;
}

/** A number as people write it in settings: `0.002`, `1e-5`, `14`. */
function numberText(value: number): string {
  return value !== 0 && Math.abs(value) < 1e-3 ? value.toExponential() : String(value);
}

function countText(value: number): string {
  return value.toLocaleString("en");
}

/**
 * A learning-rate schedule in words.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { scheduleText } from "./study_ablation.ts";
 * const cosine = { kind: "cosine", maximum: 2e-3, minimum: 1e-5, updates: 3150 } as const;
 * assert.equal(scheduleText({ kind: "warmup", updates: 225, schedule: cosine }),
 *   "linear warm-up over 225 updates, then cosine η from 0.002 to 1e-5 over 3,150 updates");
 * assert.equal(scheduleText({ kind: "cyclical", minimum: 1e-5, maximum: 0.1, stepSize: 2250 }),
 *   "cyclical η from 1e-5 to 0.1, n_s = 2,250");
 * ```
 */
export function scheduleText(schedule: TrainingSchedule): string {
  switch (schedule.kind) {
    case "constant":
      return `constant η = ${numberText(schedule.learningRate)}`;
    case "stepDecay":
      return `η₀ = ${numberText(schedule.initial)} decaying by ${
        numberText(schedule.decay)
      } per epoch`;
    case "cyclical":
      return `cyclical η from ${numberText(schedule.minimum)} to ${
        numberText(schedule.maximum)
      }, n_s = ${countText(schedule.stepSize)}`;
    case "cosine":
      return `cosine η from ${numberText(schedule.maximum)} to ${
        numberText(schedule.minimum)
      } over ${countText(schedule.updates)} updates`;
    case "warmup":
      return `linear warm-up over ${countText(schedule.updates)} updates, then ${
        scheduleText(schedule.schedule)
      }`;
  }
}

/**
 * Everything a training trial sets that the ablation compares, in words, in a fixed order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { trialSettings } from "./study_ablation.ts";
 * import { extensionsTrials, fullScale } from "./study_plan.ts";
 * const [recipe] = extensionsTrials(fullScale, 1);
 * const settings = Object.fromEntries(trialSettings(recipe).map(({ setting, value }) => [setting, value]));
 * assert.equal(settings.optimizer, "AdamW, weight decay 0.02");
 * assert.equal(settings.augmentation, "flip 0.5, translate ±1 px");
 * assert.equal(settings["BN statistics"], "PreciseBN (50 batches)");
 * ```
 */
export function trialSettings(trial: TrainingTrial): TrialSetting[] {
  const { initialization, optimizer, augmentation } = trial;
  const trainingSize = trial.training.end - trial.training.start;
  const epochs = trial.updates / Math.floor(trainingSize / trial.batchSize);
  const settings: [string, string][] = [
    ["hidden sizes", `[${trial.hiddenSizes.join(", ")}]`],
    [
      "batch norm",
      !trial.batchNorm
        ? "none"
        : trial.batchNormPlacement === "afterRelu"
        ? "after the ReLU"
        : "before the ReLU",
    ],
    ["dropout", trial.dropout ? numberText(trial.dropout) : "none"],
    [
      "initialization",
      typeof initialization === "object"
        ? `σ = ${numberText(initialization.standardDeviation)}`
        : initialization === "he"
        ? "He"
        : "Xavier",
    ],
    [
      "optimizer",
      optimizer
        ? optimizer.weightDecay
          ? `AdamW, weight decay ${numberText(optimizer.weightDecay)}`
          : "Adam"
        : trial.momentum
        ? `SGD, momentum ${numberText(trial.momentum)}`
        : "plain SGD",
    ],
    ["λ", numberText(trial.lambda)],
    ["learning rate", scheduleText(trial.schedule)],
    ["batch size", countText(trial.batchSize)],
    [
      "updates",
      `${countText(trial.updates)} (${
        Number.isInteger(epochs) ? epochs : epochs.toFixed(1)
      } epochs)`,
    ],
    [
      "augmentation",
      augmentation && (augmentation.flipProbability > 0 || augmentation.maximumShift > 0)
        ? [
          augmentation.flipProbability > 0
            ? `flip ${numberText(augmentation.flipProbability)}`
            : "",
          augmentation.maximumShift > 0 ? `translate ±${augmentation.maximumShift} px` : "",
        ].filter((part) => part !== "").join(", ")
        : "none",
    ],
    ["BN statistics", statisticsText(trial, trial.batchNormStatistics ?? "moving")],
  ];
  return settings.map(([setting, value]) => ({ setting, value }));
}

function statisticsText(trial: TrainingTrial, kind: "moving" | "precise" | "adaptive"): string {
  if (!trial.batchNorm) return "—";
  if (kind === "moving") return "moving averages";
  if (kind === "adaptive") return "Adaptive BN";
  const updatesPerEpoch = Math.floor((trial.training.end - trial.training.start) / trial.batchSize);
  return `PreciseBN (${Math.min(trial.preciseBatches ?? 200, updatesPerEpoch)} batches)`;
}

/**
 * The settings of `trial` that differ from `recipe`'s, in {@linkcode trialSettings} order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { settingChanges } from "./study_ablation.ts";
 * import { extensionsTrials, fullScale } from "./study_plan.ts";
 * const [recipe, noAugmentation] = extensionsTrials(fullScale, 1);
 * assert.deepEqual(settingChanges(recipe, noAugmentation), [
 *   { setting: "augmentation", recipe: "flip 0.5, translate ±1 px", trial: "none" },
 * ]);
 * ```
 */
export function settingChanges(recipe: TrainingTrial, trial: TrainingTrial): SettingChange[] {
  const recipeSettings = trialSettings(recipe);
  return trialSettings(trial).flatMap(({ setting, value }, index) =>
    value === recipeSettings[index].value
      ? []
      : [{ setting, recipe: recipeSettings[index].value, trial: value }]
  );
}

/**
 * The ablation table of the `extensions` records: the recipe (id `extensions/recipe`) first,
 * then its network evaluated with the moving averages and with Adaptive BN, then every other
 * trial in order, each with what it changed and its test accuracy's difference from the
 * recipe's. Empty without the recipe.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ablationRows } from "./study_ablation.ts";
 * import { extensionsTrials, quickScale } from "./study_plan.ts";
 * const metrics = (accuracy: number) => ({ loss: 1, cost: 1, accuracy });
 * const [recipe, noAugmentation] = extensionsTrials(quickScale, 1);
 * const rows = ablationRows([
 *   { trial: recipe, result: { kind: "training", history: [], test: metrics(0.6), timing: { seconds: 1 },
 *     testByBatchNormStatistics: { moving: metrics(0.59), precise: metrics(0.6), adaptive: metrics(0.58) } } },
 *   { trial: noAugmentation, result: { kind: "training", history: [], test: metrics(0.55), timing: { seconds: 1 } } },
 * ]);
 * assert.deepEqual(rows.map((row) => row.label), ["full recipe", "moving-average BN statistics", "Adaptive BN", "no augmentation"]);
 * assert.ok(Math.abs(rows[3].difference! + 5) < 1e-9);
 * ```
 */
export function ablationRows(records: readonly TrainingRecord[]): AblationRow[] {
  const recipe = records.find((record) => record.trial.id === "extensions/recipe");
  if (recipe === undefined) return [];
  const recipeTest = recipe.result.diverged ? undefined : recipe.result.test;
  const row = (
    id: string,
    label: string,
    record: TrainingRecord,
    changes: readonly SettingChange[],
    test: Metrics | undefined,
  ): AblationRow => ({
    id,
    label,
    changes,
    record,
    ...(test && { test }),
    ...(test && recipeTest && { difference: 100 * (test.accuracy - recipeTest.accuracy) }),
  });
  const statistics = recipe.result.testByBatchNormStatistics;
  const chosen = recipe.trial.batchNormStatistics ?? "moving";
  const reevaluated = statistics
    ? ([["moving", "moving-average BN statistics"], ["adaptive", "Adaptive BN"]] as const)
      .filter(([kind]) => kind !== chosen)
      .map(([kind, label]) =>
        row(`${recipe.trial.id}#${kind}`, label, recipe, [{
          setting: "BN statistics",
          recipe: statisticsText(recipe.trial, chosen),
          trial: statisticsText(recipe.trial, kind),
        }], statistics[kind])
      )
    : [];
  return [
    row(recipe.trial.id, recipe.trial.label, recipe, [], recipeTest),
    ...reevaluated,
    ...records.filter((record) => record !== recipe).map((record) =>
      row(
        record.trial.id,
        record.trial.label,
        record,
        settingChanges(recipe.trial, record.trial),
        record.result.diverged ? undefined : record.result.test,
      )
    ),
  ];
}
