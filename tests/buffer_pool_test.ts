/**
 * Training that reuses its buffers (the default) gives the same bits as training that
 * allocates every tensor afresh, for every optimizer, number type and extension; and what
 * training hands out — checkpoint states, the stopped state, the result — never changes
 * afterwards, although the loop goes on reusing buffers.
 */
import assert from "node:assert/strict";
import { multilayerPerceptron } from "../lib/architecture.ts";
import { useBackend } from "../lib/backend.ts";
import { BufferPool, withBufferPool } from "../lib/buffer_pool.ts";
import { fc } from "../lib/deps.ts";
import type { ImageSet } from "../lib/image_set.ts";
import { castNetwork, initializeNetwork, type Network } from "../lib/network.ts";
import { normalizationOf } from "../lib/normalization.ts";
import { adam, type Optimizer } from "../lib/optimizer.ts";
import { randomKey, uniforms } from "../lib/random.ts";
import { castTensor, type DType, resultArray, type Tensor, zeros } from "../lib/tensor.ts";
import {
  train,
  type TrainingEvent,
  type TrainingOptions,
  type TrainingState,
} from "../lib/training.ts";
import { availableBackends, sameBits } from "./backend_fixture.ts";

/** Three classes of 3 × 8 × 8 images (192 features, so that batches and weights are pooled). */
function syntheticImages(count: number, seed: number): ImageSet {
  const features = 192;
  const noise = uniforms(randomKey(seed), count * features).values;
  const labels = Uint8Array.from({ length: count }, (_, i) => i % 3);
  const pixels = Uint8Array.from({ length: count * features }, (_, index) => {
    const sample = Math.floor(index / features), channel = Math.floor((index % features) / 64);
    return Math.round((channel === labels[sample] ? 140 : 60) + 100 * noise[index]);
  });
  return { pixels, labels, count, features, classNames: ["a", "b", "c"] };
}

const training = syntheticImages(240, 1);
const validation = syntheticImages(48, 2);
const normalization = normalizationOf(training);

function tensorsOf(network: Network): Tensor[] {
  return [
    ...network.parameters.flatMap((layer) => Object.values(layer) as Tensor[]),
    ...network.movingAverages.flatMap((statistics) =>
      statistics ? [statistics.mean, statistics.variance] : []
    ),
  ];
}

/** The float64 bytes of every tensor of a network, in order. */
function bytesOf(network: Network): number[] {
  return tensorsOf(network).flatMap((value) => [
    ...new Uint8Array(castTensor(value, "float64").data.slice().buffer),
  ]);
}

interface Setup {
  readonly optimizer: Optimizer;
  readonly dtype: DType;
  readonly dropout: number;
  readonly placement: "beforeRelu" | "afterRelu";
  readonly augment: boolean;
  readonly batchSize: number;
}

const setups = fc.record<Setup>({
  optimizer: fc.oneof(
    fc.constant<Optimizer>({ kind: "sgd", momentum: 0 }),
    fc.constant<Optimizer>({ kind: "sgd", momentum: 0.9 }),
    fc.constant<Optimizer>(adam(0.01)),
  ),
  dtype: fc.constantFrom<DType>("float64", "float32"),
  dropout: fc.constantFrom(0, 0.3),
  placement: fc.constantFrom("beforeRelu", "afterRelu"),
  augment: fc.boolean(),
  batchSize: fc.constantFrom(8, 16, 30),
});

function run(
  setup: Setup,
  extra: Partial<TrainingOptions> = {},
  onEvent?: (event: TrainingEvent) => void,
) {
  const architecture = multilayerPerceptron({
    inputSize: 192,
    hiddenSizes: [40, 12],
    classes: 3,
    batchNorm: true,
    batchNormPlacement: setup.placement,
    dropout: setup.dropout,
  });
  const network = castNetwork(initializeNetwork(architecture, randomKey(5), "he"), setup.dtype);
  const options: TrainingOptions = {
    batchSize: setup.batchSize,
    lambda: 0.001,
    schedule: { kind: "cyclical", minimum: 1e-4, maximum: 0.05, stepSize: 20 },
    optimizer: setup.optimizer,
    updates: 45,
    key: randomKey(6),
    augmentation: setup.augment
      ? { shape: { channels: 3, height: 8, width: 8 }, flipProbability: 0.5, maximumShift: 1 }
      : undefined,
    ...extra,
  };
  return train(network, { training, validation }, normalization, options, onEvent);
}

// With the wasm backend the pool's buffers live in the WebAssembly kernel's memory (its arena).
for (const backend of availableBackends()) {
  Deno.test(`${backend}: train() reusing buffers gives the bits of train() allocating afresh`, () => {
    useBackend(backend);
    try {
      fc.assert(
        fc.property(setups, (setup) => {
          const reused = run(setup);
          const fresh = run(setup, { reuseBuffers: false });
          assert.ok(sameBits(bytesOf(reused.network), bytesOf(fresh.network)), "networks differ");
          assert.deepEqual(reused.history, fresh.history);
          assert.ok(
            tensorsOf(reused.network).every((value) =>
              setup.dtype === "float32"
                ? value.data instanceof Float32Array
                : value.data instanceof Float64Array
            ),
            "the result keeps the network's number type",
          );
        }),
        { numRuns: 16 },
      );
    } finally {
      useBackend("ml-matrix");
    }
  });

  Deno.test(`${backend}: what train() hands out never changes while it goes on reusing buffers`, () => {
    useBackend(backend);
    try {
      const setup: Setup = {
        optimizer: adam(0.01),
        dtype: "float32",
        dropout: 0.3,
        placement: "beforeRelu",
        augment: true,
        batchSize: 16,
      };
      const states: { state: TrainingState; bytes: number[]; moments: number[] }[] = [];
      const momentBytes = (state: TrainingState) =>
        "firstMoment" in state.optimizer && state.optimizer.firstMoment
          ? state.optimizer.firstMoment.flatMap((layer) =>
            Object.values(layer).flatMap((value) => [...(value as Tensor).data])
          )
          : [];
      let checks = 0;
      const result = run(
        setup,
        { checkpointEvery: 5, shouldStop: () => ++checks === 40 },
        (event) => {
          if (event.kind === "checkpoint") {
            states.push({
              state: event.state,
              bytes: bytesOf(event.state.network),
              moments: momentBytes(event.state),
            });
          }
        },
      );
      assert.equal(states.length, 8);
      for (const { state, bytes, moments } of states) {
        assert.ok(
          sameBits(bytesOf(state.network), bytes),
          `checkpoint at update ${state.update} changed`,
        );
        assert.ok(
          sameBits(momentBytes(state), moments),
          `Adam moments at update ${state.update} changed`,
        );
      }
      assert.ok(result.stopped);
      const stoppedBytes = bytesOf(result.stopped.network);
      const resumed = run(setup, { resumeFrom: result.stopped });
      assert.ok(
        sameBits(bytesOf(result.stopped.network), stoppedBytes),
        "the stopped state changed",
      );
      assert.ok(
        sameBits(bytesOf(resumed.network), bytesOf(run(setup).network)),
        "resumed run differs",
      );
    } finally {
      useBackend("ml-matrix");
    }
  });
}

Deno.test("BufferPool.keep() copies a tensor carried over from the other generation", () => {
  const pool = new BufferPool();
  pool.beginStep();
  const made = withBufferPool(pool, () => zeros(32, 32));
  pool.beginStep();
  assert.notEqual(pool.keep(made).data, made.data, "made in the step before: copied");
  const current = withBufferPool(pool, () => zeros(32, 32));
  assert.equal(pool.keep(current), current, "made in this step: kept as it is");
  const outside = zeros(32, 32);
  assert.equal(pool.keep(outside), outside, "not pooled: kept as it is");
  made.data.fill(7); // what a step would have left in it
  pool.beginStep();
  const reused = withBufferPool(pool, () => zeros(32, 32));
  assert.equal(reused.data, made.data, "two steps later the buffer is reused");
  assert.ok(reused.data.every((value) => value === 0), "zeros() gets it zeroed");
  made.data.fill(7);
  pool.beginStep();
  pool.beginStep();
  const result = withBufferPool(pool, () => resultArray("float64", 32 * 32));
  assert.equal(result, made.data, "resultArray() takes it as it is");
});
