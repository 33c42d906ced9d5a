/**
 * Random networks for property tests: fast-check generates a small, printable
 * {@linkcode NetworkCaseDescription} (depth, widths, batch, options, a seed) and
 * {@linkcode buildNetworkCase} turns it into a network, a batch and labels. Shrinking acts on
 * the description, so a failure shrinks to a minimal network that prints and replays.
 *
 * @module
 */
import { type BatchNormPlacement, multilayerPerceptron } from "./architecture.ts";
import { fc } from "./deps.ts";
import { type Initialization, initializeNetwork, type Network } from "./network.ts";
import { normals, type RandomKey, randomKey, splitKey, uniforms } from "./random.ts";
import { type Tensor, tensor } from "./tensor.ts";

/** A random network, batch and cost, as plain data. */
export interface NetworkCaseDescription {
  readonly inputSize: number;
  readonly hiddenSizes: readonly number[];
  readonly classes: number;
  readonly batchSize: number;
  /** `"none"`, or batch norm before every ReLU with (`"affine"`) or without (`"plain"`) γ/β. */
  readonly batchNorm: "none" | "affine" | "plain";
  /** Batch norm before (default) or after every ReLU. */
  readonly batchNormPlacement?: BatchNormPlacement;
  /** Dropout rate after every hidden block (default 0: none). */
  readonly dropout?: number;
  readonly lambda: number;
  readonly initialization: Initialization;
  /** Seeds the weights, the inputs and the labels. */
  readonly seed: number;
}

/** Bounds of {@linkcode networkCaseDescriptions}; the defaults are the ones in the comments. */
export interface NetworkCaseBounds {
  /** Most linear layers (9); the fewest is 1. */
  readonly maximumDepth?: number;
  /** Widest hidden layer (12); the narrowest is 1. */
  readonly maximumWidth?: number;
  /** Largest input size (16). */
  readonly maximumInputSize?: number;
  /** Smallest and largest batch (2, 12). */
  readonly minimumBatchSize?: number;
  readonly maximumBatchSize?: number;
  /** Most classes (12); the fewest is 2. */
  readonly maximumClasses?: number;
  /** Largest λ (0.1). */
  readonly maximumLambda?: number;
  /** Largest dropout rate (0.6); half the cases have no dropout. */
  readonly maximumDropout?: number;
}

/**
 * A fast-check arbitrary of network cases.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fc } from "./deps.ts";
 * import { networkCaseDescriptions } from "./network_cases.ts";
 * const [description] = fc.sample(networkCaseDescriptions({ maximumDepth: 3 }), { numRuns: 1, seed: 1 });
 * assert.ok(description.hiddenSizes.length <= 2);
 * ```
 */
export function networkCaseDescriptions(
  bounds: NetworkCaseBounds = {},
): fc.Arbitrary<NetworkCaseDescription> {
  const {
    maximumDepth = 9,
    maximumWidth = 12,
    maximumInputSize = 16,
    minimumBatchSize = 2,
    maximumBatchSize = 12,
    maximumClasses = 12,
    maximumLambda = 0.1,
    maximumDropout = 0.6,
  } = bounds;
  return fc.record({
    inputSize: fc.integer({ min: 1, max: maximumInputSize }),
    hiddenSizes: fc.array(fc.integer({ min: 1, max: maximumWidth }), {
      maxLength: maximumDepth - 1,
    }),
    classes: fc.integer({ min: 2, max: maximumClasses }),
    batchSize: fc.integer({ min: minimumBatchSize, max: maximumBatchSize }),
    batchNorm: fc.constantFrom("none", "affine", "plain"),
    batchNormPlacement: fc.constantFrom<BatchNormPlacement>("beforeRelu", "afterRelu"),
    dropout: maximumDropout === 0 ? fc.constant(0) : fc.oneof(
      fc.constant(0),
      fc.double({ min: 0.01, max: maximumDropout, noNaN: true, noDefaultInfinity: true }),
    ),
    lambda: fc.oneof(
      fc.constant(0),
      fc.double({ min: 0, max: maximumLambda, noNaN: true, noDefaultInfinity: true }),
    ),
    initialization: fc.oneof(
      fc.constantFrom<Initialization>("he", "xavier"),
      fc.constantFrom(1e-1, 1e-3, 1e-4).map((standardDeviation) => ({ standardDeviation })),
    ),
    seed: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
  });
}

/** A network with a batch to check it on. */
export interface NetworkCase {
  readonly network: Network;
  readonly input: Tensor;
  readonly labels: Uint8Array;
  readonly lambda: number;
  /** The key of the dropout masks: one fixed key, so the masks stay fixed under perturbation. */
  readonly dropoutKey: RandomKey;
}

/**
 * Builds the network (initialised from the seed), a batch of standard-normal inputs,
 * uniformly random labels and a dropout key from a description.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildNetworkCase } from "./network_cases.ts";
 * const { network, input } = buildNetworkCase({
 *   inputSize: 4, hiddenSizes: [3], classes: 2, batchSize: 5, batchNorm: "affine",
 *   lambda: 0.01, initialization: "he", seed: 1,
 * });
 * assert.ok(network.architecture.layers.length === 4 && input.columns === 5);
 * ```
 */
export function buildNetworkCase(description: NetworkCaseDescription): NetworkCase {
  const { inputSize, hiddenSizes, classes, batchSize, batchNorm, lambda, initialization } =
    description;
  const [networkKey, inputKey, labelKey, dropoutKey] = splitKey(randomKey(description.seed), 4);
  const architecture = multilayerPerceptron({
    inputSize,
    hiddenSizes,
    classes,
    batchNorm: batchNorm === "none" ? false : { affine: batchNorm === "affine" },
    batchNormPlacement: description.batchNormPlacement,
    dropout: description.dropout,
  });
  const labels = Uint8Array.from(
    uniforms(labelKey, batchSize).values,
    (value) => Math.floor(value * classes),
  );
  return {
    network: initializeNetwork(architecture, networkKey, initialization),
    input: tensor(inputSize, batchSize, normals(inputKey, inputSize * batchSize).values),
    labels,
    lambda,
    dropoutKey,
  };
}
