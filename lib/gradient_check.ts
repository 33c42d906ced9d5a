/**
 * Gradient checking: compares the analytic gradient of the cost with numerical differences,
 * for every parameter (W, b, γ, β) of every layer.
 *
 * Numerical gradient: centered differences (J(θ + h) − J(θ − h)) / 2h, forward differences
 * (J(θ + h) − J(θ)) / h as the cheap variant, or Ridders' extrapolation of centered differences
 * where the cost is strongly curved or noisy (see {@linkcode DifferenceMethod}). An entry passes when
 * |a − n| ≤ atol + rtol·max(|a|, |n|); the SPEC's relative error |a − n| / max(ε, |a| + |n|)
 * is reported beside it (alone it fails spuriously on gradients near 1e−5, where the
 * difference quotient carries ~1e−10 of absolute noise).
 *
 * ReLU kinks: the cost is not differentiable where a ReLU input is 0. For every perturbation
 * the check compares which ReLU inputs are positive with the unperturbed pass; if any
 * changed, the difference quotient straddles a kink, so that entry is counted under `kinks`
 * and not judged. Nothing else is excused.
 *
 * @module
 */
import { layerName } from "./architecture.ts";
import {
  type LayerCache,
  type LayerParameters,
  type Network,
  type NetworkParameters,
  parameterNames,
} from "./network.ts";
import { trainingCost, trainingGradients } from "./objective.ts";
import type { RandomKey } from "./random.ts";
import type { Labels } from "./softmax_cross_entropy.ts";
import { type Tensor, tensor } from "./tensor.ts";

/**
 * How the numerical gradient is formed, with J± = J(θ ± h):
 * - `"forward"`: (J(θ + h) − J(θ)) / h, one evaluation per entry, error O(h);
 * - `"centered"`: (J+ − J−) / 2h, two evaluations, error h²·J'''/6;
 * - `"ridders"`: centered differences at h, h/1.4, h/1.4², … extrapolated to h → 0 (Ridders'
 *   method), stopping when the extrapolation error grows; about 8–12 evaluations, restarted
 *   from h/10 (up to three times) while its own error estimate exceeds a tenth of the pass
 *   rule's tolerance, for costs that bend on a scale smaller than h. Accurate
 *   both where J''' is large (batch norm whose batch variance is near ε, where the centered
 *   error alone reaches 4e−8) and where J carries rounding noise (a nearly constant batch
 *   normalised by batch norm), because it picks the step by the error it observes.
 */
export type DifferenceMethod = "forward" | "centered" | "ridders";

/** The cost at θ + offset, and whether a ReLU input has another sign there than at θ. */
type Evaluation = (offset: number) => { cost: number; crossesKink: boolean };

/** The numerical derivative by `method`; `undefined` when every usable step crosses a kink. */
function numericalDerivative(
  evaluate: Evaluation,
  baseCost: number,
  method: DifferenceMethod,
  step: number,
  resolved: (value: number, error: number) => boolean,
): number | undefined {
  if (method === "forward") {
    const plus = evaluate(step);
    return plus.crossesKink ? undefined : (plus.cost - baseCost) / step;
  }
  const centered = (h: number) => {
    const plus = evaluate(h);
    const minus = evaluate(-h);
    return plus.crossesKink || minus.crossesKink ? undefined : (plus.cost - minus.cost) / (2 * h);
  };
  if (method === "centered") return centered(step);
  // Ridders' table only converges once h is small against the scale on which J bends; when its
  // own error estimate says the result is not resolved, start again from a step 10× smaller.
  let best: { value: number; error: number } | undefined;
  for (let tries = 0, h = step; tries < 4; tries++, h /= 10) {
    const estimate = riddersExtrapolation(centered, h);
    // A kink at every step of this scale: never look for a step small enough to slip past it.
    if (estimate === undefined) break;
    if (!best || estimate.error < best.error) best = estimate;
    if (resolved(estimate.value, estimate.error)) break;
  }
  return best?.value;
}

/**
 * Ridders' extrapolation of centered differences to h → 0 (as in Numerical Recipes'
 * `dfridr`). Steps that straddle a kink are skipped by shrinking h before the table starts;
 * a kink met inside the table ends it with the best estimate so far.
 */
function riddersExtrapolation(
  centered: (h: number) => number | undefined,
  initialStep: number,
): { value: number; error: number } | undefined {
  const shrink = 1.4, shrinkSquared = shrink * shrink, tableSize = 10, safety = 2;
  let h = initialStep;
  let first = centered(h);
  for (let tries = 0; first === undefined && tries < 20; tries++) {
    h /= shrink;
    first = centered(h);
  }
  if (first === undefined) return undefined;
  let previousRow = [first];
  let best = first, error = Infinity;
  for (let i = 1; i < tableSize; i++) {
    h /= shrink;
    const estimate = centered(h);
    if (estimate === undefined) break;
    const row = [estimate];
    let factor = shrinkSquared;
    for (let j = 1; j <= i; j++) {
      row[j] = (row[j - 1] * factor - previousRow[j - 1]) / (factor - 1);
      factor *= shrinkSquared;
      const change = Math.max(
        Math.abs(row[j] - row[j - 1]),
        Math.abs(row[j] - previousRow[j - 1]),
      );
      if (change <= error) {
        error = change;
        best = row[j];
      }
    }
    if (Math.abs(row[i] - previousRow[i - 1]) >= safety * error) break;
    previousRow = row;
  }
  return { value: best, error };
}
/**
 * Analytic gradients of the cost, in the structure of the parameters; `dropoutKey` draws the
 * dropout masks (the same key the numerical side uses).
 */
export type GradientFunction = (
  network: Network,
  input: Tensor,
  labels: Labels,
  lambda: number,
  dropoutKey?: RandomKey,
) => NetworkParameters;

/** Options of {@linkcode gradCheck}. */
export interface GradCheckOptions {
  /** λ of the L2 term in the cost (default 0). */
  readonly lambda?: number;
  /** The difference formula (default `"centered"`); see {@linkcode DifferenceMethod}. */
  readonly method?: DifferenceMethod;
  /** The step h (default 1e−6; for Ridders' method the first step, default 1e−4). */
  readonly step?: number;
  /** atol of the pass rule (default 1e−8). */
  readonly absoluteTolerance?: number;
  /** rtol of the pass rule (default 1e−6). */
  readonly relativeTolerance?: number;
  /** ε in the relative error's denominator max(ε, |a| + |n|) (default 1e−8, the scale of atol). */
  readonly epsilon?: number;
  /** Check at most this many entries of each parameter, evenly spaced (default: all). */
  readonly maximumEntries?: number;
  /** The analytic gradients to check (default: the library's backward pass). */
  readonly gradients?: GradientFunction;
  /**
   * Draws the dropout masks, needed when the network has dropout. Every evaluation (analytic
   * and at each θ ± h) uses this one key, so the masks stay fixed across the perturbations.
   */
  readonly dropoutKey?: RandomKey;
}

/** The comparison for one parameter tensor of one layer. */
export interface ParameterCheck {
  readonly layerIndex: number;
  /** e.g. `Linear layer 2`. */
  readonly layer: string;
  readonly parameter: (typeof parameterNames)[number];
  /** Entries compared (kinks excluded). */
  readonly entries: number;
  /** Entries skipped because the perturbation crossed a ReLU kink. */
  readonly kinks: number;
  /** Entries outside atol + rtol·max(|a|, |n|). */
  readonly failures: number;
  readonly maximumAbsoluteError: number;
  readonly maximumRelativeError: number;
  readonly meanRelativeError: number;
  /** The entry with the largest |a − n| beyond its tolerance (or the largest |a − n|). */
  readonly worst: { readonly index: number; readonly analytic: number; readonly numerical: number };
}

/** The result of {@linkcode gradCheck}. */
export interface GradCheckResult {
  /** True when no compared entry failed. */
  readonly passed: boolean;
  readonly parameters: readonly ParameterCheck[];
  readonly method: DifferenceMethod;
  readonly step: number;
  readonly absoluteTolerance: number;
  readonly relativeTolerance: number;
}

const defaultGradients: GradientFunction = (network, input, labels, lambda, dropoutKey) =>
  trainingGradients(network, input, labels, lambda, undefined, dropoutKey).gradients;

function reluSigns(caches: readonly LayerCache[]): Uint8Array {
  const inputs = caches.flatMap((entry) => (entry.kind === "relu" ? [entry.cache.input.data] : []));
  const signs = new Uint8Array(inputs.reduce((total, values) => total + values.length, 0));
  let offset = 0;
  for (const values of inputs) {
    for (let i = 0; i < values.length; i++) signs[offset + i] = values[i] > 0 ? 1 : 0;
    offset += values.length;
  }
  return signs;
}

function sameSigns(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function withEntry(
  network: Network,
  layerIndex: number,
  name: (typeof parameterNames)[number],
  index: number,
  value: number,
): Network {
  const original = network.parameters[layerIndex][name] as Tensor;
  const data = original.data.slice();
  data[index] = value;
  const parameters: LayerParameters[] = [...network.parameters];
  parameters[layerIndex] = {
    ...parameters[layerIndex],
    [name]: tensor(original.rows, original.columns, data),
  };
  return { ...network, parameters };
}

/**
 * Checks the analytic gradient of the cost J = mean cross-entropy + λ Σ‖W‖² of `network` on a
 * batch (training mode) against numerical differences, parameter by parameter.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { multilayerPerceptron } from "./architecture.ts";
 * import { formatGradCheck, gradCheck } from "./gradient_check.ts";
 * import { initializeNetwork } from "./network.ts";
 * import { normals, randomKey } from "./random.ts";
 * import { tensor } from "./tensor.ts";
 * const architecture = multilayerPerceptron({ inputSize: 5, hiddenSizes: [4], classes: 3, batchNorm: true });
 * const network = initializeNetwork(architecture, randomKey(1), "he");
 * const input = tensor(5, 6, normals(randomKey(2), 30).values);
 * const result = gradCheck(network, input, [0, 1, 2, 0, 1, 2], { lambda: 0.01 });
 * assert.ok(result.passed, formatGradCheck(result));
 * ```
 */
export function gradCheck(
  network: Network,
  input: Tensor,
  labels: Labels,
  options: GradCheckOptions = {},
): GradCheckResult {
  const {
    lambda = 0,
    method = "centered",
    step = method === "ridders" ? 1e-4 : 1e-6,
    absoluteTolerance = 1e-8,
    relativeTolerance = 1e-6,
    epsilon = 1e-8,
    maximumEntries = Infinity,
    gradients = defaultGradients,
    dropoutKey,
  } = options;
  if (!(step > 0)) throw new RangeError(`Cannot check gradients with step ${step}: it must be > 0`);
  const analytic = gradients(network, input, labels, lambda, dropoutKey);
  const base = trainingCost(network, input, labels, lambda, dropoutKey);
  const baseSigns = reluSigns(base.caches);
  const evaluateAt = (perturbed: Network) => {
    const { cost, caches } = trainingCost(perturbed, input, labels, lambda, dropoutKey);
    return { cost, crossesKink: !sameSigns(baseSigns, reluSigns(caches)) };
  };
  const { layers } = network.architecture;
  const checks: ParameterCheck[] = [];
  network.parameters.forEach((layerParameters, layerIndex) => {
    for (const name of parameterNames) {
      const value = layerParameters[name];
      if (!value) continue;
      const analyticGradient = analytic[layerIndex]?.[name];
      if (!analyticGradient || analyticGradient.data.length !== value.data.length) {
        throw new TypeError(
          `Cannot check ${layerName(layers, layerIndex)} ${name}: the analytic gradient is ${
            analyticGradient
              ? `of shape [${analyticGradient.rows}, ${analyticGradient.columns}]`
              : "missing"
          } but the parameter has shape [${value.rows}, ${value.columns}]`,
        );
      }
      const count = value.data.length;
      const stride = Math.max(1, Math.ceil(count / maximumEntries));
      let entries = 0, kinks = 0, failures = 0;
      let maximumAbsoluteError = 0, maximumRelativeError = 0, relativeErrorSum = 0;
      let worst = { index: -1, analytic: 0, numerical: 0 };
      let worstExcess = -Infinity;
      for (let index = 0; index < count; index += stride) {
        const original = value.data[index];
        const numerical = numericalDerivative(
          (offset) => evaluateAt(withEntry(network, layerIndex, name, index, original + offset)),
          base.cost,
          method,
          step,
          // Resolved: the extrapolation's own error is a tenth of what the pass rule allows.
          (value, error) =>
            error <= 0.1 * (absoluteTolerance + relativeTolerance * Math.abs(value)),
        );
        if (numerical === undefined) {
          kinks++;
          continue;
        }
        const a = analyticGradient.data[index];
        const absoluteError = Math.abs(a - numerical);
        const relativeError = absoluteError / Math.max(epsilon, Math.abs(a) + Math.abs(numerical));
        const tolerance = absoluteTolerance +
          relativeTolerance * Math.max(Math.abs(a), Math.abs(numerical));
        entries++;
        if (absoluteError > tolerance) failures++;
        maximumAbsoluteError = Math.max(maximumAbsoluteError, absoluteError);
        maximumRelativeError = Math.max(maximumRelativeError, relativeError);
        relativeErrorSum += relativeError;
        if (absoluteError - tolerance > worstExcess) {
          worstExcess = absoluteError - tolerance;
          worst = { index, analytic: a, numerical };
        }
      }
      checks.push({
        layerIndex,
        layer: layerName(layers, layerIndex),
        parameter: name,
        entries,
        kinks,
        failures,
        maximumAbsoluteError,
        maximumRelativeError,
        meanRelativeError: entries === 0 ? 0 : relativeErrorSum / entries,
        worst,
      });
    }
  });
  return {
    passed: checks.every((check) => check.failures === 0),
    parameters: checks,
    method,
    step,
    absoluteTolerance,
    relativeTolerance,
  };
}

/**
 * A readable table of a {@linkcode gradCheck} result, one row per layer and parameter.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { linear, sequential } from "./architecture.ts";
 * import { formatGradCheck, gradCheck } from "./gradient_check.ts";
 * import { initializeNetwork } from "./network.ts";
 * import { randomKey } from "./random.ts";
 * import { fromRows } from "./tensor.ts";
 * const network = initializeNetwork(sequential(linear(2, 2)), randomKey(1), "he");
 * const table = formatGradCheck(gradCheck(network, fromRows([[1], [2]]), [1]));
 * assert.ok(table.includes("Linear layer 1"));
 * ```
 */
export function formatGradCheck(result: GradCheckResult): string {
  const header = [
    "layer",
    "parameter",
    "entries",
    "max |a−n|",
    "max rel. error",
    "mean rel. error",
    "kinks",
    "failed",
  ];
  const exponential = (value: number) => value.toExponential(2);
  const rows = result.parameters.map((check) => [
    check.layer,
    check.parameter,
    String(check.entries),
    exponential(check.maximumAbsoluteError),
    exponential(check.maximumRelativeError),
    exponential(check.meanRelativeError),
    String(check.kinks),
    check.failures === 0 ? "0" : `${check.failures} ✗`,
  ]);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column].length))
  );
  const line = (cells: string[]) =>
    cells.map((cell, column) => cell.padEnd(widths[column])).join("  ").trimEnd();
  const summary = result.passed
    ? `PASSED: every entry within ${result.absoluteTolerance} + ${result.relativeTolerance}·max(|a|, |n|)`
    : `FAILED: ${
      result.parameters.reduce((total, check) => total + check.failures, 0)
    } entries outside ${result.absoluteTolerance} + ${result.relativeTolerance}·max(|a|, |n|)`;
  return [
    `Gradient check (${result.method} differences, h = ${result.step})`,
    line(header),
    line(widths.map((width) => "─".repeat(width))),
    ...rows.map(line),
    summary,
  ].join("\n");
}
