import assert from "node:assert/strict";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { DataError } from "../lib/errors.ts";
import { FASHION_MNIST_CLASS_NAMES, readFashionMnist } from "../lib/fashion_mnist.ts";

/** An IDX image file (uncompressed): magic 0x00000803, count, rows, columns, then pixels. */
function idxImages(count: number, rows: number, columns: number, magic = 0x00000803): Uint8Array {
  const bytes = new Uint8Array(16 + count * rows * columns);
  const header = new DataView(bytes.buffer);
  header.setUint32(0, magic);
  header.setUint32(4, count);
  header.setUint32(8, rows);
  header.setUint32(12, columns);
  for (let i = 16; i < bytes.length; i++) bytes[i] = (i * 13) % 256;
  return bytes;
}

/** An IDX label file (uncompressed): magic 0x00000801, count, then the labels. */
function idxLabels(labels: readonly number[], magic = 0x00000801): Uint8Array {
  const bytes = new Uint8Array(8 + labels.length);
  const header = new DataView(bytes.buffer);
  header.setUint32(0, magic);
  header.setUint32(4, labels.length);
  bytes.set(labels, 8);
  return bytes;
}

const TRAINING_LABELS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 0];
const TEST_LABELS = [9, 8, 7];

/** Writes a valid Fashion-MNIST folder (12 training, 3 test images of 4×3), lets `change` spoil it, runs `body`. */
async function withFashionMnist(
  body: (directory: string) => Promise<void>,
  change: (files: Map<string, Uint8Array>) => void = () => {},
): Promise<void> {
  const files = new Map<string, Uint8Array>([
    ["train-images-idx3-ubyte.gz", gzipSync(idxImages(12, 4, 3))],
    ["train-labels-idx1-ubyte.gz", gzipSync(idxLabels(TRAINING_LABELS))],
    ["t10k-images-idx3-ubyte.gz", gzipSync(idxImages(3, 4, 3))],
    ["t10k-labels-idx1-ubyte.gz", gzipSync(idxLabels(TEST_LABELS))],
  ]);
  change(files);
  const directory = await Deno.makeTempDir({ prefix: "fashion_mnist_test_" });
  try {
    for (const [name, bytes] of files) await Deno.writeFile(join(directory, name), bytes);
    await body(directory);
  } finally {
    await Deno.remove(directory, { recursive: true });
  }
}

/** Spoils one file, then asserts a DataError naming that file with a message matching `pattern`. */
async function assertRejected(
  name: string,
  spoiled: Uint8Array | undefined,
  pattern: RegExp,
): Promise<void> {
  await withFashionMnist(async (directory) => {
    const path = join(directory, name);
    await assert.rejects(readFashionMnist(directory), (error: unknown) => {
      assert.ok(error instanceof DataError, `expected a DataError, got ${error}`);
      assert.equal(error.path, path);
      assert.match(error.message, pattern);
      return true;
    });
  }, (files) => {
    if (spoiled === undefined) files.delete(name);
    else files.set(name, spoiled);
  });
}

Deno.test("readFashionMnist() reads images and labels from gzipped IDX files", async () => {
  await withFashionMnist(async (directory) => {
    const { training, test } = await readFashionMnist(directory);
    assert.equal(training.count, 12);
    assert.equal(training.features, 12);
    assert.deepEqual([...training.labels], TRAINING_LABELS);
    assert.deepEqual(training.pixels, idxImages(12, 4, 3).subarray(16));
    assert.equal(training.pixels.buffer.byteLength, 12 * 12, "pixels must own their buffer");
    assert.equal(test.count, 3);
    assert.deepEqual([...test.labels], TEST_LABELS);
    assert.deepEqual(test.pixels, idxImages(3, 4, 3).subarray(16));
    assert.equal(test.classNames, FASHION_MNIST_CLASS_NAMES);
    assert.equal(test.classNames[test.labels[0]], "Ankle boot");
  });
});

Deno.test("readFashionMnist() rejects an image file with the wrong magic number", async () => {
  await assertRejected(
    "train-images-idx3-ubyte.gz",
    gzipSync(idxLabels([1, 2])),
    /magic number 0x00000801 is not 0x00000803 \(IDX images\)/,
  );
});

Deno.test("readFashionMnist() rejects a label file with the wrong magic number", async () => {
  await assertRejected(
    "t10k-labels-idx1-ubyte.gz",
    gzipSync(idxLabels(TEST_LABELS, 0x00000802)),
    /magic number 0x00000802 is not 0x00000801 \(IDX labels\)/,
  );
});

Deno.test("readFashionMnist() rejects images shorter than their header says", async () => {
  await assertRejected(
    "train-images-idx3-ubyte.gz",
    gzipSync(idxImages(12, 4, 3).subarray(0, 16 + 11 * 12 + 5)),
    /decompressed size 153 does not match its header: 12 images of 4×3 need 16 \+ 12 × 12 = 160 bytes/,
  );
});

Deno.test("readFashionMnist() rejects a header cut short", async () => {
  await assertRejected(
    "t10k-images-idx3-ubyte.gz",
    gzipSync(idxImages(3, 4, 3).subarray(0, 10)),
    /decompressed size 10 is shorter than the 16-byte IDX images header/,
  );
});

Deno.test("readFashionMnist() rejects labels longer than their header says", async () => {
  const bytes = new Uint8Array([...idxLabels(TRAINING_LABELS), 1, 2]);
  await assertRejected(
    "train-labels-idx1-ubyte.gz",
    gzipSync(bytes),
    /decompressed size 22 does not match its header: 12 labels need 8 \+ 12 = 20 bytes/,
  );
});

Deno.test("readFashionMnist() rejects image and label counts that disagree", async () => {
  await assertRejected(
    "t10k-labels-idx1-ubyte.gz",
    gzipSync(idxLabels([1, 2])),
    /holds 2 labels but .*t10k-images-idx3-ubyte\.gz holds 3 images/,
  );
});

Deno.test("readFashionMnist() rejects a label above 9", async () => {
  await assertRejected(
    "train-labels-idx1-ubyte.gz",
    gzipSync(idxLabels([0, 1, 2, 3, 4, 5, 6, 10, 8, 9, 9, 0])),
    /label 7 \(counting from 0\) is 10; labels must be 0–9/,
  );
});

Deno.test("readFashionMnist() rejects a truncated gzip file", async () => {
  const compressed = gzipSync(idxImages(12, 4, 3));
  await assertRejected(
    "train-images-idx3-ubyte.gz",
    compressed.subarray(0, compressed.length - 12),
    /is not a valid gzip file/,
  );
});

Deno.test("readFashionMnist() rejects a file that is not gzip at all", async () => {
  await assertRejected(
    "t10k-images-idx3-ubyte.gz",
    idxImages(3, 4, 3),
    /is not a valid gzip file/,
  );
});

Deno.test("readFashionMnist() rejects a missing file, naming it", async () => {
  await assertRejected(
    "t10k-labels-idx1-ubyte.gz",
    undefined,
    /missing; expected train-images-idx3-ubyte\.gz, .*apt-get install dataset-fashion-mnist/,
  );
});

const DEBIAN_DIRECTORY = "/usr/share/datasets/fashion-mnist";

function hasDebianFashionMnist(): boolean {
  try {
    return Deno.statSync(join(DEBIAN_DIRECTORY, "train-images-idx3-ubyte.gz")).isFile;
  } catch {
    return false;
  }
}

Deno.test({
  name: "readFashionMnist() reads the Debian package's files by default",
  ignore: !hasDebianFashionMnist(),
  async fn() {
    const { training, test } = await readFashionMnist();
    assert.equal(training.count, 60_000);
    assert.equal(test.count, 10_000);
    assert.equal(training.features, 784);
    const perClass = new Array(10).fill(0);
    for (const label of training.labels) perClass[label]++;
    assert.deepEqual(perClass, new Array(10).fill(6_000));
  },
});
