/**
 * The study's report: one self-contained HTML file — inline CSS, inline SVG figures, no script,
 * no font, image or style sheet fetched from anywhere — that a person can open offline.
 *
 * It shows our figures beside the reference reports' (the SPEC's table), then one section per
 * experiment with its setup, its tables, and its figures (each with a line saying what it
 * shows): training and validation cost, loss and accuracy per update step, the cyclical
 * learning rate, the λ search, the test confusion matrix, the curves of the initialization and
 * learning-rate comparisons, the gradient-check tables and the overfitting run; and, beyond the
 * reports, the `extensions` ablation: the recipe's settings, what each trial changed and what
 * it cost or gained in test accuracy, the three kinds of batch-norm statistics, and the curves.
 *
 * @module
 */
import { CIFAR10_CLASS_NAMES } from "./cifar10.ts";
import {
  comparisonCurvesSpec,
  confusionMatrixSpec,
  lambdaSearchSpec,
  learningRateSpec,
  type Measure,
  renderSvg,
  splitCurvesSpec,
} from "./report_plots.ts";
import type { VegaLiteSpec } from "./report_deps.ts";
import type { GradCheckRecord, StudyResults, TrainingRecord } from "./study.ts";
import { type AblationRow, ablationRows, scheduleText, trialSettings } from "./study_ablation.ts";
import {
  bestSearchTrial,
  comparisonRows,
  finalValidationAccuracy,
  formatPercent,
  formatPercentRange,
  formatPoints,
  formatScientific,
  testAccuracyText,
} from "./study_comparison.ts";
import { bestLambdas, fineSearchMargin } from "./study_plan.ts";
import { studyReference } from "./study_reference.ts";

/**
 * Escapes text for HTML element content and attribute values.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { escapeHtml } from "./report.ts";
 * assert.equal(escapeHtml(`<a href="x">&</a>`), "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;");
 * ```
 */
export function escapeHtml(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;");
}

const style = `
  :root { color-scheme: light; }
  body { margin: 0; background: #f6f6f3; color: #1d1d1d;
    font: 15px/1.5 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; }
  main { max-width: 1040px; margin: 0 auto; padding: 24px 28px 64px; background: white;
    box-shadow: 0 0 0 1px #e3e3de; }
  h1 { font-size: 1.7em; margin: 0.2em 0 0.1em; }
  h2 { font-size: 1.3em; margin: 2.2em 0 0.4em; padding-top: 0.6em; border-top: 2px solid #e8e8e2; }
  h3 { font-size: 1.05em; margin: 1.4em 0 0.3em; }
  p { margin: 0.4em 0 0.8em; }
  .meta { color: #555; font-size: 0.92em; }
  .note { background: #fff7e0; border-left: 4px solid #e8b83a; padding: 8px 12px; }
  nav { font-size: 0.92em; margin: 1em 0; }
  nav a { margin-right: 1em; }
  a { color: #1b5fa8; }
  table { border-collapse: collapse; margin: 0.6em 0 1.2em; font-size: 0.9em; }
  th, td { padding: 4px 10px; border-bottom: 1px solid #e4e4e0; text-align: left; vertical-align: top; }
  th { background: #f3f3ef; font-weight: 600; }
  th.group { text-align: center; border-bottom: 1px solid #d6d6d0; }
  td:first-child { white-space: nowrap; }
  td.number, th.number { text-align: right; font-variant-numeric: tabular-nums; }
  td.number { white-space: nowrap; }
  tr.best td { background: #eef6ea; }
  .failed { color: #b00020; font-weight: 600; }
  .passed { color: #256b2c; font-weight: 600; }
  figure { margin: 1em 0 1.6em; }
  figure .plot { overflow-x: auto; }
  figure svg { max-width: 100%; height: auto; display: block; }
  figcaption { font-size: 0.9em; color: #333; margin-top: 0.3em; }
  code { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 0.92em;
    background: #f3f3ef; padding: 0 3px; }
  footer { margin-top: 3em; font-size: 0.88em; color: #555; }
`;

/** A cell: text, or text with a class (`number`, `failed`, `passed`). */
type Cell = string | { readonly text: string; readonly className: string };

/** A header cell spanning `span` columns, above the column headers. */
interface HeaderGroup {
  readonly text: string;
  readonly span: number;
}

function table(
  header: readonly Cell[],
  rows: readonly (readonly Cell[])[],
  rowClasses: readonly string[] = [],
  groups: readonly HeaderGroup[] = [],
): string {
  const cell = (tag: "th" | "td", value: Cell) =>
    typeof value === "string"
      ? `<${tag}>${escapeHtml(value)}</${tag}>`
      : `<${tag} class="${value.className}">${escapeHtml(value.text)}</${tag}>`;
  const body = rows.map((row, index) => {
    const className = rowClasses[index] ? ` class="${rowClasses[index]}"` : "";
    return `<tr${className}>${row.map((value) => cell("td", value)).join("")}</tr>`;
  });
  const groupRow = groups.length === 0
    ? ""
    : `<tr>${
      groups.map((group) =>
        `<th colspan="${group.span}" class="group">${escapeHtml(group.text)}</th>`
      ).join("")
    }</tr>`;
  return `<table><thead>${groupRow}<tr>${
    header.map((value) => cell("th", value)).join("")
  }</tr></thead><tbody>${body.join("")}</tbody></table>`;
}

const number = (text: string): Cell => ({ text, className: "number" });

/** Renders figures in order, numbering their ids. */
class FigureRenderer {
  #count = 0;

  /** A numbered figure: the plot, what it draws, and what it shows in these results. */
  async figure(spec: VegaLiteSpec, description: string, shows: string): Promise<string> {
    this.#count++;
    const svg = await renderSvg(spec, `figure${this.#count}`);
    return `<figure><div class="plot">${svg}</div><figcaption><strong>Figure ${this.#count}.</strong> ${
      escapeHtml(description)
    } <em>What this shows:</em> ${escapeHtml(shows)}</figcaption></figure>`;
  }
}

function describeSchedule(record: TrainingRecord): string {
  const { schedule, updates, batchSize } = record.trial;
  const trainingSize = record.trial.training.end - record.trial.training.start;
  const epochs = updates / Math.floor(trainingSize / batchSize);
  const length = `${updates.toLocaleString("en")} updates (${
    Number.isInteger(epochs) ? epochs : epochs.toFixed(1)
  } epochs)`;
  if (schedule.kind === "cyclical") {
    const cycles = updates / (2 * schedule.stepSize);
    return `cyclical η from ${schedule.minimum} to ${schedule.maximum}, n_s = ${schedule.stepSize}, ${
      Number.isInteger(cycles) ? cycles : cycles.toFixed(1)
    } cycles = ${length}`;
  }
  if (schedule.kind === "constant") return `constant η = ${schedule.learningRate}, ${length}`;
  if (schedule.kind === "stepDecay") {
    return `η₀ = ${schedule.initial} decaying by ${schedule.decay} per epoch, ${length}`;
  }
  return `${scheduleText(schedule)}, ${length}`;
}

function describeData(record: TrainingRecord, testSize: number): string {
  const count = (range: { start: number; end: number }) =>
    (range.end - range.start).toLocaleString("en");
  return `trained on ${count(record.trial.training)} samples, validated on ${
    count(record.trial.validation)
  }, tested on ${testSize.toLocaleString("en")}; batch ${record.trial.batchSize}, plain SGD`;
}

function lastPoint(record: TrainingRecord) {
  return record.result.history.at(-1);
}

function accuracyCells(record: TrainingRecord): Cell[] {
  const last = lastPoint(record);
  if (record.result.diverged || last === undefined) {
    const text = record.result.diverged
      ? `diverged at update ${record.result.diverged.update}`
      : "—";
    return [{ text, className: "failed" }, number("—"), number("—")];
  }
  return [
    number(formatPercent(last.training.accuracy)),
    number(formatPercent(last.validation.accuracy)),
    number(testAccuracyText(record)),
  ];
}

/** Validation accuracy at or below this is chance level for 10 classes (plus noise). */
const chanceLevel = 0.11;

function percentText(fraction: number): string {
  return `${(100 * fraction).toFixed(1)} %`;
}

function listText(items: readonly string[]): string {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`;
}

/** Test accuracies with and without batch norm, network by network. */
function batchNormShows(records: readonly TrainingRecord[]): string {
  const depths = [...new Set(records.map((record) => record.trial.hiddenSizes.length + 1))];
  const pairs = depths.map((depth) => {
    const find = (batchNorm: boolean) =>
      records.find((record) =>
        record.trial.hiddenSizes.length + 1 === depth && record.trial.batchNorm === batchNorm
      );
    const withBatchNorm = find(true), without = find(false);
    return `${depth}-layer ${withBatchNorm ? testAccuracyText(withBatchNorm) : "—"} with BN, ${
      without ? testAccuracyText(without) : "—"
    } without`;
  });
  return `test accuracy ${pairs.join("; ")}. The deeper the network, the more its training ` +
    "depends on how well-scaled each layer's input is — which is what batch norm fixes.";
}

/** The best and worst λ of the search. */
function lambdaShows(
  points: readonly { lambda: number; validationAccuracy: number }[],
): string {
  if (points.length === 0) return "no search trials.";
  const sorted = [...points].sort((a, b) => b.validationAccuracy - a.validationAccuracy);
  const best = sorted[0], worst = sorted[sorted.length - 1];
  return `the best λ, ${best.lambda.toPrecision(2)} (log10 λ = ${
    Math.log10(best.lambda).toFixed(2)
  }), reached ${percentText(best.validationAccuracy)}; the worst, ${worst.lambda.toPrecision(2)}, ${
    percentText(worst.validationAccuracy)
  }. Too little λ lets the network overfit, too much ` +
    "underfits.";
}

/** How far training and validation accuracy end apart. */
function generalizationShows(record: TrainingRecord): string {
  const last = lastPoint(record);
  if (record.result.diverged || last === undefined) return "the run diverged.";
  const gap = 100 * (last.training.accuracy - last.validation.accuracy);
  return `at the end, training accuracy ${percentText(last.training.accuracy)} and validation ${
    percentText(last.validation.accuracy)
  }: a gap of ${gap.toFixed(1)} points, the amount of overfitting at λ = ${
    Number(record.trial.lambda.toPrecision(3))
  }.`;
}

/** The best and worst recognised classes and the most frequent confusion. */
function confusionShows(
  matrix: readonly (readonly number[])[],
  classNames: readonly string[],
): string {
  const name = (index: number) => classNames[index] ?? String(index);
  const recalls = matrix.map((row, index) => {
    const total = row.reduce((sum, count) => sum + count, 0);
    return { index, recall: total === 0 ? 0 : row[index] / total };
  }).sort((a, b) => b.recall - a.recall);
  let confusion = { actual: 0, predicted: 0, count: -1 };
  matrix.forEach((row, actual) =>
    row.forEach((count, predicted) => {
      if (actual !== predicted && count > confusion.count) confusion = { actual, predicted, count };
    })
  );
  const best = recalls[0], worst = recalls[recalls.length - 1];
  return `best recognised: ${name(best.index)} (${percentText(best.recall)}); worst: ${
    name(worst.index)
  } (${percentText(worst.recall)}); most frequent confusion: ${name(confusion.actual)} taken for ${
    name(confusion.predicted)
  } (${confusion.count} times).`;
}

/** Which settings stayed at chance level, and where batch norm ended ahead. */
function comparisonShows(
  records: readonly TrainingRecord[],
  panelOf: (record: TrainingRecord) => string,
): string {
  const stalled = records.filter((record) => finalValidationAccuracy(record) <= chanceLevel)
    .map((record) => `${panelOf(record)} ${record.trial.batchNorm ? "with" : "without"} BN`);
  const panels = [...new Set(records.map(panelOf))];
  const ahead: string[] = [], behind: string[] = [];
  for (const panel of panels) {
    const find = (batchNorm: boolean) =>
      records.find((record) => panelOf(record) === panel && record.trial.batchNorm === batchNorm);
    const withBatchNorm = find(true), without = find(false);
    if (!withBatchNorm || !without) continue;
    const difference = finalValidationAccuracy(withBatchNorm) - finalValidationAccuracy(without);
    (difference > 0 ? ahead : behind).push(panel);
  }
  const stalledText = stalled.length === 0
    ? "no run stayed at chance level"
    : `stuck at chance level (≤ ${Math.round(100 * chanceLevel)} % validation accuracy): ${
      listText(stalled)
    }`;
  const aheadText = ahead.length === 0
    ? "batch norm ended ahead nowhere"
    : `batch norm ended with the higher validation accuracy at ${listText(ahead)}`;
  return `${stalledText}; ${aheadText}${
    behind.length === 0 ? "" : `, behind at ${listText(behind)}`
  }.`;
}

/** When the overfitting run first fitted every training sample, and where it ended. */
function overfitShows(record: TrainingRecord): string {
  const history = record.result.history;
  const last = history.at(-1);
  if (record.result.diverged || last === undefined) return "the run diverged.";
  const first = history.find((point) => point.training.accuracy === 1);
  const fitted = first
    ? `training accuracy first reaches 100 % at epoch ${Math.round(first.epoch)}`
    : `training accuracy ends at ${percentText(last.training.accuracy)}`;
  return `${fitted}; the training loss ends at ${last.training.loss.toFixed(4)} while validation ` +
    `accuracy stays at ${percentText(last.validation.accuracy)}: the gradients and the optimizer ` +
    "work, and 100 samples do not generalize.";
}

function summarySection(results: StudyResults): string {
  const rows = comparisonRows(results);
  if (rows.length === 0) return "";
  return `<section id="summary"><h2>Our figures beside the reference reports'</h2>
<p>Reference figures are the SPEC's table: the lowest and highest of five course reports
(2017–2021) that ran this study on the full data (45,000 training samples).</p>
${
    table(
      ["experiment", "setting", "measure", "ours", "reference"],
      rows.map((
        row,
      ) => [row.experiment, row.setting, row.measure, number(row.ours), number(row.reference)]),
    )
  }</section>`;
}

async function batchNormSection(
  records: readonly TrainingRecord[],
  results: StudyResults,
  figures: FigureRenderer,
): Promise<string> {
  const first = records[0];
  const rows = records.map((record) => {
    const figure = studyReference.batchNorm[record.trial.id];
    return [
      record.trial.label,
      `[${record.trial.hiddenSizes.join(", ")}]`,
      ...accuracyCells(record),
      number(figure ? formatPercentRange(figure) : "—"),
    ];
  });
  const curves = await figures.figure(
    splitCurvesSpec(records.map((record) => ({
      series: record.trial.label,
      history: record.result.history,
    }))),
    "Training (blue) and validation (red) cost, loss and accuracy per update step for each network.",
    batchNormShows(records),
  );
  const trainingSize = first.trial.training.end - first.trial.training.start;
  const schedule = await figures.figure(
    learningRateSpec(
      first.trial.schedule,
      first.trial.updates,
      Math.floor(trainingSize / first.trial.batchSize),
    ),
    "The cyclical (triangular) learning rate of these runs.",
    "η climbs linearly from η_min to η_max over n_s updates and back; the curves above improve " +
      "fastest as η falls to the bottom of each cycle.",
  );
  return `<section id="bn"><h2>Batch norm vs no batch norm, shallow and deep</h2>
<p>He initialization, λ = ${first.trial.lambda}, ${describeSchedule(first)}; ${
    describeData(first, results.testSize)
  }.</p>
${
    table(
      [
        "network",
        "hidden sizes",
        number("training acc."),
        number("validation acc."),
        number("test acc."),
        number("reference test acc."),
      ],
      rows,
    )
  }
${curves}
${schedule}</section>`;
}

function lambdaTable(records: readonly TrainingRecord[]): string {
  const best = bestLambdas(
    records.map((record) => ({
      lambda: record.trial.lambda,
      validationAccuracy: finalValidationAccuracy(record),
    })),
    3,
  );
  return table(
    [number("rank"), number("λ"), number("log10 λ"), number("validation acc.")],
    best.map((outcome, index) => [
      number(String(index + 1)),
      number(outcome.lambda.toPrecision(3)),
      number(Math.log10(outcome.lambda).toFixed(3)),
      number(formatPercent(outcome.validationAccuracy)),
    ]),
  );
}

async function lambdaSection(
  results: StudyResults,
  figures: FigureRenderer,
): Promise<string> {
  const search = results.experiments.lambda!;
  const { coarse, fine, final, fineRange } = search;
  const best = bestSearchTrial([...coarse, ...fine]);
  const reference = studyReference.lambda;
  const points = [
    ...coarse.map((record) => ({ record, stage: "coarse" as const })),
    ...fine.map((record) => ({ record, stage: "fine" as const })),
  ].map(({ record, stage }) => ({
    lambda: record.trial.lambda,
    validationAccuracy: finalValidationAccuracy(record),
    stage,
  }));
  const searchFigure = await figures.figure(
    lambdaSearchSpec(points, fineRange, final.trial.lambda),
    `Validation accuracy after ${results.scale.cycles} cycles against log10 λ; the shaded band is ` +
      `the fine search's range (the best three coarse λ ± ${fineSearchMargin} decades).`,
    lambdaShows(points),
  );
  const finalCurves = await figures.figure(
    splitCurvesSpec([{ series: final.trial.label, history: final.result.history }]),
    `Training (blue) and validation (red) cost, loss and accuracy of the final run with the best λ ` +
      `for ${results.scale.finalCycles} cycles.`,
    generalizationShows(final),
  );
  const confusion = final.result.confusionMatrix
    ? await figures.figure(
      confusionMatrixSpec(
        final.result.confusionMatrix,
        results.classNames.length > 0 ? results.classNames : CIFAR10_CLASS_NAMES,
      ),
      "Test confusion matrix of the final run: counts, shaded by the share of each true class.",
      confusionShows(final.result.confusionMatrix, results.classNames),
    )
    : '<p class="failed">The final run diverged: no confusion matrix.</p>';
  return `<section id="lambda"><h2>Searching λ</h2>
<p>3-layer [50, 50] with batch norm. Coarse: ${coarse.length} values with log10 λ drawn uniformly
from [−5, −1]; fine: ${fine.length} values drawn uniformly from [${fineRange[0].toFixed(2)}, ${
    fineRange[1].toFixed(2)
  }], around the best three coarse values. Each trial: ${describeSchedule(coarse[0])}; ${
    describeData(coarse[0], results.testSize)
  }. Every trial is in <code>trials.jsonl</code>.</p>
${searchFigure}
<h3>Best three coarse trials</h3>
${lambdaTable(coarse)}
<h3>Best three fine trials</h3>
${lambdaTable(fine)}
<h3>Final run with the best λ</h3>
${
    table(
      ["", number("ours"), number("reference")],
      [
        [
          "best λ",
          number(best ? best.trial.lambda.toPrecision(3) : "—"),
          number(`${reference.bestLambda.low}–${reference.bestLambda.high}`),
        ],
        [
          "its validation accuracy in the search",
          number(best ? formatPercent(finalValidationAccuracy(best)) : "—"),
          number(formatPercentRange(reference.bestValidationAccuracy)),
        ],
        [
          `test accuracy after ${results.scale.finalCycles} cycles`,
          number(testAccuracyText(final)),
          number(formatPercentRange(reference.finalTestAccuracy)),
        ],
      ],
    )
  }
${finalCurves}
${confusion}</section>`;
}

const comparisonMeasures: readonly Measure[] = [
  { title: "validation accuracy (%)", split: "validation", metric: "accuracy" },
  { title: "training loss", split: "training", metric: "loss" },
];

function batchNormSeries(record: TrainingRecord): string {
  return record.trial.batchNorm ? "BN" : "no BN";
}

async function initializationSection(
  records: readonly TrainingRecord[],
  results: StudyResults,
  figures: FigureRenderer,
): Promise<string> {
  const sigmaOf = (record: TrainingRecord) => {
    const initialization = record.trial.initialization;
    return typeof initialization === "object" ? initialization.standardDeviation : NaN;
  };
  const sigmas = [...new Set(records.map(sigmaOf))];
  const rows = sigmas.map((sigma) => {
    const cells = [true, false].flatMap((batchNorm) => {
      const record = records.find((candidate) =>
        sigmaOf(candidate) === sigma && candidate.trial.batchNorm === batchNorm
      );
      const figure = record ? studyReference.initialization[record.trial.id] : undefined;
      return [
        number(record ? testAccuracyText(record) : "—"),
        number(figure ? formatPercentRange(figure) : "—"),
      ];
    });
    return [number(String(sigma)), ...cells];
  });
  const curves = await figures.figure(
    comparisonCurvesSpec(
      records.map((record) => ({
        panel: `σ = ${sigmaOf(record)}`,
        series: batchNormSeries(record),
        history: record.result.history,
      })),
      comparisonMeasures,
      { lossCeiling: 4 },
    ),
    "Validation accuracy and training loss per update step for each initial σ, with and without " +
      "batch norm.",
    comparisonShows(records, (record) => `σ = ${sigmaOf(record)}`),
  );
  const first = records[0];
  return `<section id="init"><h2>Sensitivity to initialization</h2>
<p>3-layer [50, 50]; every weight drawn from N(0, σ²) with the same σ in every layer; λ = ${first.trial.lambda}, ${
    describeSchedule(first)
  }; ${describeData(first, results.testSize)}.</p>
${
    table(
      [
        number("σ"),
        number("BN: ours"),
        number("BN: reference"),
        number("no BN: ours"),
        number("no BN: reference"),
      ],
      rows,
    )
  }
${curves}</section>`;
}

async function learningRateSection(
  records: readonly TrainingRecord[],
  results: StudyResults,
  figures: FigureRenderer,
): Promise<string> {
  const rateOf = (record: TrainingRecord) =>
    record.trial.schedule.kind === "constant" ? record.trial.schedule.learningRate : NaN;
  const rates = [...new Set(records.map(rateOf))];
  const rows = rates.map((rate) => {
    const cells = [true, false].flatMap((batchNorm) => {
      const record = records.find((candidate) =>
        rateOf(candidate) === rate && candidate.trial.batchNorm === batchNorm
      );
      const last = record ? lastPoint(record) : undefined;
      return [
        number(
          record?.result.diverged ? "diverged" : last ? last.training.loss.toFixed(3) : "—",
        ),
        number(record ? testAccuracyText(record) : "—"),
      ];
    });
    return [number(String(rate)), ...cells];
  });
  const curves = await figures.figure(
    comparisonCurvesSpec(
      records.map((record) => ({
        panel: `η = ${rateOf(record)}`,
        series: batchNormSeries(record),
        history: record.result.history,
      })),
      comparisonMeasures,
      { lossCeiling: 4 },
    ),
    "Validation accuracy and training loss per update step for each constant learning rate, with " +
      "and without batch norm (loss drawn up to 4).",
    comparisonShows(records, (record) => `η = ${rateOf(record)}`),
  );
  const first = records[0];
  return `<section id="learning-rate"><h2>Learning rates, with and without batch norm</h2>
<p>3-layer [50, 50], He initialization, λ = ${first.trial.lambda}, constant η for ${
    first.trial.updates.toLocaleString("en")
  } updates; ${
    describeData(first, results.testSize)
  }. Reference: “${studyReference.learningRate}”.</p>
${
    table(
      [
        number("η"),
        number("BN: final training loss"),
        number("BN: test acc."),
        number("no BN: final training loss"),
        number("no BN: test acc."),
      ],
      rows,
    )
  }
${curves}</section>`;
}

async function twoLayerSection(
  record: TrainingRecord,
  results: StudyResults,
  figures: FigureRenderer,
): Promise<string> {
  const curves = await figures.figure(
    splitCurvesSpec([{ series: record.trial.label, history: record.result.history }]),
    "Training (blue) and validation (red) cost, loss and accuracy of the 2-layer baseline.",
    generalizationShows(record),
  );
  return `<section id="two-layer"><h2>The 2-layer baseline</h2>
<p>2-layer [50] without batch norm, λ = ${record.trial.lambda}, ${describeSchedule(record)}; ${
    describeData(record, results.testSize)
  }.</p>
${
    table(
      [
        number("training acc."),
        number("validation acc."),
        number("test acc."),
        number("reference"),
      ],
      [[
        ...accuracyCells(record),
        number(formatPercentRange(studyReference.twoLayerTestAccuracy)),
      ]],
    )
  }
${curves}</section>`;
}

/** The checks of one network by both difference methods, side by side. */
function gradCheckTable(checks: readonly GradCheckRecord[]): string {
  const names: Record<string, string> = { weight: "W", bias: "b", scale: "γ", shift: "β" };
  const centered = checks.find((record) => record.trial.method === "centered");
  const ridders = checks.find((record) => record.trial.method === "ridders");
  const base = centered ?? ridders;
  if (base === undefined) return "";
  const status = (failures: number | undefined): Cell =>
    failures === undefined
      ? number("—")
      : { text: String(failures), className: `number ${failures === 0 ? "passed" : "failed"}` };
  const rows = base.result.rows.map((row, index) => {
    const c = centered?.result.rows[index];
    const r = ridders?.result.rows[index];
    const scientific = (value: number | undefined) =>
      number(value === undefined ? "—" : formatScientific(value));
    return [
      row.layer,
      `${names[row.parameter] ?? row.parameter}${row.feedsBatchNorm ? " *" : ""}`,
      number(String(row.entries)),
      scientific(c?.maximumAbsoluteError),
      scientific(c?.maximumRelativeError),
      scientific(c?.meanRelativeError),
      status(c?.failures),
      scientific(r?.maximumAbsoluteError),
      scientific(r?.maximumRelativeError),
      scientific(r?.meanRelativeError),
      status(r?.failures),
      number(`${c?.kinks ?? "—"} / ${r?.kinks ?? "—"}`),
    ];
  });
  return table(
    [
      "layer",
      "parameter",
      number("entries"),
      number("max |a − n|"),
      number("max rel."),
      number("mean rel."),
      number("failed"),
      number("max |a − n|"),
      number("max rel."),
      number("mean rel."),
      number("failed"),
      number("kinks"),
    ],
    rows,
    [],
    [
      { text: "", span: 3 },
      { text: "centered differences, h = 1e−6", span: 4 },
      { text: "Ridders' extrapolation", span: 4 },
      { text: "", span: 1 },
    ],
  );
}

async function gradCheckSection(
  results: StudyResults,
  figures: FigureRenderer,
): Promise<string> {
  const { checks, overfit } = results.experiments.gradcheck!;
  const reference = studyReference.gradCheck;
  const first = checks[0];
  const depths = [...new Set(checks.map((record) => record.trial.hiddenSizes.length))];
  const parts = depths.map((depth) => {
    const group = checks.filter((record) => record.trial.hiddenSizes.length === depth);
    const verdicts = group.map((record) =>
      `<span class="${record.result.passed ? "passed" : "failed"}">${
        record.result.passed ? "passed" : "FAILED"
      }</span> (${record.trial.method === "ridders" ? "Ridders" : "centered"})`
    );
    return `<h3>${escapeHtml(group[0].trial.label)}: ${verdicts.join(", ")}</h3>
${gradCheckTable(group)}`;
  });
  const last = lastPoint(overfit);
  const curves = await figures.figure(
    splitCurvesSpec([{ series: overfit.trial.label, history: overfit.result.history }], [
      "loss",
      "accuracy",
    ]),
    `Training (blue, the ${
      overfit.trial.training.end - overfit.trial.training.start
    } samples) and ` +
      `validation (red) loss and accuracy while overfitting, one point per epoch.`,
    overfitShows(overfit),
  );
  return `<section id="gradcheck"><h2>Gradient checks and the overfitting check</h2>
<p>Analytic gradients of the cost (λ = ${first?.trial.lambda}) compared with numerical ones on the
first ${first?.trial.features} input dimensions of ${first?.trial.samples} real training samples:
by centered differences (J(θ + h) − J(θ − h)) / 2h with h = 1e−6, the SPEC's formula, and by Ridders'
extrapolation of centered differences to h → 0, which removes most of the numerical side's own
truncation and rounding error — so its column shows how exact the analytic gradients are. Relative error
|a − n| / max(1e−8, |a| + |n|), the SPEC's measure; an entry fails when |a − n| > 1e−8 + 1e−6·max(|a|, |n|);
kinks are entries whose perturbation crossed a ReLU kink (not judged). Reference mean relative
errors: ${formatScientific(reference.weightAndBias.low)} … ${
    formatScientific(reference.weightAndBias.high)
  } for W and b, ${formatScientific(reference.scaleAndShift.low)} … ${
    formatScientific(reference.scaleAndShift.high)
  } for γ and β.</p>
<p>* The bias of a linear layer followed by batch norm has a true gradient of exactly 0 (batch
norm subtracts the batch mean), so both gradients are rounding noise there: its relative error
is large while its absolute error is ~1e−10. The summary table leaves these rows out.</p>
${parts.join("\n")}
<h3>Overfitting ${overfit.trial.training.end - overfit.trial.training.start} samples</h3>
<p>3-layer [50, 50] with batch norm, λ = 0, ${
    describeSchedule(overfit)
  }, batch ${overfit.trial.batchSize}.
Final training accuracy ${last ? formatPercent(last.training.accuracy) : "—"}, training loss ${
    last ? last.training.loss.toFixed(4) : "—"
  } (reference: ${escapeHtml(studyReference.overfit)}).</p>
${curves}</section>`;
}

/** The panel of the extensions curves each trial is drawn in (the recipe is in every one). */
const extensionPanels: Readonly<Record<string, string>> = {
  "extensions/no-augmentation": "regularization",
  "extensions/no-dropout": "regularization",
  "extensions/sgd-momentum": "optimizer and schedule",
  "extensions/cyclical": "optimizer and schedule",
  "extensions/bn-after-relu": "network",
  "extensions/narrow": "network",
  "extensions/reference": "network",
};

/** What each change cost or gained, largest loss first. */
function extensionsShows(rows: readonly AblationRow[]): string {
  const [recipe, ...others] = rows;
  if (recipe?.test === undefined) {
    return "the full recipe diverged, so there is nothing to compare.";
  }
  const compared = others.filter((row) => row.difference !== undefined)
    .sort((a, b) => a.difference! - b.difference!);
  const losses = compared.filter((row) => row.difference! < 0);
  const gains = compared.filter((row) => row.difference! >= 0);
  const text = (row: AblationRow) => `${row.label} (${formatPoints(row.difference!)})`;
  return `the full recipe reached ${formatPercent(recipe.test.accuracy)} test accuracy; ${
    losses.length === 0 ? "no change lost accuracy" : `lost: ${listText(losses.map(text))}`
  }; ${
    gains.length === 0 ? "no change gained" : `gained or held: ${listText(gains.map(text))}`
  } (points of test accuracy, one seed: differences of a few tenths are within seed noise).`;
}

async function extensionsSection(
  records: readonly TrainingRecord[],
  results: StudyResults,
  figures: FigureRenderer,
): Promise<string> {
  const rows = ablationRows(records);
  if (rows.length === 0) {
    return `<section id="extensions"><h2>Beyond the reports: the recipe and its ablation</h2>
<p class="failed">The full recipe's trial is missing: no ablation.</p></section>`;
  }
  const recipe = rows[0].record;
  const best = Math.max(...rows.map((row) => row.test?.accuracy ?? -1));
  const ablation = table(
    [
      "trial",
      "changed from the full recipe",
      number("training acc."),
      number("validation acc."),
      number("test acc."),
      number("Δ test (points)"),
    ],
    rows.map((row) => {
      const isTrial = row.id === row.record.trial.id;
      const [training, validation, test] = accuracyCells(row.record);
      return [
        row.label,
        row.changes.length === 0
          ? "—"
          : row.changes.map((change) => `${change.setting}: ${change.recipe} → ${change.trial}`)
            .join("; "),
        isTrial ? training : number("—"),
        isTrial ? validation : number("—"),
        isTrial
          ? test
          : number(row.test ? formatPercent(row.test.accuracy) : testAccuracyText(row.record)),
        number(
          row.difference === undefined || row.changes.length === 0
            ? "—"
            : formatPoints(row.difference),
        ),
      ];
    }),
    rows.map((row) => (row.test?.accuracy === best ? "best" : "")),
  );
  const settings = table(
    ["setting", "full recipe"],
    trialSettings(recipe.trial).map(({ setting, value }) => [setting, value]),
  );
  const statisticsRecords = records.filter((record) => record.result.testByBatchNormStatistics);
  const statistics = statisticsRecords.length === 0
    ? ""
    : `<h3>Batch-norm statistics at evaluation</h3>
<p>The test accuracy of each trained network with the moving averages (updated during training),
with PreciseBN (recomputed over training batches with the final weights) and with Adaptive BN
(recomputed from the test images themselves).</p>
${
      table(
        ["trial", number("moving averages"), number("PreciseBN"), number("Adaptive BN")],
        statisticsRecords.map((record) => {
          const { moving, precise, adaptive } = record.result.testByBatchNormStatistics!;
          return [
            record.trial.label,
            ...[moving, precise, adaptive].map((metrics) =>
              number(formatPercent(metrics.accuracy))
            ),
          ];
        }),
      )
    }`;
  const curveRecords = records.filter((record) => record.result.history.length > 0);
  const panels = [...new Set(Object.values(extensionPanels))];
  const curves = await figures.figure(
    comparisonCurvesSpec(
      curveRecords.flatMap((record) => {
        const run = { series: record.trial.label, history: record.result.history };
        if (record === recipe) return panels.map((panel) => ({ ...run, panel }));
        return [{ ...run, panel: extensionPanels[record.trial.id] ?? "network" }];
      }),
      comparisonMeasures,
      { lossCeiling: 4, x: "epoch" },
    ),
    "Validation accuracy and training loss per epoch (moving-average statistics, no dropout or " +
      "augmentation in the measurement) of the full recipe, drawn in every panel, and of each " +
      "change: regularization, optimizer and schedule, and the network.",
    extensionsShows(rows),
  );
  const trainingSize = recipe.trial.training.end - recipe.trial.training.start;
  const scaleNote = results.scale.name === "full"
    ? ""
    : ` This ${escapeHtml(results.scale.name)} study runs the recipe on ${
      trainingSize.toLocaleString("en")
    } training samples with hidden sizes [${
      recipe.trial.hiddenSizes.join(", ")
    }]; the full study runs the README's [1024, 512] on 45,000.`;
  return `<section id="extensions"><h2>Beyond the reports: the recipe and its ablation</h2>
<p>The README's recipe past 60 % (its settings below), then one trial per option taken out or
changed, all with seed ${results.seed} and the same ${
    trainingSize.toLocaleString("en")
  } training and ${
    (recipe.trial.validation.end - recipe.trial.validation.start).toLocaleString("en")
  }
validation samples, tested on ${results.testSize.toLocaleString("en")}. A row's Δ is its test
accuracy minus the recipe's: what the option it changes is worth. The moving-average and
Adaptive BN rows evaluate the recipe's own trained network (the statistics used at evaluation do
not change training), so their training and validation accuracy are the recipe's. Training and
validation accuracy are the last recorded, with the moving averages.${scaleNote}</p>
<h3>Ablation</h3>
${ablation}
${curves}
${statistics}
<h3>The full recipe's settings</h3>
${settings}</section>`;
}

function formatDuration(seconds: number): string {
  const whole = Math.round(seconds);
  if (whole < 60) return `${whole} s`;
  const minutes = Math.floor(whole / 60);
  if (minutes < 60) return `${minutes} min ${String(whole % 60).padStart(2, "0")} s`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, "0")} min`;
}

/**
 * The report of a study as one HTML document (UTF-8 text), built from its results alone.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildReport } from "./report.ts";
 * import { quickScale, twoLayerTrial } from "./study_plan.ts";
 * const metrics = { loss: 1.5, cost: 1.6, accuracy: 0.45 };
 * const history = [10, 20].map((update) => ({ update, epoch: update / 100, learningRate: 0.01, training: metrics, validation: metrics }));
 * const result = { kind: "training", history, test: metrics, confusionMatrix: [[5, 1], [2, 4]], timing: { seconds: 1 } } as const;
 * const html = await buildReport({ scale: quickScale, seed: 1, classNames: ["cat", "dog"], testSize: 12, backend: "ml-matrix",
 *   workers: 2, startedAt: "2026-01-01T00:00:00Z", seconds: 5, experiments: { twoLayer: { trial: twoLayerTrial(quickScale, 1), result } } });
 * assert.ok(html.startsWith("<!doctype html>"));
 * assert.ok(html.includes("<svg") && html.includes("47.80–52.40 %"));
 * assert.ok(!/<script|<link|https?:\/\/(?!www\.w3\.org)/.test(html));
 * ```
 */
export async function buildReport(results: StudyResults): Promise<string> {
  const figures = new FigureRenderer();
  const { bn, lambda, init, learningRate, twoLayer, gradcheck, extensions } = results.experiments;
  const sections: string[] = [summarySection(results)];
  const links: [string, string][] = [["summary", "Summary"]];
  if (bn && bn.length > 0) {
    sections.push(await batchNormSection(bn, results, figures));
    links.push(["bn", "BN vs no BN"]);
  }
  if (lambda) {
    sections.push(await lambdaSection(results, figures));
    links.push(["lambda", "λ search"]);
  }
  if (init && init.length > 0) {
    sections.push(await initializationSection(init, results, figures));
    links.push(["init", "Initialization"]);
  }
  if (learningRate && learningRate.length > 0) {
    sections.push(await learningRateSection(learningRate, results, figures));
    links.push(["learning-rate", "Learning rates"]);
  }
  if (twoLayer) {
    sections.push(await twoLayerSection(twoLayer, results, figures));
    links.push(["two-layer", "2-layer baseline"]);
  }
  if (gradcheck) {
    sections.push(await gradCheckSection(results, figures));
    links.push(["gradcheck", "Gradient checks"]);
  }
  if (extensions && extensions.length > 0) {
    sections.push(await extensionsSection(extensions, results, figures));
    links.push(["extensions", "Extensions"]);
  }
  const { scale } = results;
  const size = (range: { start: number; end: number }) =>
    (range.end - range.start).toLocaleString("en");
  const quickNote = scale.name === "full"
    ? ""
    : `<p class="note">This is the <strong>${escapeHtml(scale.name)}</strong> study: ${
      size(scale.training)
    } training samples instead of 45,000 and ${
      (2 * scale.stepSize * scale.cycles).toLocaleString("en")
    } updates instead of 9,000 per run, so accuracies are expected a few points below the reference figures. Run
without <code>--quick</code> for the full study.</p>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>CIFAR-10 study: k-layer networks with batch normalization</title>
<style>${style}</style>
</head>
<body>
<main>
<h1>k-layer networks with batch normalization on CIFAR-10</h1>
<p class="meta">${escapeHtml(scale.name)} study · ${size(scale.training)} training / ${
    size(scale.validation)
  } validation / ${results.testSize.toLocaleString("en")} test samples · seed ${results.seed} · ${
    escapeHtml(results.backend)
  } · ${results.workers} worker${results.workers === 1 ? "" : "s"} · ${
    formatDuration(results.seconds)
  } (trials found in the log excluded) · started ${escapeHtml(results.startedAt)}</p>
${quickNote}
<nav>${links.map(([id, title]) => `<a href="#${id}">${escapeHtml(title)}</a>`).join("")}</nav>
${sections.join("\n")}
<footer>Made by <code>deno task study${
    scale.name === "quick" ? " --quick" : ""
  }</code>. Every trial's settings and results are in <code>trials.jsonl</code> and
<code>results.json</code> beside this file; rerunning with the same <code>--out</code> skips finished trials.</footer>
</main>
</body>
</html>
`;
}
