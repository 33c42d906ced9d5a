/**
 * The batch gather of `dataset.ts` ({@linkcode wasmGatherBatch}) by a WebAssembly SIMD kernel:
 * `kernels/gather.wat`, assembled into `wasm_gather_bytes.ts`, so it loads with no permission
 * and no file read. Its results are bit-identical to the TypeScript loop's in both dtypes: the
 * kernel computes pixel · scale − offset in float64, as JavaScript does; in float32 it rounds
 * scale and offset to float32 and computes in float32, four lanes at a time, as the loop does
 * with `Math.fround`.
 *
 * The first gather from an image set copies the set's pixels into the memory of a kernel
 * instance of its own (138 MB for 45,000 CIFAR-10 images: about 80 ms, once), which is kept
 * as long as that `pixels` array lives. Every batch then writes its samples' addresses and the
 * normalization's scale and offset there, transposes the batch's bytes to feature-major order,
 * and normalizes them in blocks of rows small enough to stay in cache, each copied out with one
 * `set` into the tensor's array. The cached copy assumes that `pixels` is never written into
 * after the first gather, as this library treats all data.
 *
 * On one x86-64 core (AMD EPYC, shared), for the first layer's batch of 3072 features × 100
 * samples drawn at random from 45,000, in a training step's buffer pool: about 115 µs a batch in
 * float64 and 80 µs in float32 (transposing ~30 µs, normalizing ~50 or ~30 µs, copying out ~25
 * or ~12 µs), against 1.3–1.4 ms for the TypeScript loop of augmented batches with no flip or
 * shift; see `bench/gather_bench.ts`.
 *
 * @module
 */
import type { ImageSet } from "./image_set.ts";
import type { Normalization } from "./normalization.ts";
import { type DType, resultArray, type Tensor, tensor } from "./tensor.ts";
import { simdGatherModule } from "./wasm_gather_bytes.ts";
import { growMemory } from "./wasm_memory.ts";

/**
 * Pass 1 of `kernels/gather.wat`: the `size` samples whose byte addresses are listed as int32 at
 * `sources`, transposed to a `features` × `size` byte matrix at `transposed`. Sizes are at least 1.
 */
type KernelTranspose = (
  sources: number,
  size: number,
  features: number,
  transposed: number,
) => void;

/**
 * Pass 2 of `kernels/gather.wat`: `rows` rows of `size` bytes at `transposed`, row f normalized
 * with the float64 values at `scale` + 8 f and `offset` + 8 f into `rows` × `size` values at
 * `output`. Sizes are at least 1.
 */
type KernelNormalize = (
  transposed: number,
  size: number,
  rows: number,
  scale: number,
  offset: number,
  output: number,
) => void;

/** An instance of `kernels/gather.wat`: its memory and its exports. */
interface GatherKernel {
  readonly memory: WebAssembly.Memory;
  readonly transpose: KernelTranspose;
  /** Writes float64 values. */
  readonly normalize64: KernelNormalize;
  /** Writes float32 values. */
  readonly normalize32: KernelNormalize;
}

/** A kernel instance holding an image set's pixels at address 0. */
interface LoadedPixels {
  readonly kernel: GatherKernel;
  /** Bytes of pixels at the start of the kernel's memory. */
  readonly pixelBytes: number;
}

/**
 * Bytes of output the kernel writes before they are copied out: small enough to stay in a
 * 1 MiB L2 cache (on the first layer's batch, 3072 × 100 float64 values in 13 blocks).
 */
const chunkBytes = 196_608;

/** The compiled kernel, compiled on the first call. */
const compiledKernel: () => WebAssembly.Module = (() => {
  let compiled: WebAssembly.Module | undefined;
  return () =>
    compiled ??= new WebAssembly.Module(
      Uint8Array.from(atob(simdGatherModule), (character) => character.charCodeAt(0)),
    );
})();

/** The kernel instance of each `pixels` array gathered from, dropped when the array is. */
const loadedPixels = new WeakMap<Uint8Array, LoadedPixels>();

/** `bytes` rounded up to a multiple of 64, a cache line. */
function alignToCacheLine(bytes: number): number {
  return Math.ceil(bytes / 64) * 64;
}

/** A fresh instance of `kernels/gather.wat`. */
function instantiateGatherKernel(): GatherKernel {
  const { memory, transpose, normalize64, normalize32 } =
    new WebAssembly.Instance(compiledKernel(), {}).exports;
  if (
    !(memory instanceof WebAssembly.Memory) || typeof transpose !== "function" ||
    typeof normalize64 !== "function" || typeof normalize32 !== "function"
  ) {
    throw new TypeError(
      "Cannot use the WebAssembly gather kernel: the embedded module does not export memory, " +
        "transpose, normalize64 and normalize32; rebuild lib/wasm_gather_bytes.ts with " +
        "`deno task build:wasm`",
    );
  }
  return {
    memory,
    transpose: (...values) => transpose(...values),
    normalize64: (...values) => normalize64(...values),
    normalize32: (...values) => normalize32(...values),
  };
}

/** Grows `kernel`'s memory to at least `neededBytes`; explains the RangeError when it cannot. */
function reserveMemory(kernel: GatherKernel, neededBytes: number, purpose: string): void {
  const failure = growMemory(kernel.memory, neededBytes);
  if (failure === undefined) return;
  throw new RangeError(
    `Cannot gather with the WebAssembly kernel: ${purpose} needs ${neededBytes} bytes of ` +
      `WebAssembly memory, ${failure}; gather from a smaller image set or in smaller batches`,
  );
}

/** The kernel instance holding `images.pixels`, copying them in on the first call. */
function loadPixels(images: ImageSet): LoadedPixels {
  const { pixels, count, features } = images;
  const loaded = loadedPixels.get(pixels);
  if (loaded !== undefined) return loaded;
  if (pixels.length < count * features) {
    throw new RangeError(
      `Cannot gather from an image set of ${count} samples of ${features} features: its ` +
        `pixels hold ${pixels.length} bytes, not ${count} × ${features} = ${count * features}`,
    );
  }
  const kernel = instantiateGatherKernel();
  reserveMemory(kernel, pixels.length, `an image set of ${pixels.length} bytes`);
  new Uint8Array(kernel.memory.buffer).set(pixels);
  const fresh = { kernel, pixelBytes: pixels.length };
  loadedPixels.set(pixels, fresh);
  return fresh;
}

/**
 * `gatherBatch` of `dataset.ts` by WebAssembly SIMD, with the same contract, errors and
 * results to the bit: samples `order[start]` … `order[end − 1]` of `images` as a normalized
 * `Tensor<features, end − start>` (samples as columns) of `dtype`, each value
 * (pixel / 255 − mean) / std computed as pixel · scale − offset with scale = 1 / (255 std) and
 * offset = mean / std (for float32, scale and offset rounded to float32 and the product and
 * difference computed in float32), with the samples' labels. The tensor's array comes from `resultArray`,
 * so a training step's buffer pool applies.
 *
 * A sample that is not an integer from 0 to `images.count − 1` is a RangeError naming it, as
 * are statistics whose length is not the number of features. Two inputs that gatherBatch turns
 * into NaN or stray bytes are RangeErrors too: a fractional sample, and an image set whose
 * pixels are fewer than count × features. So is a batch needing more than the 4 GiB of
 * WebAssembly memory, counting the image set's pixels, which the first gather from a set copies
 * into the kernel's memory and keeps while `images.pixels` lives.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { wasmGatherBatch } from "./wasm_gather.ts";
 * const images = { pixels: new Uint8Array([0, 255, 255, 0]), labels: new Uint8Array([1, 0]), count: 2, features: 2, classNames: [] };
 * const normalization = { mean: new Float64Array([0.5, 0.5]), standardDeviation: new Float64Array([0.5, 0.5]) };
 * const { input, labels } = wasmGatherBatch(images, normalization, [1, 0], 0, 2, "float32");
 * assert.deepEqual([...input.data], [1, -1, -1, 1]); // row = feature, column = sample
 * assert.deepEqual([...labels], [0, 1]);
 * assert.throws(() => wasmGatherBatch(images, normalization, [2], 0, 1), RangeError);
 * ```
 */
export function wasmGatherBatch(
  images: ImageSet,
  normalization: Normalization,
  order: ArrayLike<number>,
  start: number,
  end: number,
  dtype: DType = "float64",
): { input: Tensor; labels: Uint8Array } {
  const { features } = images;
  if (normalization.mean.length !== features) {
    throw new RangeError(
      `Cannot normalize ${features} features with statistics of ${normalization.mean.length}`,
    );
  }
  const size = end - start;
  const data = resultArray(dtype, features * size);
  const labels = new Uint8Array(size);
  const { kernel, pixelBytes } = loadPixels(images);
  // After the pixels: scale and offset (float64), sources (int32), the transposed bytes, and
  // room for one chunk of output rows.
  const elementBytes = dtype === "float64" ? 8 : 4;
  const chunks = Math.ceil(features * size * elementBytes / chunkBytes);
  const chunkRows = Math.ceil(features / Math.max(1, chunks));
  const scaleAt = alignToCacheLine(pixelBytes);
  const offsetAt = scaleAt + 8 * features;
  const sourcesAt = alignToCacheLine(offsetAt + 8 * features);
  const transposedAt = alignToCacheLine(sourcesAt + 4 * size);
  const outputAt = alignToCacheLine(transposedAt + features * size);
  reserveMemory(
    kernel,
    outputAt + elementBytes * chunkRows * size,
    `a batch of ${size} samples of ${features} features from an image set of ${pixelBytes} bytes`,
  );
  const { buffer } = kernel.memory;
  const sources = new Int32Array(buffer, sourcesAt, size);
  for (let j = 0; j < size; j++) {
    const sample = order[start + j];
    if (!(Number.isInteger(sample) && sample >= 0 && sample < images.count)) {
      throw new RangeError(`Cannot gather sample ${sample} from a set of ${images.count}`);
    }
    labels[j] = images.labels[sample];
    sources[j] = sample * features;
  }
  if (size === 0 || features === 0) return { input: tensor(features, size, data), labels };
  // (pixel / 255 − mean) / std written as pixel · scale − offset, exactly as gatherBatch does.
  const { mean, standardDeviation } = normalization;
  const scale = new Float64Array(buffer, scaleAt, features);
  const offset = new Float64Array(buffer, offsetAt, features);
  for (let f = 0; f < features; f++) {
    scale[f] = 1 / (255 * standardDeviation[f]);
    offset[f] = mean[f] / standardDeviation[f];
  }
  kernel.transpose(sourcesAt, size, features, transposedAt);
  // Row blocks small enough to stay in cache between the kernel's writing and the copy out.
  const normalize = dtype === "float64" ? kernel.normalize64 : kernel.normalize32;
  const output = dtype === "float64"
    ? new Float64Array(buffer, outputAt, chunkRows * size)
    : new Float32Array(buffer, outputAt, chunkRows * size);
  for (let first = 0; first < features; first += chunkRows) {
    const rows = Math.min(chunkRows, features - first);
    normalize(
      transposedAt + first * size,
      size,
      rows,
      scaleAt + 8 * first,
      offsetAt + 8 * first,
      outputAt,
    );
    data.set(rows === chunkRows ? output : output.subarray(0, rows * size), first * size);
  }
  return { input: tensor(features, size, data), labels };
}
