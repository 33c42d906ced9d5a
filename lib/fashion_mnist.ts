/**
 * Reads Fashion-MNIST from its gzipped IDX files, as Debian's `dataset-fashion-mnist` package
 * installs them in `/usr/share/datasets/fashion-mnist/`:
 *
 *     train-images-idx3-ubyte.gz   train-labels-idx1-ubyte.gz   60,000 × 28×28
 *     t10k-images-idx3-ubyte.gz    t10k-labels-idx1-ubyte.gz    10,000 × 28×28
 *
 * IDX layout: a big-endian header — magic 0x00000803 for images (then count, rows, columns as
 * uint32) or 0x00000801 for labels (then count) — followed by the raw bytes.
 *
 * @module
 */

import { gunzip } from "node:zlib";
import { promisify } from "node:util";
import { join } from "node:path";
import { DataError } from "./errors.ts";
import type { ImageSet } from "./image_set.ts";

/**
 * The Fashion-MNIST class names in label order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FASHION_MNIST_CLASS_NAMES } from "./fashion_mnist.ts";
 * assert.equal(FASHION_MNIST_CLASS_NAMES[9], "Ankle boot");
 * ```
 */
export const FASHION_MNIST_CLASS_NAMES: readonly string[] = Object.freeze([
  "T-shirt/top",
  "Trouser",
  "Pullover",
  "Dress",
  "Coat",
  "Sandal",
  "Shirt",
  "Sneaker",
  "Bag",
  "Ankle boot",
]);

/** Fashion-MNIST as read from disk. */
export interface FashionMnist {
  /** `train-images-idx3-ubyte.gz` with `train-labels-idx1-ubyte.gz`. */
  readonly training: ImageSet;
  /** `t10k-images-idx3-ubyte.gz` with `t10k-labels-idx1-ubyte.gz`. */
  readonly test: ImageSet;
}

const IMAGES_MAGIC = 0x00000803;
const LABELS_MAGIC = 0x00000801;
const IMAGES_HEADER_BYTES = 16;
const LABELS_HEADER_BYTES = 8;
const EXPECTED_FILES =
  "expected train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz (Debian: apt-get install dataset-fashion-mnist)";
const gunzipAsync = promisify(gunzip);

/**
 * Reads and validates the four gzipped IDX files: gzip integrity, magic numbers, dimension
 * sizes against the file length, image count equal to label count, labels 0–9.
 *
 * @param directory The folder holding the four `.gz` files.
 * @throws {DataError} naming the file and the problem.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { gzipSync } from "node:zlib";
 * import { readFashionMnist } from "./fashion_mnist.ts";
 * const directory = await Deno.makeTempDir();
 * // One 2×2 image per set: header (magic, count, rows, columns), then pixels; labels: header, then 1 byte.
 * const images = new Uint8Array([0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 2, 10, 20, 30, 40]);
 * const labels = new Uint8Array([0, 0, 8, 1, 0, 0, 0, 1, 9]);
 * for (const prefix of ["train", "t10k"]) {
 *   await Deno.writeFile(`${directory}/${prefix}-images-idx3-ubyte.gz`, gzipSync(images));
 *   await Deno.writeFile(`${directory}/${prefix}-labels-idx1-ubyte.gz`, gzipSync(labels));
 * }
 * const { training, test } = await readFashionMnist(directory);
 * assert.equal(training.count, 1);
 * assert.equal(training.features, 4);
 * assert.deepEqual([...training.pixels], [10, 20, 30, 40]);
 * assert.equal(test.classNames[test.labels[0]], "Ankle boot");
 * await Deno.remove(directory, { recursive: true });
 * ```
 */
export async function readFashionMnist(
  directory = "/usr/share/datasets/fashion-mnist",
): Promise<FashionMnist> {
  const [training, test] = await settleAll([
    readImageSet(
      join(directory, "train-images-idx3-ubyte.gz"),
      join(directory, "train-labels-idx1-ubyte.gz"),
    ),
    readImageSet(
      join(directory, "t10k-images-idx3-ubyte.gz"),
      join(directory, "t10k-labels-idx1-ubyte.gz"),
    ),
  ]);
  return { training, test };
}

async function readImageSet(imagesPath: string, labelsPath: string): Promise<ImageSet> {
  const [imageBytes, labelBytes] = await settleAll([
    readGzip(imagesPath),
    readGzip(labelsPath),
  ]);
  const images = parseImages(imagesPath, imageBytes);
  const labels = parseLabels(labelsPath, labelBytes);
  if (images.count !== labels.length) {
    throw new DataError(
      labelsPath,
      `holds ${labels.length} labels but ${imagesPath} holds ${images.count} images; the counts must agree`,
    );
  }
  return {
    pixels: images.pixels,
    labels,
    count: images.count,
    features: images.features,
    classNames: FASHION_MNIST_CLASS_NAMES,
  };
}

/**
 * Like `Promise.all`, but waits for every promise before rethrowing the first rejection in
 * order, so no read is still running when the error reaches the caller.
 */
async function settleAll<T>(promises: readonly Promise<T>[]): Promise<T[]> {
  const results = await Promise.allSettled(promises);
  return results.map((result) => {
    if (result.status === "rejected") throw result.reason;
    return result.value;
  });
}

async function readGzip(path: string): Promise<Uint8Array> {
  let compressed: Uint8Array;
  try {
    compressed = await Deno.readFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new DataError(path, `missing; ${EXPECTED_FILES}`);
    }
    throw error;
  }
  try {
    return await gunzipAsync(compressed);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new DataError(
      path,
      `is not a valid gzip file (${reason}); the download is truncated or corrupt`,
    );
  }
}

function parseImages(
  path: string,
  bytes: Uint8Array,
): { pixels: Uint8Array; count: number; features: number } {
  const header = readHeader(path, bytes, IMAGES_MAGIC, IMAGES_HEADER_BYTES, "images");
  const count = header.getUint32(4);
  const rows = header.getUint32(8);
  const columns = header.getUint32(12);
  const features = rows * columns;
  const expectedLength = IMAGES_HEADER_BYTES + count * features;
  if (bytes.length !== expectedLength) {
    throw new DataError(
      path,
      `decompressed size ${bytes.length} does not match its header: ${count} images of ${rows}×${columns} need ${IMAGES_HEADER_BYTES} + ${count} × ${features} = ${expectedLength} bytes`,
    );
  }
  return { pixels: new Uint8Array(bytes.subarray(IMAGES_HEADER_BYTES)), count, features };
}

function parseLabels(path: string, bytes: Uint8Array): Uint8Array {
  const header = readHeader(path, bytes, LABELS_MAGIC, LABELS_HEADER_BYTES, "labels");
  const count = header.getUint32(4);
  const expectedLength = LABELS_HEADER_BYTES + count;
  if (bytes.length !== expectedLength) {
    throw new DataError(
      path,
      `decompressed size ${bytes.length} does not match its header: ${count} labels need ${LABELS_HEADER_BYTES} + ${count} = ${expectedLength} bytes`,
    );
  }
  const labels = new Uint8Array(bytes.subarray(LABELS_HEADER_BYTES));
  for (let i = 0; i < count; i++) {
    if (labels[i] > 9) {
      throw new DataError(path, `label ${i} (counting from 0) is ${labels[i]}; labels must be 0–9`);
    }
  }
  return labels;
}

/** Checks the length and the magic number; returns a big-endian view of the header. */
function readHeader(
  path: string,
  bytes: Uint8Array,
  magic: number,
  headerBytes: number,
  kind: string,
): DataView {
  const hex = (value: number) => `0x${value.toString(16).padStart(8, "0")}`;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length >= 4 && view.getUint32(0) !== magic) {
    throw new DataError(
      path,
      `magic number ${hex(view.getUint32(0))} is not ${
        hex(magic)
      } (IDX ${kind}); wrong file or not an IDX file`,
    );
  }
  if (bytes.length < headerBytes) {
    throw new DataError(
      path,
      `decompressed size ${bytes.length} is shorter than the ${headerBytes}-byte IDX ${kind} header`,
    );
  }
  return view;
}
