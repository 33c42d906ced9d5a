/**
 * Training with the extensions — batch norm after the ReLU, dropout, Adam/AdamW, warm-up and
 * cosine decay, flips and translations — stays reproducible: stopped anywhere and resumed (also
 * through a checkpoint file) it ends bit-identical to an uninterrupted run. PreciseBN and
 * Adaptive BN give the averaged batch statistics they promise.
 */
import assert from "node:assert/strict";
import { multilayerPerceptron } from "../lib/architecture.ts";
import { batchStatistics } from "../lib/batch_norm.ts";
import { loadCheckpoint, saveCheckpoint } from "../lib/checkpoint.ts";
import { gatherBatch, identityOrder } from "../lib/dataset.ts";
import type { ImageSet } from "../lib/image_set.ts";
import { linearForward } from "../lib/linear.ts";
import { initializeNetwork, type Network } from "../lib/network.ts";
import { normalizationOf } from "../lib/normalization.ts";
import { adam } from "../lib/optimizer.ts";
import { adaptiveBatchNorm, preciseBatchNorm } from "../lib/precise_batch_norm.ts";
import { randomKey, uniforms } from "../lib/random.ts";
import { train, type TrainingOptions, type TrainingState } from "../lib/training.ts";

/** Two classes of 2 × 3 × 3 images: class c is brighter in channel c, plus noise. */
function syntheticImages(count: number, seed: number): ImageSet {
  const features = 18;
  const noise = uniforms(randomKey(seed), count * features).values;
  const labels = Uint8Array.from({ length: count }, (_, i) => i % 2);
  const pixels = Uint8Array.from({ length: count * features }, (_, index) => {
    const sample = Math.floor(index / features), channel = Math.floor((index % features) / 9);
    return Math.round((channel === labels[sample] ? 140 : 60) + 100 * noise[index]);
  });
  return { pixels, labels, count, features, classNames: ["zero", "one"] };
}

function bytesOf(network: Network): number[] {
  return network.parameters.flatMap((layer) =>
    Object.values(layer).flatMap((value) => [...new Uint8Array(value!.data.slice().buffer)])
  ).concat(
    network.movingAverages.flatMap((statistics) =>
      statistics
        ? [
          ...new Uint8Array(statistics.mean.data.slice().buffer),
          ...new Uint8Array(statistics.variance.data.slice().buffer),
        ]
        : []
    ),
  );
}

const training = syntheticImages(300, 1);
const validation = syntheticImages(60, 2);
const normalization = normalizationOf(training);
const architecture = multilayerPerceptron({
  inputSize: 18,
  hiddenSizes: [10, 6],
  classes: 2,
  batchNorm: true,
  batchNormPlacement: "afterRelu",
  dropout: 0.3,
});
const options: TrainingOptions = {
  batchSize: 20,
  lambda: 0.0005,
  schedule: {
    kind: "warmup",
    updates: 15,
    schedule: { kind: "cosine", maximum: 0.01, minimum: 1e-4, updates: 120 },
  },
  optimizer: adam(0.01),
  updates: 120,
  key: randomKey(3),
  noiseKey: randomKey(4),
  augmentation: {
    shape: { channels: 2, height: 3, width: 3 },
    flipProbability: 0.5,
    maximumShift: 1,
  },
};
const fresh = () => initializeNetwork(architecture, randomKey(7), "he");

Deno.test("train() with dropout, Adam, cosine warm-up and augmentation learns and is reproducible", () => {
  const first = train(fresh(), { training, validation }, normalization, options);
  const second = train(fresh(), { training, validation }, normalization, options);
  assert.deepEqual(bytesOf(first.network), bytesOf(second.network));
  const last = first.history.at(-1)!;
  assert.ok(last.validation.accuracy > 0.9, `validation accuracy ${last.validation.accuracy}`);
  const otherNoise = train(fresh(), { training, validation }, normalization, {
    ...options,
    noiseKey: randomKey(5),
  });
  assert.notDeepEqual(bytesOf(otherNoise.network), bytesOf(first.network));
  assert.throws(
    () =>
      train(fresh(), { training, validation }, normalization, {
        ...options,
        momentum: 0.9,
      }),
    /both momentum 0.9 and an optimizer/,
  );
});

Deno.test("train() with every extension, stopped anywhere and resumed through a checkpoint file, ends bit-identical", async () => {
  const complete = train(fresh(), { training, validation }, normalization, options);
  const directory = await Deno.makeTempDir();
  try {
    for (const stopAt of [1, 14, 15, 16, 59, 119]) {
      let updates = 0;
      const first = train(fresh(), { training, validation }, normalization, {
        ...options,
        shouldStop: () => ++updates === stopAt,
      });
      const stopped: TrainingState = first.stopped!;
      assert.equal(stopped.update, stopAt);
      const path = `${directory}/checkpoint-${stopAt}.fcnn`;
      saveCheckpoint(path, {
        state: stopped,
        normalization,
        classNames: ["zero", "one"],
        options: {},
      });
      const loaded = await loadCheckpoint(path);
      assert.deepEqual(loaded.state.noiseKey, stopped.noiseKey);
      assert.deepEqual(loaded.state.optimizer, stopped.optimizer);
      assert.deepEqual(loaded.state.network.architecture, stopped.network.architecture);
      for (const resumeFrom of [stopped, loaded.state]) {
        const resumed = train(fresh(), { training, validation }, normalization, {
          ...options,
          resumeFrom,
        });
        assert.deepEqual(
          bytesOf(resumed.network),
          bytesOf(complete.network),
          `stopped at ${stopAt}`,
        );
        assert.deepEqual(resumed.history, complete.history);
      }
    }
  } finally {
    await Deno.remove(directory, { recursive: true });
  }
});

Deno.test("preciseBatchNorm() averages the batch statistics of the final weights over the batches", () => {
  const plainArchitecture = multilayerPerceptron({
    inputSize: 18,
    hiddenSizes: [5],
    classes: 2,
    batchNorm: true,
    dropout: 0.5,
  });
  const network = initializeNetwork(plainArchitecture, randomKey(1), "he");
  // Three batches of 100 over one shuffle of all 300 samples: the batch means average to the
  // mean over the whole set, whatever the shuffle.
  const precise = preciseBatchNorm(network, training, normalization, {
    batchSize: 100,
    batches: 3,
    key: randomKey(2),
  });
  const all = gatherBatch(training, normalization, identityOrder(300), 0, 300).input;
  const preActivations = linearForward(
    { weight: network.parameters[0].weight!, bias: network.parameters[0].bias! },
    all,
  ).output;
  const { mean } = batchStatistics(preActivations);
  const averaged = precise.movingAverages[1]!;
  for (let i = 0; i < 5; i++) assert.ok(Math.abs(averaged.mean.data[i] - mean.data[i]) < 1e-12);
  assert.deepEqual(precise.architecture, network.architecture);
  assert.deepEqual(precise.parameters, network.parameters);
  assert.throws(
    () =>
      preciseBatchNorm(network, training, normalization, {
        batchSize: 100,
        batches: 4,
        key: randomKey(2),
      }),
    /4 batches of 100: the set has 300 samples/,
  );

  // Adaptive BN on one batch of the whole set: exactly that set's statistics.
  const adapted = adaptiveBatchNorm(network, validation, normalization, 1000);
  const validationInput = gatherBatch(validation, normalization, identityOrder(60), 0, 60).input;
  const expected = batchStatistics(
    linearForward(
      { weight: network.parameters[0].weight!, bias: network.parameters[0].bias! },
      validationInput,
    ).output,
  );
  assert.deepEqual(adapted.movingAverages[1]!.mean.data, expected.mean.data);
  assert.deepEqual(adapted.movingAverages[1]!.variance.data, expected.variance.data);
});
