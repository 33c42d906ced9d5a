import assert from "node:assert/strict";
import { adamStep, initialAdamState } from "../lib/adam.ts";
import { fc } from "../lib/deps.ts";
import { adam, initialOptimizerState, optimizerStep } from "../lib/optimizer.ts";
import { column, fromRows, type Tensor } from "../lib/tensor.ts";

/** Adam written out for one scalar, step by step, as in Kingma & Ba (2015), Algorithm 1. */
function referenceAdam(
  theta: number,
  gradients: number[],
  learningRate: number,
  weightDecay: number,
): number {
  let m = 0, v = 0;
  gradients.forEach((g, index) => {
    const t = index + 1;
    m = 0.9 * m + 0.1 * g;
    v = 0.999 * v + 0.001 * g * g;
    const mHat = m / (1 - 0.9 ** t), vHat = v / (1 - 0.999 ** t);
    theta = theta - learningRate * (mHat / (Math.sqrt(vHat) + 1e-8) + weightDecay * theta);
  });
  return theta;
}

Deno.test("adamStep() agrees with Algorithm 1 of the Adam paper, weight decay on weights only", () => {
  fc.assert(
    fc.property(
      fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: 1, maxLength: 20 }),
      fc.double({ min: -3, max: 3, noNaN: true }),
      fc.constantFrom(0, 0.01, 0.3),
      (gradients, start, weightDecay) => {
        let parameters = [{ weight: fromRows([[start]]), bias: column([start]) }];
        let state = initialAdamState;
        for (const g of gradients) {
          const step = adamStep(
            parameters,
            [{ weight: fromRows([[g]]), bias: column([g]) }],
            state,
            { learningRate: 0.01, weightDecay },
          );
          parameters = step.parameters as typeof parameters;
          state = step.state;
        }
        assert.equal(state.step, gradients.length);
        const expectWeight = referenceAdam(start, gradients, 0.01, weightDecay);
        const expectBias = referenceAdam(start, gradients, 0.01, 0);
        assert.ok(Math.abs(parameters[0].weight.data[0] - expectWeight) < 1e-12);
        assert.ok(Math.abs(parameters[0].bias.data[0] - expectBias) < 1e-12);
      },
    ),
  );
});

Deno.test("adamStep() never writes into its arguments and names bad values", () => {
  const parameters = [{ weight: fromRows([[1, 2]]), bias: column([3]) }];
  const gradients = [{ weight: fromRows([[0.5, -1]]), bias: column([2]) }];
  const first = adamStep(parameters, gradients, initialAdamState, { learningRate: 0.1 });
  const snapshot = (values: Tensor[]) => values.map((value) => [...value.data]);
  const moments = [
    ...first.state.firstMoment!.flatMap((layer) => Object.values(layer) as Tensor[]),
    ...first.state.secondMoment!.flatMap((layer) => Object.values(layer) as Tensor[]),
  ];
  const before = snapshot([parameters[0].weight, parameters[0].bias, ...moments]);
  adamStep(parameters, gradients, first.state, { learningRate: 0.1, weightDecay: 0.1 });
  assert.deepEqual(snapshot([parameters[0].weight, parameters[0].bias, ...moments]), before);
  assert.throws(
    () => adamStep(parameters, gradients, initialAdamState, { learningRate: -1 }),
    /learning rate -1/,
  );
  assert.throws(
    () => adamStep(parameters, gradients, initialAdamState, { learningRate: 1, beta2: 1.5 }),
    /β₂ 1.5/,
  );
  assert.throws(
    () =>
      adamStep(parameters, [{ weight: fromRows([[1]]), bias: column([1]) }], initialAdamState, {
        learningRate: 1,
      }),
    /Adam step on layer 1 weight/,
  );
});

Deno.test("optimizerStep() runs SGD or Adam and refuses the other optimizer's state", () => {
  const parameters = [{ bias: column([1]) }];
  const gradients = [{ bias: column([4]) }];
  const sgd = { kind: "sgd", momentum: 0.5 } as const;
  const sgdResult = optimizerStep(sgd, parameters, gradients, initialOptimizerState(sgd), 0.1);
  assert.equal(sgdResult.parameters[0].bias?.data[0], 1 - 0.4);
  const adamResult = optimizerStep(
    adam(),
    parameters,
    gradients,
    initialOptimizerState(adam()),
    0.1,
  );
  assert.ok(Math.abs(adamResult.parameters[0].bias!.data[0] - 0.9) < 1e-8);
  assert.throws(
    () => optimizerStep(sgd, parameters, gradients, adamResult.state, 0.1),
    /Adam state/,
  );
  assert.throws(() => adam(-1), /weight decay -1/);
});
