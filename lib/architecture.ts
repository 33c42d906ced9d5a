/**
 * Network architectures as plain data: a list of layer specifications whose sizes chain.
 *
 * `sequential(linear(3072, 50), batchNorm(50), relu(50), linear(50, 10))` is an
 * `Architecture<3072, 10>`; where sizes are literals, a layer whose input size differs from
 * the previous layer's output size is a compile-time error, and everywhere else a runtime
 * {@linkcode ShapeError} naming both layers.
 *
 * @module
 */
import { ShapeError } from "./errors.ts";

/** A linear layer s = W x + b from `inputSize` to `outputSize` units. */
export interface LinearSpec<In extends number = number, Out extends number = number> {
  readonly kind: "linear";
  readonly inputSize: In;
  readonly outputSize: Out;
}

/** Batch normalization over `inputSize` units, with or without a scale γ and shift β. */
export interface BatchNormSpec<Units extends number = number> {
  readonly kind: "batchNorm";
  readonly inputSize: Units;
  readonly outputSize: Units;
  /** Whether the layer has a learnable scale γ and shift β. */
  readonly affine: boolean;
  /** ε in x̂ = (x − μ)/√(σ² + ε). */
  readonly epsilon: number;
  /** α in the moving averages avg ← α·avg + (1 − α)·batch. */
  readonly momentum: number;
}

/** A ReLU over `inputSize` units. */
export interface ReluSpec<Units extends number = number> {
  readonly kind: "relu";
  readonly inputSize: Units;
  readonly outputSize: Units;
}

/**
 * Inverted dropout over `inputSize` units: in training each entry is kept with probability
 * 1 − p and scaled by 1/(1 − p), or zeroed; in evaluation it is the identity.
 */
export interface DropoutSpec<Units extends number = number> {
  readonly kind: "dropout";
  readonly inputSize: Units;
  readonly outputSize: Units;
  /** p, the probability that an entry is dropped, in [0, 1). */
  readonly rate: number;
}

/** Any layer specification. */
export type LayerSpec = LinearSpec | BatchNormSpec | ReluSpec | DropoutSpec;

/** The sizes a layer maps between; all a chain check needs to know. */
export interface LayerSizes<In extends number = number, Out extends number = number> {
  readonly kind: LayerSpec["kind"];
  readonly inputSize: In;
  readonly outputSize: Out;
}

/** A network's layers, from `In` input features to `Out` outputs (the class scores). */
export interface Architecture<In extends number = number, Out extends number = number> {
  readonly inputSize: In;
  readonly outputSize: Out;
  readonly layers: readonly LayerSpec[];
}

/**
 * A linear layer from `inputSize` to `outputSize` units.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { linear } from "./architecture.ts";
 * assert.ok(linear(3072, 50).outputSize === 50);
 * ```
 */
export function linear<In extends number, Out extends number>(
  inputSize: In,
  outputSize: Out,
): LinearSpec<In, Out> {
  assertSize(inputSize, "linear input size");
  assertSize(outputSize, "linear output size");
  return Object.freeze({ kind: "linear", inputSize, outputSize });
}

/** Options of {@linkcode batchNorm}. */
export interface BatchNormOptions {
  /** Learnable scale γ and shift β (default true). */
  readonly affine?: boolean;
  /** ε, default 1e−5. */
  readonly epsilon?: number;
  /** α of the moving averages, default 0.9. */
  readonly momentum?: number;
}

/**
 * Batch normalization over `units` units.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { batchNorm } from "./architecture.ts";
 * assert.ok(batchNorm(50, { affine: false }).affine === false);
 * ```
 */
export function batchNorm<Units extends number>(
  units: Units,
  options: BatchNormOptions = {},
): BatchNormSpec<Units> {
  assertSize(units, "batch-norm size");
  const { affine = true, epsilon = 1e-5, momentum = 0.9 } = options;
  if (!(epsilon >= 0) || !Number.isFinite(epsilon)) {
    throw new RangeError(`Cannot create batch norm with epsilon ${epsilon}: it must be ≥ 0`);
  }
  if (!(momentum >= 0 && momentum < 1)) {
    throw new RangeError(
      `Cannot create batch norm with momentum ${momentum}: it must be in [0, 1)`,
    );
  }
  return Object.freeze({
    kind: "batchNorm",
    inputSize: units,
    outputSize: units,
    affine,
    epsilon,
    momentum,
  });
}

/**
 * A ReLU over `units` units.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { relu } from "./architecture.ts";
 * assert.ok(relu(50).inputSize === 50);
 * ```
 */
export function relu<Units extends number>(units: Units): ReluSpec<Units> {
  assertSize(units, "ReLU size");
  return Object.freeze({ kind: "relu", inputSize: units, outputSize: units });
}

/**
 * Inverted dropout over `units` units, dropping each entry with probability `rate` in training.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dropout } from "./architecture.ts";
 * assert.equal(dropout(50, 0.2).rate, 0.2);
 * assert.throws(() => dropout(50, 1), /rate 1/);
 * ```
 */
export function dropout<Units extends number>(units: Units, rate: number): DropoutSpec<Units> {
  assertSize(units, "dropout size");
  if (!(rate >= 0 && rate < 1)) {
    throw new RangeError(`Cannot create dropout with rate ${rate}: it must be in [0, 1)`);
  }
  return Object.freeze({ kind: "dropout", inputSize: units, outputSize: units, rate });
}

type InputOf<Layer> = Layer extends LayerSizes<infer In, number> ? In : never;
type OutputOf<Layer> = Layer extends LayerSizes<number, infer Out> ? Out : never;
type LastOf<Layers extends readonly unknown[]> = Layers extends readonly [...unknown[], infer Last]
  ? Last
  : never;
/** Each layer after the first must take the previous layer's output size as its input size. */
type Chained<Layers extends readonly LayerSizes[]> = {
  readonly [K in keyof Layers]: K extends "0" ? Layers[K]
    : LayerSizes<
      OutputOf<[LayerSizes, ...Layers][K & keyof [LayerSizes, ...Layers]]>,
      OutputOf<Layers[K]>
    >;
};

/**
 * Chains layers into an architecture, checking that each layer's input size is the previous
 * layer's output size (at compile time for literal sizes, at run time always).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { batchNorm, linear, relu, sequential } from "./architecture.ts";
 * const architecture = sequential(linear(3072, 50), batchNorm(50), relu(50), linear(50, 10));
 * assert.ok(architecture.inputSize === 3072 && architecture.outputSize === 10);
 * ```
 */
export function sequential<const Layers extends readonly [LayerSpec, ...LayerSpec[]]>(
  ...layers: Layers & Chained<Layers>
): Architecture<InputOf<Layers[0]>, OutputOf<LastOf<Layers>>> {
  return architectureOf(layers) as Architecture<InputOf<Layers[0]>, OutputOf<LastOf<Layers>>>;
}

/**
 * An architecture from a list of layers whose sizes are known only at run time; throws a
 * {@linkcode ShapeError} naming both layers where sizes do not chain.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { architectureOf, linear, relu } from "./architecture.ts";
 * assert.ok(architectureOf([linear(4, 3), relu(3)]).outputSize === 3);
 * ```
 */
export function architectureOf(layers: readonly LayerSpec[]): Architecture {
  if (layers.length === 0) {
    throw new RangeError("Cannot build a network without layers: give at least one layer");
  }
  for (let index = 1; index < layers.length; index++) {
    const previous = layers[index - 1];
    const layer = layers[index];
    if (layer.inputSize !== previous.outputSize) {
      throw new ShapeError(
        layerName(layers, index),
        [previous.outputSize, 1],
        [layer.inputSize, 1],
        `its input size ${layer.inputSize} must equal the output size ${previous.outputSize} of ${
          layerName(layers, index - 1)
        }`,
      );
    }
  }
  return Object.freeze({
    inputSize: layers[0].inputSize,
    outputSize: layers[layers.length - 1].outputSize,
    layers: Object.freeze([...layers]),
  });
}

/** Options of {@linkcode multilayerPerceptron}. */
export interface MultilayerPerceptronOptions<In extends number, Classes extends number> {
  readonly inputSize: In;
  readonly hiddenSizes: readonly number[];
  readonly classes: Classes;
  /** Batch normalization in every hidden block: `false`, `true` (defaults) or its options. */
  readonly batchNorm: boolean | BatchNormOptions;
  /**
   * Where batch norm goes in a hidden block: `"beforeRelu"` (Linear → BatchNorm → ReLU, the
   * SPEC's model and the default) or `"afterRelu"` (Linear → ReLU → BatchNorm).
   */
  readonly batchNormPlacement?: BatchNormPlacement;
  /** Dropout rate p after every hidden block (default 0: no dropout layers). */
  readonly dropout?: number;
}

/** Where batch norm sits relative to the ReLU in a hidden block. */
export type BatchNormPlacement = "beforeRelu" | "afterRelu";

/**
 * The SPEC's k-layer network: input → [Linear → BatchNorm? → ReLU] × (k−1) → Linear, with
 * k − 1 = `hiddenSizes.length`; with `batchNormPlacement: "afterRelu"` the blocks are
 * [Linear → ReLU → BatchNorm], and with `dropout: p` each block ends with a dropout layer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { multilayerPerceptron } from "./architecture.ts";
 * const architecture = multilayerPerceptron({
 *   inputSize: 3072, hiddenSizes: [50, 50], classes: 10, batchNorm: true,
 * });
 * assert.ok(architecture.layers.length === 3 * 2 + 1);
 * const after = multilayerPerceptron({
 *   inputSize: 3072, hiddenSizes: [50], classes: 10, batchNorm: true,
 *   batchNormPlacement: "afterRelu", dropout: 0.2,
 * });
 * assert.deepEqual(after.layers.map((layer) => layer.kind), ["linear", "relu", "batchNorm", "dropout", "linear"]);
 * ```
 */
export function multilayerPerceptron<In extends number, Classes extends number>(
  options: MultilayerPerceptronOptions<In, Classes>,
): Architecture<In, Classes> {
  const { inputSize, hiddenSizes, classes } = options;
  const normalization = options.batchNorm === true ? {} : options.batchNorm;
  const { batchNormPlacement = "beforeRelu", dropout: rate = 0 } = options;
  if (batchNormPlacement !== "beforeRelu" && batchNormPlacement !== "afterRelu") {
    throw new RangeError(
      `Cannot place batch norm "${batchNormPlacement}": use "beforeRelu" or "afterRelu"`,
    );
  }
  const layers: LayerSpec[] = [];
  let size: number = inputSize;
  for (const hidden of hiddenSizes) {
    layers.push(linear(size, hidden));
    if (normalization && batchNormPlacement === "beforeRelu") {
      layers.push(batchNorm(hidden, normalization));
    }
    layers.push(relu(hidden));
    if (normalization && batchNormPlacement === "afterRelu") {
      layers.push(batchNorm(hidden, normalization));
    }
    if (rate !== 0) layers.push(dropout(hidden, rate));
    size = hidden;
  }
  layers.push(linear(size, classes));
  return architectureOf(layers) as Architecture<In, Classes>;
}

/**
 * How messages name a layer: its kind and its 1-based position among layers of that kind,
 * e.g. `Linear layer 2`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { layerName, linear, relu } from "./architecture.ts";
 * assert.ok(layerName([linear(4, 3), relu(3), linear(3, 2)], 2) === "Linear layer 2");
 * ```
 */
export function layerName(layers: readonly LayerSizes[], index: number): string {
  const kind = layers[index].kind;
  const position = layers.slice(0, index + 1).filter((layer) => layer.kind === kind).length;
  const title =
    { linear: "Linear", batchNorm: "BatchNorm", relu: "ReLU", dropout: "Dropout" }[kind];
  return `${title} layer ${position}`;
}

function assertSize(size: number, what: string): void {
  if (!Number.isInteger(size) || size < 1) {
    throw new RangeError(
      `Cannot create a layer with ${what} ${size}: it must be a positive integer`,
    );
  }
}
