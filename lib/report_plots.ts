/**
 * The report's figures: Vega-Lite specifications rendered to SVG offline.
 *
 * Plots are described in Vega-Lite (the grammar-of-graphics layer of the Vega project,
 * University of Washington IDL, BSD-3) and rendered by Vega's headless `View` with
 * `renderer: "none"` and `view.toSVG()`: no browser, canvas, network or native code is
 * needed, so the figures come out the same in CI and are embedded in the HTML as inline SVG.
 *
 * Each function returns a specification; {@linkcode renderSvg} turns one into SVG text whose
 * element ids are prefixed, so several figures can share one page.
 *
 * @module
 */
import { compileVegaLite, vega, type VegaLiteSpec } from "./report_deps.ts";
import { learningRateAt, type TrainingSchedule } from "./learning_rate.ts";
import type { HistoryPoint } from "./training.ts";

/** A curve's points: one history, named by its panel and its series. */
export interface LabelledHistory {
  /** The panel column it is drawn in (e.g. `σ = 0.001`); one column when absent. */
  readonly panel?: string;
  /** Its line's name in the legend (e.g. `BN`). */
  readonly series: string;
  readonly history: readonly HistoryPoint[];
}

/** One measure of a history: which split and which metric. */
export interface Measure {
  /** Shown as the row's title, e.g. `validation accuracy (%)`. */
  readonly title: string;
  readonly split: "training" | "validation";
  readonly metric: "loss" | "cost" | "accuracy";
}

const palette = [
  "#1f77b4",
  "#d62728",
  "#2ca02c",
  "#ff7f0e",
  "#9467bd",
  "#8c564b",
  "#e377c2",
  "#17becf",
  "#7f7f7f",
  "#bcbd22",
];

const baseConfig = {
  background: "white",
  font: "Helvetica, Arial, sans-serif",
  view: { stroke: "#d0d0d0" },
  axis: { labelFontSize: 11, titleFontSize: 11, titleFontWeight: "normal", gridColor: "#ececec" },
  header: { labelFontSize: 12, titleFontSize: 12 },
  legend: { labelFontSize: 11, titleFontSize: 11, orient: "top", labelLimit: 320 },
} as const;

function valueOf(point: HistoryPoint, measure: Measure): number {
  const value = point[measure.split][measure.metric];
  return measure.metric === "accuracy" ? 100 * value : value;
}

/**
 * Training and validation curves of one run: one panel per metric (cost, loss, accuracy),
 * both splits in each, against the update step.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { splitCurvesSpec } from "./report_plots.ts";
 * const metrics = { loss: 2, cost: 2.1, accuracy: 0.3 };
 * const history = [{ update: 10, epoch: 0.1, learningRate: 0.01, training: metrics, validation: metrics }];
 * const spec = splitCurvesSpec([{ series: "3-layer, BN", history }]);
 * assert.equal((spec as { data: { values: unknown[] } }).data.values.length, 6);
 * ```
 */
export function splitCurvesSpec(
  runs: readonly { readonly series: string; readonly history: readonly HistoryPoint[] }[],
  metrics: readonly Measure["metric"][] = ["cost", "loss", "accuracy"],
): VegaLiteSpec {
  const titles = { cost: "cost", loss: "loss", accuracy: "accuracy (%)" };
  const values = runs.flatMap(({ series, history }) =>
    history.flatMap((point) =>
      metrics.flatMap((metric) =>
        (["training", "validation"] as const).map((split) => ({
          run: series,
          metric: titles[metric],
          split,
          update: point.update,
          value: valueOf(point, { title: "", split, metric }),
        }))
      )
    ).filter((row) => Number.isFinite(row.value))
  );
  const facetRow = runs.length > 1
    ? {
      row: {
        field: "run",
        type: "nominal",
        sort: runs.map((run) => run.series),
        title: null,
        header: {
          labelAngle: 0,
          labelAlign: "left",
          labelAnchor: "middle",
          labelFontWeight: "bold",
        },
      },
    }
    : {};
  return {
    data: { values },
    facet: {
      ...facetRow,
      column: {
        field: "metric",
        type: "nominal",
        sort: metrics.map((metric) => titles[metric]),
        title: null,
        header: { labelFontWeight: "bold" },
      },
    },
    spec: {
      width: 210,
      height: 130,
      mark: { type: "line", strokeWidth: 1.5, clip: true },
      encoding: {
        x: { field: "update", type: "quantitative", title: "update step" },
        y: { field: "value", type: "quantitative", title: null, scale: { zero: false } },
        color: {
          field: "split",
          type: "nominal",
          title: null,
          scale: { domain: ["training", "validation"], range: [palette[0], palette[1]] },
        },
      },
    },
    resolve: { scale: { y: "independent" } },
    config: baseConfig,
  } as VegaLiteSpec;
}

/** Options of {@linkcode comparisonCurvesSpec}. */
export interface ComparisonCurvesOptions {
  /** Losses above this are drawn at it (default: no ceiling). */
  readonly lossCeiling?: number;
  /**
   * The horizontal axis: `update` steps (default) or `epoch`s, which compare runs with
   * different batch sizes.
   */
  readonly x?: "update" | "epoch";
}

/**
 * Curves of several runs compared: one row per measure (e.g. validation accuracy, training
 * loss), one column per panel (e.g. per σ), one coloured line per series (e.g. BN, no BN).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { comparisonCurvesSpec } from "./report_plots.ts";
 * const metrics = { loss: 2, cost: 2.1, accuracy: 0.3 };
 * const history = [{ update: 10, epoch: 0.1, learningRate: 0.01, training: metrics, validation: metrics }];
 * const spec = comparisonCurvesSpec(
 *   [{ panel: "σ = 0.1", series: "BN", history }],
 *   [{ title: "validation accuracy (%)", split: "validation", metric: "accuracy" }],
 * );
 * assert.equal((spec as { data: { values: { value: number }[] } }).data.values[0].value, 30);
 * const byEpoch = comparisonCurvesSpec([{ series: "BN", history }], [], { x: "epoch" });
 * assert.ok(JSON.stringify(byEpoch).includes('"title":"epoch"'));
 * ```
 */
export function comparisonCurvesSpec(
  runs: readonly LabelledHistory[],
  measures: readonly Measure[],
  options: ComparisonCurvesOptions = {},
): VegaLiteSpec {
  const { x = "update" } = options;
  const panels = [...new Set(runs.map((run) => run.panel ?? ""))];
  const series = [...new Set(runs.map((run) => run.series))];
  const values = runs.flatMap((run) =>
    run.history.flatMap((point) =>
      measures.map((measure) => ({
        panel: run.panel ?? "",
        series: run.series,
        measure: measure.title,
        [x]: point[x],
        value: measure.metric === "accuracy" || options.lossCeiling === undefined
          ? valueOf(point, measure)
          : Math.min(valueOf(point, measure), options.lossCeiling),
      }))
    ).filter((row) => Number.isFinite(row.value))
  );
  return {
    data: { values },
    facet: {
      row: {
        field: "measure",
        type: "nominal",
        sort: measures.map((measure) => measure.title),
        title: null,
        header: { labelFontWeight: "bold" },
      },
      column: {
        field: "panel",
        type: "nominal",
        sort: panels,
        title: null,
        header: { labelFontWeight: "bold" },
      },
    },
    spec: {
      width: panels.length > 3 ? 160 : 210,
      height: 130,
      mark: { type: "line", strokeWidth: 1.5, clip: true },
      encoding: {
        x: { field: x, type: "quantitative", title: x === "update" ? "update step" : "epoch" },
        y: { field: "value", type: "quantitative", title: null, scale: { zero: false } },
        color: {
          field: "series",
          type: "nominal",
          title: null,
          scale: { domain: series, range: palette.slice(0, Math.max(series.length, 1)) },
          // Many series: a legend of several rows, as wide as the panels rather than wider.
          ...(series.length > 4 && { legend: { columns: 3, symbolStrokeWidth: 3 } }),
        },
      },
    },
    resolve: { scale: { y: "independent" } },
    config: baseConfig,
  } as VegaLiteSpec;
}

/**
 * The learning rate at every update of a schedule (sampled at most 600 times).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { learningRateSpec } from "./report_plots.ts";
 * const spec = learningRateSpec({ kind: "cyclical", minimum: 1e-5, maximum: 0.1, stepSize: 100 }, 400, 50);
 * const values = (spec as { data: { values: { learningRate: number }[] } }).data.values;
 * assert.equal(Math.max(...values.map((value) => value.learningRate)), 0.1);
 * ```
 */
export function learningRateSpec(
  schedule: TrainingSchedule,
  updates: number,
  updatesPerEpoch: number,
): VegaLiteSpec {
  const step = Math.max(1, Math.floor(updates / 600));
  const updatesToShow = new Set<number>();
  for (let update = 0; update <= updates; update += step) updatesToShow.add(update);
  if (schedule.kind === "cyclical") {
    for (let update = 0; update <= updates; update += schedule.stepSize) updatesToShow.add(update);
  }
  const values = [...updatesToShow].sort((a, b) => a - b).map((update) => ({
    update,
    learningRate: learningRateAt(schedule, update, updatesPerEpoch),
  }));
  return {
    data: { values },
    width: 640,
    height: 140,
    mark: { type: "line", strokeWidth: 1.5, color: palette[4] },
    encoding: {
      x: { field: "update", type: "quantitative", title: "update step" },
      y: { field: "learningRate", type: "quantitative", title: "learning rate η" },
    },
    config: baseConfig,
  } as VegaLiteSpec;
}

/** A λ-search trial as the search plot shows it. */
export interface LambdaPoint {
  readonly lambda: number;
  /** Fraction, 0–1. */
  readonly validationAccuracy: number;
  readonly stage: "coarse" | "fine";
}

/**
 * Validation accuracy against log10 λ for the coarse and fine trials, the fine range shaded,
 * the chosen λ ringed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { lambdaSearchSpec } from "./report_plots.ts";
 * const spec = lambdaSearchSpec([{ lambda: 0.001, validationAccuracy: 0.5, stage: "coarse" }], [-3.5, -2.5], 0.001);
 * assert.ok(JSON.stringify(spec).includes("log10 λ"));
 * ```
 */
export function lambdaSearchSpec(
  points: readonly LambdaPoint[],
  fineRange: readonly [number, number],
  bestLambda: number,
): VegaLiteSpec {
  const values = points.map((point) => ({
    logLambda: Math.log10(point.lambda),
    accuracy: 100 * point.validationAccuracy,
    stage: point.stage,
  }));
  const best = values.filter((value) => Math.log10(bestLambda) === value.logLambda);
  const x = {
    field: "logLambda",
    type: "quantitative",
    title: "log10 λ",
    scale: { domain: [-5, -1] },
    axis: { values: [-5, -4.5, -4, -3.5, -3, -2.5, -2, -1.5, -1] },
  };
  const y = {
    field: "accuracy",
    type: "quantitative",
    title: "validation accuracy (%)",
    scale: { zero: false },
  };
  return {
    width: 640,
    height: 240,
    layer: [
      {
        data: { values: [{ low: fineRange[0], high: fineRange[1] }] },
        mark: { type: "rect", color: "#f2e6c9", opacity: 0.7 },
        encoding: { x: { field: "low", type: "quantitative" }, x2: { field: "high" } },
      },
      {
        data: { values },
        mark: { type: "point", filled: true, size: 70, opacity: 0.9 },
        encoding: {
          x,
          y,
          color: {
            field: "stage",
            type: "nominal",
            title: null,
            scale: { domain: ["coarse", "fine"], range: [palette[0], palette[3]] },
          },
          shape: {
            field: "stage",
            type: "nominal",
            title: null,
            scale: { domain: ["coarse", "fine"], range: ["circle", "diamond"] },
          },
        },
      },
      {
        data: { values: best },
        mark: { type: "point", size: 260, strokeWidth: 2, color: "#222" },
        encoding: { x, y },
      },
      {
        data: { values: best },
        mark: { type: "text", dy: -16, fontSize: 11, fontWeight: "bold" },
        encoding: {
          x,
          y,
          text: { value: `best λ = ${bestLambda.toPrecision(2)}` },
        },
      },
    ],
    config: baseConfig,
  } as VegaLiteSpec;
}

/**
 * A confusion-matrix heat map: true class down, predicted class across, counts in the cells.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { confusionMatrixSpec } from "./report_plots.ts";
 * const spec = confusionMatrixSpec([[3, 1], [0, 4]], ["cat", "dog"]);
 * assert.equal((spec as { data: { values: unknown[] } }).data.values.length, 4);
 * ```
 */
export function confusionMatrixSpec(
  matrix: readonly (readonly number[])[],
  classNames: readonly string[],
): VegaLiteSpec {
  const values = matrix.flatMap((row, trueClass) => {
    const total = row.reduce((sum, count) => sum + count, 0);
    return row.map((count, predictedClass) => ({
      actual: classNames[trueClass] ?? String(trueClass),
      predicted: classNames[predictedClass] ?? String(predictedClass),
      count,
      share: total === 0 ? 0 : count / total,
    }));
  });
  const names = classNames.length > 0 ? [...classNames] : matrix.map((_, index) => String(index));
  return {
    data: { values },
    width: 420,
    height: 420,
    encoding: {
      x: {
        field: "predicted",
        type: "nominal",
        sort: names,
        title: "predicted class",
        axis: { labelAngle: -40, orient: "top" },
      },
      y: { field: "actual", type: "nominal", sort: names, title: "true class" },
    },
    layer: [
      {
        mark: { type: "rect" },
        encoding: {
          color: {
            field: "share",
            type: "quantitative",
            title: "share of row",
            scale: { scheme: "blues", domain: [0, 1] },
            legend: { format: ".0%", orient: "right", gradientLength: 200 },
          },
        },
      },
      {
        mark: { type: "text", fontSize: 11 },
        encoding: {
          text: { field: "count", type: "quantitative" },
          color: { condition: { test: "datum.share > 0.5", value: "white" }, value: "#222" },
        },
      },
    ],
    config: baseConfig,
  } as VegaLiteSpec;
}

/**
 * Renders a Vega-Lite specification to SVG text offline. Element ids (clip paths, gradients)
 * get `idPrefix` so that several SVGs can be inlined in one page without clashing.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { confusionMatrixSpec, renderSvg } from "./report_plots.ts";
 * const svg = await renderSvg(confusionMatrixSpec([[3, 1], [0, 4]], ["cat", "dog"]), "figure1");
 * assert.ok(svg.startsWith("<svg"));
 * assert.ok(svg.includes(">dog<"));
 * ```
 */
export async function renderSvg(spec: VegaLiteSpec, idPrefix: string): Promise<string> {
  const { spec: vegaSpecification } = compileVegaLite(spec);
  const view = new vega.View(vega.parse(vegaSpecification), { renderer: "none" });
  try {
    const svg = await view.toSVG();
    return svg
      .replace(/\sid="([^"]+)"/g, ` id="${idPrefix}-$1"`)
      .replace(/url\(#([^)]+)\)/g, `url(#${idPrefix}-$1)`)
      .replace(/href="#([^"]+)"/g, `href="#${idPrefix}-$1"`);
  } finally {
    view.finalize();
  }
}
