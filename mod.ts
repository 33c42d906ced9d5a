/**
 * A typed, functional deep-learning library for Deno: k-layer fully connected networks with
 * batch normalization, trained with SGD, with gradients that property tests check.
 *
 * Tensors are immutable and carry their sizes in their type; layers are pure
 * forward/backward pairs; a network is data; optimizers return new parameters.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import {
 *   batchNorm, formatGradCheck, gradCheck, initializeNetwork, linear, normals, randomKey, relu,
 *   sequential, tensor, trainingGradients,
 * } from "./mod.ts";
 *
 * const architecture = sequential(linear(8, 6), batchNorm(6), relu(6), linear(6, 3));
 * const network = initializeNetwork(architecture, randomKey(1), "he");
 * const input = tensor(8, 4, normals(randomKey(2), 8 * 4).values);
 * const labels = [0, 1, 2, 1];
 *
 * const { loss, cost, gradients } = trainingGradients(network, input, labels, 0.01);
 * assert.ok(cost > loss && gradients.length === 4);
 *
 * const check = gradCheck(network, input, labels, { lambda: 0.01 });
 * assert.ok(check.passed, formatGradCheck(check));
 * ```
 *
 * @module
 */
export * from "./lib/tensor.ts";
export * from "./lib/errors.ts";
export * from "./lib/primitives.ts";
export {
  type BackendName,
  type BackendPreference,
  selectBackend,
  useBackend,
} from "./lib/backend.ts";
export * from "./lib/random.ts";
export * from "./lib/linear.ts";
export * from "./lib/batch_norm.ts";
export * from "./lib/relu.ts";
export * from "./lib/dropout.ts";
export * from "./lib/softmax_cross_entropy.ts";
export * from "./lib/architecture.ts";
export * from "./lib/network.ts";
export * from "./lib/objective.ts";
export * from "./lib/sgd.ts";
export * from "./lib/adam.ts";
export * from "./lib/optimizer.ts";
export * from "./lib/learning_rate.ts";
export * from "./lib/training.ts";
export * from "./lib/evaluation.ts";
export * from "./lib/model_file.ts";
export * from "./lib/gradient_check.ts";
export * from "./lib/network_cases.ts";
export * from "./lib/image_set.ts";
export * from "./lib/normalization.ts";
export * from "./lib/dataset.ts";
export * from "./lib/augmentation.ts";
export * from "./lib/precise_batch_norm.ts";
export * from "./lib/cifar10.ts";
export * from "./lib/fashion_mnist.ts";
export * from "./lib/download.ts";
