import assert from "node:assert/strict";
import { multilayerPerceptron } from "../lib/architecture.ts";
import { fc } from "../lib/deps.ts";
import { gatherBatch, identityOrder, splitCifar10 } from "../lib/dataset.ts";
import type { ImageSet } from "../lib/image_set.ts";
import { learningRateAt, type LearningRateSchedule } from "../lib/learning_rate.ts";
import { initializeNetwork, type Network } from "../lib/network.ts";
import { normalizationOf } from "../lib/normalization.ts";
import { randomKey, uniforms } from "../lib/random.ts";
import {
  DivergenceError,
  train,
  type TrainingOptions,
  type TrainingState,
} from "../lib/training.ts";

/** Two classes of 8-feature images: class c has brighter pixels in feature group c, plus noise. */
function syntheticImages(count: number, seed: number): ImageSet {
  const features = 8;
  const noise = uniforms(randomKey(seed), count * features).values;
  const labels = Uint8Array.from({ length: count }, (_, i) => i % 2);
  const pixels = Uint8Array.from({ length: count * features }, (_, index) => {
    const sample = Math.floor(index / features), feature = index % features;
    const signal = (feature < 4) === (labels[sample] === 0) ? 140 : 60;
    return Math.round(signal + 100 * noise[index]);
  });
  return { pixels, labels, count, features, classNames: ["left", "right"] };
}

function bytesOf(network: Network): number[] {
  return network.parameters.flatMap((layer) =>
    Object.values(layer).flatMap((value) => [...new Uint8Array(value!.data.slice().buffer)])
  );
}

const training = syntheticImages(400, 1);
const validation = syntheticImages(100, 2);
const normalization = normalizationOf(training);
const architecture = multilayerPerceptron({
  inputSize: 8,
  hiddenSizes: [6, 5],
  classes: 2,
  batchNorm: true,
});
const options: TrainingOptions = {
  batchSize: 20,
  lambda: 0.001,
  schedule: { kind: "cyclical", minimum: 1e-4, maximum: 0.1, stepSize: 40 },
  momentum: 0.5,
  updates: 160,
  key: randomKey(3),
};

Deno.test("train() with one seed twice gives bit-identical weights and history", () => {
  const run = () =>
    train(
      initializeNetwork(architecture, randomKey(7), "he"),
      { training, validation },
      normalization,
      options,
    );
  const first = run(), second = run();
  assert.deepEqual(bytesOf(first.network), bytesOf(second.network));
  assert.deepEqual(first.history, second.history);
  const other = train(
    initializeNetwork(architecture, randomKey(7), "he"),
    { training, validation },
    normalization,
    {
      ...options,
      key: randomKey(4),
    },
  );
  assert.notDeepEqual(bytesOf(other.network), bytesOf(first.network));
});

Deno.test("train() learns a separable problem and records every epoch", () => {
  const result = train(
    initializeNetwork(architecture, randomKey(7), "he"),
    { training, validation },
    normalization,
    options,
  );
  assert.equal(result.epochSeconds.length, 8); // 160 updates of 20 per epoch of 400
  assert.deepEqual(result.history.map((point) => point.update), [
    20,
    40,
    60,
    80,
    100,
    120,
    140,
    160,
  ]);
  const last = result.history.at(-1)!;
  assert.ok(last.validation.accuracy > 0.95, `validation accuracy ${last.validation.accuracy}`);
  assert.ok(last.training.cost > last.training.loss);
  assert.ok(result.history[0].validation.loss > last.validation.loss);
});

Deno.test("train() rejects a batch larger than the training set, naming both", () => {
  assert.throws(
    () =>
      train(
        initializeNetwork(architecture, randomKey(7), "he"),
        { training, validation },
        normalization,
        { ...options, batchSize: 401 },
      ),
    /batch size 401.*400 training samples/,
  );
});

Deno.test("learningRateAt() cyclical is triangular between η_min and η_max with period 2·n_s", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 500 }),
      fc.integer({ min: 0, max: 5000 }),
      (stepSize, update) => {
        const schedule: LearningRateSchedule = {
          kind: "cyclical",
          minimum: 1e-5,
          maximum: 1e-1,
          stepSize,
        };
        const rate = learningRateAt(schedule, update, 10);
        assert.ok(rate >= 1e-5 - 1e-18 && rate <= 1e-1 + 1e-18);
        assert.equal(rate, learningRateAt(schedule, update + 2 * stepSize, 10));
        const position = update % (2 * stepSize);
        const expected = position <= stepSize
          ? 1e-5 + (position / stepSize) * (1e-1 - 1e-5)
          : 1e-1 - ((position - stepSize) / stepSize) * (1e-1 - 1e-5);
        assert.ok(Math.abs(rate - expected) < 1e-15);
      },
    ),
  );
});

Deno.test("gatherBatch() normalizes with the training statistics and puts samples in columns", () => {
  const order = identityOrder(training.count);
  const { input, labels } = gatherBatch(training, normalization, order, 10, 13);
  assert.deepEqual([input.rows, input.columns], [8, 3]);
  for (let j = 0; j < 3; j++) {
    assert.equal(labels[j], training.labels[10 + j]);
    for (let f = 0; f < 8; f++) {
      const expected = (training.pixels[(10 + j) * 8 + f] / 255 - normalization.mean[f]) /
        normalization.standardDeviation[f];
      assert.ok(Math.abs(input.data[f * 3 + j] - expected) < 1e-12);
    }
  }
  // Over the whole training set, every feature has mean 0 and variance 1.
  const all = gatherBatch(training, normalization, order, 0, training.count).input;
  for (let f = 0; f < 8; f++) {
    const row = [...all.data.subarray(f * training.count, (f + 1) * training.count)];
    const mean = row.reduce((sum, value) => sum + value, 0) / row.length;
    const variance = row.reduce((sum, value) => sum + (value - mean) ** 2, 0) / row.length;
    assert.ok(Math.abs(mean) < 1e-12 && Math.abs(variance - 1) < 1e-12);
  }
});

Deno.test("splitCifar10() holds out the last N training samples and keeps file 1 / file 2 apart", () => {
  const file = (first: number): ImageSet => ({
    pixels: new Uint8Array(10 * 2).fill(first),
    labels: Uint8Array.from({ length: 10 }, (_, i) => (first + i) % 10),
    count: 10,
    features: 2,
    classNames: [],
  });
  const cifar10 = { trainingFiles: [1, 2, 3, 4, 5].map(file), test: file(9), classNames: [] };
  const holdout = splitCifar10(cifar10, { validationSize: 15 });
  assert.equal(holdout.training.count, 35);
  assert.deepEqual([...holdout.validation.pixels.subarray(0, 2)], [4, 4]); // last 5 of file 4
  assert.equal(holdout.validation.count, 15);
  const files = splitCifar10(cifar10, "file1");
  assert.equal(files.training.pixels[0], 1);
  assert.equal(files.validation.pixels[0], 2);
  assert.throws(() => splitCifar10(cifar10, { validationSize: 50 }), /hold out 50.*from 50/);
});

Deno.test("train() stopped at any update and resumed ends bit-identical to an uninterrupted run", () => {
  const fresh = () => initializeNetwork(architecture, randomKey(7), "he");
  const complete = train(fresh(), { training, validation }, normalization, options);
  for (const stopAt of [1, 19, 20, 21, 95, 159]) {
    let updates = 0;
    const first = train(fresh(), { training, validation }, normalization, {
      ...options,
      shouldStop: () => ++updates === stopAt,
    });
    assert.ok(first.stopped, `run stopped at ${stopAt}`);
    assert.equal(first.stopped.update, stopAt);
    const resumed = train(fresh(), { training, validation }, normalization, {
      ...options,
      resumeFrom: first.stopped,
    });
    assert.deepEqual(bytesOf(resumed.network), bytesOf(complete.network), `stopped at ${stopAt}`);
    assert.deepEqual(resumed.history, complete.history);
  }
});

Deno.test("train() checkpoints carry the same state a stop would", () => {
  const states: TrainingState[] = [];
  train(
    initializeNetwork(architecture, randomKey(7), "he"),
    { training, validation },
    normalization,
    {
      ...options,
      checkpointEvery: 30,
    },
    (event) => {
      if (event.kind === "checkpoint") states.push(event.state);
    },
  );
  assert.deepEqual(states.map((state) => state.update), [30, 60, 90, 120, 150]);
  const complete = train(
    initializeNetwork(architecture, randomKey(7), "he"),
    { training, validation },
    normalization,
    options,
  );
  const resumed = train(
    initializeNetwork(architecture, randomKey(7), "he"),
    { training, validation },
    normalization,
    {
      ...options,
      resumeFrom: states[2],
    },
  );
  assert.deepEqual(bytesOf(resumed.network), bytesOf(complete.network));
});

Deno.test("train() stops at the first non-finite loss or parameter and names the update and where", () => {
  assert.throws(
    () =>
      train(
        initializeNetwork(architecture, randomKey(7), { standardDeviation: 1e3 }),
        { training, validation },
        normalization,
        {
          ...options,
          schedule: { kind: "constant", learningRate: 1e150 },
        },
      ),
    (error: unknown) => {
      assert.ok(error instanceof DivergenceError);
      assert.ok(error.update >= 1 && error.update <= 5, `diverged at update ${error.update}`);
      assert.match(
        error.message,
        /^Training diverged at update \d: (the loss \(cross-entropy\)|(Linear|BatchNorm) layer \d \w+ entry \d+) became (NaN|-?Infinity) .*smaller learning rate/,
      );
      return true;
    },
  );
});
