/**
 * Saving and loading a trained model — network, input normalization, class names and free
 * JSON metadata — in one self-describing binary file that a few lines of NumPy can read.
 *
 * ## Layout (format versions 1 and 2)
 *
 * All integers are little-endian. Offsets are from the start of the file.
 *
 * | Offset       | Size  | Content                                                              |
 * | ------------ | ----- | -------------------------------------------------------------------- |
 * | 0            | 8     | magic: the ASCII bytes `FCNNMODL`                                    |
 * | 8            | 4     | uint32 format version, `1` or `2` (see Versions below)               |
 * | 12           | 4     | uint32 H, the byte length of the header                              |
 * | 16           | 8     | uint64 D, the byte length of the data section (a multiple of 8)      |
 * | 24           | H     | header: UTF-8 JSON, described below                                  |
 * | 24 + H       | 0–7   | zero bytes, up to P = the first multiple of 8 at or after 24 + H     |
 * | P            | D     | data section: float64 values, little-endian                          |
 * | P + D        | 32    | SHA-256 of bytes [0, P + D) — everything before it                   |
 *
 * The file is exactly P + D + 32 bytes long. The header is one JSON object with exactly these
 * keys:
 *
 * - `layers`: the architecture, in order; each layer has exactly the fields of its kind:
 *   `{"kind": "linear", "inputSize": n, "outputSize": m}`,
 *   `{"kind": "batchNorm", "inputSize": n, "outputSize": n, "affine": bool, "epsilon": ε,
 *   "momentum": α}` (ε ≥ 0 and α ∈ [0, 1) as JSON numbers),
 *   `{"kind": "relu", "inputSize": n, "outputSize": n}` or, from version 2 on,
 *   `{"kind": "dropout", "inputSize": n, "outputSize": n, "rate": p}` (inverted dropout, the
 *   identity in evaluation; p ∈ [0, 1) as a JSON number). Sizes are positive integers and each
 *   layer's `inputSize` is the previous layer's `outputSize`.
 * - `normalization`: `null`, or `{"features": F}` when the model carries the training set's
 *   per-feature mean and standard deviation (then F is the first layer's `inputSize`).
 * - `classNames`: `null`, or one string per output of the last layer.
 * - `metadata`: `null`, or any JSON object (training options, seed, metrics …).
 * - `tensors`: the tensor table, one object per tensor with exactly the keys `kind`, `name`,
 *   `rows`, `columns`, `offset` and — except for normalization tensors — `layer`:
 *   - `{"kind": "parameter", "layer": i, "name": "weight" | "bias" | "scale" | "shift"}`:
 *     layer i (counted from 0 in `layers`) has a weight W (outputSize × inputSize) and a bias
 *     b (outputSize × 1) when it is linear, a scale γ and a shift β (units × 1) when it is
 *     batch norm with `affine: true`, and no parameters otherwise (ReLU and dropout never);
 *   - `{"kind": "movingAverage", "layer": i, "name": "mean" | "variance"}`: the moving
 *     averages of batch-norm layer i (units × 1), both or neither (neither before training);
 *   - `{"kind": "normalization", "name": "mean" | "standardDeviation"}`: F × 1 each, present
 *     exactly when `normalization` is not `null`.
 *
 *   `offset` is the tensor's byte offset in the data section, a multiple of 8; its
 *   rows × columns values follow, row-major. The tensors tile the data section exactly: no
 *   overlap, no gap, nothing after the last one. Values are finite, moving variances ≥ 0 and
 *   standard deviations > 0.
 *
 * A reader in NumPy:
 *
 * ```python
 * import hashlib, json, struct, numpy as np
 * raw = open("model.bin", "rb").read()
 * assert raw[:8] == b"FCNNMODL" and struct.unpack_from("<I", raw, 8)[0] in (1, 2)
 * H, D = struct.unpack_from("<IQ", raw, 12)
 * P = (24 + H + 7) // 8 * 8
 * assert len(raw) == P + D + 32 and hashlib.sha256(raw[:P + D]).digest() == raw[P + D:]
 * header = json.loads(raw[24:24 + H].decode("utf-8"))
 * tensors = {(t["kind"], t.get("layer"), t["name"]): np.frombuffer(raw, "<f8",
 *            t["rows"] * t["columns"], P + t["offset"]).reshape(t["rows"], t["columns"])
 *            for t in header["tensors"]}
 * ```
 *
 * Float64 values are copied bit for bit (−0, subnormals included), so a loaded network
 * computes exactly what the saved one did. Header numbers (ε, α, metadata) are JSON numbers,
 * which hold every finite float64 exactly except that −0 reads back as 0.
 *
 * ## Versions
 *
 * A reader rejects a version it does not know, and any field or key it does not expect:
 * whatever changes the meaning of a file — a new layer kind, a new key, another encoding —
 * gets a new version number, and this library keeps reading the versions before it.
 *
 * - Version 1: layers `linear`, `batchNorm` and `relu`.
 * - Version 2: version 1 and the `dropout` layer. A version-1 file with a dropout layer is
 *   rejected.
 *
 * The writer marks each file with the oldest version that holds it: 2 when the network has a
 * dropout layer, 1 otherwise. A network without dropout is written byte for byte as before
 * version 2 existed, so older readers keep reading it, and they reject a network with dropout
 * by its version (`format version 2 is not one this library reads`) rather than losing
 * the layers.
 *
 * ## Errors
 *
 * {@linkcode decodeModel} and {@linkcode loadModel} check everything above before they
 * allocate anything the file's sizes ask for, and throw a {@linkcode DataError} naming the
 * file and the problem, e.g. `model.bin: checksum mismatch (file is corrupt)` or
 * `model.bin: layer 3 (linear) weight has shape [50, 3000] but the architecture needs [50, 3072]`.
 * {@linkcode encodeModel} and {@linkcode saveModel} refuse (with a `RangeError`) a model the
 * reader would reject, so every file this library writes, it can read back.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { writeFileAtomically } from "./atomic_write.ts";
import {
  type Architecture,
  architectureOf,
  batchNorm,
  dropout,
  type LayerSpec,
  linear,
  relu,
} from "./architecture.ts";
import type { BatchNormStatistics } from "./batch_norm.ts";
import { DataError, formatShape, type Shape } from "./errors.ts";
import { type LayerParameters, type Network, parameterNames } from "./network.ts";
import type { Normalization } from "./normalization.ts";
import { castTensor, type Tensor, tensor } from "./tensor.ts";

/** A trained model as saved to and loaded from a file. */
export interface SavedModel {
  /** The network: architecture, parameters and batch-norm moving averages. */
  readonly network: Network;
  /** The training set's per-feature statistics, one value per network input. */
  readonly normalization?: Normalization;
  /** One name per network output (class score), e.g. CIFAR-10's `airplane` … `truck`. */
  readonly classNames?: readonly string[];
  /** Anything JSON can hold: training options, seed, metrics. */
  readonly metadata?: Record<string, unknown>;
}

/** The eight bytes every model file starts with, as ASCII. */
export const MODEL_FILE_MAGIC = "FCNNMODL";

/**
 * The newest format version: the one this library writes for a network with dropout layers
 * (a network without them gets version 1, see the module documentation). It reads every
 * version from 1 to this one.
 */
export const MODEL_FILE_VERSION = 2;

/** The first format version with dropout layers. */
const DROPOUT_VERSION = 2;

const PREAMBLE_BYTES = 24;
const CHECKSUM_BYTES = 32;
const MAGIC_BYTES = new TextEncoder().encode(MODEL_FILE_MAGIC);

/** Throws the caller's error class with `problem` as the message's tail. */
type Fail = (problem: string) => never;

/** What a tensor is for, as written in the tensor table. */
type TensorRole =
  | {
    readonly kind: "parameter";
    readonly layer: number;
    readonly name: (typeof parameterNames)[number];
  }
  | { readonly kind: "movingAverage"; readonly layer: number; readonly name: "mean" | "variance" }
  | { readonly kind: "normalization"; readonly name: "mean" | "standardDeviation" };

/** One row of the tensor table. */
interface TableEntry {
  readonly role: TensorRole;
  readonly rows: number;
  readonly columns: number;
  readonly offset: number;
}

/** The header's parts other than the tensor table, checked. */
interface HeaderContent {
  readonly architecture: Architecture;
  readonly normalizationFeatures: number | undefined;
  readonly classNames: readonly string[] | undefined;
  readonly metadata: Record<string, unknown> | undefined;
}

const movingAverageNames = ["mean", "variance"] as const;
const normalizationNames = ["mean", "standardDeviation"] as const;
const headerKeys = ["layers", "normalization", "classNames", "metadata", "tensors"] as const;

/**
 * The bytes of a model file (layout in the module documentation). Throws a `RangeError` for a
 * model the format cannot hold or the reader would reject: parameters that do not fit the
 * architecture, non-finite values, metadata that is not JSON.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { linear, sequential } from "./architecture.ts";
 * import { decodeModel, encodeModel } from "./model_file.ts";
 * import { initializeNetwork } from "./network.ts";
 * import { randomKey } from "./random.ts";
 * const network = initializeNetwork(sequential(linear(3, 2)), randomKey(1), "he");
 * const bytes = encodeModel({ network, classNames: ["cat", "dog"], metadata: { seed: 1 } });
 * assert.equal(new TextDecoder().decode(bytes.subarray(0, 8)), "FCNNMODL");
 * const loaded = decodeModel(bytes, "model.bin");
 * assert.deepEqual(loaded.network.parameters[0].weight?.data, network.parameters[0].weight?.data);
 * assert.deepEqual(loaded.classNames, ["cat", "dog"]);
 * ```
 */
export function encodeModel(model: SavedModel): Uint8Array {
  return encodeWithAction(model, "Cannot encode the model");
}

/**
 * Reads the bytes of a model file, checking all of it (see the module documentation);
 * `source` names the file in messages. Throws a {@linkcode DataError} for anything wrong.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { linear, sequential } from "./architecture.ts";
 * import { DataError } from "./errors.ts";
 * import { decodeModel, encodeModel } from "./model_file.ts";
 * import { initializeNetwork } from "./network.ts";
 * import { randomKey } from "./random.ts";
 * const bytes = encodeModel({ network: initializeNetwork(sequential(linear(3, 2)), randomKey(1), "he") });
 * bytes[bytes.length - 40] ^= 1; // one bit of the data section
 * assert.throws(() => decodeModel(bytes, "model.bin"), DataError);
 * assert.throws(() => decodeModel(bytes, "model.bin"), /^DataError: model\.bin: checksum mismatch/);
 * ```
 */
export function decodeModel(bytes: Uint8Array, source = "model"): SavedModel {
  const fail: Fail = (problem) => {
    throw new DataError(source, problem);
  };
  const { version, header, data } = readFraming(bytes, fail);
  const content = readHeaderContent(header, version, fail);
  const entries = readTensorTable(header.tensors, content.architecture.layers.length, fail);
  checkTensorTable(content, entries, fail);
  checkTiling(entries, data.byteLength, content.architecture.layers, fail);
  const values = new Map<string, StoredValues>();
  for (const entry of entries) {
    const label = roleLabel(entry.role, content.architecture.layers);
    const array = new Float64Array(entry.rows * entry.columns);
    for (let i = 0; i < array.length; i++) array[i] = data.getFloat64(entry.offset + 8 * i, true);
    checkValues(array, entry.role, label, fail);
    values.set(roleKey(entry.role), { rows: entry.rows, columns: entry.columns, data: array });
  }
  return assembleModel(content, values);
}

/**
 * Writes a model file atomically: the bytes go to a new temporary file beside `path`, are
 * flushed to disk, and the temporary file is renamed over `path`. On any failure the
 * temporary file is removed and an `Error` naming `path` is thrown; a file already at `path`
 * is never damaged. Needs read and write permission for the directory (Deno's rename reads
 * the temporary file).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { join } from "node:path";
 * import { linear, sequential } from "./architecture.ts";
 * import { loadModel, saveModel } from "./model_file.ts";
 * import { initializeNetwork } from "./network.ts";
 * import { randomKey } from "./random.ts";
 * const network = initializeNetwork(sequential(linear(3, 2)), randomKey(1), "he");
 * const directory = await Deno.makeTempDir();
 * await saveModel(join(directory, "model.bin"), { network, metadata: { epochs: 1 } });
 * const loaded = await loadModel(join(directory, "model.bin"));
 * assert.deepEqual(loaded.metadata, { epochs: 1 });
 * await Deno.remove(directory, { recursive: true });
 * ```
 */
export function saveModel(path: string, model: SavedModel): Promise<void> {
  // The write itself is synchronous (see atomic_write.ts); errors reject the promise.
  return new Promise((resolve) => {
    const action = `Cannot save the model to ${path}`;
    writeFileAtomically(path, encodeWithAction(model, action), action);
    resolve();
  });
}

/**
 * Reads and checks a model file written by {@linkcode saveModel}; throws a
 * {@linkcode DataError} naming `path` when it is missing, unreadable or not a valid model.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DataError } from "./errors.ts";
 * import { loadModel } from "./model_file.ts";
 * await assert.rejects(loadModel("no/such/model.bin"), DataError);
 * ```
 */
export async function loadModel(path: string): Promise<SavedModel> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new DataError(path, `cannot read the model file: ${reason}`);
  }
  return decodeModel(bytes, path);
}

// ---------------------------------------------------------------------------------------------
// Encoding

function encodeWithAction(model: SavedModel, action: string): Uint8Array {
  const fail: Fail = (problem) => {
    throw new RangeError(`${action}: ${problem}`);
  };
  const content = modelContent(model, fail);
  const tensors = modelTensors(model, content, fail);
  let offset = 0;
  const entries: TableEntry[] = tensors.map(({ role, value }) => {
    const entry = { role, rows: value.rows, columns: value.columns, offset };
    offset += 8 * value.data.length;
    return entry;
  });
  checkTensorTable(content, entries, fail);
  for (const { role, value } of tensors) {
    checkValues(value.data, role, roleLabel(role, content.architecture.layers), fail);
  }
  const header = new TextEncoder().encode(JSON.stringify({
    layers: content.architecture.layers.map(layerFields),
    normalization: content.normalizationFeatures === undefined
      ? null
      : { features: content.normalizationFeatures },
    classNames: content.classNames ?? null,
    metadata: content.metadata ?? null,
    tensors: entries.map(({ role, rows, columns, offset }) => ({ ...role, rows, columns, offset })),
  }));
  const dataStart = roundUpToEight(PREAMBLE_BYTES + header.length);
  const dataLength = offset;
  const bytes = new Uint8Array(dataStart + dataLength + CHECKSUM_BYTES);
  const view = new DataView(bytes.buffer);
  bytes.set(MAGIC_BYTES, 0);
  view.setUint32(8, oldestVersionHolding(content.architecture), true);
  view.setUint32(12, header.length, true);
  view.setBigUint64(16, BigInt(dataLength), true);
  bytes.set(header, PREAMBLE_BYTES);
  tensors.forEach(({ value }, index) => {
    const start = dataStart + entries[index].offset;
    value.data.forEach((number, i) => view.setFloat64(start + 8 * i, number, true));
  });
  bytes.set(sha256(bytes.subarray(0, dataStart + dataLength)), dataStart + dataLength);
  return bytes;
}

/** The model's architecture, normalization size, class names and metadata, checked. */
function modelContent(model: SavedModel, fail: Fail): HeaderContent {
  if (!isRecord(model) || !isRecord(model.network)) fail("it has no network");
  const { network } = model;
  const given = network.architecture;
  if (!isRecord(given) || !Array.isArray(given.layers)) fail("the network has no layer list");
  const architecture = readArchitecture(given.layers, MODEL_FILE_VERSION, fail);
  if (
    given.inputSize !== architecture.inputSize || given.outputSize !== architecture.outputSize
  ) {
    fail(
      `the architecture says ${given.inputSize} inputs and ${given.outputSize} outputs but its layers map ${architecture.inputSize} to ${architecture.outputSize}`,
    );
  }
  let normalizationFeatures: number | undefined;
  if (model.normalization !== undefined) {
    if (!isRecord(model.normalization)) fail("the normalization is not an object");
    const { mean, standardDeviation } = model.normalization;
    if (!(mean instanceof Float64Array) || !(standardDeviation instanceof Float64Array)) {
      fail("the normalization's mean and standard deviation must be Float64Arrays");
    }
    if (mean.length !== standardDeviation.length) {
      fail(
        `the normalization has ${mean.length} means but ${standardDeviation.length} standard deviations`,
      );
    }
    normalizationFeatures = mean.length;
  }
  const classNames = model.classNames === undefined
    ? undefined
    : readClassNames(model.classNames, fail);
  const metadata = model.metadata === undefined ? undefined : model.metadata;
  if (metadata !== undefined) {
    if (!isRecord(metadata)) fail("the metadata must be a plain object");
    checkJson(metadata, "metadata", new Set(), fail);
  }
  const content = { architecture, normalizationFeatures, classNames, metadata };
  checkHeaderAgreement(content, fail);
  return content;
}

/** Every tensor of the model with its role, in the order the file stores them. */
function modelTensors(
  model: SavedModel,
  content: HeaderContent,
  fail: Fail,
): { role: TensorRole; value: Tensor }[] {
  const { network } = model;
  const { layers } = content.architecture;
  const count = layers.length;
  if (!Array.isArray(network.parameters) || network.parameters.length !== count) {
    fail(`the network has ${count} layers but ${lengthOf(network.parameters)} parameter records`);
  }
  if (!Array.isArray(network.movingAverages) || network.movingAverages.length !== count) {
    fail(
      `the network has ${count} layers but ${
        lengthOf(network.movingAverages)
      } moving-average entries`,
    );
  }
  const tensors: { role: TensorRole; value: Tensor }[] = [];
  const add = (role: TensorRole, value: unknown): void => {
    if (value === undefined) return;
    const label = roleLabel(role, layers);
    if (
      !isRecord(value) ||
      !(value.data instanceof Float64Array || value.data instanceof Float32Array) ||
      typeof value.rows !== "number" || typeof value.columns !== "number" ||
      value.data.length !== value.rows * value.columns
    ) {
      fail(
        `${label} is not a tensor (rows, columns and a Float64Array or Float32Array of rows × columns values)`,
      );
    }
    // Files hold float64: a float32 network is widened, exactly.
    tensors.push({ role, value: castTensor(value as unknown as Tensor, "float64") });
  };
  layers.forEach((_, layer) => {
    const parameters: LayerParameters | undefined = network.parameters[layer];
    if (!isRecord(parameters)) fail(`the parameters of layer ${layer} are not an object`);
    for (const name of parameterNames) add({ kind: "parameter", layer, name }, parameters[name]);
    const statistics: BatchNormStatistics | undefined = network.movingAverages[layer];
    if (statistics === undefined) return;
    if (!isRecord(statistics)) fail(`the moving averages of layer ${layer} are not an object`);
    for (const name of movingAverageNames) {
      add({ kind: "movingAverage", layer, name }, statistics[name]);
    }
  });
  const { normalization } = model;
  if (normalization !== undefined) {
    for (const name of normalizationNames) {
      const values = normalization[name];
      add({ kind: "normalization", name }, tensor(values.length, 1, values));
    }
  }
  return tensors;
}

/** The version a file of `architecture` is marked with: the oldest that has all its layers. */
function oldestVersionHolding(architecture: Architecture): number {
  return architecture.layers.some((layer) => layer.kind === "dropout") ? DROPOUT_VERSION : 1;
}

function layerFields(layer: LayerSpec): Record<string, unknown> {
  const { kind, inputSize, outputSize } = layer;
  if (layer.kind === "batchNorm") {
    const { affine, epsilon, momentum } = layer;
    return { kind, inputSize, outputSize, affine, epsilon, momentum };
  }
  if (layer.kind === "dropout") return { kind, inputSize, outputSize, rate: layer.rate };
  return { kind, inputSize, outputSize };
}

/** Checks that `value` is plain JSON that reads back equal (−0 aside), without cycles. */
function checkJson(value: unknown, where: string, ancestors: Set<object>, fail: Fail): void {
  if (value === null || typeof value === "boolean" || typeof value === "string") return;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) fail(`${where} is ${value}, which JSON cannot hold`);
    return;
  }
  const plain = Array.isArray(value) ||
    (isRecord(value) && [Object.prototype, null].includes(Object.getPrototypeOf(value)));
  if (!plain || typeof value !== "object") {
    fail(
      `${where} is ${
        describe(value)
      }; metadata may hold only null, booleans, finite numbers, strings, arrays and plain objects`,
    );
  }
  if (ancestors.has(value)) fail(`${where} refers back to itself`);
  ancestors.add(value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      if (!(i in value)) fail(`${where}[${i}] is an empty array slot`);
      checkJson(value[i], `${where}[${i}]`, ancestors, fail);
    }
  } else {
    for (const key of Object.keys(value)) {
      checkJson((value as Record<string, unknown>)[key], `${where}.${key}`, ancestors, fail);
    }
  }
  ancestors.delete(value);
}

function sha256(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash("sha256").update(bytes).digest());
}

// ---------------------------------------------------------------------------------------------
// Decoding

/**
 * Checks magic, version, lengths, checksum and padding; returns the version, the header JSON
 * and the data section.
 */
function readFraming(
  bytes: Uint8Array,
  fail: Fail,
): { version: number; header: Record<string, unknown>; data: DataView } {
  const length = bytes.byteLength;
  const magicLength = Math.min(length, MAGIC_BYTES.length);
  for (let i = 0; i < magicLength; i++) {
    if (bytes[i] !== MAGIC_BYTES[i]) {
      fail(`not a model file: it does not start with the bytes "${MODEL_FILE_MAGIC}"`);
    }
  }
  if (length < PREAMBLE_BYTES) {
    fail(`truncated: ${length} bytes, fewer than the ${PREAMBLE_BYTES}-byte preamble`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, length);
  const version = view.getUint32(8, true);
  if (!(version >= 1 && version <= MODEL_FILE_VERSION)) {
    fail(
      `format version ${version} is not one this library reads (it reads versions 1 to ${MODEL_FILE_VERSION})${
        version > MODEL_FILE_VERSION ? "; the file was written by a newer version" : ""
      }`,
    );
  }
  const headerLength = view.getUint32(12, true);
  const dataLength = view.getBigUint64(16, true);
  if (headerLength > length - PREAMBLE_BYTES) {
    fail(
      `truncated: header says ${headerLength} bytes but only ${length - PREAMBLE_BYTES} follow`,
    );
  }
  const dataStart = roundUpToEight(PREAMBLE_BYTES + headerLength);
  if (dataLength > BigInt(length)) {
    fail(
      `truncated: the data section should have ${dataLength} bytes but the whole file has only ${length}`,
    );
  }
  const dataBytes = Number(dataLength);
  if (dataBytes % 8 !== 0) fail(`the data section's length ${dataBytes} is not a multiple of 8`);
  const expected = dataStart + dataBytes + CHECKSUM_BYTES;
  if (length < expected) {
    fail(
      `truncated: the preamble describes ${expected} bytes (a ${headerLength}-byte header, a ${dataBytes}-byte data section and the ${CHECKSUM_BYTES}-byte checksum) but only ${length} are present`,
    );
  }
  if (length > expected) {
    fail(
      `${
        length - expected
      } unexpected bytes after the checksum: the preamble describes a ${expected}-byte file`,
    );
  }
  const stored = bytes.subarray(dataStart + dataBytes);
  const computed = sha256(bytes.subarray(0, dataStart + dataBytes));
  if (!computed.every((byte, i) => byte === stored[i])) {
    fail(
      `checksum mismatch (file is corrupt): the last ${CHECKSUM_BYTES} bytes say SHA-256 ${
        hex(stored)
      } but the content hashes to ${hex(computed)}`,
    );
  }
  for (let i = PREAMBLE_BYTES + headerLength; i < dataStart; i++) {
    if (bytes[i] !== 0) fail(`the padding after the header has a non-zero byte at offset ${i}`);
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true })
      .decode(bytes.subarray(PREAMBLE_BYTES, PREAMBLE_BYTES + headerLength));
  } catch {
    return fail("the header is not valid UTF-8");
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return fail(`the header is not valid JSON (${reason})`);
  }
  if (!isRecord(header)) return fail(`the header is ${describe(header)}, not a JSON object`);
  checkKeys(header, headerKeys, "the header", fail);
  const data = new DataView(bytes.buffer, bytes.byteOffset + dataStart, dataBytes);
  return { version, header, data };
}

function readHeaderContent(
  header: Record<string, unknown>,
  version: number,
  fail: Fail,
): HeaderContent {
  if (!Array.isArray(header.layers)) {
    fail(`the header's layers are ${describe(header.layers)}, not an array`);
  }
  const architecture = readArchitecture(header.layers, version, fail);
  let normalizationFeatures: number | undefined;
  if (header.normalization !== null) {
    const normalization = header.normalization;
    if (!isRecord(normalization)) {
      fail(`the header's normalization is ${describe(normalization)}, not null or an object`);
    }
    checkKeys(normalization, ["features"], "the header's normalization", fail);
    normalizationFeatures = readSize(normalization.features, "normalization features", fail);
  }
  const classNames = header.classNames === null
    ? undefined
    : readClassNames(header.classNames, fail);
  if (header.metadata !== null && !isRecord(header.metadata)) {
    fail(`the header's metadata is ${describe(header.metadata)}, not null or an object`);
  }
  const metadata = header.metadata === null ? undefined : header.metadata;
  const content = { architecture, normalizationFeatures, classNames, metadata };
  checkHeaderAgreement(content, fail);
  return content;
}

function readTensorTable(table: unknown, layerCount: number, fail: Fail): TableEntry[] {
  if (!Array.isArray(table)) fail(`the tensor table is ${describe(table)}, not an array`);
  return table.map((entry: unknown, index): TableEntry => {
    const where = `tensor table entry ${index}`;
    if (!isRecord(entry)) fail(`${where} is ${describe(entry)}, not an object`);
    const { kind, name } = entry;
    let role: TensorRole;
    if (kind === "normalization") {
      checkKeys(entry, ["kind", "name", "rows", "columns", "offset"], where, fail);
      if (name !== "mean" && name !== "standardDeviation") {
        fail(
          `${where} has name ${
            describe(name)
          }; normalization tensors are "mean" or "standardDeviation"`,
        );
      }
      role = { kind, name };
    } else if (kind === "parameter" || kind === "movingAverage") {
      checkKeys(entry, ["kind", "layer", "name", "rows", "columns", "offset"], where, fail);
      const layer = entry.layer;
      if (!Number.isSafeInteger(layer) || typeof layer !== "number" || layer < 0) {
        fail(`${where} has layer ${describe(layer)}; it must be a layer index from 0`);
      }
      if (layer >= layerCount) {
        fail(`${where} has layer ${layer} but the architecture has only ${layerCount} layers`);
      }
      if (kind === "parameter") {
        const parameterName = parameterNames.find((known) => known === name);
        if (parameterName === undefined) {
          return fail(
            `${where} has name ${describe(name)}; parameters are "${parameterNames.join('", "')}"`,
          );
        }
        role = { kind, layer, name: parameterName };
      } else {
        if (name !== "mean" && name !== "variance") {
          fail(`${where} has name ${describe(name)}; moving averages are "mean" or "variance"`);
        }
        role = { kind, layer, name };
      }
    } else {
      return fail(
        `${where} has kind ${
          describe(kind)
        }; it must be "parameter", "movingAverage" or "normalization"`,
      );
    }
    const rows = readSize(entry.rows, `${where} rows`, fail);
    const columns = readSize(entry.columns, `${where} columns`, fail);
    const offset = entry.offset;
    if (typeof offset !== "number" || !Number.isSafeInteger(offset) || offset < 0) {
      fail(`${where} has offset ${describe(offset)}; it must be a whole number of bytes from 0`);
    }
    if (offset % 8 !== 0) fail(`${where} has offset ${offset}, which is not a multiple of 8`);
    return { role, rows, columns, offset };
  });
}

/** The tensors are inside the data section, in place of each other nowhere, leaving no gap. */
function checkTiling(
  entries: readonly TableEntry[],
  dataLength: number,
  layers: readonly LayerSpec[],
  fail: Fail,
): void {
  const sorted = [...entries].sort((a, b) => a.offset - b.offset);
  let end = 0;
  let previous: TableEntry | undefined;
  for (const entry of sorted) {
    const label = roleLabel(entry.role, layers);
    const bytes = 8 * entry.rows * entry.columns;
    if (entry.offset + bytes > dataLength) {
      fail(
        `${label} takes bytes ${entry.offset}–${
          entry.offset + bytes
        } but the data section has only ${dataLength}`,
      );
    }
    if (previous !== undefined && entry.offset < end) {
      fail(
        `${label} (from byte ${entry.offset}) overlaps ${
          roleLabel(previous.role, layers)
        } (up to byte ${end})`,
      );
    }
    if (entry.offset > end) {
      fail(`the data section's bytes ${end}–${entry.offset} belong to no tensor`);
    }
    end = entry.offset + bytes;
    previous = entry;
  }
  if (end !== dataLength) fail(`the data section's bytes ${end}–${dataLength} belong to no tensor`);
}

/** The float64 values of one tensor as read from a file. */
interface StoredValues {
  readonly rows: number;
  readonly columns: number;
  readonly data: Float64Array;
}

function assembleModel(
  content: HeaderContent,
  values: ReadonlyMap<string, StoredValues>,
): SavedModel {
  const { architecture } = content;
  /** A stored tensor that the table check proved to be one column wide. */
  const column = (role: TensorRole): Tensor<number, 1> | undefined => {
    const value = values.get(roleKey(role));
    return value && tensor(value.rows, 1, value.data);
  };
  const parameters = architecture.layers.map((_, layer): LayerParameters => {
    const stored = values.get(roleKey({ kind: "parameter", layer, name: "weight" }));
    const weight = stored && tensor(stored.rows, stored.columns, stored.data);
    const bias = column({ kind: "parameter", layer, name: "bias" });
    const scale = column({ kind: "parameter", layer, name: "scale" });
    const shift = column({ kind: "parameter", layer, name: "shift" });
    return Object.freeze(
      weight && bias ? { weight, bias } : scale && shift ? { scale, shift } : {},
    );
  });
  const movingAverages = architecture.layers.map((_, layer) => {
    const mean = column({ kind: "movingAverage", layer, name: "mean" });
    const variance = column({ kind: "movingAverage", layer, name: "variance" });
    return mean && variance ? Object.freeze({ mean, variance }) : undefined;
  });
  const network: Network = Object.freeze({
    architecture,
    parameters: Object.freeze(parameters),
    movingAverages: Object.freeze(movingAverages),
  });
  const model: { -readonly [K in keyof SavedModel]: SavedModel[K] } = { network };
  const mean = values.get(roleKey({ kind: "normalization", name: "mean" }));
  const deviation = values.get(roleKey({ kind: "normalization", name: "standardDeviation" }));
  if (mean && deviation) {
    model.normalization = { mean: mean.data, standardDeviation: deviation.data };
  }
  if (content.classNames !== undefined) model.classNames = content.classNames;
  if (content.metadata !== undefined) model.metadata = content.metadata;
  return Object.freeze(model);
}

// ---------------------------------------------------------------------------------------------
// Checks shared by the writer and the reader

/** The layers of a file of format `version` (the writer passes the newest), checked. */
function readArchitecture(layers: readonly unknown[], version: number, fail: Fail): Architecture {
  if (layers.length === 0) fail("the architecture has no layers");
  const specs = layers.map((layer, index) => readLayer(layer, index, version, fail));
  try {
    return architectureOf(specs);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return fail(`the layers do not chain: ${reason}`);
  }
}

function readLayer(value: unknown, index: number, version: number, fail: Fail): LayerSpec {
  const where = `layer ${index}`;
  if (!isRecord(value)) fail(`${where} is ${describe(value)}, not an object`);
  const { kind } = value;
  if (kind === "linear") {
    checkKeys(value, ["kind", "inputSize", "outputSize"], where, fail);
    return linear(
      readSize(value.inputSize, `${where} (linear) inputSize`, fail),
      readSize(value.outputSize, `${where} (linear) outputSize`, fail),
    );
  }
  if (kind === "dropout" && version < DROPOUT_VERSION) {
    fail(
      `${where} has kind "dropout", which format version ${version} does not have (dropout layers need version ${DROPOUT_VERSION})`,
    );
  }
  if (kind === "relu" || kind === "batchNorm" || kind === "dropout") {
    const keys = {
      relu: ["kind", "inputSize", "outputSize"],
      batchNorm: ["kind", "inputSize", "outputSize", "affine", "epsilon", "momentum"],
      dropout: ["kind", "inputSize", "outputSize", "rate"],
    }[kind];
    checkKeys(value, keys, where, fail);
    const units = readSize(value.inputSize, `${where} (${kind}) inputSize`, fail);
    const outputSize = readSize(value.outputSize, `${where} (${kind}) outputSize`, fail);
    if (outputSize !== units) {
      fail(
        `${where} (${kind}) has inputSize ${units} but outputSize ${outputSize}; they must be equal`,
      );
    }
    if (kind === "relu") return relu(units);
    if (kind === "dropout") {
      const { rate } = value;
      if (typeof rate !== "number" || !(rate >= 0 && rate < 1)) {
        fail(`${where} (dropout) rate is ${describe(rate)}; it must be a number in [0, 1)`);
      }
      return dropout(units, rate);
    }
    const { affine, epsilon, momentum } = value;
    if (typeof affine !== "boolean") {
      fail(`${where} (batchNorm) affine is ${describe(affine)}; it must be true or false`);
    }
    if (typeof epsilon !== "number" || !Number.isFinite(epsilon) || !(epsilon >= 0)) {
      fail(`${where} (batchNorm) epsilon is ${describe(epsilon)}; it must be a finite number ≥ 0`);
    }
    if (typeof momentum !== "number" || !(momentum >= 0 && momentum < 1)) {
      fail(`${where} (batchNorm) momentum is ${describe(momentum)}; it must be in [0, 1)`);
    }
    return batchNorm(units, { affine, epsilon, momentum });
  }
  return fail(
    `${where} has kind ${describe(kind)}; it must be "linear", "batchNorm", "relu" or "dropout"`,
  );
}

function readClassNames(value: unknown, fail: Fail): readonly string[] {
  if (!Array.isArray(value)) fail(`the class names are ${describe(value)}, not an array`);
  for (let i = 0; i < value.length; i++) {
    if (typeof value[i] !== "string") {
      fail(`class name ${i} is ${describe(value[i])}, not a string`);
    }
  }
  return Object.freeze([...value]);
}

/** Normalization and class names agree with the network's input and output sizes. */
function checkHeaderAgreement(content: HeaderContent, fail: Fail): void {
  const { architecture, normalizationFeatures, classNames } = content;
  if (normalizationFeatures !== undefined && normalizationFeatures !== architecture.inputSize) {
    fail(
      `the normalization covers ${normalizationFeatures} features but the network has ${architecture.inputSize} inputs`,
    );
  }
  if (classNames !== undefined && classNames.length !== architecture.outputSize) {
    fail(
      `there are ${classNames.length} class names but the network has ${architecture.outputSize} outputs`,
    );
  }
}

/** Every tensor the architecture needs is there once, with its shape, and nothing else. */
function checkTensorTable(
  content: HeaderContent,
  entries: readonly TableEntry[],
  fail: Fail,
): void {
  const { layers } = content.architecture;
  const seen = new Set<string>();
  for (const { role, rows, columns } of entries) {
    const label = roleLabel(role, layers);
    const key = roleKey(role);
    if (seen.has(key)) fail(`the tensor table lists ${label} twice`);
    seen.add(key);
    const needed = neededShape(role, content, fail);
    if (needed[0] !== rows || needed[1] !== columns) {
      fail(
        `${label} has shape ${formatShape([rows, columns])} but the ${
          role.kind === "normalization" ? "network's input" : "architecture"
        } needs ${formatShape(needed)}`,
      );
    }
  }
  const missing = (role: TensorRole): void => {
    if (!seen.has(roleKey(role))) fail(`${roleLabel(role, layers)} is missing`);
  };
  layers.forEach((layer, index) => {
    if (layer.kind === "linear") {
      missing({ kind: "parameter", layer: index, name: "weight" });
      missing({ kind: "parameter", layer: index, name: "bias" });
    } else if (layer.kind === "batchNorm") {
      if (layer.affine) {
        missing({ kind: "parameter", layer: index, name: "scale" });
        missing({ kind: "parameter", layer: index, name: "shift" });
      }
      const mean = seen.has(roleKey({ kind: "movingAverage", layer: index, name: "mean" }));
      const variance = seen.has(roleKey({ kind: "movingAverage", layer: index, name: "variance" }));
      if (mean !== variance) {
        fail(
          `layer ${index} (batchNorm) has a moving-average ${
            mean ? "mean but no variance" : "variance but no mean"
          }`,
        );
      }
    }
  });
  if (content.normalizationFeatures !== undefined) {
    missing({ kind: "normalization", name: "mean" });
    missing({ kind: "normalization", name: "standardDeviation" });
  }
}

function neededShape(role: TensorRole, content: HeaderContent, fail: Fail): Shape {
  const { layers } = content.architecture;
  if (role.kind === "normalization") {
    if (content.normalizationFeatures === undefined) {
      fail(`the header has no normalization but the tensor table lists ${roleLabel(role, layers)}`);
    }
    return [content.normalizationFeatures, 1];
  }
  const layer = layers[role.layer];
  const where = `layer ${role.layer} (${layer.kind})`;
  if (role.kind === "movingAverage") {
    if (layer.kind !== "batchNorm") fail(`${where} cannot have moving averages`);
    return [layer.inputSize, 1];
  }
  if (layer.kind === "linear") {
    if (role.name === "weight") return [layer.outputSize, layer.inputSize];
    if (role.name === "bias") return [layer.outputSize, 1];
    return fail(`${where} cannot have a ${role.name}; it has a weight and a bias`);
  }
  if (layer.kind === "batchNorm" && (role.name === "scale" || role.name === "shift")) {
    if (!layer.affine) fail(`${where} has affine: false, so it cannot have a ${role.name}`);
    return [layer.inputSize, 1];
  }
  return fail(
    `${where} cannot have a ${role.name}; ${
      layer.kind === "batchNorm" ? "it has at most a scale and a shift" : "it has no parameters"
    }`,
  );
}

function checkValues(values: ArrayLike<number>, role: TensorRole, label: string, fail: Fail): void {
  const variance = role.kind === "movingAverage" && role.name === "variance";
  const deviation = role.kind === "normalization" && role.name === "standardDeviation";
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (!Number.isFinite(value)) fail(`${label} has the non-finite value ${value} at index ${i}`);
    if (variance && value < 0) fail(`${label} has the negative value ${value} at index ${i}`);
    if (deviation && !(value > 0)) {
      fail(`${label} has the value ${value} at index ${i}; standard deviations must be > 0`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Small helpers

function roleKey(role: TensorRole): string {
  return role.kind === "normalization"
    ? `normalization ${role.name}`
    : `${role.kind} ${role.layer} ${role.name}`;
}

/** How messages name a tensor: `layer 3 (linear) weight`, `normalization standardDeviation`. */
function roleLabel(role: TensorRole, layers: readonly LayerSpec[]): string {
  if (role.kind === "normalization") return `normalization ${role.name}`;
  const where = `layer ${role.layer} (${layers[role.layer].kind})`;
  return role.kind === "parameter"
    ? `${where} ${role.name}`
    : `${where} moving-average ${role.name}`;
}

function readSize(value: unknown, what: string, fail: Fail): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) {
    return fail(`${what} is ${describe(value)}; it must be a positive integer`);
  }
  return value;
}

function checkKeys(
  value: Record<string, unknown>,
  keys: readonly string[],
  where: string,
  fail: Fail,
): void {
  for (const key of keys) {
    if (!Object.hasOwn(value, key)) fail(`${where} has no field "${key}"`);
  }
  for (const key of Object.keys(value)) {
    if (!keys.includes(key)) {
      fail(`${where} has the unknown field ${JSON.stringify(key.slice(0, 40))}`);
    }
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === undefined) return "missing";
  if (typeof value === "string") {
    return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  }
  if (typeof value === "number" || typeof value === "boolean" || value === null) {
    return String(value);
  }
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") {
    const name = Object.getPrototypeOf(value)?.constructor?.name;
    return name && name !== "Object" ? `a ${name}` : "an object";
  }
  return `a ${typeof value}`;
}

function lengthOf(value: unknown): string {
  return Array.isArray(value) ? String(value.length) : "no";
}

function roundUpToEight(value: number): number {
  return Math.ceil(value / 8) * 8;
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}
