/**
 * Model files: bit-exact round trips over random networks (batch norm before or after the ReLU,
 * with or without dropout layers), a reader written from the module documentation alone, a
 * version-1 file from before dropout layers, named errors for every kind of damage, a fuzz test
 * of more than 10,000 corrupted files that must each be rejected with a DataError, checkpoints
 * that keep their dropout layers, and atomic saves that never damage the previous file.
 *
 * The fuzz test forges files at the level of the documented layout (tests/ has its own
 * writer, `writeLayout`), recomputing lengths and the SHA-256 so that the forgery reaches the
 * checks behind the checksum: header schema, tensor table, offsets, values.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { Buffer } from "node:buffer";
import { type BatchNormPlacement, dropout, multilayerPerceptron } from "../lib/architecture.ts";
import { loadCheckpoint, saveCheckpoint } from "../lib/checkpoint.ts";
import { fc } from "../lib/deps.ts";
import { DataError } from "../lib/errors.ts";
import {
  decodeModel,
  encodeModel,
  loadModel,
  MODEL_FILE_MAGIC,
  MODEL_FILE_VERSION,
  type SavedModel,
  saveModel,
} from "../lib/model_file.ts";
import {
  initializeNetwork,
  mapParameters,
  type Network,
  networkEvaluationForward,
  networkTrainingForward,
  parameterNames,
  withoutDropout,
} from "../lib/network.ts";
import { normals, randomKey, uniforms } from "../lib/random.ts";
import { type Tensor, tensor } from "../lib/tensor.ts";

/** A fresh seed every run (fast-check prints it on failure); FC_SEED=… replays one. */
function seedFromEnvironment(): number | undefined {
  const seed = Deno.env.get("FC_SEED");
  return seed === undefined ? undefined : Number(seed);
}

// ---------------------------------------------------------------------------------------------
// Random models

interface ModelDescription {
  readonly inputSize: number;
  readonly hiddenSizes: readonly number[];
  readonly classes: number;
  readonly batchNorm: false | { affine: boolean; epsilon: number; momentum: number };
  /** Where batch norm sits in a hidden block (default before the ReLU). */
  readonly batchNormPlacement?: BatchNormPlacement;
  /** The rate of a dropout layer after every hidden block; 0 (the default) for none. */
  readonly dropout?: number;
  /** Whether batch-norm layers have moving averages (one training-mode forward). */
  readonly trained: boolean;
  readonly normalization: boolean;
  readonly classNames: boolean;
  readonly metadata: Record<string, unknown> | undefined;
  /** Whether some parameters are replaced by −0, subnormals and extremes. */
  readonly specialValues: boolean;
  readonly seed: number;
}

/** Values whose bits a sloppy writer would lose: −0, subnormals, extremes. */
const specialValues = [
  -0,
  5e-324,
  -5e-324,
  2.225073858507201e-308, // the largest subnormal
  2.2250738585072014e-308, // the smallest normal
  -Number.MAX_VALUE,
  1 + Number.EPSILON,
];
const nonNegativeSpecialValues = [0, 5e-324, 2.225073858507201e-308, Number.MAX_VALUE];

function withSpecialValues<Rows extends number, Columns extends number>(
  value: Tensor<Rows, Columns>,
  specials: readonly number[],
): Tensor<Rows, Columns> {
  const data = value.data.slice();
  for (let i = 0; i < data.length; i += 2) data[i] = specials[(i / 2) % specials.length];
  return tensor(value.rows, value.columns, data);
}

const jsonMetadata = fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), {
  maxKeys: 4,
}).map((value): Record<string, unknown> => JSON.parse(JSON.stringify(value)));

const anyDescriptions: fc.Arbitrary<ModelDescription> = fc.record({
  inputSize: fc.integer({ min: 1, max: 6 }),
  hiddenSizes: fc.array(fc.integer({ min: 1, max: 5 }), { maxLength: 3 }),
  classes: fc.integer({ min: 1, max: 4 }),
  batchNorm: fc.option(
    fc.record({
      affine: fc.boolean(),
      epsilon: fc.double({ min: 0, max: 0.1, noNaN: true }).map((value) => value + 0),
      momentum: fc.double({ min: 0, max: 0.99, noNaN: true }).map((value) => value + 0),
    }),
    { nil: false },
  ),
  batchNormPlacement: fc.constantFrom("beforeRelu", "afterRelu"),
  dropout: fc.oneof(fc.constant(0), fc.double({ min: 0.01, max: 0.95, noNaN: true })),
  trained: fc.boolean(),
  normalization: fc.boolean(),
  classNames: fc.boolean(),
  metadata: fc.option(jsonMetadata, { nil: undefined }),
  specialValues: fc.boolean(),
  seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
});
const modelDescriptions = anyDescriptions.map(withEpsilonForConstantUnits);

/**
 * A unit that a ReLU or dropout zeroed on the whole 3-sample batch reaches batch norm as a
 * constant, and (x − μ)/√(σ² + ε) is then 0/0 when ε = 0: keep ε away from 0 there.
 */
function withEpsilonForConstantUnits(description: ModelDescription): ModelDescription {
  const { batchNorm, dropout = 0, batchNormPlacement } = description;
  if (batchNorm === false || (dropout === 0 && batchNormPlacement !== "afterRelu")) {
    return description;
  }
  return {
    ...description,
    batchNorm: { ...batchNorm, epsilon: Math.max(batchNorm.epsilon, 1e-3) },
  };
}

function buildModel(description: ModelDescription): SavedModel {
  const { inputSize, hiddenSizes, classes, seed } = description;
  const architecture = multilayerPerceptron({
    inputSize,
    hiddenSizes,
    classes,
    batchNorm: description.batchNorm,
    batchNormPlacement: description.batchNormPlacement,
    dropout: description.dropout,
  });
  let network: Network = initializeNetwork(architecture, randomKey(seed), "he");
  if (description.trained) {
    const batch = 3;
    const input = tensor(inputSize, batch, normals(randomKey(seed + 1), inputSize * batch).values);
    const { movingAverages } = networkTrainingForward(network, input, randomKey(seed + 4));
    network = { ...network, movingAverages };
  }
  if (description.specialValues) {
    network = {
      ...network,
      parameters: mapParameters(
        network.parameters,
        (value) => withSpecialValues(value, specialValues),
      ),
      movingAverages: network.movingAverages.map((statistics) =>
        statistics && {
          mean: withSpecialValues(statistics.mean, specialValues),
          variance: withSpecialValues(statistics.variance, nonNegativeSpecialValues),
        }
      ),
    };
  }
  const model: { -readonly [K in keyof SavedModel]: SavedModel[K] } = { network };
  if (description.normalization) {
    model.normalization = {
      mean: normals(randomKey(seed + 2), inputSize).values,
      standardDeviation: uniforms(randomKey(seed + 3), inputSize).values.map((value) =>
        value + 0.01
      ),
    };
  }
  if (description.classNames) {
    model.classNames = Array.from({ length: classes }, (_, i) => `class ${i} ✓`);
  }
  if (description.metadata !== undefined) model.metadata = description.metadata;
  return model;
}

function bits(values: ArrayBufferView): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

function assertSameTensor(actual: Tensor | undefined, expected: Tensor, label: string): void {
  assert.ok(actual !== undefined, `${label} is missing`);
  assert.deepStrictEqual([actual.rows, actual.columns], [expected.rows, expected.columns], label);
  assert.deepStrictEqual(bits(actual.data), bits(expected.data), `${label} differs in its bits`);
}

function definedKeys(value: object): string[] {
  return Object.entries(value).filter(([, entry]) => entry !== undefined).map(([key]) => key)
    .sort();
}

function assertSameModel(actual: SavedModel, expected: SavedModel): void {
  assert.deepStrictEqual(definedKeys(actual), definedKeys(expected));
  assert.deepStrictEqual(actual.network.architecture, expected.network.architecture);
  assert.equal(actual.network.parameters.length, expected.network.parameters.length);
  expected.network.parameters.forEach((layer, index) => {
    const loaded = actual.network.parameters[index];
    assert.deepStrictEqual(definedKeys(loaded), definedKeys(layer), `layer ${index} parameters`);
    for (const name of parameterNames) {
      const value = layer[name];
      if (value) assertSameTensor(loaded[name], value, `layer ${index} ${name}`);
    }
  });
  assert.equal(actual.network.movingAverages.length, expected.network.movingAverages.length);
  expected.network.movingAverages.forEach((statistics, index) => {
    const loaded = actual.network.movingAverages[index];
    if (statistics === undefined) return assert.equal(loaded, undefined);
    assertSameTensor(loaded?.mean, statistics.mean, `layer ${index} moving mean`);
    assertSameTensor(loaded?.variance, statistics.variance, `layer ${index} moving variance`);
  });
  if (expected.normalization) {
    const { mean, standardDeviation } = expected.normalization;
    assert.deepStrictEqual(bits(actual.normalization?.mean ?? new Float64Array()), bits(mean));
    assert.deepStrictEqual(
      bits(actual.normalization?.standardDeviation ?? new Float64Array()),
      bits(standardDeviation),
    );
  }
  assert.deepStrictEqual(actual.classNames, expected.classNames);
  assert.deepStrictEqual(actual.metadata, expected.metadata);
}

// ---------------------------------------------------------------------------------------------
// The layout as the module documentation describes it, read and written independently

type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
type JsonObject = { [key: string]: JsonValue };

interface Layout {
  readonly version: number;
  readonly headerBytes: Uint8Array;
  readonly padding: Uint8Array;
  readonly data: Uint8Array;
}

function sha256(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash("sha256").update(bytes).digest());
}

function readLayout(bytes: Uint8Array): Layout {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(12, true);
  const dataLength = Number(view.getBigUint64(16, true));
  const dataStart = Math.ceil((24 + headerLength) / 8) * 8;
  return {
    version: view.getUint32(8, true),
    headerBytes: bytes.slice(24, 24 + headerLength),
    padding: bytes.slice(24 + headerLength, dataStart),
    data: bytes.slice(dataStart, dataStart + dataLength),
  };
}

function headerOf(layout: Layout): JsonObject {
  return JSON.parse(new TextDecoder().decode(layout.headerBytes));
}

/** A file with the documented framing and a correct checksum around whatever it is given. */
function writeLayout(layout: Layout): Uint8Array {
  const headerLength = layout.headerBytes.length;
  const dataStart = 24 + headerLength + layout.padding.length;
  const bytes = new Uint8Array(dataStart + layout.data.length + 32);
  const view = new DataView(bytes.buffer);
  bytes.set(new TextEncoder().encode(MODEL_FILE_MAGIC), 0);
  view.setUint32(8, layout.version, true);
  view.setUint32(12, headerLength, true);
  view.setBigUint64(16, BigInt(layout.data.length), true);
  bytes.set(layout.headerBytes, 24);
  bytes.set(layout.padding, 24 + headerLength);
  bytes.set(layout.data, dataStart);
  return reseal(bytes);
}

function withHeader(layout: Layout, header: JsonValue): Layout {
  return withHeaderBytes(layout, new TextEncoder().encode(JSON.stringify(header)));
}

function withHeaderBytes(layout: Layout, headerBytes: Uint8Array): Layout {
  const padding = new Uint8Array((8 - (24 + headerBytes.length) % 8) % 8);
  return { ...layout, headerBytes, padding };
}

/** Rewrites the trailing SHA-256 to match whatever precedes it. */
function reseal(bytes: Uint8Array): Uint8Array {
  if (bytes.length >= 32) {
    bytes.set(sha256(bytes.subarray(0, bytes.length - 32)), bytes.length - 32);
  }
  return bytes;
}

// ---------------------------------------------------------------------------------------------
// Round trips

Deno.test("decodeModel(encodeModel(model)) is the model, bit for bit, for random models", () => {
  let runs = 0;
  fc.assert(
    fc.property(modelDescriptions, (description) => {
      const model = buildModel(description);
      const bytes = encodeModel(model);
      assertSameModel(decodeModel(bytes, "model.bin"), model);
      assert.deepStrictEqual(encodeModel(decodeModel(bytes)), bytes, "re-encoding changed bytes");
      runs++;
    }),
    { numRuns: 300, seed: seedFromEnvironment() },
  );
  assert.equal(runs, 300);
});

Deno.test("decodeModel() keeps −0, subnormals and extremes exactly", () => {
  const model = buildModel({
    inputSize: 4,
    hiddenSizes: [3],
    classes: 2,
    batchNorm: { affine: true, epsilon: 1e-5, momentum: 0.9 },
    trained: true,
    normalization: true,
    classNames: false,
    metadata: undefined,
    specialValues: true,
    seed: 7,
  });
  const weight = decodeModel(encodeModel(model)).network.parameters[0].weight;
  assert.ok(weight !== undefined);
  assert.ok(Object.is(weight.data[0], -0));
  assert.equal(weight.data[2], 5e-324);
  assert.equal(weight.data[6], 2.225073858507201e-308);
  assert.equal(weight.data[10], -Number.MAX_VALUE);
});

Deno.test("networkEvaluationForward() gives identical outputs after a save and load", async () => {
  const directory = await Deno.makeTempDir();
  try {
    const descriptions = fc.sample(
      modelDescriptions.map((description) => ({
        ...description,
        trained: true,
        specialValues: false,
      })),
      { numRuns: 25, seed: 11 },
    );
    for (const description of descriptions) {
      const model = buildModel(description);
      const path = join(directory, "model.bin");
      await saveModel(path, model);
      const loaded = await loadModel(path);
      const { inputSize } = description;
      const input = tensor(
        inputSize,
        5,
        normals(randomKey(description.seed + 9), inputSize * 5).values,
      );
      const before = networkEvaluationForward(model.network, input);
      const after = networkEvaluationForward(loaded.network, input);
      assert.deepStrictEqual(bits(after.data), bits(before.data));
    }
  } finally {
    await Deno.remove(directory, { recursive: true });
  }
});

Deno.test("encodeModel() writes the layout the module documentation describes", () => {
  const model = buildModel({
    inputSize: 5,
    hiddenSizes: [4, 3],
    classes: 3,
    batchNorm: { affine: true, epsilon: 1e-5, momentum: 0.9 },
    trained: true,
    normalization: true,
    classNames: true,
    metadata: { seed: 3, options: { learningRate: 0.01 }, tags: ["a", null] },
    specialValues: true,
    seed: 3,
  });
  const bytes = encodeModel(model);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  assert.equal(new TextDecoder().decode(bytes.subarray(0, 8)), "FCNNMODL");
  assert.equal(MODEL_FILE_MAGIC, "FCNNMODL");
  assert.equal(view.getUint32(8, true), 1, "a network without dropout is a version-1 file");
  assert.equal(MODEL_FILE_VERSION, 2);
  const headerLength = view.getUint32(12, true);
  const dataLength = Number(view.getBigUint64(16, true));
  const dataStart = Math.ceil((24 + headerLength) / 8) * 8;
  assert.equal(bytes.length, dataStart + dataLength + 32);
  assert.ok(bytes.subarray(24 + headerLength, dataStart).every((byte) => byte === 0));
  assert.deepStrictEqual(
    bytes.subarray(dataStart + dataLength),
    sha256(bytes.subarray(0, dataStart + dataLength)),
  );
  const header = headerOf(readLayout(bytes));
  assert.deepStrictEqual(Object.keys(header).sort(), [
    "classNames",
    "layers",
    "metadata",
    "normalization",
    "tensors",
  ]);
  assert.deepStrictEqual(
    header.layers,
    JSON.parse(JSON.stringify(model.network.architecture.layers)),
  );
  assert.deepStrictEqual(header.normalization, { features: 5 });
  assert.deepStrictEqual(header.classNames, model.classNames);
  assert.deepStrictEqual(header.metadata, model.metadata);
  const tensors = header.tensors as JsonObject[];
  // 3 linear × (weight, bias) + 2 batch norms × (scale, shift, mean, variance) + normalization × 2
  assert.equal(tensors.length, 6 + 8 + 2);
  let end = 0;
  for (const entry of tensors) {
    const { kind, name, rows, columns, offset } = entry as {
      kind: string;
      name: string;
      layer?: number;
      rows: number;
      columns: number;
      offset: number;
    };
    assert.equal(offset, end, "tensors are stored one after the other");
    assert.equal(offset % 8, 0);
    const layer = entry.layer as number;
    const expected = kind === "parameter"
      ? model.network.parameters[layer][name as "weight"]?.data
      : kind === "movingAverage"
      ? model.network.movingAverages[layer]?.[name as "mean"].data
      : model.normalization?.[name as "mean"];
    assert.ok(expected !== undefined, `${kind} ${name}`);
    assert.equal(expected.length, rows * columns);
    const values = Float64Array.from(
      { length: rows * columns },
      (_, i) => view.getFloat64(dataStart + offset + 8 * i, true),
    );
    assert.deepStrictEqual(bits(values), bits(expected));
    end = offset + 8 * rows * columns;
  }
  assert.equal(end, dataLength);
  assert.deepStrictEqual(writeLayout(readLayout(bytes)), bytes, "the test's writer matches");
});

// ---------------------------------------------------------------------------------------------
// Dropout layers

/** A trained network with a dropout layer (rate 0.3) after each hidden block. */
function dropoutModel(batchNormPlacement: BatchNormPlacement): SavedModel {
  return buildModel({
    inputSize: 5,
    hiddenSizes: [4, 3],
    classes: 3,
    batchNorm: { affine: true, epsilon: 1e-5, momentum: 0.9 },
    batchNormPlacement,
    dropout: 0.3,
    trained: true,
    normalization: true,
    classNames: true,
    metadata: { dropout: 0.3 },
    specialValues: false,
    seed: 21,
  });
}

const dropoutBlocks = {
  beforeRelu: ["linear", "batchNorm", "relu", "dropout"],
  afterRelu: ["linear", "relu", "batchNorm", "dropout"],
} as const;

Deno.test("saveModel() and loadModel() keep dropout layers, with batch norm before or after the ReLU", async () => {
  const directory = await Deno.makeTempDir();
  try {
    for (const placement of ["beforeRelu", "afterRelu"] as const) {
      const model = dropoutModel(placement);
      const path = join(directory, `${placement}.fcnn`);
      await saveModel(path, model);
      const loaded = await loadModel(path);
      const block = dropoutBlocks[placement];
      assert.deepStrictEqual(
        loaded.network.architecture.layers.map((layer) => layer.kind),
        [...block, ...block, "linear"],
        placement,
      );
      assert.deepStrictEqual(loaded.network.architecture, model.network.architecture);
      assertSameModel(loaded, model);
      const input = tensor(5, 6, normals(randomKey(22), 30).values);
      assert.deepStrictEqual(
        bits(networkEvaluationForward(loaded.network, input).data),
        bits(networkEvaluationForward(model.network, input).data),
      );
      // Training from the loaded network draws the same masks: the dropout is really there.
      const trainingOutput = (network: Network) =>
        bits(networkTrainingForward(network, input, randomKey(23)).output.data);
      assert.deepStrictEqual(trainingOutput(loaded.network), trainingOutput(model.network));
      assert.notDeepStrictEqual(
        trainingOutput(withoutDropout(loaded.network).network),
        trainingOutput(model.network),
      );
      const bytes = await Deno.readFile(path);
      assert.equal(new DataView(bytes.buffer).getUint32(8, true), 2, "dropout needs version 2");
      const layers = headerOf(readLayout(bytes)).layers as JsonObject[];
      assert.deepStrictEqual(layers[3], {
        kind: "dropout",
        inputSize: 4,
        outputSize: 4,
        rate: 0.3,
      });
      assert.deepStrictEqual(layers[7], {
        kind: "dropout",
        inputSize: 3,
        outputSize: 3,
        rate: 0.3,
      });
    }
  } finally {
    await Deno.remove(directory, { recursive: true });
  }
});

const dropoutSampleBytes = encodeModel(dropoutModel("beforeRelu"));

Deno.test("decodeModel() names a bad dropout layer and its value", () => {
  const dropoutLayer = (header: JsonObject): JsonObject => (header.layers as JsonObject[])[3];
  const rates: [JsonValue, string][] = [[1, "1"], [-0.1, "-0.1"], [1.5, "1.5"], ["x", '"x"'], [
    null,
    "null",
  ]];
  for (const [rate, shown] of rates) {
    assertDataError(
      forgedHeader((header) => {
        dropoutLayer(header).rate = rate;
      }, dropoutSampleBytes),
      new RegExp(`: layer 3 \\(dropout\\) rate is ${shown}; it must be a number in \\[0, 1\\)$`),
    );
  }
  assertDataError(
    forgedHeader((header) => {
      delete dropoutLayer(header).rate;
    }, dropoutSampleBytes),
    /layer 3 has no field "rate"$/,
  );
  assertDataError(
    forgedHeader((header) => {
      dropoutLayer(header).affine = true;
    }, dropoutSampleBytes),
    /layer 3 has the unknown field "affine"$/,
  );
  assertDataError(
    forgedHeader((header) => {
      dropoutLayer(header).outputSize = 5;
    }, dropoutSampleBytes),
    /layer 3 \(dropout\) has inputSize 4 but outputSize 5; they must be equal$/,
  );
  assertDataError(
    forgedHeader((header) => {
      dropoutLayer(header).inputSize = 5;
      dropoutLayer(header).outputSize = 5;
    }, dropoutSampleBytes),
    /the layers do not chain: Cannot run Dropout layer 1: .*input size 5 must equal the output size 4 of ReLU layer 1$/,
  );
  assertDataError(
    forgedHeader((header) => {
      (header.tensors as JsonObject[]).push({
        kind: "parameter",
        layer: 3,
        name: "scale",
        rows: 4,
        columns: 1,
        offset: 0,
      });
    }, dropoutSampleBytes),
    /layer 3 \(dropout\) cannot have a scale; it has no parameters$/,
  );
  assertDataError(
    forgedHeader((header) => {
      tensorEntry(header, "movingAverage", "mean", 1).layer = 3;
    }, dropoutSampleBytes),
    /layer 3 \(dropout\) cannot have moving averages$/,
  );
  const versionOne = dropoutSampleBytes.slice();
  new DataView(versionOne.buffer).setUint32(8, 1, true);
  assertDataError(
    reseal(versionOne),
    /layer 3 has kind "dropout", which format version 1 does not have \(dropout layers need version 2\)$/,
  );
});

Deno.test("encodeModel() refuses a dropout layer the reader would reject", () => {
  const { network } = dropoutModel("afterRelu");
  const layers = [...network.architecture.layers];
  for (const rate of [1, -0.1, Number.NaN]) {
    layers[3] = { kind: "dropout", inputSize: 4, outputSize: 4, rate };
    const architecture = { ...network.architecture, layers };
    assert.throws(
      () => encodeModel({ network: { ...network, architecture } }),
      new RegExp(
        `^RangeError: Cannot encode the model: layer 3 \\(dropout\\) rate is ${rate}; it must be a number in \\[0, 1\\)$`,
      ),
    );
  }
  assert.throws(() => dropout(4, 1), /rate 1/);
});

/**
 * A model file written before dropout layers existed (by the library at commit 980829a):
 * Linear(2, 2) → BatchNorm(2) → ReLU(2) → Linear(2, 2) with moving averages, a normalization,
 * class names "cat" and "dog" and the metadata {"written": "before dropout layers"}.
 */
const versionOneFile = new Uint8Array(Buffer.from(
  [
    "RkNOTk1PREwBAAAAjwQAAMAAAAAAAAAAeyJsYXllcnMiOlt7ImtpbmQiOiJsaW5lYXIiLCJpbnB1dFNpemUiOjIs",
    "Im91dHB1dFNpemUiOjJ9LHsia2luZCI6ImJhdGNoTm9ybSIsImlucHV0U2l6ZSI6Miwib3V0cHV0U2l6ZSI6Miwi",
    "YWZmaW5lIjp0cnVlLCJlcHNpbG9uIjowLjAwMDAxLCJtb21lbnR1bSI6MC45fSx7ImtpbmQiOiJyZWx1IiwiaW5w",
    "dXRTaXplIjoyLCJvdXRwdXRTaXplIjoyfSx7ImtpbmQiOiJsaW5lYXIiLCJpbnB1dFNpemUiOjIsIm91dHB1dFNp",
    "emUiOjJ9XSwibm9ybWFsaXphdGlvbiI6eyJmZWF0dXJlcyI6Mn0sImNsYXNzTmFtZXMiOlsiY2F0IiwiZG9nIl0s",
    "Im1ldGFkYXRhIjp7IndyaXR0ZW4iOiJiZWZvcmUgZHJvcG91dCBsYXllcnMifSwidGVuc29ycyI6W3sia2luZCI6",
    "InBhcmFtZXRlciIsImxheWVyIjowLCJuYW1lIjoid2VpZ2h0Iiwicm93cyI6MiwiY29sdW1ucyI6Miwib2Zmc2V0",
    "IjowfSx7ImtpbmQiOiJwYXJhbWV0ZXIiLCJsYXllciI6MCwibmFtZSI6ImJpYXMiLCJyb3dzIjoyLCJjb2x1bW5z",
    "IjoxLCJvZmZzZXQiOjMyfSx7ImtpbmQiOiJwYXJhbWV0ZXIiLCJsYXllciI6MSwibmFtZSI6InNjYWxlIiwicm93",
    "cyI6MiwiY29sdW1ucyI6MSwib2Zmc2V0Ijo0OH0seyJraW5kIjoicGFyYW1ldGVyIiwibGF5ZXIiOjEsIm5hbWUi",
    "OiJzaGlmdCIsInJvd3MiOjIsImNvbHVtbnMiOjEsIm9mZnNldCI6NjR9LHsia2luZCI6Im1vdmluZ0F2ZXJhZ2Ui",
    "LCJsYXllciI6MSwibmFtZSI6Im1lYW4iLCJyb3dzIjoyLCJjb2x1bW5zIjoxLCJvZmZzZXQiOjgwfSx7ImtpbmQi",
    "OiJtb3ZpbmdBdmVyYWdlIiwibGF5ZXIiOjEsIm5hbWUiOiJ2YXJpYW5jZSIsInJvd3MiOjIsImNvbHVtbnMiOjEs",
    "Im9mZnNldCI6OTZ9LHsia2luZCI6InBhcmFtZXRlciIsImxheWVyIjozLCJuYW1lIjoid2VpZ2h0Iiwicm93cyI6",
    "MiwiY29sdW1ucyI6Miwib2Zmc2V0IjoxMTJ9LHsia2luZCI6InBhcmFtZXRlciIsImxheWVyIjozLCJuYW1lIjoi",
    "YmlhcyIsInJvd3MiOjIsImNvbHVtbnMiOjEsIm9mZnNldCI6MTQ0fSx7ImtpbmQiOiJub3JtYWxpemF0aW9uIiwi",
    "bmFtZSI6Im1lYW4iLCJyb3dzIjoyLCJjb2x1bW5zIjoxLCJvZmZzZXQiOjE2MH0seyJraW5kIjoibm9ybWFsaXph",
    "dGlvbiIsIm5hbWUiOiJzdGFuZGFyZERldmlhdGlvbiIsInJvd3MiOjIsImNvbHVtbnMiOjEsIm9mZnNldCI6MTc2",
    "fV19ALZ2mzrPy+Q/e4pepHLP3z/I9iDZCj3qv82MUl6cMec/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAPA/AAAAAAAA",
    "8D8AAAAAAAAAAAAAAAAAAAAAAdC8EcPu5T/qmD634BnyvzC1sTYWaKE/2F7TK0JNvD870OkqZk/3P8tf2N0Brsi/",
    "iVqQC2H++D9/MbND1Jz2vwAAAAAAAAAAAAAAAAAAAAAAAAAAAADgPwAAAAAAANC/AAAAAAAAAEAAAAAAAADgP1Z6",
    "8Nsu26P4Qls5MAKRLJ+vk5SxT0GjnrTKK2aT3vLK",
  ].join(""),
  "base64",
));

Deno.test("decodeModel() reads a version-1 file written before dropout layers existed", () => {
  assert.equal(new DataView(versionOneFile.buffer).getUint32(8, true), 1);
  const model = decodeModel(versionOneFile, "old.bin");
  assert.deepStrictEqual(
    model.network.architecture.layers.map((layer) => layer.kind),
    ["linear", "batchNorm", "relu", "linear"],
  );
  assert.deepStrictEqual(model.classNames, ["cat", "dog"]);
  assert.deepStrictEqual(model.metadata, { written: "before dropout layers" });
  assert.deepStrictEqual([...model.normalization?.standardDeviation ?? []], [2, 0.5]);
  assert.ok(model.network.movingAverages[1] !== undefined);
  const output = networkEvaluationForward(model.network, tensor(2, 3, new Float64Array(6)));
  assert.ok(output.data.every(Number.isFinite));
  // A network without dropout is still written exactly as before, as version 1.
  assert.deepStrictEqual(encodeModel(model), versionOneFile);
});

// ---------------------------------------------------------------------------------------------
// Checkpoints (model files with the training state in their metadata)

function checkpointOf(network: Network): Parameters<typeof saveCheckpoint>[1] {
  return {
    state: {
      network,
      optimizer: { velocity: mapParameters(network.parameters, (value) => value) },
      update: 3,
      epochKey: randomKey(31),
      noiseKey: randomKey(32),
      history: [],
      epochSeconds: [],
    },
    normalization: { mean: new Float64Array(5), standardDeviation: new Float64Array(5).fill(1) },
    classNames: ["a", "b", "c"],
    options: { dropout: 0.3 },
  };
}

Deno.test("saveCheckpoint() stores dropout layers and loadCheckpoint() resumes with them", async () => {
  const directory = await Deno.makeTempDir();
  try {
    for (const placement of ["beforeRelu", "afterRelu"] as const) {
      const { network } = dropoutModel(placement);
      const path = join(directory, `${placement}.fcnn`);
      saveCheckpoint(path, checkpointOf(network));
      const file = await loadModel(path);
      assert.deepStrictEqual(file.network.architecture, network.architecture, "the model file");
      const saved = file.metadata?.checkpoint as Record<string, unknown>;
      assert.equal(Object.hasOwn(saved, "dropout"), false);
      const loaded = await loadCheckpoint(path);
      assert.deepStrictEqual(loaded.state.network.architecture, network.architecture);
      assertSameModel({ network: loaded.state.network }, { network });
      assert.deepStrictEqual(loaded.state.optimizer, checkpointOf(network).state.optimizer);
    }
  } finally {
    await Deno.remove(directory, { recursive: true });
  }
});

Deno.test("loadCheckpoint() puts back the dropout layers of a checkpoint from before version 2", async () => {
  const directory = await Deno.makeTempDir();
  try {
    const { network } = dropoutModel("afterRelu");
    const { state, normalization, classNames, options } = checkpointOf(network);
    // What saveCheckpoint() wrote while model files had no dropout layers.
    const { network: plain, dropout: placements } = withoutDropout(network);
    const metadata = {
      checkpoint: {
        update: state.update,
        epochKey: [...state.epochKey.state],
        noiseKey: [...state.noiseKey.state],
        velocity: null,
        dropout: placements,
        history: [],
        epochSeconds: [],
      },
      options,
    };
    const old = encodeModel({ network: plain, normalization, classNames, metadata });
    assert.equal(new DataView(old.buffer).getUint32(8, true), 1);
    const path = join(directory, "old.fcnn");
    await Deno.writeFile(path, old);
    const loaded = await loadCheckpoint(path);
    assert.deepStrictEqual(loaded.state.network.architecture, network.architecture);
    assertSameModel({ network: loaded.state.network }, { network });

    await Deno.writeFile(path, encodeModel({ network, normalization, classNames, metadata }));
    await assert.rejects(loadCheckpoint(path), (error: unknown) => {
      assert.ok(error instanceof DataError);
      assert.match(error.message, /lists dropout layers beside a network that already has them$/);
      return true;
    });
  } finally {
    await Deno.remove(directory, { recursive: true });
  }
});

// ---------------------------------------------------------------------------------------------
// Named errors

const sampleModel = buildModel({
  inputSize: 4,
  hiddenSizes: [3],
  classes: 2,
  batchNorm: { affine: true, epsilon: 1e-5, momentum: 0.9 },
  trained: true,
  normalization: true,
  classNames: true,
  metadata: { seed: 1 },
  specialValues: false,
  seed: 1,
});
const sampleBytes = encodeModel(sampleModel);

/** A file (by default the sample) with its header changed by `change`, resealed. */
function forgedHeader(change: (header: JsonObject) => void, bytes = sampleBytes): Uint8Array {
  const layout = readLayout(bytes);
  const header = headerOf(layout);
  change(header);
  return writeLayout(withHeader(layout, header));
}

function tensorEntry(header: JsonObject, kind: string, name: string, layer?: number): JsonObject {
  const entry = (header.tensors as JsonObject[]).find((candidate) =>
    candidate.kind === kind && candidate.name === name && candidate.layer === layer
  );
  assert.ok(entry !== undefined);
  return entry;
}

function assertDataError(bytes: Uint8Array, message: RegExp): void {
  assert.throws(() => decodeModel(bytes, "model.bin"), (error: unknown) => {
    assert.ok(error instanceof DataError, `expected a DataError, got ${error}`);
    assert.match(error.message, /^model\.bin: /);
    assert.match(error.message, message);
    assert.equal(error.path, "model.bin");
    return true;
  });
}

Deno.test("decodeModel() names the damage in its message", () => {
  assertDataError(new Uint8Array(0), /truncated: 0 bytes, fewer than the 24-byte preamble/);
  assertDataError(new TextEncoder().encode("PK\x03\x04 a zip file"), /not a model file/);
  assertDataError(
    sampleBytes.slice(0, 124),
    /truncated: header says \d+ bytes but only 100 follow/,
  );
  assertDataError(
    sampleBytes.slice(0, sampleBytes.length - 1),
    /truncated: the preamble describes \d+ bytes .* but only \d+ are present/,
  );
  assertDataError(
    new Uint8Array([...sampleBytes, 0]),
    /1 unexpected bytes after the checksum/,
  );
  const flipped = sampleBytes.slice();
  flipped[flipped.length - 100] ^= 4;
  assertDataError(flipped, /checksum mismatch \(file is corrupt\)/);
  const newer = sampleBytes.slice();
  new DataView(newer.buffer).setUint32(8, 3, true);
  assertDataError(
    reseal(newer),
    /format version 3 is not one this library reads \(it reads versions 1 to 2\); the file was written by a newer version$/,
  );
  const zero = sampleBytes.slice();
  new DataView(zero.buffer).setUint32(8, 0, true);
  assertDataError(
    reseal(zero),
    /format version 0 is not one this library reads \(it reads versions 1 to 2\)$/,
  );

  assertDataError(
    forgedHeader((header) => {
      tensorEntry(header, "parameter", "weight", 0).columns = 5;
    }),
    /layer 0 \(linear\) weight has shape \[3, 5\] but the architecture needs \[3, 4\]/,
  );
  assertDataError(
    forgedHeader((header) => {
      (header.layers as JsonObject[])[3].inputSize = 4;
    }),
    /the layers do not chain: .*input size 4/,
  );
  assertDataError(
    forgedHeader((header) => {
      (header.layers as JsonObject[])[1].kind = "conv";
    }),
    /layer 1 has kind "conv"; it must be "linear", "batchNorm", "relu" or "dropout"/,
  );
  assertDataError(
    forgedHeader((header) => {
      (header.layers as JsonObject[])[0].outputSize = 2 ** 31;
    }),
    /layers do not chain/,
  );
  assertDataError(
    forgedHeader((header) => {
      header.tensors = (header.tensors as JsonObject[]).filter((entry) =>
        entry.name !== "variance"
      );
    }),
    /layer 1 \(batchNorm\) has a moving-average mean but no variance/,
  );
  assertDataError(
    forgedHeader((header) => {
      header.tensors = (header.tensors as JsonObject[]).filter((entry) => entry.name !== "bias");
    }),
    /layer 0 \(linear\) bias is missing|layer 3 \(linear\) bias is missing/,
  );
  assertDataError(
    forgedHeader((header) => {
      (header.tensors as JsonObject[]).push({ ...tensorEntry(header, "parameter", "shift", 1) });
    }),
    /the tensor table lists layer 1 \(batchNorm\) shift twice/,
  );
  assertDataError(
    forgedHeader((header) => {
      (header.tensors as JsonObject[]).push({
        kind: "parameter",
        layer: 2,
        name: "scale",
        rows: 3,
        columns: 1,
        offset: 0,
      });
    }),
    /layer 2 \(relu\) cannot have a scale; it has no parameters/,
  );
  assertDataError(
    forgedHeader((header) => {
      (header.layers as JsonObject[])[1].affine = false;
    }),
    /layer 1 \(batchNorm\) has affine: false, so it cannot have a scale/,
  );
  assertDataError(
    forgedHeader((header) => {
      tensorEntry(header, "parameter", "bias", 0).offset = 0;
    }),
    /layer 0 \(linear\) (bias|weight) .*overlaps/,
  );
  assertDataError(
    forgedHeader((header) => {
      tensorEntry(header, "normalization", "standardDeviation").offset = 2 ** 40;
    }),
    /normalization standardDeviation takes bytes .* but the data section has only \d+/,
  );
  assertDataError(
    forgedHeader((header) => {
      tensorEntry(header, "parameter", "weight", 0).rows = 2 ** 31;
    }),
    /weight has shape \[2147483648, 4\] but the architecture needs \[3, 4\]/,
  );
  assertDataError(
    forgedHeader((header) => {
      header.classNames = ["cat"];
    }),
    /there are 1 class names but the network has 2 outputs/,
  );
  assertDataError(
    forgedHeader((header) => {
      header.extra = 1;
    }),
    /the header has the unknown field "extra"/,
  );
  assertDataError(
    writeLayout(withHeaderBytes(readLayout(sampleBytes), new Uint8Array([0x7b, 0xff, 0x7d]))),
    /the header is not valid UTF-8/,
  );
  assertDataError(
    writeLayout(withHeaderBytes(readLayout(sampleBytes), new TextEncoder().encode('{"layers":'))),
    /the header is not valid JSON/,
  );
  const layout = readLayout(sampleBytes);
  const data = layout.data.slice();
  new DataView(data.buffer).setFloat64(16, Number.NaN, true);
  assertDataError(
    writeLayout({ ...layout, data }),
    /layer 0 \(linear\) weight has the non-finite value NaN at index 2/,
  );
});

Deno.test("encodeModel() refuses a model the reader would reject", () => {
  const { network } = sampleModel;
  const weight = network.parameters[0].weight;
  assert.ok(weight !== undefined);
  const broken = (parameters: Network["parameters"]): SavedModel => ({
    network: { ...network, parameters },
  });
  assert.throws(
    () =>
      encodeModel(broken([
        { ...network.parameters[0], weight: withSpecialValues(weight, [Number.NaN]) },
        ...network.parameters.slice(1),
      ])),
    /^RangeError: Cannot encode the model: layer 0 \(linear\) weight has the non-finite value NaN at index 0$/,
  );
  assert.throws(
    () =>
      encodeModel(broken([
        { ...network.parameters[0], weight: tensor(3, 3, new Float64Array(9)) },
        ...network.parameters.slice(1),
      ])),
    /layer 0 \(linear\) weight has shape \[3, 3\] but the architecture needs \[3, 4\]/,
  );
  assert.throws(
    () => encodeModel({ ...sampleModel, metadata: { when: new Date(0) } }),
    /metadata\.when is a Date/,
  );
  assert.throws(
    () => encodeModel({ ...sampleModel, metadata: { seed: undefined } }),
    /metadata\.seed is missing/,
  );
  const cycle: Record<string, unknown> = {};
  cycle.self = cycle;
  assert.throws(
    () => encodeModel({ ...sampleModel, metadata: cycle }),
    /metadata\.self refers back to itself/,
  );
  assert.throws(
    () => encodeModel({ ...sampleModel, classNames: ["one"] }),
    /there are 1 class names but the network has 2 outputs/,
  );
});

// ---------------------------------------------------------------------------------------------
// Fuzz

const poolDescriptions: ModelDescription[] = [
  [2, [], 2, false, false, false, false, undefined],
  [3, [3, 2], 2, false, false, true, true, { seed: 1, metrics: [0.5, null] }],
  [3, [3], 3, { affine: true, epsilon: 1e-5, momentum: 0.9 }, true, true, false, undefined],
  [2, [2, 2], 2, { affine: true, epsilon: 1e-5, momentum: 0.9 }, false, false, true, undefined],
  [3, [3, 3], 2, { affine: false, epsilon: 1e-3, momentum: 0.5 }, true, false, true, undefined],
  [2, [2], 1, { affine: false, epsilon: 0, momentum: 0 }, false, true, false, { note: "x" }],
  [6, [5, 4, 3], 4, { affine: true, epsilon: 1e-5, momentum: 0.9 }, true, true, true, { a: 1 }],
].map((
  [inputSize, hiddenSizes, classes, batchNorm, trained, normalization, classNames, metadata],
) => ({
  inputSize,
  hiddenSizes,
  classes,
  batchNorm,
  trained,
  normalization,
  classNames,
  metadata,
  specialValues: false,
  seed: 5,
} as ModelDescription)).concat([
  {
    inputSize: 3,
    hiddenSizes: [3, 2],
    classes: 2,
    batchNorm: { affine: true, epsilon: 1e-5, momentum: 0.9 },
    dropout: 0.25,
    trained: true,
    normalization: true,
    classNames: true,
    metadata: undefined,
    specialValues: false,
    seed: 5,
  },
  {
    inputSize: 2,
    hiddenSizes: [3],
    classes: 2,
    batchNorm: { affine: false, epsilon: 1e-3, momentum: 0.5 },
    batchNormPlacement: "afterRelu",
    dropout: 0.5,
    trained: false,
    normalization: false,
    classNames: false,
    metadata: { note: "dropout" },
    specialValues: false,
    seed: 5,
  },
]);
const pool = poolDescriptions.map((description) => {
  const bytes = encodeModel(buildModel(description));
  return { bytes, layout: readLayout(bytes), header: headerOf(readLayout(bytes)) };
});

/** The random choices a corruption draws from. */
interface Choice {
  readonly a: number;
  readonly b: number;
  readonly c: number;
  readonly flips: readonly number[];
  readonly bytes: Uint8Array;
}

type PoolFile = (typeof pool)[number];

function pick<T>(values: readonly T[], index: number): T {
  return values[index % values.length];
}

const badSizes: JsonValue[] = [
  0,
  -1,
  1.5,
  2 ** 31,
  2 ** 32,
  2 ** 53,
  1e300,
  "3",
  null,
  true,
  [],
  {},
];

/** Changes a copy of the header so that no valid file can result; returns the new header. */
const headerForgeries: ((header: JsonObject, choice: Choice) => JsonValue)[] = [
  function sizeField(header, { a, b, c }) {
    const layers = header.layers as JsonObject[];
    const fields: [JsonObject, string][] = [
      ...layers.flatMap((layer): [JsonObject, string][] => [[layer, "inputSize"], [
        layer,
        "outputSize",
      ]]),
      ...(header.tensors as JsonObject[]).flatMap((entry): [JsonObject, string][] => [
        [entry, "rows"],
        [entry, "columns"],
      ]),
      ...(header.normalization === null
        ? []
        : [[header.normalization as JsonObject, "features"]] as [
          JsonObject,
          string,
        ][]),
    ];
    const [object, key] = pick(fields, a);
    object[key] = c % 3 === 0 ? (object[key] as number) + 1 : pick(badSizes, b);
    return header;
  },
  function offsetField(header, { a, b }) {
    const entry = pick(header.tensors as JsonObject[], a);
    const offset = entry.offset as number;
    entry.offset = pick([
      offset + 8,
      offset - 8,
      offset + 1,
      offset + 4,
      2 ** 31,
      2 ** 53,
      2 ** 64,
      1.5,
      null,
      "0",
    ], b);
    return header;
  },
  function layerIndex(header, { a, b }) {
    const entries = (header.tensors as JsonObject[]).filter((entry) => "layer" in entry);
    const entry = pick(entries, a);
    const layer = entry.layer as number;
    const count = (header.layers as JsonValue[]).length;
    entry.layer = pick([layer + 1, layer - 1, -1, count, 2 ** 31, 1.5, null, "0"], b);
    return header;
  },
  function tensorName(header, { a, b }) {
    const entry = pick(header.tensors as JsonObject[], a);
    const names = entry.kind === "parameter"
      ? ["weight", "bias", "scale", "shift"]
      : entry.kind === "movingAverage"
      ? ["mean", "variance"]
      : ["mean", "standardDeviation"];
    entry.name = pick([...names.filter((name) => name !== entry.name), "Weight", "", 3, null], b);
    return header;
  },
  function tensorKind(header, { a, b }) {
    const entry = pick(header.tensors as JsonObject[], a);
    const kinds = ["parameter", "movingAverage", "normalization"];
    entry.kind = pick([...kinds.filter((kind) => kind !== entry.kind), "Parameter", 1, null], b);
    return header;
  },
  function layerKind(header, { a, b }) {
    const layer = pick(header.layers as JsonObject[], a);
    const kinds = ["linear", "batchNorm", "relu", "dropout"];
    layer.kind = pick(
      [...kinds.filter((kind) => kind !== layer.kind), "Linear", "conv", 0, null],
      b,
    );
    return header;
  },
  function batchNormField(header, { a, b, c }) {
    const layers = (header.layers as JsonObject[]).filter((layer) => layer.kind === "batchNorm");
    if (layers.length === 0) return { ...header, layers: [] };
    const layer = pick(layers, a);
    const field = pick(["affine", "epsilon", "momentum"], b);
    layer[field] = field === "affine"
      ? pick([!layer.affine, "true", null, 1], c)
      : field === "epsilon"
      ? pick([-1e-5, "1e-5", null, true, -Number.MIN_VALUE], c)
      : pick([1, -0.1, 1.5, null, "0.9"], c);
    return header;
  },
  function dropoutRate(header, { a, b }) {
    const layers = (header.layers as JsonObject[]).filter((layer) => layer.kind === "dropout");
    if (layers.length === 0) return { ...header, layers: [] };
    pick(layers, a).rate = pick([1, 1.5, -0.1, -Number.MIN_VALUE, "0.5", null, true, []], b);
    return header;
  },
  function deleteKey(header, { a, b }) {
    const objects = [
      header,
      ...(header.layers as JsonObject[]),
      ...(header.tensors as JsonObject[]),
      ...(header.normalization === null ? [] : [header.normalization as JsonObject]),
    ];
    const object = pick(objects, a);
    delete object[pick(Object.keys(object), b)];
    return header;
  },
  function addKey(header, { a, c }) {
    const objects = [
      header,
      ...(header.layers as JsonObject[]),
      ...(header.tensors as JsonObject[]),
      ...(header.normalization === null ? [] : [header.normalization as JsonObject]),
    ];
    pick(objects, a)[pick(["extra", "Kind", "layer ", "weight"], c)] = c;
    return header;
  },
  function removeTensor(header, { a }) {
    const tensors = header.tensors as JsonObject[];
    tensors.splice(a % tensors.length, 1);
    return header;
  },
  function duplicateTensor(header, { a }) {
    const tensors = header.tensors as JsonObject[];
    tensors.push({ ...pick(tensors, a) });
    return header;
  },
  function classNames(header, { b }) {
    const layers = header.layers as JsonObject[];
    const outputs = layers[layers.length - 1].outputSize as number;
    const names = header.classNames as string[] | null;
    header.classNames = names === null
      ? Array.from({ length: outputs + 1 }, (_, i) => `c${i}`)
      : pick([[...names, "extra"], names.slice(1), [5, ...names.slice(1)], "cats", {}, 1], b);
    return header;
  },
  function normalization(header, { b }) {
    const layers = header.layers as JsonObject[];
    header.normalization = header.normalization === null
      ? { features: layers[0].inputSize }
      : pick([null, { features: layers[0].inputSize, extra: 1 }, [], "x", 3], b);
    return header;
  },
  function metadata(header, { b }) {
    header.metadata = pick([5, "x", [], true, [1, 2]], b);
    return header;
  },
  function wholeHeader(header, { b }) {
    return pick([[], 5, "x", null, {}, { ...header, layers: [] }, [header]], b);
  },
  function layersOrTable(header, { b, c }) {
    header[c % 2 === 0 ? "layers" : "tensors"] = pick([{}, null, [null], [5], "x", 0], b);
    return header;
  },
];

/** A header forgery as a corruption of the whole file (lengths and checksum recomputed). */
function headerCorruption(
  forgery: (header: JsonObject, choice: Choice) => JsonValue,
): (file: PoolFile, choice: Choice) => Uint8Array {
  const corruption = ({ layout, header }: PoolFile, choice: Choice) =>
    writeLayout(withHeader(layout, forgery(structuredClone(header), choice)));
  Object.defineProperty(corruption, "name", { value: `header.${forgery.name}` });
  return corruption;
}

/** Ways of damaging a valid file; each must make decodeModel() throw a DataError. */
const corruptions: ((file: PoolFile, choice: Choice) => Uint8Array)[] = [
  ...headerForgeries.map(headerCorruption),
  function truncate({ bytes }, { a }) {
    return bytes.slice(0, a % bytes.length);
  },
  function flipBits({ bytes }, { flips }) {
    const damaged = bytes.slice();
    for (const bit of new Set(flips.map((flip) => flip % (bytes.length * 8)))) {
      damaged[bit >> 3] ^= 1 << (bit & 7);
    }
    return damaged;
  },
  function randomBytes(_, { bytes }) {
    return bytes;
  },
  function randomAfterMagic(_, { bytes, c }) {
    const damaged = new Uint8Array(8 + bytes.length);
    damaged.set(new TextEncoder().encode(MODEL_FILE_MAGIC), 0);
    damaged.set(bytes, 8);
    if (damaged.length >= 12) new DataView(damaged.buffer).setUint32(8, 1, true);
    return c % 2 === 0 ? reseal(damaged) : damaged;
  },
  function forgePreamble({ bytes }, { a, b, c }) {
    const damaged = bytes.slice();
    const view = new DataView(damaged.buffer);
    const field = a % 3;
    if (field === 2) {
      const original = view.getBigUint64(16, true);
      const values = [0n, 8n, 2n ** 31n, 2n ** 53n, 2n ** 63n, 2n ** 64n - 1n, original + 8n];
      const value = values.filter((candidate) => candidate !== original)[b % (values.length - 1)];
      view.setBigUint64(16, value ?? original + 16n, true);
    } else {
      const offset = field === 0 ? 8 : 12;
      const original = view.getUint32(offset, true);
      const values = [
        0,
        1,
        2,
        7,
        2 ** 31,
        2 ** 32 - 1,
        original + 1,
        original - 1,
        original + 8,
        c,
      ];
      // Another version this library reads may describe the same valid file.
      const readable = (candidate: number) =>
        offset === 8 && candidate >= 1 && candidate <= MODEL_FILE_VERSION;
      const candidates = values.filter((candidate) =>
        candidate !== original && candidate >= 0 && candidate < 2 ** 32 && !readable(candidate)
      );
      const value = candidates[b % candidates.length];
      view.setUint32(offset, value ?? original ^ 0x10000, true);
    }
    return c % 2 === 0 ? reseal(damaged) : damaged;
  },
  function trailingBytes({ bytes }, { bytes: extra }) {
    return new Uint8Array([...bytes, ...(extra.length > 0 ? extra : [0])]);
  },
  function forgeHeaderBytes({ layout }, { bytes, c }) {
    const text = c % 2 === 0 ? bytes : new Uint8Array([0x7b, ...bytes, 0x7d]);
    return writeLayout(withHeaderBytes(layout, text));
  },
  function forgeValue({ layout, header }, { a, b, c }) {
    const entry = pick(header.tensors as JsonObject[], a);
    const count = (entry.rows as number) * (entry.columns as number);
    const position = (entry.offset as number) + 8 * (b % count);
    const values = entry.name === "variance"
      ? [Number.NaN, Infinity, -Infinity, -1, -5e-324]
      : entry.name === "standardDeviation"
      ? [Number.NaN, Infinity, -Infinity, 0, -0, -1]
      : [Number.NaN, Infinity, -Infinity];
    const data = layout.data.slice();
    new DataView(data.buffer).setFloat64(position, pick(values, c), true);
    return writeLayout({ ...layout, data });
  },
  function nonZeroPadding({ layout, header }, { a, c }) {
    let text = JSON.stringify(header);
    if ((24 + text.length) % 8 === 0) text += " ";
    const forged = withHeaderBytes(layout, new TextEncoder().encode(text));
    const padding = forged.padding.slice();
    padding[a % padding.length] = (c % 255) + 1;
    return writeLayout({ ...forged, padding });
  },
  function gapInData({ layout, header }, { a }) {
    const copy: JsonObject = structuredClone(header);
    const tensors = copy.tensors as JsonObject[];
    const boundary = pick(
      [...tensors.map((entry) => entry.offset as number), layout.data.length],
      a,
    );
    for (const entry of tensors) {
      if ((entry.offset as number) >= boundary) entry.offset = (entry.offset as number) + 8;
    }
    const data = new Uint8Array(layout.data.length + 8);
    data.set(layout.data.subarray(0, boundary), 0);
    data.set(layout.data.subarray(boundary), boundary + 8);
    return writeLayout({ ...withHeader(layout, copy), data });
  },
];

const choices: fc.Arbitrary<Choice> = fc.record({
  a: fc.nat(),
  b: fc.nat(),
  c: fc.nat(),
  flips: fc.array(fc.nat(), { minLength: 1, maxLength: 8 }),
  bytes: fc.uint8Array({ maxLength: 300 }),
});

/** Decodes `bytes`, asserting a DataError naming the file; returns the milliseconds it took. */
function rejectionTime(bytes: Uint8Array, what: string): number {
  const start = performance.now();
  try {
    decodeModel(bytes, "fuzz.bin");
  } catch (error) {
    const elapsed = performance.now() - start;
    if (!(error instanceof DataError)) {
      throw new Error(`${what}: decodeModel() threw ${error} instead of a DataError`);
    }
    assert.match(error.message, /^fuzz\.bin: /);
    return elapsed;
  }
  throw new Error(`${what}: decodeModel() accepted a damaged file`);
}

Deno.test("decodeModel() rejects more than 10,000 damaged files with a DataError, quickly", () => {
  for (const { bytes } of pool) decodeModel(bytes); // the undamaged files are valid
  const start = performance.now();
  let count = 0;
  let slowest = 0;
  const record = (bytes: Uint8Array, what: string): void => {
    slowest = Math.max(slowest, rejectionTime(bytes, what));
    count++;
  };
  // Every truncation of every file in the pool, and every single bit flip of the first two.
  pool.forEach(({ bytes }, index) => {
    for (let length = 0; length < bytes.length; length++) {
      record(bytes.slice(0, length), `file ${index} cut to ${length} bytes`);
    }
  });
  pool.slice(0, 2).forEach(({ bytes }, index) => {
    for (let bit = 0; bit < bytes.length * 8; bit++) {
      const damaged = bytes.slice();
      damaged[bit >> 3] ^= 1 << (bit & 7);
      record(damaged, `file ${index} with bit ${bit} flipped`);
    }
  });
  const exhaustive = count;
  const perCorruption = new Map<string, number>();
  fc.assert(
    fc.property(
      fc.nat(pool.length - 1),
      fc.nat(corruptions.length - 1),
      choices,
      (file, corruption, choice) => {
        const corrupt = corruptions[corruption];
        record(corrupt(pool[file], choice), `${corrupt.name} of file ${file}`);
        perCorruption.set(corrupt.name, (perCorruption.get(corrupt.name) ?? 0) + 1);
      },
    ),
    { numRuns: 20_000, seed: seedFromEnvironment() },
  );
  const seconds = (performance.now() - start) / 1000;
  console.log(
    `${count} damaged files rejected (${exhaustive} exhaustive, ${count - exhaustive} random) in ${
      seconds.toFixed(1)
    } s; slowest ${slowest.toFixed(1)} ms`,
  );
  console.log(
    `  random: ${[...perCorruption].sort().map(([name, n]) => `${name} ${n}`).join(", ")}`,
  );
  assert.ok(count - exhaustive >= 10_000);
  assert.ok(slowest < 1000, `one rejection took ${slowest} ms`);
});

// ---------------------------------------------------------------------------------------------
// Saving

async function listing(directory: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(directory)) names.push(entry.name);
  return names.sort();
}

Deno.test("saveModel() replaces an existing model and leaves no temporary file", async () => {
  const directory = await Deno.makeTempDir();
  try {
    const path = join(directory, "model.bin");
    await saveModel(path, sampleModel);
    const other = buildModel({ ...poolDescriptions[6], seed: 99 });
    await saveModel(path, other);
    assertSameModel(await loadModel(path), other);
    assert.deepStrictEqual(await Deno.readFile(path), encodeModel(other));
    assert.deepStrictEqual(await listing(directory), ["model.bin"]);
  } finally {
    await Deno.remove(directory, { recursive: true });
  }
});

Deno.test("loadModel() names the file that is missing or damaged", async () => {
  const directory = await Deno.makeTempDir();
  try {
    const path = join(directory, "model.bin");
    await assert.rejects(loadModel(path), (error: unknown) => {
      assert.ok(error instanceof DataError);
      assert.equal(error.path, path);
      assert.match(error.message, /cannot read the model file/);
      return true;
    });
    await Deno.writeFile(path, sampleBytes.slice(0, 500));
    await assert.rejects(loadModel(path), (error: unknown) => {
      assert.ok(error instanceof DataError);
      assert.ok(error.message.startsWith(`${path}: truncated`), error.message);
      return true;
    });
  } finally {
    await Deno.remove(directory, { recursive: true });
  }
});

/** Asserts that `save()` rejects with an Error naming `path`, leaving `directory` as it was. */
async function assertFailedSave(
  save: () => Promise<void>,
  path: string,
  directory: string,
  previous: Uint8Array | undefined,
): Promise<void> {
  const before = await listing(directory);
  await assert.rejects(save(), (error: unknown) => {
    assert.ok(error instanceof Error);
    assert.ok(error.message.startsWith(`Cannot save the model to ${path}: `), error.message);
    return true;
  });
  assert.deepStrictEqual(await listing(directory), before, "a temporary file was left behind");
  if (previous !== undefined) assert.deepStrictEqual(await Deno.readFile(path), previous);
}

/** Whether chmod can stop this user writing (it cannot stop root). */
async function chmodStopsWrites(): Promise<boolean> {
  if (Deno.build.os === "windows") return false;
  const directory = await Deno.makeTempDir();
  try {
    await Deno.chmod(directory, 0o555);
    await Deno.writeFile(join(directory, "probe"), new Uint8Array(1));
    return false;
  } catch {
    return true;
  } finally {
    await Deno.chmod(directory, 0o755);
    await Deno.remove(directory, { recursive: true });
  }
}

Deno.test({
  name: "saveModel() into a read-only directory fails and keeps the previous file (chmod 555)",
  ignore: !(await chmodStopsWrites()),
  fn: async () => {
    const directory = await Deno.makeTempDir();
    const path = join(directory, "model.bin");
    try {
      await saveModel(path, sampleModel);
      await Deno.chmod(directory, 0o555);
      const other = buildModel({ ...poolDescriptions[6], seed: 99 });
      await assertFailedSave(() => saveModel(path, other), path, directory, sampleBytes);
    } finally {
      await Deno.chmod(directory, 0o755);
      await Deno.remove(directory, { recursive: true });
    }
  },
});

// Root ignores chmod, so the same failure is also produced by withholding the permission to
// write anywhere in the directory but the target itself.
const restrictedDirectory = await Deno.makeTempDir();
const restrictedPath = join(restrictedDirectory, "model.bin");
await Deno.writeFile(restrictedPath, sampleBytes);
Deno.test({
  name: "saveModel() where the directory may not be written fails and keeps the previous file",
  permissions: { read: true, write: [restrictedPath] },
  fn: async () => {
    const other = buildModel({ ...poolDescriptions[6], seed: 99 });
    await assertFailedSave(
      () => saveModel(restrictedPath, other),
      restrictedPath,
      restrictedDirectory,
      sampleBytes,
    );
  },
});

Deno.test("saveModel() where the directory may not be written left only the previous file", async () => {
  try {
    assert.deepStrictEqual(await listing(restrictedDirectory), ["model.bin"]);
    assert.deepStrictEqual(await Deno.readFile(restrictedPath), sampleBytes);
  } finally {
    await Deno.remove(restrictedDirectory, { recursive: true });
  }
});

Deno.test("saveModel() whose final rename fails removes its temporary file", async () => {
  const directory = await Deno.makeTempDir();
  try {
    const path = join(directory, "model.bin");
    await Deno.mkdir(path);
    await Deno.writeFile(join(path, "keep"), sampleBytes);
    await assertFailedSave(() => saveModel(path, sampleModel), path, directory, undefined);
    assert.deepStrictEqual(await listing(path), ["keep"]);
    assert.deepStrictEqual(await Deno.readFile(join(path, "keep")), sampleBytes);
  } finally {
    await Deno.remove(directory, { recursive: true });
  }
});

Deno.test("saveModel() under a path whose parent is a regular file fails, naming the path", async () => {
  const directory = await Deno.makeTempDir();
  try {
    const parent = join(directory, "not-a-directory");
    await Deno.writeFile(parent, sampleBytes);
    const path = join(parent, "model.bin");
    await assertFailedSave(() => saveModel(path, sampleModel), path, directory, undefined);
    assert.deepStrictEqual(await Deno.readFile(parent), sampleBytes);
  } finally {
    await Deno.remove(directory, { recursive: true });
  }
});

Deno.test("saveModel() refuses an invalid model before touching the previous file", async () => {
  const directory = await Deno.makeTempDir();
  try {
    const path = join(directory, "model.bin");
    await saveModel(path, sampleModel);
    const invalid = { ...sampleModel, metadata: { loss: Number.NaN } };
    await assertFailedSave(() => saveModel(path, invalid), path, directory, sampleBytes);
    await assert.rejects(saveModel(path, invalid), /metadata\.loss is NaN, which JSON cannot hold/);
  } finally {
    await Deno.remove(directory, { recursive: true });
  }
});
