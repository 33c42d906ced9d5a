/**
 * Adam, with optional decoupled weight decay (AdamW), as a pure function
 * (parameters, gradients, state) → (parameters, state).
 *
 * With step t = 1, 2, …, gradient g, rates β₁, β₂ and learning rate η:
 * m ← β₁·m + (1 − β₁)·g, v ← β₂·v + (1 − β₂)·g², m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ),
 * θ ← θ − η·(m̂/(√v̂ + ε) + w·θ), where the decoupled weight decay w applies to the linear
 * layers' weights only (like the SPEC's L2 term; biases, γ and β are not decayed). With w = 0
 * this is Adam; L2 through λ in the cost still works beside it, as it does for SGD.
 *
 * Each parameter is updated in one fused loop (no per-entry callbacks), allocating its new
 * value and moments; nothing given is written into.
 *
 * @module
 */
import { type LayerParameters, type NetworkParameters, parameterNames } from "./network.ts";
import {
  assertShape,
  dtypeOf,
  type FloatArray,
  floatArray,
  type Tensor,
  tensor,
} from "./tensor.ts";

/** Adam's state: the step count t and the moment estimates m and v (absent before step 1). */
export interface AdamState {
  /** Steps taken so far. */
  readonly step: number;
  readonly firstMoment: NetworkParameters | undefined;
  readonly secondMoment: NetworkParameters | undefined;
}

/** The state before the first step: t = 0, m = v = 0. */
export const initialAdamState: AdamState = Object.freeze({
  step: 0,
  firstMoment: undefined,
  secondMoment: undefined,
});

/** Options of {@linkcode adamStep}. */
export interface AdamOptions {
  /** η. */
  readonly learningRate: number;
  /** β₁, the decay of the first moment (default 0.9). */
  readonly beta1?: number;
  /** β₂, the decay of the second moment (default 0.999). */
  readonly beta2?: number;
  /** ε in the denominator (default 1e−8). */
  readonly epsilon?: number;
  /** w, decoupled weight decay of the weights (default 0: plain Adam). */
  readonly weightDecay?: number;
}

/**
 * Throws a RangeError quoting the value if Adam's options are out of range.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { assertAdamOptions } from "./adam.ts";
 * assert.throws(() => assertAdamOptions({ learningRate: 0.1, beta1: 1 }), /β₁ 1/);
 * ```
 */
export function assertAdamOptions(options: AdamOptions): void {
  const { learningRate, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8, weightDecay = 0 } = options;
  const check = (ok: boolean, what: string, value: number, rule: string) => {
    if (!ok) throw new RangeError(`Cannot take an Adam step with ${what} ${value}: ${rule}`);
  };
  check(
    learningRate >= 0 && Number.isFinite(learningRate),
    "learning rate",
    learningRate,
    "it must be finite and ≥ 0",
  );
  check(beta1 >= 0 && beta1 < 1, "β₁", beta1, "it must be in [0, 1)");
  check(beta2 >= 0 && beta2 < 1, "β₂", beta2, "it must be in [0, 1)");
  check(epsilon > 0 && Number.isFinite(epsilon), "ε", epsilon, "it must be finite and > 0");
  check(
    weightDecay >= 0 && Number.isFinite(weightDecay),
    "weight decay",
    weightDecay,
    "it must be finite and ≥ 0",
  );
}

/**
 * One Adam (or AdamW) step. Returns new parameters and state; the arguments are not touched.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { adamStep, initialAdamState } from "./adam.ts";
 * import { column } from "./tensor.ts";
 * const parameters = [{ bias: column([1, 1]) }];
 * const gradients = [{ bias: column([0.5, -2]) }];
 * // The first step moves every entry by η against the sign of its gradient.
 * const step = adamStep(parameters, gradients, initialAdamState, { learningRate: 0.1 });
 * assert.ok(Math.abs(step.parameters[0].bias!.data[0] - 0.9) < 1e-7);
 * assert.ok(Math.abs(step.parameters[0].bias!.data[1] - 1.1) < 1e-7);
 * assert.equal(step.state.step, 1);
 * ```
 */
export function adamStep(
  parameters: NetworkParameters,
  gradients: NetworkParameters,
  state: AdamState,
  options: AdamOptions,
): { parameters: LayerParameters[]; state: AdamState } {
  assertAdamOptions(options);
  const { learningRate, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8, weightDecay = 0 } = options;
  if (!Number.isInteger(state.step) || state.step < 0) {
    throw new RangeError(`Cannot take an Adam step from step count ${state.step}`);
  }
  const step = state.step + 1;
  const firstCorrection = 1 / (1 - beta1 ** step);
  const secondCorrection = 1 / (1 - beta2 ** step);
  const updatedParameters: LayerParameters[] = [];
  const firstMoment: LayerParameters[] = [];
  const secondMoment: LayerParameters[] = [];
  parameters.forEach((layer, layerIndex) => {
    const newLayer: Partial<Record<(typeof parameterNames)[number], Tensor>> = {};
    const newFirst: Partial<Record<(typeof parameterNames)[number], Tensor>> = {};
    const newSecond: Partial<Record<(typeof parameterNames)[number], Tensor>> = {};
    for (const name of parameterNames) {
      const value = layer[name];
      if (!value) continue;
      const gradient = gradients[layerIndex]?.[name];
      if (!gradient) {
        throw new TypeError(
          `Cannot take an Adam step: layer ${layerIndex + 1} has a ${name} but no gradient for it`,
        );
      }
      const where = `Adam step on layer ${layerIndex + 1} ${name}`;
      assertShape(
        gradient,
        value.rows,
        value.columns,
        where,
        "a gradient must have its parameter's shape",
      );
      const previousFirst = state.firstMoment?.[layerIndex]?.[name];
      const previousSecond = state.secondMoment?.[layerIndex]?.[name];
      for (const previous of [previousFirst, previousSecond]) {
        if (previous) {
          assertShape(
            previous,
            value.rows,
            value.columns,
            where,
            "a moment must have its parameter's shape",
          );
        }
      }
      const count = value.data.length;
      const dtype = dtypeOf(value);
      const m = floatArray(dtype, count),
        v = floatArray(dtype, count),
        next = floatArray(dtype, count);
      adamUpdate(
        value.data,
        gradient.data,
        previousFirst?.data ?? m,
        previousSecond?.data ?? v,
        m,
        v,
        next,
        learningRate,
        beta1,
        beta2,
        epsilon,
        name === "weight" ? weightDecay : 0,
        firstCorrection,
        secondCorrection,
      );
      newLayer[name] = tensor(value.rows, value.columns, next);
      newFirst[name] = tensor(value.rows, value.columns, m);
      newSecond[name] = tensor(value.rows, value.columns, v);
    }
    updatedParameters.push(newLayer as LayerParameters);
    firstMoment.push(newFirst as LayerParameters);
    secondMoment.push(newSecond as LayerParameters);
  });
  return { parameters: updatedParameters, state: { step, firstMoment, secondMoment } };
}

/**
 * The fused update of one parameter: m, v and the new θ in one pass. `previousFirst` and
 * `previousSecond` may be the (zero-filled) output arrays themselves on the first step.
 */
function adamUpdate(
  theta: FloatArray,
  gradient: FloatArray,
  previousFirst: FloatArray,
  previousSecond: FloatArray,
  first: FloatArray,
  second: FloatArray,
  next: FloatArray,
  learningRate: number,
  beta1: number,
  beta2: number,
  epsilon: number,
  decay: number,
  firstCorrection: number,
  secondCorrection: number,
): void {
  const oneMinusBeta1 = 1 - beta1, oneMinusBeta2 = 1 - beta2;
  const stepSize = learningRate * firstCorrection, shrink = 1 - learningRate * decay;
  for (let i = 0; i < theta.length; i++) {
    const g = gradient[i];
    const m = beta1 * previousFirst[i] + oneMinusBeta1 * g;
    const v = beta2 * previousSecond[i] + oneMinusBeta2 * g * g;
    first[i] = m;
    second[i] = v;
    // θ − η·(m̂/(√v̂ + ε) + w·θ), with m̂ = m·c₁ and v̂ = v·c₂.
    next[i] = shrink * theta[i] - (stepSize * m) / (Math.sqrt(v * secondCorrection) + epsilon);
  }
}
