import assert from "node:assert/strict";
import { join } from "node:path";
import { CIFAR10_CLASS_NAMES, readCifar10 } from "../lib/cifar10.ts";
import { DataError } from "../lib/errors.ts";

const RECORD_BYTES = 3073;
const BATCH_NAMES = [
  "data_batch_1.bin",
  "data_batch_2.bin",
  "data_batch_3.bin",
  "data_batch_4.bin",
  "data_batch_5.bin",
  "test_batch.bin",
];

/** Label of record `record` in file number `file`. */
function labelOf(file: number, record: number): number {
  return (file * 3 + record) % 10;
}

/** Pixel `pixel` of record `record` in file number `file`: varies with all three. */
function pixelOf(file: number, record: number, pixel: number): number {
  return (file * 41 + record * 7 + pixel) % 256;
}

function makeBatch(file: number, records: number): Uint8Array {
  const bytes = new Uint8Array(records * RECORD_BYTES);
  for (let record = 0; record < records; record++) {
    const offset = record * RECORD_BYTES;
    bytes[offset] = labelOf(file, record);
    for (let pixel = 0; pixel < 3072; pixel++) {
      bytes[offset + 1 + pixel] = pixelOf(file, record, pixel);
    }
  }
  return bytes;
}

/**
 * Writes a CIFAR-10 folder under a new temporary directory: file k (0-based) gets
 * `recordCounts[k]` records. Returns the temporary directory (the parent of `cifar-10-batches-bin`).
 */
async function writeCifar10(recordCounts = [2, 3, 4, 5, 6, 7]): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "cifar10_test_" });
  const batches = join(root, "cifar-10-batches-bin");
  await Deno.mkdir(batches);
  for (const [file, name] of BATCH_NAMES.entries()) {
    await Deno.writeFile(join(batches, name), makeBatch(file, recordCounts[file]));
  }
  return root;
}

async function withCifar10(
  body: (root: string, batches: string) => Promise<void>,
  recordCounts?: number[],
): Promise<void> {
  const root = await writeCifar10(recordCounts);
  try {
    await body(root, join(root, "cifar-10-batches-bin"));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

/** Asserts that `promise` rejects with a DataError for `path` whose message matches `pattern`. */
async function assertDataError(
  promise: Promise<unknown>,
  path: string,
  pattern: RegExp,
): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof DataError, `expected a DataError, got ${error}`);
    assert.equal(error.path, path);
    assert.ok(error.message.startsWith(`${path}: `), error.message);
    assert.match(error.message, pattern);
    return true;
  });
}

Deno.test("readCifar10() reads every record's label and pixels, files in order", async () => {
  const recordCounts = [2, 3, 4, 5, 6, 7];
  await withCifar10(async (root) => {
    const cifar10 = await readCifar10(root);
    const sets = [...cifar10.trainingFiles, cifar10.test];
    assert.equal(cifar10.trainingFiles.length, 5);
    for (const [file, set] of sets.entries()) {
      assert.equal(set.count, recordCounts[file]);
      assert.equal(set.features, 3072);
      assert.equal(set.labels.length, set.count);
      assert.equal(set.pixels.length, set.count * 3072);
      for (let record = 0; record < set.count; record++) {
        assert.equal(set.labels[record], labelOf(file, record));
        for (const pixel of [0, 1, 1023, 1024, 2048, 3071]) {
          assert.equal(set.pixels[record * 3072 + pixel], pixelOf(file, record, pixel));
        }
      }
    }
  }, recordCounts);
});

Deno.test("readCifar10() reads files larger than its read chunk without losing a record", async () => {
  // 600 records span three 256-record chunks.
  await withCifar10(async (root) => {
    const { test, trainingFiles } = await readCifar10(root);
    assert.equal(test.count, 600);
    assert.equal(trainingFiles[0].count, 513);
    const expected = makeBatch(5, 600);
    for (const record of [0, 255, 256, 257, 511, 512, 599]) {
      assert.equal(test.labels[record], labelOf(5, record));
      const offset = record * RECORD_BYTES + 1;
      assert.deepEqual(
        test.pixels.subarray(record * 3072, (record + 1) * 3072),
        expected.subarray(offset, offset + 3072),
      );
    }
  }, [513, 1, 1, 1, 1, 600]);
});

Deno.test("readCifar10() accepts the cifar-10-batches-bin folder itself", async () => {
  await withCifar10(async (_root, batches) => {
    const cifar10 = await readCifar10(batches);
    assert.equal(cifar10.test.count, 7);
    assert.equal(cifar10.trainingFiles[4].labels[1], labelOf(4, 1));
  });
});

Deno.test("readCifar10() uses the standard class names when batches.meta.txt is absent", async () => {
  await withCifar10(async (root) => {
    const cifar10 = await readCifar10(root);
    assert.deepEqual(cifar10.classNames, CIFAR10_CLASS_NAMES);
    assert.equal(cifar10.test.classNames, cifar10.classNames);
    assert.equal(cifar10.classNames[0], "airplane");
  });
});

Deno.test("readCifar10() reads class names from batches.meta.txt", async () => {
  await withCifar10(async (root, batches) => {
    const names = Array.from({ length: 10 }, (_, i) => `class ${i}`);
    await Deno.writeTextFile(join(batches, "batches.meta.txt"), `${names.join("\n")}\n\n`);
    const cifar10 = await readCifar10(root);
    assert.deepEqual(cifar10.classNames, names);
    assert.deepEqual(cifar10.trainingFiles[2].classNames, names);
  });
});

Deno.test("readCifar10() rejects a batches.meta.txt without 10 class names", async () => {
  await withCifar10(async (root, batches) => {
    const path = join(batches, "batches.meta.txt");
    await Deno.writeTextFile(path, "airplane\nautomobile\n");
    await assertDataError(readCifar10(root), path, /has 2 class names; expected 10/);
  });
});

Deno.test("readCifar10() rejects a file whose size is not a multiple of 3073", async () => {
  await withCifar10(async (root, batches) => {
    const path = join(batches, "data_batch_3.bin");
    await Deno.writeFile(path, new Uint8Array(3072));
    await assertDataError(
      readCifar10(root),
      path,
      /size 3072 is not a multiple of 3073 bytes \(record = 1 label byte \+ 3072 pixels\)/,
    );
  });
});

Deno.test("readCifar10() rejects a truncated file, saying how many bytes are left over", async () => {
  await withCifar10(async (root, batches) => {
    const path = join(batches, "test_batch.bin");
    await Deno.writeFile(path, makeBatch(5, 3).subarray(0, 3 * RECORD_BYTES - 100));
    await assertDataError(
      readCifar10(root),
      path,
      /size 9119 .*2973 bytes past the last whole record/,
    );
  });
});

Deno.test("readCifar10() rejects an empty file", async () => {
  await withCifar10(async (root, batches) => {
    const path = join(batches, "data_batch_1.bin");
    await Deno.writeFile(path, new Uint8Array(0));
    await assertDataError(
      readCifar10(root),
      path,
      /is empty; expected a non-zero multiple of 3073/,
    );
  });
});

Deno.test("readCifar10() rejects a label above 9, naming the record and its offset", async () => {
  await withCifar10(async (root, batches) => {
    const path = join(batches, "data_batch_2.bin");
    const bytes = makeBatch(1, 300);
    bytes[17 * RECORD_BYTES] = 12;
    await Deno.writeFile(path, bytes);
    await assertDataError(
      readCifar10(root),
      path,
      /record 17 \(counting from 0, byte offset 52241\) has label 12; labels must be 0–9/,
    );
  });
});

Deno.test("readCifar10() rejects a bad label in a later read chunk with its true record number", async () => {
  await withCifar10(async (root, batches) => {
    const path = join(batches, "data_batch_5.bin");
    const bytes = makeBatch(4, 600);
    bytes[300 * RECORD_BYTES] = 255;
    await Deno.writeFile(path, bytes);
    await assertDataError(readCifar10(root), path, /record 300 .* has label 255/);
  });
});

Deno.test("readCifar10() rejects a missing batch file, naming it", async () => {
  await withCifar10(async (root, batches) => {
    const path = join(batches, "data_batch_4.bin");
    await Deno.remove(path);
    await assertDataError(
      readCifar10(root),
      path,
      /missing; expected data_batch_1\.bin … data_batch_5\.bin and test_batch\.bin/,
    );
  });
});

Deno.test("readCifar10() rejects a missing folder", async () => {
  const root = await Deno.makeTempDir({ prefix: "cifar10_test_" });
  try {
    const absent = join(root, "absent");
    await assertDataError(readCifar10(absent), absent, /missing; expected a folder holding/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
