/**
 * Our figures beside the reference figures: one row per figure of the SPEC's table, and one per
 * row of the `extensions` ablation, as the report's summary table and the CLI's closing table
 * show them.
 *
 * @module
 */
import type { GradCheckRecord, StudyResults, TrainingRecord } from "./study.ts";
import { ablationRows } from "./study_ablation.ts";
import { type ReferenceFigure, studyReference } from "./study_reference.ts";

/** One figure: what was measured, ours, and the reports'. */
export interface ComparisonRow {
  /** e.g. `BN vs no BN`. */
  readonly experiment: string;
  /** e.g. `9-layer, no BN`. */
  readonly setting: string;
  /** e.g. `test accuracy`. */
  readonly measure: string;
  readonly ours: string;
  readonly reference: string;
}

/**
 * An accuracy as a percentage with two decimals.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatPercent } from "./study_comparison.ts";
 * assert.equal(formatPercent(0.53456), "53.46 %");
 * ```
 */
export function formatPercent(fraction: number): string {
  return `${(100 * fraction).toFixed(2)} %`;
}

/**
 * A difference of accuracies in percentage points, with its sign: `+0.70`, `−2.47`, `±0.00`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatPoints } from "./study_comparison.ts";
 * assert.equal(formatPoints(-2.4712), "−2.47");
 * assert.equal(formatPoints(0.7), "+0.70");
 * ```
 */
export function formatPoints(difference: number): string {
  const text = Math.abs(difference).toFixed(2);
  if (Number(text) === 0) return `±${text}`;
  return `${difference > 0 ? "+" : "−"}${text}`;
}

/**
 * A reference range of accuracies: `53.46–53.97 %`, or one value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatPercentRange } from "./study_comparison.ts";
 * assert.equal(formatPercentRange({ low: 0.5346, high: 0.5397 }), "53.46–53.97 %");
 * assert.equal(formatPercentRange({ low: 0.1, high: 0.1 }), "10.00 %");
 * ```
 */
export function formatPercentRange(figure: ReferenceFigure): string {
  const low = (100 * figure.low).toFixed(2);
  const high = (100 * figure.high).toFixed(2);
  return low === high ? `${low} %` : `${low}–${high} %`;
}

/**
 * A small or large number in scientific notation with two significant digits: `3.1e-9`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatScientific } from "./study_comparison.ts";
 * assert.equal(formatScientific(0.00000000312), "3.1e-9");
 * ```
 */
export function formatScientific(value: number): string {
  return value.toExponential(1).replace("e+", "e");
}

/**
 * The test accuracy of a training run, or what stopped it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { testAccuracyText } from "./study_comparison.ts";
 * import { quickScale, twoLayerTrial } from "./study_plan.ts";
 * const trial = twoLayerTrial(quickScale, 1);
 * const diverged = { kind: "training", history: [], diverged: { update: 7, message: "" }, timing: { seconds: 1 } } as const;
 * assert.equal(testAccuracyText({ trial, result: diverged }), "diverged at update 7");
 * ```
 */
export function testAccuracyText(record: TrainingRecord): string {
  const { result } = record;
  if (result.diverged) return `diverged at update ${result.diverged.update}`;
  return result.test ? formatPercent(result.test.accuracy) : "—";
}

/**
 * The last recorded validation accuracy of a run, or 0 when it diverged.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { finalValidationAccuracy } from "./study_comparison.ts";
 * import { quickScale, twoLayerTrial } from "./study_plan.ts";
 * const metrics = { loss: 1, cost: 1.1, accuracy: 0.5 };
 * const point = { update: 10, epoch: 1, learningRate: 0.01, training: metrics, validation: metrics };
 * const result = { kind: "training", history: [point], timing: { seconds: 1 } } as const;
 * assert.equal(finalValidationAccuracy({ trial: twoLayerTrial(quickScale, 1), result }), 0.5);
 * ```
 */
export function finalValidationAccuracy(record: TrainingRecord): number {
  const last = record.result.history.at(-1);
  return record.result.diverged || last === undefined ? 0 : last.validation.accuracy;
}

/**
 * The search trial with the best final validation accuracy (the smaller λ on ties).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bestSearchTrial } from "./study_comparison.ts";
 * import { lambdaSearchTrials, quickScale } from "./study_plan.ts";
 * const [first, second] = lambdaSearchTrials(quickScale, 1);
 * const record = (trial: typeof first, accuracy: number) => ({ trial, result: { kind: "training", timing: { seconds: 1 },
 *   history: [{ update: 1, epoch: 1, learningRate: 0.1, training: { loss: 1, cost: 1, accuracy }, validation: { loss: 1, cost: 1, accuracy } }] } as const });
 * assert.equal(bestSearchTrial([record(first, 0.4), record(second, 0.5)])?.trial, second);
 * ```
 */
export function bestSearchTrial(records: readonly TrainingRecord[]): TrainingRecord | undefined {
  return [...records].sort((a, b) =>
    finalValidationAccuracy(b) - finalValidationAccuracy(a) || a.trial.lambda - b.trial.lambda
  )[0];
}

/**
 * The largest mean relative error over the rows of `parameters`, or undefined when none.
 * Biases that feed batch norm are left out: their true gradient is 0 (see `GradCheckRow`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { largestMeanRelativeError } from "./study_comparison.ts";
 * import { gradCheckTrials, quickScale } from "./study_plan.ts";
 * const row = (parameter: string, feedsBatchNorm: boolean, meanRelativeError: number) => ({ layer: "Linear layer 1", parameter,
 *   feedsBatchNorm, entries: 1, kinks: 0, failures: 0, maximumAbsoluteError: 0, maximumRelativeError: 0, meanRelativeError });
 * const result = { kind: "gradcheck", passed: true, method: "centered", step: 1e-6, timing: { seconds: 1 },
 *   rows: [row("weight", false, 1e-8), row("bias", true, 1e-3)] } as const;
 * assert.equal(largestMeanRelativeError({ trial: gradCheckTrials(quickScale, 1)[0], result }, ["weight", "bias"]), 1e-8);
 * ```
 */
export function largestMeanRelativeError(
  record: GradCheckRecord,
  parameters: readonly string[],
): number | undefined {
  const rows = record.result.rows.filter((row) =>
    parameters.includes(row.parameter) && !row.feedsBatchNorm
  );
  return rows.length === 0 ? undefined : Math.max(...rows.map((row) => row.meanRelativeError));
}

/**
 * The comparison rows of whichever experiments `results` holds.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { comparisonRows } from "./study_comparison.ts";
 * import { quickScale, twoLayerTrial } from "./study_plan.ts";
 * const trial = twoLayerTrial(quickScale, 1);
 * const metrics = { loss: 1.5, cost: 1.6, accuracy: 0.45 };
 * const result = { kind: "training", history: [], test: metrics, timing: { seconds: 1 } } as const;
 * const results = { scale: quickScale, seed: 1, classNames: [], testSize: 10000, backend: "ml-matrix", workers: 2,
 *   startedAt: "", seconds: 1, experiments: { twoLayer: { trial, result } } };
 * assert.deepEqual(comparisonRows(results).map((row) => [row.ours, row.reference]), [["45.00 %", "47.80–52.40 %"]]);
 * ```
 */
export function comparisonRows(results: StudyResults): ComparisonRow[] {
  const rows: ComparisonRow[] = [];
  const { bn, lambda, init, learningRate, twoLayer, gradcheck, extensions } = results.experiments;
  const reference = studyReference;
  for (const record of bn ?? []) {
    const figure = reference.batchNorm[record.trial.id];
    rows.push({
      experiment: "BN vs no BN",
      setting: record.trial.label,
      measure: "test accuracy",
      ours: testAccuracyText(record),
      reference: figure ? formatPercentRange(figure) : "—",
    });
  }
  if (lambda) {
    const best = bestSearchTrial([...lambda.coarse, ...lambda.fine]);
    const { bestLambda, bestValidationAccuracy, finalTestAccuracy } = reference.lambda;
    if (best) {
      rows.push({
        experiment: "λ search",
        setting: `best of ${lambda.coarse.length} coarse + ${lambda.fine.length} fine`,
        measure: "λ → validation accuracy",
        ours: `${best.trial.lambda.toPrecision(2)} → ${
          formatPercent(finalValidationAccuracy(best))
        }`,
        reference: `${bestLambda.low}–${bestLambda.high} → ${
          formatPercentRange(bestValidationAccuracy)
        }`,
      });
    }
    rows.push({
      experiment: "λ search",
      setting: `best λ, ${results.scale.finalCycles} cycles`,
      measure: "test accuracy",
      ours: testAccuracyText(lambda.final),
      reference: formatPercentRange(finalTestAccuracy),
    });
  }
  for (const record of init ?? []) {
    const figure = reference.initialization[record.trial.id];
    rows.push({
      experiment: "sensitivity to init",
      setting: record.trial.label,
      measure: "test accuracy",
      ours: testAccuracyText(record),
      reference: figure ? formatPercentRange(figure) : "—",
    });
  }
  if (learningRate) {
    const rates = [...new Set(learningRate.map(({ trial }) => rateOf(trial.schedule)))];
    let batchNormAhead = 0;
    for (const rate of rates) {
      const pair = (batchNorm: boolean) =>
        learningRate.find(({ trial }) =>
          rateOf(trial.schedule) === rate && trial.batchNorm === batchNorm
        );
      const withBatchNorm = pair(true), without = pair(false);
      if (!withBatchNorm || !without) continue;
      if (finalValidationAccuracy(withBatchNorm) > finalValidationAccuracy(without)) {
        batchNormAhead++;
      }
      rows.push({
        experiment: "learning rate",
        setting: `constant η = ${rate}`,
        measure: "test accuracy, BN / no BN",
        ours: `${testAccuracyText(withBatchNorm)} / ${testAccuracyText(without)}`,
        reference: "—",
      });
    }
    rows.push({
      experiment: "learning rate",
      setting: "all η",
      measure: "conclusion",
      ours: `BN ahead at ${batchNormAhead} of ${rates.length} learning rates`,
      reference: reference.learningRate,
    });
  }
  if (twoLayer) {
    rows.push({
      experiment: "2-layer baseline",
      setting: twoLayer.trial.label,
      measure: "test accuracy",
      ours: testAccuracyText(twoLayer),
      reference: formatPercentRange(reference.twoLayerTestAccuracy),
    });
  }
  if (gradcheck) {
    const { weightAndBias, scaleAndShift } = reference.gradCheck;
    const depths = [...new Set(gradcheck.checks.map(({ trial }) => trial.hiddenSizes.length))];
    for (const depth of depths) {
      const find = (method: string) =>
        gradcheck.checks.find(({ trial }) =>
          trial.hiddenSizes.length === depth && trial.method === method
        );
      const centered = find("centered"), ridders = find("ridders");
      const groups: [string, string[], ReferenceFigure][] = [
        ["W, b", ["weight", "bias"], weightAndBias],
        ["γ, β", ["scale", "shift"], scaleAndShift],
      ];
      for (const [name, parameters, figure] of groups) {
        const text = (record: GradCheckRecord | undefined, method: string) => {
          const largest = record && largestMeanRelativeError(record, parameters);
          if (record === undefined || largest === undefined) return undefined;
          return `≤ ${formatScientific(largest)} ${method}${
            record.result.passed ? "" : " (FAILED)"
          }`;
        };
        const texts = [text(centered, "centered"), text(ridders, "Ridders")]
          .filter((value) => value !== undefined);
        if (texts.length === 0) continue;
        rows.push({
          experiment: "gradient check",
          setting: `${depth + 1}-layer BN, ${name}`,
          measure: "mean relative error",
          ours: texts.join(", "),
          reference: `${formatScientific(figure.low)} … ${formatScientific(figure.high)}`,
        });
      }
    }
    const last = gradcheck.overfit.result.history.at(-1);
    rows.push({
      experiment: "overfitting check",
      setting: gradcheck.overfit.trial.label,
      measure: "training accuracy, loss",
      ours: last
        ? `${formatPercent(last.training.accuracy)}, ${last.training.loss.toFixed(4)}`
        : testAccuracyText(gradcheck.overfit),
      reference: "near-zero loss",
    });
  }
  for (const row of ablationRows(extensions ?? [])) {
    const difference = row.difference === undefined || row.changes.length === 0
      ? ""
      : ` (${formatPoints(row.difference)})`;
    // The reference run is the `bn` experiment's 3-layer BN setup.
    const figure = row.id === "extensions/reference"
      ? reference.batchNorm["bn/3-layer/bn"]
      : undefined;
    rows.push({
      experiment: "extensions",
      setting: row.label,
      measure: row.changes.length === 0 ? "test accuracy" : "test accuracy (Δ vs recipe)",
      ours: row.test
        ? `${formatPercent(row.test.accuracy)}${difference}`
        : testAccuracyText(row.record),
      reference: figure ? formatPercentRange(figure) : "—",
    });
  }
  return rows;
}

function rateOf(schedule: TrainingRecord["trial"]["schedule"]): number {
  return schedule.kind === "constant" ? schedule.learningRate : NaN;
}

/**
 * The rows as a plain-text table for a terminal.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatComparisonTable } from "./study_comparison.ts";
 * const table = formatComparisonTable([{ experiment: "BN vs no BN", setting: "3-layer, BN", measure: "test accuracy", ours: "53.10 %", reference: "53.46–53.97 %" }]);
 * assert.match(table.split("\n")[2], /3-layer, BN +test accuracy +53\.10 % +53\.46–53\.97 %/);
 * ```
 */
export function formatComparisonTable(rows: readonly ComparisonRow[]): string {
  const header: ComparisonRow = {
    experiment: "experiment",
    setting: "setting",
    measure: "measure",
    ours: "ours",
    reference: "reference",
  };
  const columns = ["experiment", "setting", "measure", "ours", "reference"] as const;
  const widths = columns.map((column) =>
    Math.max(...[header, ...rows].map((row) => row[column].length))
  );
  const line = (row: ComparisonRow) =>
    columns.map((column, i) => row[column].padEnd(widths[i])).join("  ").trimEnd();
  return [line(header), widths.map((width) => "-".repeat(width)).join("  "), ...rows.map(line)]
    .join("\n");
}
