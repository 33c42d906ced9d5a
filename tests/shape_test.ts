/**
 * Shapes: a mismatch between literal sizes is a compile-time error (each `@ts-expect-error`
 * below is verified by `deno check`/`deno test`: an unused one is itself an error), and a
 * runtime `ShapeError` naming the layer and both shapes everywhere else.
 */
import assert from "node:assert/strict";
import { architectureOf, batchNorm, linear, relu, sequential } from "../lib/architecture.ts";
import { ShapeError } from "../lib/errors.ts";
import { linearForward } from "../lib/linear.ts";
import { initializeNetwork, networkTrainingForward } from "../lib/network.ts";
import { matmul } from "../lib/primitives.ts";
import { randomKey } from "../lib/random.ts";
import { type Tensor, zeros } from "../lib/tensor.ts";

Deno.test("sequential() accepts layers whose sizes chain and types the architecture", () => {
  const architecture = sequential(linear(3072, 50), batchNorm(50), relu(50), linear(50, 10));
  const typed: { inputSize: 3072; outputSize: 10 } = architecture;
  assert.equal(typed.outputSize, 10);
});

Deno.test("sequential() rejects mismatched literal sizes at compile time", () => {
  // Each call below type-checks only because of its @ts-expect-error; it also throws at run time.
  assert.throws(
    // @ts-expect-error the second linear layer takes 40 inputs, the first gives 50
    () => sequential(linear(3072, 50), relu(50), linear(40, 10)),
    ShapeError,
  );
  assert.throws(
    // @ts-expect-error the ReLU has 49 units after a 50-unit layer
    () => sequential(linear(3072, 50), relu(49), linear(50, 10)),
    ShapeError,
  );
  assert.throws(
    // @ts-expect-error batch norm over 20 units after a 50-unit layer
    () => sequential(linear(3072, 50), batchNorm(20)),
    ShapeError,
  );
});

Deno.test("matmul() and linearForward() reject mismatched literal shapes at compile time", () => {
  const weight = zeros(50, 3072);
  const wrongInput: Tensor<3000, 100> = zeros(3000, 100);
  // @ts-expect-error W (50 × 3072) · X (3000 × 100)
  assert.throws(() => matmul(weight, wrongInput), ShapeError);
  const parameters = { weight, bias: zeros(50, 1) };
  // @ts-expect-error a 3000-feature batch into a 3072-input layer
  assert.throws(() => linearForward(parameters, wrongInput), ShapeError);
  const output: Tensor<50, 100> = linearForward(parameters, zeros(3072, 100)).output;
  assert.equal(output.rows, 50);
});

Deno.test("architectureOf() names both layers and sizes when runtime sizes do not chain", () => {
  const hidden: number = 50;
  assert.throws(
    () => architectureOf([linear(3072, hidden), relu(hidden), linear(40, 10)]),
    (error: unknown) => {
      assert.ok(error instanceof ShapeError);
      assert.equal(error.layer, "Linear layer 2");
      assert.deepEqual(error.expected, [50, 1]);
      assert.deepEqual(error.actual, [40, 1]);
      assert.match(error.message, /Linear layer 2.*40.*50.*ReLU layer 1/);
      return true;
    },
  );
});

Deno.test("networkTrainingForward() names the layer and both shapes for a wrong input", () => {
  const inputSize: number = 3072;
  const network = initializeNetwork(
    architectureOf([linear(inputSize, 50), relu(50), linear(50, 10)]),
    randomKey(1),
    "he",
  );
  assert.throws(
    () => networkTrainingForward(network, zeros(3000, 100)),
    (error: unknown) => {
      assert.ok(error instanceof ShapeError);
      assert.equal(error.layer, "Linear layer 1 forward");
      assert.deepEqual(error.actual, [3000, 100]);
      assert.deepEqual(error.expected, [3072, 100]);
      assert.match(
        error.message,
        /^Cannot run Linear layer 1 forward: .*\[3072, 100\].*\[3000, 100\].*\[50, 3072\]/,
      );
      return true;
    },
  );
});
