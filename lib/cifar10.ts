/**
 * Reads CIFAR-10 in its official binary layout (`cifar-10-binary.tar.gz`, extracted):
 *
 *     cifar-10-batches-bin/
 *       batches.meta.txt                      class names, one per line
 *       data_batch_1.bin … data_batch_5.bin   training records
 *       test_batch.bin                        test records
 *
 * Each record is 3073 bytes: 1 label byte (0–9), then 3072 pixel bytes, channel-planar
 * (1024 red, 1024 green, 1024 blue), each plane row-major 32×32.
 *
 * @module
 */

import { join } from "node:path";
import { DataError } from "./errors.ts";
import type { ImageSet } from "./image_set.ts";

/** Bytes of pixels in one CIFAR-10 image: 3 channels × 32 × 32. */
const FEATURES = 3072;
/** Bytes of one CIFAR-10 record: 1 label byte, then the pixels. */
const RECORD_BYTES = 1 + FEATURES;
const FOLDER_NAME = "cifar-10-batches-bin";
const META_FILE_NAME = "batches.meta.txt";
const TRAINING_FILE_NAMES = [1, 2, 3, 4, 5].map((number) => `data_batch_${number}.bin`);
const TEST_FILE_NAME = "test_batch.bin";
/** Records read at a time: 256 × 3073 bytes ≈ 0.8 MB, small enough to stay in cache. */
const RECORDS_PER_CHUNK = 256;
const EXPECTED_FILES = "expected data_batch_1.bin … data_batch_5.bin and test_batch.bin";

/**
 * The CIFAR-10 class names in label order; `readCifar10` uses them when `batches.meta.txt` is
 * absent.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CIFAR10_CLASS_NAMES } from "./cifar10.ts";
 * assert.equal(CIFAR10_CLASS_NAMES.length, 10);
 * assert.equal(CIFAR10_CLASS_NAMES[3], "cat");
 * ```
 */
export const CIFAR10_CLASS_NAMES: readonly string[] = Object.freeze([
  "airplane",
  "automobile",
  "bird",
  "cat",
  "deer",
  "dog",
  "frog",
  "horse",
  "ship",
  "truck",
]);

/** CIFAR-10 as read from disk: one `ImageSet` per batch file, and the class names. */
export interface Cifar10 {
  /** `data_batch_1.bin` … `data_batch_5.bin`, in that order. */
  readonly trainingFiles: readonly ImageSet[];
  /** `test_batch.bin`. */
  readonly test: ImageSet;
  /** From `batches.meta.txt`, or `CIFAR10_CLASS_NAMES` when that file is absent. */
  readonly classNames: readonly string[];
}

/**
 * Reads the six CIFAR-10 batch files and validates them: every file present, each size a
 * non-zero multiple of 3073 bytes, every label byte 0–9. Each file is read once, in chunks, and
 * its labels and pixels are copied into arrays allocated once per file.
 *
 * @param directory The folder holding `cifar-10-batches-bin/` (what `downloadDataset` returns),
 *   or that folder itself.
 * @throws {DataError} naming the file and the problem when a file is missing, has the wrong size
 *   or holds a label outside 0–9.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readCifar10 } from "./cifar10.ts";
 * const directory = await Deno.makeTempDir();
 * const record = new Uint8Array(3073); // label 0, then 3072 pixel bytes
 * for (const name of ["data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch"]) {
 *   record[0] = 7;
 *   record[1] = 200;
 *   await Deno.writeFile(`${directory}/${name}.bin`, record);
 * }
 * const cifar10 = await readCifar10(directory);
 * assert.equal(cifar10.trainingFiles.length, 5);
 * assert.equal(cifar10.test.count, 1);
 * assert.equal(cifar10.classNames[cifar10.test.labels[0]], "horse");
 * assert.equal(cifar10.test.pixels[0], 200);
 * assert.equal(cifar10.test.features, 3072);
 * await Deno.remove(directory, { recursive: true });
 * ```
 */
export async function readCifar10(directory: string): Promise<Cifar10> {
  const batchesDirectory = await findBatchesDirectory(directory);
  const classNames = await readClassNames(join(batchesDirectory, META_FILE_NAME));
  const fileNames = [...TRAINING_FILE_NAMES, TEST_FILE_NAME];
  // Settle every read before reporting, so no file is still open when the error reaches the
  // caller, and the first bad file in order is the one reported.
  const results = await Promise.allSettled(
    fileNames.map((name) => readBatchFile(join(batchesDirectory, name), classNames)),
  );
  const imageSets = results.map((result) => {
    if (result.status === "rejected") throw result.reason;
    return result.value;
  });
  return { trainingFiles: imageSets.slice(0, 5), test: imageSets[5], classNames };
}

/** `directory/cifar-10-batches-bin` when it is a folder, otherwise `directory` itself. */
async function findBatchesDirectory(directory: string): Promise<string> {
  const nested = join(directory, FOLDER_NAME);
  if (await isDirectory(nested)) return nested;
  if (await isDirectory(directory)) return directory;
  throw new DataError(
    directory,
    `missing; expected a folder holding ${FOLDER_NAME}/ or the batch files themselves (${EXPECTED_FILES})`,
  );
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** The non-empty lines of `batches.meta.txt`, which must be 10; the standard names when absent. */
async function readClassNames(path: string): Promise<readonly string[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return CIFAR10_CLASS_NAMES;
    throw error;
  }
  const names = text.split(/\r?\n/).map((line) => line.trim()).filter((line) => line !== "");
  if (names.length !== 10) {
    throw new DataError(
      path,
      `has ${names.length} class names; expected 10, one per line (airplane … truck)`,
    );
  }
  return Object.freeze(names);
}

/**
 * Reads one batch file in chunks of `RECORDS_PER_CHUNK` records through a small reused buffer,
 * so each byte is read once and only the output arrays are fresh memory.
 */
async function readBatchFile(path: string, classNames: readonly string[]): Promise<ImageSet> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new DataError(path, `missing; ${EXPECTED_FILES}`);
    }
    throw error;
  }
  try {
    const size = (await file.stat()).size;
    checkSize(path, size);
    const count = size / RECORD_BYTES;
    const labels = new Uint8Array(count);
    const pixels = new Uint8Array(count * FEATURES);
    const chunk = new Uint8Array(Math.min(count, RECORDS_PER_CHUNK) * RECORD_BYTES);
    for (let first = 0; first < count; first += RECORDS_PER_CHUNK) {
      const records = Math.min(RECORDS_PER_CHUNK, count - first);
      await readExactly(
        file,
        path,
        chunk.subarray(0, records * RECORD_BYTES),
        first * RECORD_BYTES,
      );
      for (let i = 0; i < records; i++) {
        const offset = i * RECORD_BYTES;
        const label = chunk[offset];
        if (label > 9) {
          const record = first + i;
          throw new DataError(
            path,
            `record ${record} (counting from 0, byte offset ${
              record * RECORD_BYTES
            }) has label ${label}; labels must be 0–9`,
          );
        }
        labels[first + i] = label;
        pixels.set(chunk.subarray(offset + 1, offset + RECORD_BYTES), (first + i) * FEATURES);
      }
    }
    return { pixels, labels, count, features: FEATURES, classNames };
  } finally {
    file.close();
  }
}

/** A batch file must be a non-zero whole number of records. */
function checkSize(path: string, size: number): void {
  const recordLayout = `record = 1 label byte + ${FEATURES} pixels`;
  if (size === 0) {
    throw new DataError(
      path,
      `is empty; expected a non-zero multiple of ${RECORD_BYTES} bytes (${recordLayout})`,
    );
  }
  if (size % RECORD_BYTES !== 0) {
    throw new DataError(
      path,
      `size ${size} is not a multiple of ${RECORD_BYTES} bytes (${recordLayout}); ${
        size % RECORD_BYTES
      } bytes past the last whole record, so the file is truncated or not a CIFAR-10 batch`,
    );
  }
}

/** Fills `buffer` from the file's current position; the file must not end first. */
async function readExactly(
  file: Deno.FsFile,
  path: string,
  buffer: Uint8Array,
  position: number,
): Promise<void> {
  for (let filled = 0; filled < buffer.length;) {
    const read = await file.read(buffer.subarray(filled));
    if (read === null) {
      throw new DataError(
        path,
        `ended at byte ${position + filled} while reading; the file changed size during reading`,
      );
    }
    filled += read;
  }
}
