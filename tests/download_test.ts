import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import { pathToFileURL } from "node:url";
import { gzipSync } from "node:zlib";
import { tarStream } from "../lib/deps.ts";
import { CIFAR10_SOURCE, cifar10Source, downloadDataset } from "../lib/download.ts";
import { readCifar10 } from "../lib/cifar10.ts";
import { DataError } from "../lib/errors.ts";

interface TarEntry {
  readonly name: string;
  readonly content?: string;
  readonly type?: "file" | "directory" | "symlink";
  readonly linkname?: string;
}

async function makeTarGz(entries: readonly TarEntry[]): Promise<Uint8Array<ArrayBuffer>> {
  const pack = tarStream.pack();
  for (const entry of entries) {
    if (entry.type === "directory" || entry.type === "symlink") {
      pack.entry({ name: entry.name, type: entry.type, linkname: entry.linkname });
    } else {
      pack.entry({ name: entry.name }, entry.content ?? "");
    }
  }
  pack.finalize();
  const chunks: Uint8Array[] = [];
  for await (const chunk of pack) chunks.push(chunk);
  return new Uint8Array(gzipSync(Buffer.concat(chunks)));
}

function digest(algorithm: "sha256" | "md5", bytes: Uint8Array): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest("hex")}`;
}

/** Hex digests of 0, 1, 2 …: text that gzip cannot shrink much, without randomness. */
function incompressibleText(lines: number): string {
  return Array.from({ length: lines }, (_, i) => createHash("md5").update(String(i)).digest("hex"))
    .join("\n");
}

const GREETINGS: readonly TarEntry[] = [
  { name: "greetings/", type: "directory" },
  { name: "greetings/hello.txt", content: "hello" },
  { name: "greetings/nested/world.txt", content: "world" },
];

/** Runs `body` with a loopback HTTP server answering every request with `handler`; closes it after. */
async function withServer(
  handler: (request: Request) => Response,
  body: (url: string) => Promise<void>,
): Promise<void> {
  const server = Deno.serve(
    {
      hostname: "127.0.0.1",
      port: 0,
      onListen() {},
      onError: () => new Response(null, { status: 500 }),
    },
    handler,
  );
  try {
    await body(`http://127.0.0.1:${server.addr.port}/greetings.tar.gz`);
  } finally {
    await server.shutdown();
  }
}

async function listNames(directory: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(directory)) names.push(entry.name);
  return names.sort();
}

async function withTempDirectory(body: (directory: string) => Promise<void>): Promise<void> {
  const directory = await Deno.makeTempDir({ prefix: "download_test_" });
  try {
    await body(directory);
  } finally {
    await Deno.remove(directory, { recursive: true });
  }
}

Deno.test("downloadDataset() downloads over HTTP, verifies sha256, extracts and reports progress", async () => {
  const archive = await makeTarGz(GREETINGS);
  let requests = 0;
  await withTempDirectory(async (cacheDirectory) => {
    await withServer(() => {
      requests++;
      return new Response(archive, { headers: { "content-length": String(archive.length) } });
    }, async (url) => {
      const progress: [number, number | undefined][] = [];
      const directory = await downloadDataset({
        url,
        checksum: digest("sha256", archive),
        cacheDirectory,
        name: "greetings",
        onProgress: (receivedBytes, totalBytes) => progress.push([receivedBytes, totalBytes]),
      });
      assert.equal(directory, `${cacheDirectory}/greetings`);
      assert.equal(await Deno.readTextFile(`${directory}/greetings/hello.txt`), "hello");
      assert.equal(await Deno.readTextFile(`${directory}/greetings/nested/world.txt`), "world");
      assert.deepEqual(progress.at(-1), [archive.length, archive.length]);
      assert.deepEqual(await listNames(cacheDirectory), ["greetings"]);

      const again = await downloadDataset({
        url,
        checksum: digest("sha256", archive),
        cacheDirectory,
        name: "greetings",
      });
      assert.equal(again, directory);
      assert.equal(requests, 1, "a completed download must not be fetched again");
    });
  });
});

Deno.test("downloadDataset() returns a completed folder without touching the network", async () => {
  const archive = await makeTarGz(GREETINGS);
  await withTempDirectory(async (cacheDirectory) => {
    const archivePath = `${cacheDirectory}/greetings.tar.gz`;
    await Deno.writeFile(archivePath, archive);
    const options = {
      url: pathToFileURL(archivePath).href,
      checksum: digest("md5", archive),
      cacheDirectory: `${cacheDirectory}/cache`,
      name: "greetings",
    };
    const directory = await downloadDataset(options);
    await Deno.remove(archivePath);
    const again = await downloadDataset({
      ...options,
      url: "http://127.0.0.1:9/unreachable.tar.gz",
    });
    assert.equal(again, directory);
    assert.equal(await Deno.readTextFile(`${again}/greetings/hello.txt`), "hello");
  });
});

Deno.test("downloadDataset() streams a file:// URL with md5 and reports its size", async () => {
  const archive = await makeTarGz(GREETINGS);
  await withTempDirectory(async (workDirectory) => {
    const archivePath = `${workDirectory}/greetings.tar.gz`;
    await Deno.writeFile(archivePath, archive);
    const totals = new Set<number | undefined>();
    let lastReceived = 0;
    const directory = await downloadDataset({
      url: pathToFileURL(archivePath).href,
      checksum: digest("md5", archive).toUpperCase().replace("MD5", "md5"),
      cacheDirectory: `${workDirectory}/cache`,
      name: "greetings",
      onProgress: (receivedBytes, totalBytes) => {
        assert.ok(receivedBytes > lastReceived, "progress must grow");
        lastReceived = receivedBytes;
        totals.add(totalBytes);
      },
    });
    assert.equal(await Deno.readTextFile(`${directory}/greetings/nested/world.txt`), "world");
    assert.deepEqual([...totals], [archive.length]);
    assert.equal(lastReceived, archive.length);
  });
});

Deno.test("downloadDataset() rejects a checksum mismatch, naming the URL and both digests, and keeps nothing", async () => {
  const archive = await makeTarGz(GREETINGS);
  await withTempDirectory(async (cacheDirectory) => {
    await withServer(() => new Response(archive), async (url) => {
      const wrong = `sha256:${"0".repeat(64)}`;
      await assert.rejects(
        downloadDataset({ url, checksum: wrong, cacheDirectory, name: "greetings" }),
        (error: unknown) => {
          assert.ok(error instanceof DataError);
          assert.equal(error.path, url);
          assert.match(error.message, /checksum mismatch/);
          assert.ok(error.message.includes(wrong), error.message);
          assert.ok(error.message.includes(digest("sha256", archive)), error.message);
          return true;
        },
      );
      assert.deepEqual(await listNames(cacheDirectory), []);
    });
  });
});

Deno.test("downloadDataset() marks nothing complete when the connection drops mid-body, and a retry succeeds", async () => {
  const archive = await makeTarGz([
    { name: "greetings/hello.txt", content: "hello ".repeat(50_000) },
    { name: "greetings/other.txt", content: incompressibleText(5_000) },
  ]);
  assert.ok(archive.length > 20_000, "the archive must be large enough to cut in half");
  let dropConnection = true;
  await withTempDirectory(async (cacheDirectory) => {
    await withServer(() => {
      const half = archive.subarray(0, Math.floor(archive.length / 2));
      const drop = dropConnection;
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          if (drop) {
            controller.enqueue(half);
            controller.error(new Error("connection dropped by the test server"));
          } else {
            controller.enqueue(archive);
            controller.close();
          }
        },
      });
      return new Response(body, { headers: { "content-length": String(archive.length) } });
    }, async (url) => {
      const options = {
        url,
        checksum: digest("sha256", archive),
        cacheDirectory,
        name: "greetings",
      };
      await assert.rejects(downloadDataset(options), (error: unknown) => {
        assert.ok(error instanceof DataError);
        assert.match(error.message, new RegExp(`of ${archive.length} bytes`));
        return true;
      });
      assert.deepEqual(await listNames(cacheDirectory), [], "nothing may be left behind");

      dropConnection = false;
      const directory = await downloadDataset(options);
      assert.equal(
        await Deno.readTextFile(`${directory}/greetings/hello.txt`),
        "hello ".repeat(50_000),
      );
      assert.deepEqual(await listNames(cacheDirectory), ["greetings"]);
    });
  });
});

Deno.test("downloadDataset() rejects a response shorter than its Content-Length", async () => {
  const archive = await makeTarGz(GREETINGS);
  await withTempDirectory(async (cacheDirectory) => {
    await withServer(
      () =>
        new Response(archive.subarray(0, 100), {
          headers: { "content-length": String(archive.length) },
        }),
      async (url) => {
        await assert.rejects(
          downloadDataset({
            url,
            checksum: digest("sha256", archive),
            cacheDirectory,
            name: "greetings",
          }),
          DataError,
        );
        assert.deepEqual(await listNames(cacheDirectory), []);
      },
    );
  });
});

Deno.test("downloadDataset() rejects an HTTP error status", async () => {
  await withTempDirectory(async (cacheDirectory) => {
    await withServer(() => new Response("no such file", { status: 404 }), async (url) => {
      await assert.rejects(
        downloadDataset({
          url,
          checksum: `md5:${"a".repeat(32)}`,
          cacheDirectory,
          name: "greetings",
        }),
        (error: unknown) => {
          assert.ok(error instanceof DataError);
          assert.match(error.message, /HTTP 404/);
          return true;
        },
      );
      assert.deepEqual(await listNames(cacheDirectory), []);
    });
  });
});

Deno.test("downloadDataset() rejects a missing file:// archive", async () => {
  await withTempDirectory(async (workDirectory) => {
    const url = pathToFileURL(`${workDirectory}/absent.tar.gz`).href;
    await assert.rejects(
      downloadDataset({
        url,
        checksum: `md5:${"a".repeat(32)}`,
        cacheDirectory: `${workDirectory}/cache`,
        name: "absent",
      }),
      (error: unknown) =>
        error instanceof DataError && error.path === url && /missing/.test(error.message),
    );
    assert.deepEqual(await listNames(`${workDirectory}/cache`), []);
  });
});

async function assertArchiveRejected(archive: Uint8Array, pattern: RegExp): Promise<void> {
  await withTempDirectory(async (workDirectory) => {
    const archivePath = `${workDirectory}/archive.tar.gz`;
    await Deno.writeFile(archivePath, archive);
    const cacheDirectory = `${workDirectory}/cache/inner`;
    await assert.rejects(
      downloadDataset({
        url: pathToFileURL(archivePath).href,
        checksum: digest("sha256", archive),
        cacheDirectory,
        name: "archive",
      }),
      (error: unknown) => {
        assert.ok(error instanceof DataError, String(error));
        assert.match(error.message, pattern);
        return true;
      },
    );
    assert.deepEqual(await listNames(cacheDirectory), [], "nothing may be left in the cache");
    assert.deepEqual(await listNames(`${workDirectory}/cache`), ["inner"], "nothing may escape");
  });
}

Deno.test("downloadDataset() rejects an archive entry whose path escapes the target folder", async () => {
  await assertArchiveRejected(
    await makeTarGz([{ name: "fine.txt", content: "fine" }, {
      name: "../../evil.txt",
      content: "x",
    }]),
    /"\.\.\/\.\.\/evil\.txt" would be written outside the target folder/,
  );
});

Deno.test("downloadDataset() rejects an archive entry with an absolute path", async () => {
  await assertArchiveRejected(
    await makeTarGz([{ name: "/tmp/evil.txt", content: "x" }]),
    /outside the target folder/,
  );
});

Deno.test("downloadDataset() rejects symbolic links in the archive", async () => {
  await assertArchiveRejected(
    await makeTarGz([{ name: "link", type: "symlink", linkname: "/etc/passwd" }]),
    /"link" is a symlink/,
  );
});

Deno.test("downloadDataset() rejects a corrupt gzip archive whose checksum matches", async () => {
  const archive = await makeTarGz(GREETINGS);
  const corrupt = archive.slice();
  corrupt.fill(0x55, 20, 60);
  await assertArchiveRejected(corrupt, /is not a valid \.tar\.gz archive/);
});

Deno.test("downloadDataset() rejects a truncated gzip archive whose checksum matches", async () => {
  const archive = await makeTarGz(GREETINGS);
  await assertArchiveRejected(
    archive.subarray(0, archive.length - 30),
    /is not a valid \.tar\.gz archive/,
  );
});

Deno.test("downloadDataset() rejects an archive with no files", async () => {
  await assertArchiveRejected(
    await makeTarGz([{ name: "empty/", type: "directory" }]),
    /holds no files/,
  );
});

Deno.test("downloadDataset() replaces a folder left without its completion marker", async () => {
  const archive = await makeTarGz(GREETINGS);
  await withTempDirectory(async (workDirectory) => {
    const cacheDirectory = `${workDirectory}/cache`;
    await Deno.mkdir(`${cacheDirectory}/greetings/greetings`, { recursive: true });
    await Deno.writeTextFile(`${cacheDirectory}/greetings/greetings/hello.txt`, "half-writt");
    await Deno.writeTextFile(`${cacheDirectory}/greetings/stale.txt`, "stale");
    const archivePath = `${workDirectory}/greetings.tar.gz`;
    await Deno.writeFile(archivePath, archive);
    const directory = await downloadDataset({
      url: pathToFileURL(archivePath).href,
      checksum: digest("sha256", archive),
      cacheDirectory,
      name: "greetings",
    });
    assert.equal(await Deno.readTextFile(`${directory}/greetings/hello.txt`), "hello");
    assert.ok(!(await listNames(directory)).includes("stale.txt"));
  });
});

Deno.test("downloadDataset() downloads again when the checksum differs from the completed one", async () => {
  const first = await makeTarGz([{ name: "version.txt", content: "1" }]);
  const second = await makeTarGz([{ name: "version.txt", content: "2" }]);
  await withTempDirectory(async (workDirectory) => {
    const cacheDirectory = `${workDirectory}/cache`;
    for (const [index, archive] of [first, second].entries()) {
      const archivePath = `${workDirectory}/version${index}.tar.gz`;
      await Deno.writeFile(archivePath, archive);
      const directory = await downloadDataset({
        url: pathToFileURL(archivePath).href,
        checksum: digest("sha256", archive),
        cacheDirectory,
        name: "versioned",
      });
      assert.equal(await Deno.readTextFile(`${directory}/version.txt`), String(index + 1));
    }
  });
});

Deno.test("downloadDataset() rejects a malformed checksum, URL or name with a RangeError", async () => {
  const valid = {
    url: "http://127.0.0.1:9/x.tar.gz",
    checksum: `md5:${"a".repeat(32)}`,
    cacheDirectory: "/nonexistent-cache",
    name: "x",
  };
  await assert.rejects(downloadDataset({ ...valid, checksum: "md5:abc" }), {
    name: "RangeError",
    message: /checksum "md5:abc" must be/,
  });
  await assert.rejects(
    downloadDataset({ ...valid, checksum: `sha1:${"a".repeat(40)}` }),
    RangeError,
  );
  await assert.rejects(downloadDataset({ ...valid, url: "ftp://example.com/x.tar.gz" }), {
    name: "RangeError",
    message: /"ftp:\/\/example\.com\/x\.tar\.gz" is not an http:, https: or file: URL/,
  });
  await assert.rejects(downloadDataset({ ...valid, name: "../x" }), RangeError);
});

Deno.test("cifar10Source() lets CIFAR10_URL and CIFAR10_CHECKSUM override the official source", () => {
  assert.deepEqual(cifar10Source({ get: () => undefined }), CIFAR10_SOURCE);
  assert.deepEqual(cifar10Source({ get: () => "" }), CIFAR10_SOURCE);
  const variables = new Map([
    ["CIFAR10_URL", "file:///data/cifar.tar.gz"],
    ["CIFAR10_CHECKSUM", `sha256:${"b".repeat(64)}`],
  ]);
  assert.deepEqual(cifar10Source({ get: (name) => variables.get(name) }), {
    url: "file:///data/cifar.tar.gz",
    checksum: `sha256:${"b".repeat(64)}`,
  });
  assert.equal(CIFAR10_SOURCE.url, "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz");
});

Deno.test("cifar10Source() reads Deno.env by default", () => {
  const previous = Deno.env.get("CIFAR10_URL");
  Deno.env.set("CIFAR10_URL", "http://127.0.0.1:8000/cifar.tar.gz");
  try {
    assert.equal(cifar10Source().url, "http://127.0.0.1:8000/cifar.tar.gz");
  } finally {
    if (previous === undefined) Deno.env.delete("CIFAR10_URL");
    else Deno.env.set("CIFAR10_URL", previous);
  }
});

const SHARED_CIFAR10 = new URL("../../shared/data/cifar-10-binary.tar.gz", import.meta.url);
const SHARED_CIFAR10_SHA256 = "ead095247ff2c4a69bf93eb6d36050cc89ececb859fc836ee28d7eb46fe2e018";

function fileExists(url: URL): boolean {
  try {
    return Deno.statSync(url).isFile;
  } catch {
    return false;
  }
}

Deno.test({
  name: "downloadDataset() and readCifar10() load the shared CIFAR-10 archive through file://",
  ignore: !fileExists(SHARED_CIFAR10),
  async fn() {
    await withTempDirectory(async (cacheDirectory) => {
      const directory = await downloadDataset({
        url: SHARED_CIFAR10.href,
        checksum: `sha256:${SHARED_CIFAR10_SHA256}`,
        cacheDirectory,
        name: "cifar-10",
      });
      const cifar10 = await readCifar10(directory);
      assert.deepEqual(cifar10.trainingFiles.map((file) => file.count), [
        10_000,
        10_000,
        10_000,
        10_000,
        10_000,
      ]);
      assert.equal(cifar10.test.count, 10_000);
      const perClass = new Array(10).fill(0);
      for (const file of cifar10.trainingFiles) {
        for (const label of file.labels) perClass[label]++;
      }
      assert.deepEqual(perClass, new Array(10).fill(5_000));
      assert.equal(cifar10.classNames[0], "airplane");
      assert.equal(cifar10.classNames[9], "truck");
    });
  },
});
