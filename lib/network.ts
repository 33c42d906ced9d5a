/**
 * A network is data: an {@linkcode Architecture}, one parameter record per layer, and the
 * batch-norm moving averages. Forward folds the layers left to right and returns their
 * caches; backward folds the caches right to left. Nothing here keeps state between calls:
 * training-mode forward returns the new moving averages instead of storing them.
 *
 * @module
 */
import {
  type Architecture,
  architectureOf,
  dropout,
  layerName,
  type LayerSpec,
} from "./architecture.ts";
import {
  batchNormBackward,
  type BatchNormCache,
  batchNormEvaluationForward,
  type BatchNormParameters,
  type BatchNormStatistics,
  batchNormTrainingForward,
  updateMovingAverages,
} from "./batch_norm.ts";
import { dropoutBackward, type DropoutCache, dropoutTrainingForward } from "./dropout.ts";
import {
  linearBackward,
  type LinearCache,
  linearForward,
  type LinearParameters,
} from "./linear.ts";
import { normals, type RandomKey, splitKey } from "./random.ts";
import { reluBackward, type ReluCache, reluForward } from "./relu.ts";
import { castTensor, type DType, dtypeOf, type Tensor, tensor, zeros } from "./tensor.ts";

/** The parameters of one layer: W and b for linear, γ and β for batch norm, none for ReLU. */
export interface LayerParameters {
  readonly weight?: Tensor;
  readonly bias?: Tensor<number, 1>;
  readonly scale?: Tensor<number, 1>;
  readonly shift?: Tensor<number, 1>;
}

/** The names a layer's parameters may have, in the order tables and files list them. */
export const parameterNames = ["weight", "bias", "scale", "shift"] as const;

/** A network's parameters, one record per layer. Gradients have exactly this structure. */
export type NetworkParameters = readonly LayerParameters[];

/** A network: its architecture, parameters and batch-norm moving averages. */
export interface Network<In extends number = number, Out extends number = number> {
  readonly architecture: Architecture<In, Out>;
  readonly parameters: NetworkParameters;
  /** One entry per layer: the moving averages of a batch-norm layer once it has seen a batch. */
  readonly movingAverages: readonly (BatchNormStatistics | undefined)[];
}

/** How weights are drawn: He (σ = √(2/fan_in)), Xavier (σ = 1/√fan_in), or one fixed σ. */
export type Initialization = "he" | "xavier" | { readonly standardDeviation: number };

/** What one layer's forward left for its backward. */
export type LayerCache =
  | { readonly kind: "linear"; readonly cache: LinearCache }
  | { readonly kind: "batchNorm"; readonly cache: BatchNormCache }
  | { readonly kind: "relu"; readonly cache: ReluCache }
  | { readonly kind: "dropout"; readonly cache: DropoutCache };

/** The backward function of each layer kind; {@linkcode networkBackward} takes a table. */
export interface LayerBackwards {
  readonly linear: (
    cache: LinearCache,
    outputGradient: Tensor,
  ) => { inputGradient: Tensor; parameterGradients: LinearParameters };
  readonly batchNorm: (
    cache: BatchNormCache,
    outputGradient: Tensor,
  ) => { inputGradient: Tensor; parameterGradients: BatchNormParameters };
  readonly relu: (
    cache: ReluCache,
    outputGradient: Tensor,
  ) => { inputGradient: Tensor; parameterGradients: Record<never, never> };
  readonly dropout: (
    cache: DropoutCache,
    outputGradient: Tensor,
  ) => { inputGradient: Tensor; parameterGradients: Record<never, never> };
}

/** The library's backward functions. */
export const layerBackwards: LayerBackwards = Object.freeze({
  linear: linearBackward,
  batchNorm: batchNormBackward,
  relu: reluBackward,
  dropout: dropoutBackward,
});

/**
 * The standard deviation of a layer's initial weights under an initialization scheme.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initialStandardDeviation } from "./network.ts";
 * assert.ok(initialStandardDeviation("he", 50) === Math.sqrt(2 / 50));
 * ```
 */
export function initialStandardDeviation(initialization: Initialization, fanIn: number): number {
  if (initialization === "he") return Math.sqrt(2 / fanIn);
  if (initialization === "xavier") return 1 / Math.sqrt(fanIn);
  const { standardDeviation } = initialization;
  if (!(standardDeviation >= 0) || !Number.isFinite(standardDeviation)) {
    throw new RangeError(
      `Cannot initialize weights with standard deviation ${standardDeviation}: it must be finite and ≥ 0`,
    );
  }
  return standardDeviation;
}

/**
 * A new network: weights drawn from N(0, σ²) by the initialization scheme, biases 0, γ = 1,
 * β = 0, no moving averages yet. The same key gives the same network, bit for bit.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { linear, relu, sequential } from "./architecture.ts";
 * import { initializeNetwork } from "./network.ts";
 * import { randomKey } from "./random.ts";
 * const network = initializeNetwork(sequential(linear(4, 3), relu(3), linear(3, 2)), randomKey(1), "he");
 * assert.ok(network.parameters[0].weight?.rows === 3);
 * ```
 */
export function initializeNetwork<In extends number, Out extends number>(
  architecture: Architecture<In, Out>,
  key: RandomKey,
  initialization: Initialization,
): Network<In, Out> {
  const keys = splitKey(key, architecture.layers.length);
  const parameters = architecture.layers.map((layer, index): LayerParameters => {
    if (layer.kind === "linear") {
      const { inputSize, outputSize } = layer;
      const deviation = initialStandardDeviation(initialization, inputSize);
      const { values } = normals(keys[index], outputSize * inputSize, deviation);
      return { weight: tensor(outputSize, inputSize, values), bias: zeros(outputSize, 1) };
    }
    if (layer.kind === "batchNorm" && layer.affine) {
      const units = layer.inputSize;
      return { scale: tensor(units, 1, new Float64Array(units).fill(1)), shift: zeros(units, 1) };
    }
    return {};
  });
  return Object.freeze({
    architecture,
    parameters: Object.freeze(parameters),
    movingAverages: Object.freeze(architecture.layers.map(() => undefined)),
  });
}

function linearParameters(parameters: LayerParameters, name: string): LinearParameters {
  const { weight, bias } = parameters;
  if (!weight || !bias) {
    throw new TypeError(`Cannot run ${name}: its parameters need a weight and a bias`);
  }
  return { weight, bias };
}

function batchNormParameters(parameters: LayerParameters): BatchNormParameters {
  return { scale: parameters.scale, shift: parameters.shift };
}

/**
 * Forward in training mode: batch norm uses the batch's statistics and dropout layers draw
 * their masks from `dropoutKey` (split into one key per layer; required when the network has
 * dropout, so that the same key gives the same masks). Returns the output (class scores), the
 * caches for {@linkcode networkBackward}, and the moving averages updated with this batch.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { multilayerPerceptron } from "./architecture.ts";
 * import { initializeNetwork, networkTrainingForward } from "./network.ts";
 * import { randomKey } from "./random.ts";
 * import { zeros } from "./tensor.ts";
 * const architecture = multilayerPerceptron({ inputSize: 4, hiddenSizes: [3], classes: 2, batchNorm: true });
 * const network = initializeNetwork(architecture, randomKey(1), "he");
 * const { output, movingAverages } = networkTrainingForward(network, zeros(4, 5));
 * assert.ok(output.rows === 2 && movingAverages[1] !== undefined);
 * ```
 */
export function networkTrainingForward<In extends number, Out extends number, Batch extends number>(
  network: Network<In, Out>,
  input: Tensor<NoInfer<In>, Batch>,
  dropoutKey?: RandomKey,
): {
  output: Tensor<Out, Batch>;
  caches: LayerCache[];
  movingAverages: (BatchNormStatistics | undefined)[];
} {
  const { layers } = network.architecture;
  const caches: LayerCache[] = [];
  const movingAverages = [...network.movingAverages];
  let activation: Tensor = input;
  let layerKeys: RandomKey[] | undefined;
  layers.forEach((layer, index) => {
    const name = layerName(layers, index);
    const parameters = network.parameters[index];
    if (layer.kind === "linear") {
      const { output, cache } = linearForward(linearParameters(parameters, name), activation, name);
      caches.push({ kind: "linear", cache });
      activation = output;
    } else if (layer.kind === "batchNorm") {
      const { output, cache, statistics } = batchNormTrainingForward(
        batchNormParameters(parameters),
        activation,
        layer.epsilon,
        name,
      );
      movingAverages[index] = updateMovingAverages(
        movingAverages[index],
        statistics,
        layer.momentum,
      );
      caches.push({ kind: "batchNorm", cache });
      activation = output;
    } else if (layer.kind === "dropout") {
      if (!dropoutKey) {
        throw new TypeError(
          `Cannot run ${name} in training mode without a random key: pass a dropout key to draw its mask`,
        );
      }
      layerKeys ??= splitKey(dropoutKey, layers.length);
      const { output, cache } = dropoutTrainingForward(
        activation,
        layer.rate,
        layerKeys[index],
        name,
      );
      caches.push({ kind: "dropout", cache });
      activation = output;
    } else {
      const { output, cache } = reluForward(activation, name);
      caches.push({ kind: "relu", cache });
      activation = output;
    }
  });
  return { output: activation as Tensor<Out, Batch>, caches, movingAverages };
}

/**
 * Forward in evaluation mode: batch norm uses the moving averages, so each sample's output
 * depends on that sample alone; dropout is the identity.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { linear, sequential } from "./architecture.ts";
 * import { initializeNetwork, networkEvaluationForward } from "./network.ts";
 * import { randomKey } from "./random.ts";
 * import { zeros } from "./tensor.ts";
 * const network = initializeNetwork(sequential(linear(4, 2)), randomKey(1), "he");
 * assert.ok(networkEvaluationForward(network, zeros(4, 3)).columns === 3);
 * ```
 */
export function networkEvaluationForward<
  In extends number,
  Out extends number,
  Batch extends number,
>(network: Network<In, Out>, input: Tensor<NoInfer<In>, Batch>): Tensor<Out, Batch> {
  const { layers } = network.architecture;
  let activation: Tensor = input;
  layers.forEach((layer: LayerSpec, index) => {
    const name = layerName(layers, index);
    const parameters = network.parameters[index];
    if (layer.kind === "linear") {
      activation = linearForward(linearParameters(parameters, name), activation, name).output;
    } else if (layer.kind === "batchNorm") {
      const statistics = network.movingAverages[index];
      if (!statistics) {
        throw new TypeError(
          `Cannot run ${name} in evaluation mode: it has no moving averages yet; train on at least one batch first`,
        );
      }
      activation = batchNormEvaluationForward(
        batchNormParameters(parameters),
        statistics,
        activation,
        layer.epsilon,
        name,
      );
    } else if (layer.kind === "relu") {
      activation = reluForward(activation, name).output;
    }
  });
  return activation as Tensor<Out, Batch>;
}

/**
 * Backward through the whole network: from the gradient with respect to the output to the
 * gradients of every layer's parameters (same structure as `network.parameters`) and of the
 * input (computed only when read). `backwards` replaces the backward function of a layer kind (to instrument it, or to
 * prove that a gradient check catches a wrong one).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { linear, sequential } from "./architecture.ts";
 * import { initializeNetwork, networkBackward, networkTrainingForward } from "./network.ts";
 * import { randomKey } from "./random.ts";
 * import { filled, zeros } from "./tensor.ts";
 * const network = initializeNetwork(sequential(linear(4, 2)), randomKey(1), "he");
 * const { caches } = networkTrainingForward(network, zeros(4, 3));
 * const { parameterGradients } = networkBackward(network, caches, filled(2, 3, 1));
 * assert.ok(parameterGradients[0].bias?.data[0] === 3);
 * ```
 */
export function networkBackward<In extends number, Out extends number, Batch extends number>(
  network: Network<In, Out>,
  caches: readonly LayerCache[],
  outputGradient: Tensor<NoInfer<Out>, Batch>,
  backwards: LayerBackwards = layerBackwards,
): { inputGradient: Tensor<In, Batch>; parameterGradients: LayerParameters[] } {
  const { layers } = network.architecture;
  if (caches.length !== layers.length) {
    throw new RangeError(
      `Cannot run the network backward: it has ${layers.length} layers but ${caches.length} caches were given`,
    );
  }
  const parameterGradients: LayerParameters[] = new Array(layers.length);
  let gradient: Tensor = outputGradient;
  let first: { readonly inputGradient: Tensor } = { inputGradient: outputGradient };
  for (let index = layers.length - 1; index >= 0; index--) {
    const entry = caches[index];
    const result = entry.kind === "linear"
      ? backwards.linear(entry.cache, gradient)
      : entry.kind === "batchNorm"
      ? backwards.batchNorm(entry.cache, gradient)
      : entry.kind === "dropout"
      ? backwards.dropout(entry.cache, gradient)
      : backwards.relu(entry.cache, gradient);
    parameterGradients[index] = result.parameterGradients;
    // The first layer's input gradient is read only if the caller asks for it (a linear
    // layer computes it lazily), which saves a third of the matrix products in training.
    if (index > 0) gradient = result.inputGradient;
    else first = result;
  }
  return {
    get inputGradient() {
      return first.inputGradient as Tensor<In, Batch>;
    },
    parameterGradients,
  };
}

/**
 * Applies `f` to every parameter tensor of a network, keeping the structure: the way
 * optimizers and gradient checks walk parameters.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mapParameters } from "./network.ts";
 * import { scale } from "./primitives.ts";
 * import { column, fromRows } from "./tensor.ts";
 * const doubled = mapParameters([{ bias: column([1]) }], (value) => scale(value, 2));
 * assert.ok(doubled[0].bias?.data[0] === 2);
 * ```
 */
export function mapParameters(
  parameters: NetworkParameters,
  f: (value: Tensor, layerIndex: number, name: (typeof parameterNames)[number]) => Tensor,
): LayerParameters[] {
  return parameters.map((layer, layerIndex) => {
    const mapped: Partial<Record<(typeof parameterNames)[number], Tensor>> = {};
    for (const name of parameterNames) {
      const value = layer[name];
      if (value) mapped[name] = f(value, layerIndex, name);
    }
    // f keeps shapes (optimizers and checks map a parameter to one of its own shape).
    return mapped as LayerParameters;
  });
}

/**
 * The number type of a network's parameters (float64 for a network without any).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { linear, sequential } from "./architecture.ts";
 * import { castNetwork, initializeNetwork, networkDType } from "./network.ts";
 * import { randomKey } from "./random.ts";
 * const network = initializeNetwork(sequential(linear(3, 2)), randomKey(1), "he");
 * assert.equal(networkDType(network), "float64");
 * assert.equal(networkDType(castNetwork(network, "float32")), "float32");
 * ```
 */
export function networkDType(network: Network): DType {
  for (const layer of network.parameters) {
    for (const name of parameterNames) {
      const value = layer[name];
      if (value) return dtypeOf(value);
    }
  }
  return "float64";
}

/**
 * The network with its parameters and moving averages converted to `dtype`: train in float32
 * with `castNetwork(network, "float32")`, and check gradients or save in float64.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { linear, sequential } from "./architecture.ts";
 * import { castNetwork, initializeNetwork } from "./network.ts";
 * import { randomKey } from "./random.ts";
 * const network = initializeNetwork(sequential(linear(3, 2)), randomKey(1), "he");
 * const single = castNetwork(network, "float32");
 * assert.ok(single.parameters[0].weight?.data instanceof Float32Array);
 * assert.equal(single.parameters[0].weight?.data[0], Math.fround(network.parameters[0].weight!.data[0]));
 * ```
 */
export function castNetwork<In extends number, Out extends number>(
  network: Network<In, Out>,
  dtype: DType,
): Network<In, Out> {
  return mapNetworkTensors(network, (value) => castTensor(value, dtype));
}

/**
 * The network with `f` applied to every parameter and moving-average tensor (`f` keeps shapes).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { linear, sequential } from "./architecture.ts";
 * import { initializeNetwork, mapNetworkTensors } from "./network.ts";
 * import { scale } from "./primitives.ts";
 * import { randomKey } from "./random.ts";
 * const network = initializeNetwork(sequential(linear(3, 2)), randomKey(1), "he");
 * const doubled = mapNetworkTensors(network, (value) => scale(value, 2));
 * assert.equal(doubled.parameters[0].weight?.data[0], 2 * network.parameters[0].weight!.data[0]);
 * ```
 */
export function mapNetworkTensors<In extends number, Out extends number>(
  network: Network<In, Out>,
  f: <Rows extends number, Columns extends number>(
    value: Tensor<Rows, Columns>,
  ) => Tensor<Rows, Columns>,
): Network<In, Out> {
  return Object.freeze({
    ...network,
    parameters: Object.freeze(mapParameters(network.parameters, (value) => f(value))),
    movingAverages: Object.freeze(
      network.movingAverages.map((statistics) =>
        statistics && { mean: f(statistics.mean), variance: f(statistics.variance) }
      ),
    ),
  });
}

/** A network's dropout layers and where they sit: what {@linkcode withoutDropout} takes out. */
export interface DropoutPlacement {
  /** The layer's index in the architecture with its dropout layers. */
  readonly index: number;
  readonly rate: number;
}

/**
 * The network with its dropout layers taken out, and where they were. Dropout is the identity
 * in evaluation, so the result evaluates exactly like `network` (PreciseBN's statistics pass
 * runs on it). {@linkcode withDropout} puts them back.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { multilayerPerceptron } from "./architecture.ts";
 * import { initializeNetwork, withDropout, withoutDropout } from "./network.ts";
 * import { randomKey } from "./random.ts";
 * const architecture = multilayerPerceptron({ inputSize: 4, hiddenSizes: [3], classes: 2, batchNorm: true, dropout: 0.5 });
 * const network = initializeNetwork(architecture, randomKey(1), "he");
 * const { network: plain, dropout } = withoutDropout(network);
 * assert.equal(plain.architecture.layers.length, 4);
 * assert.deepEqual(dropout, [{ index: 3, rate: 0.5 }]);
 * assert.deepEqual(withDropout(plain, dropout).architecture, network.architecture);
 * ```
 */
export function withoutDropout<In extends number, Out extends number>(
  network: Network<In, Out>,
): { network: Network<In, Out>; dropout: DropoutPlacement[] } {
  const { layers } = network.architecture;
  const placements: DropoutPlacement[] = [];
  layers.forEach((layer, index) => {
    if (layer.kind === "dropout") placements.push({ index, rate: layer.rate });
  });
  if (placements.length === 0) return { network, dropout: placements };
  const keep = (_: unknown, index: number) => layers[index].kind !== "dropout";
  return {
    network: Object.freeze({
      architecture: architectureOf(layers.filter(keep)) as Architecture<In, Out>,
      parameters: Object.freeze(network.parameters.filter(keep)),
      movingAverages: Object.freeze(network.movingAverages.filter(keep)),
    }),
    dropout: placements,
  };
}

/**
 * Puts back the dropout layers that {@linkcode withoutDropout} took out (see its example).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { linear, relu, sequential } from "./architecture.ts";
 * import { initializeNetwork, withDropout } from "./network.ts";
 * import { randomKey } from "./random.ts";
 * const network = initializeNetwork(sequential(linear(4, 3), relu(3), linear(3, 2)), randomKey(1), "he");
 * const kinds = withDropout(network, [{ index: 2, rate: 0.1 }]).architecture.layers.map((layer) => layer.kind);
 * assert.deepEqual(kinds, ["linear", "relu", "dropout", "linear"]);
 * ```
 */
export function withDropout<In extends number, Out extends number>(
  network: Network<In, Out>,
  placements: readonly DropoutPlacement[],
): Network<In, Out> {
  if (placements.length === 0) return network;
  const layers: LayerSpec[] = [...network.architecture.layers];
  const parameters: LayerParameters[] = [...network.parameters];
  const movingAverages = [...network.movingAverages];
  for (const { index, rate } of [...placements].sort((a, b) => a.index - b.index)) {
    if (!Number.isInteger(index) || index < 1 || index > layers.length) {
      throw new RangeError(
        `Cannot put a dropout layer at index ${index} of a network of ${layers.length} layers`,
      );
    }
    layers.splice(index, 0, dropout(layers[index - 1].outputSize, rate));
    parameters.splice(index, 0, {});
    movingAverages.splice(index, 0, undefined);
  }
  return Object.freeze({
    architecture: architectureOf(layers) as Architecture<In, Out>,
    parameters: Object.freeze(parameters),
    movingAverages: Object.freeze(movingAverages),
  });
}
