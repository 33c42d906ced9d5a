/**
 * The optimizers training can use, as data, and one step of either: SGD with momentum
 * ({@linkcode sgdStep}) or Adam / AdamW ({@linkcode adamStep}). The learning rate comes from the
 * schedule, update by update; the rest of each optimizer's settings live here.
 *
 * @module
 */
import { type AdamState, adamStep, assertAdamOptions, initialAdamState } from "./adam.ts";
import { type LayerParameters, mapParameters, type NetworkParameters } from "./network.ts";
import { castTensor, type DType, type Tensor } from "./tensor.ts";
import { initialSgdState, type SgdState, sgdStep } from "./sgd.ts";

/** SGD and its momentum. */
export interface SgdOptimizer {
  readonly kind: "sgd";
  /** ρ of SGD with momentum; 0 for plain SGD. */
  readonly momentum: number;
}

/** Adam and its settings (see {@linkcode adamStep}). */
export interface AdamOptimizer {
  readonly kind: "adam";
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  /** Decoupled weight decay of the weights (AdamW); 0 for Adam. */
  readonly weightDecay: number;
}

/** An optimizer and its settings (the learning rate excepted). */
export type Optimizer = SgdOptimizer | AdamOptimizer;

/** The state of either optimizer. */
export type OptimizerState = SgdState | AdamState;

/**
 * Adam with the usual settings (β₁ = 0.9, β₂ = 0.999, ε = 1e−8) and the given decoupled
 * weight decay.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { adam } from "./optimizer.ts";
 * assert.equal(adam(0.01).weightDecay, 0.01);
 * ```
 */
export function adam(weightDecay = 0): AdamOptimizer {
  const optimizer = { kind: "adam", beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay } as const;
  assertAdamOptions({ learningRate: 0, ...optimizer });
  return Object.freeze(optimizer);
}

/**
 * The state before the first step of `optimizer`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { adam, initialOptimizerState } from "./optimizer.ts";
 * assert.deepEqual(initialOptimizerState(adam()), { step: 0, firstMoment: undefined, secondMoment: undefined });
 * ```
 */
export function initialOptimizerState(optimizer: Optimizer): OptimizerState {
  return optimizer.kind === "sgd" ? initialSgdState : initialAdamState;
}

/**
 * The state with its tensors (SGD's velocity, Adam's moments) converted to `dtype`, as
 * training casts a resumed state to the type of the network it continues.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { castOptimizerState } from "./optimizer.ts";
 * import { column } from "./tensor.ts";
 * const state = castOptimizerState({ velocity: [{ bias: column([0.1]) }] }, "float32");
 * assert.ok("velocity" in state && state.velocity?.[0].bias?.data instanceof Float32Array);
 * ```
 */
export function castOptimizerState(state: OptimizerState, dtype: DType): OptimizerState {
  return mapOptimizerTensors(state, (value) => castTensor(value, dtype));
}

/**
 * The state with `f` applied to each of its tensors (`f` keeps shapes).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mapOptimizerTensors } from "./optimizer.ts";
 * import { scale } from "./primitives.ts";
 * import { column } from "./tensor.ts";
 * const state = mapOptimizerTensors({ velocity: [{ bias: column([1]) }] }, (value) => scale(value, 3));
 * assert.ok("velocity" in state && state.velocity?.[0].bias?.data[0] === 3);
 * ```
 */
export function mapOptimizerTensors(
  state: OptimizerState,
  f: <Rows extends number, Columns extends number>(
    value: Tensor<Rows, Columns>,
  ) => Tensor<Rows, Columns>,
): OptimizerState {
  const map = (parameters: NetworkParameters | undefined) =>
    parameters && mapParameters(parameters, (value) => f(value));
  if (isAdamState(state)) {
    return { ...state, firstMoment: map(state.firstMoment), secondMoment: map(state.secondMoment) };
  }
  return { velocity: map(state.velocity) };
}

/**
 * Whether `state` is Adam's (it counts steps) rather than SGD's.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isAdamState } from "./optimizer.ts";
 * import { initialAdamState } from "./adam.ts";
 * import { initialSgdState } from "./sgd.ts";
 * assert.ok(isAdamState(initialAdamState) && !isAdamState(initialSgdState));
 * ```
 */
export function isAdamState(state: OptimizerState): state is AdamState {
  return "step" in state;
}

/**
 * One step of `optimizer` with learning rate η. Throws a TypeError when `state` belongs to the
 * other optimizer (a checkpoint resumed with another optimizer, say).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { adam, initialOptimizerState, optimizerStep } from "./optimizer.ts";
 * import { column } from "./tensor.ts";
 * const sgd = { kind: "sgd", momentum: 0 } as const;
 * const step = optimizerStep(sgd, [{ bias: column([1]) }], [{ bias: column([2]) }], initialOptimizerState(sgd), 0.25);
 * assert.equal(step.parameters[0].bias?.data[0], 0.5);
 * assert.throws(() => optimizerStep(adam(), [], [], step.state, 0.1), /SGD state/);
 * ```
 */
export function optimizerStep(
  optimizer: Optimizer,
  parameters: NetworkParameters,
  gradients: NetworkParameters,
  state: OptimizerState,
  learningRate: number,
): { parameters: LayerParameters[]; state: OptimizerState } {
  if (optimizer.kind === "sgd") {
    if (isAdamState(state)) {
      throw new TypeError(
        "Cannot take an SGD step from an Adam state: resume with the same optimizer",
      );
    }
    return sgdStep(parameters, gradients, state, { learningRate, momentum: optimizer.momentum });
  }
  if (!isAdamState(state)) {
    throw new TypeError(
      "Cannot take an Adam step from an SGD state: resume with the same optimizer",
    );
  }
  return adamStep(parameters, gradients, state, { learningRate, ...optimizer });
}
