/**
 * Stochastic gradient descent with optional momentum, as a pure function
 * (parameters, gradients, state) → (parameters, state).
 *
 * With momentum ρ: v ← ρ·v + η·g, θ ← θ − v. With ρ = 0 this is θ ← θ − η·g.
 *
 * @module
 */
import {
  type LayerParameters,
  mapParameters,
  type NetworkParameters,
  parameterNames,
} from "./network.ts";
import { addScaled, momentumStep, scale } from "./primitives.ts";
import { assertShape, type Tensor } from "./tensor.ts";

type ParameterName = (typeof parameterNames)[number];

/** The optimizer's state: the velocity v of every parameter (absent before the first step). */
export interface SgdState {
  readonly velocity: NetworkParameters | undefined;
}

/** The initial state: no velocity yet (zero). */
export const initialSgdState: SgdState = Object.freeze({ velocity: undefined });

/**
 * One SGD step. Returns new parameters and state; the arguments are not touched.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initialSgdState, sgdStep } from "./sgd.ts";
 * import { column, fromRows } from "./tensor.ts";
 * const parameters = [{ bias: column([1]) }];
 * const gradients = [{ bias: column([2]) }];
 * const step = sgdStep(parameters, gradients, initialSgdState, { learningRate: 0.1, momentum: 0.9 });
 * assert.ok(step.parameters[0].bias?.data[0] === 0.8);
 * ```
 */
export function sgdStep(
  parameters: NetworkParameters,
  gradients: NetworkParameters,
  state: SgdState,
  options: { readonly learningRate: number; readonly momentum?: number },
): { parameters: LayerParameters[]; state: SgdState } {
  const { learningRate, momentum = 0 } = options;
  if (!(learningRate >= 0) || !Number.isFinite(learningRate)) {
    throw new RangeError(
      `Cannot take an SGD step with learning rate ${learningRate}: it must be finite and ≥ 0`,
    );
  }
  if (!(momentum >= 0 && momentum < 1)) {
    throw new RangeError(`Cannot take an SGD step with momentum ${momentum}: it must be in [0, 1)`);
  }
  const gradientOf = (value: Tensor, layerIndex: number, name: string): Tensor => {
    const gradient = gradients[layerIndex]?.[name as keyof LayerParameters];
    if (!gradient) {
      throw new TypeError(
        `Cannot take an SGD step: layer ${layerIndex + 1} has a ${name} but no gradient for it`,
      );
    }
    assertShape(
      gradient,
      value.rows,
      value.columns,
      `SGD step on layer ${layerIndex + 1} ${name}`,
      "a gradient must have its parameter's shape",
    );
    return gradient;
  };
  if (momentum === 0) {
    const updated = mapParameters(
      parameters,
      (value, layerIndex, name) =>
        addScaled(value, gradientOf(value, layerIndex, name), -learningRate),
    );
    return { parameters: updated, state: { velocity: undefined } };
  }
  const updated: LayerParameters[] = [];
  const velocity: LayerParameters[] = [];
  parameters.forEach((layer, layerIndex) => {
    const values: Partial<Record<ParameterName, Tensor>> = {};
    const velocities: Partial<Record<ParameterName, Tensor>> = {};
    for (const name of parameterNames) {
      const value = layer[name];
      if (!value) continue;
      const gradient = gradientOf(value, layerIndex, name);
      const previous = state.velocity?.[layerIndex]?.[name];
      if (previous) {
        const step = momentumStep(value, previous, gradient, momentum, learningRate);
        values[name] = step.value;
        velocities[name] = step.velocity;
      } else { // the first step starts from v = 0: v′ = η·g
        const first = scale(gradient, learningRate);
        values[name] = addScaled(value, first, -1);
        velocities[name] = first;
      }
    }
    updated.push(values as LayerParameters);
    velocity.push(velocities as LayerParameters);
  });
  return { parameters: updated, state: { velocity } };
}
