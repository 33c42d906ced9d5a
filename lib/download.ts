/**
 * Downloads a `.tar.gz` data set once into a cache folder, torchvision style: fetch (http,
 * https or file URL, streamed), verify the checksum while streaming, extract, then mark complete.
 *
 * Nothing that looks complete is ever left by a failure: the archive is streamed into a
 * temporary file and extracted into a temporary folder inside the cache folder, the folder is
 * renamed into place, and only then is the completion marker written (itself via a temporary
 * name). Temporary files are deleted on every failure, so a retry starts clean. One download per
 * cache folder and name at a time.
 *
 * Tar reading uses the npm package `tar-stream` (3.1.7, mafintosh/holepunch: streaming, handles
 * ustar, pax and GNU long names, used by tar-fs and many others, and works under Deno's Node
 * compatibility) rather than a hand-written reader. Entries are checked here: a path that would
 * land outside the target folder, and links or devices, are rejected.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { dirname, join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { createGunzip } from "node:zlib";
import { tarStream } from "./deps.ts";
import { DataError } from "./errors.ts";

/** Where a data set comes from: its URL and the checksum of the archive, `"sha256:<hex>"` or `"md5:<hex>"`. */
export interface DatasetSource {
  readonly url: string;
  readonly checksum: string;
}

/**
 * The official CIFAR-10 binary archive and its md5 (https://www.cs.toronto.edu/~kriz/cifar.html).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CIFAR10_SOURCE } from "./download.ts";
 * assert.equal(CIFAR10_SOURCE.checksum, "md5:c32a1d4ab5d03f1284b67883e8d87530");
 * ```
 */
export const CIFAR10_SOURCE: DatasetSource = Object.freeze({
  url: "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
  checksum: "md5:c32a1d4ab5d03f1284b67883e8d87530",
});

/** Reads environment variables; `Deno.env` is one. */
export interface Environment {
  get(name: string): string | undefined;
}

/**
 * The CIFAR-10 source: `CIFAR10_SOURCE`, with the environment variables `CIFAR10_URL` and
 * `CIFAR10_CHECKSUM` overriding the URL and the checksum when set and not empty.
 *
 * @param environment `Deno.env` unless given (reading it needs `--allow-env`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cifar10Source } from "./download.ts";
 * const variables = new Map([["CIFAR10_URL", "file:///data/cifar-10-binary.tar.gz"]]);
 * const source = cifar10Source({ get: (name) => variables.get(name) });
 * assert.equal(source.url, "file:///data/cifar-10-binary.tar.gz");
 * assert.equal(source.checksum, "md5:c32a1d4ab5d03f1284b67883e8d87530");
 * ```
 */
export function cifar10Source(environment: Environment = Deno.env): DatasetSource {
  const url = environment.get("CIFAR10_URL");
  const checksum = environment.get("CIFAR10_CHECKSUM");
  return {
    url: url !== undefined && url !== "" ? url : CIFAR10_SOURCE.url,
    checksum: checksum !== undefined && checksum !== "" ? checksum : CIFAR10_SOURCE.checksum,
  };
}

/** Options of `downloadDataset`. */
export interface DownloadOptions {
  /** `http:`, `https:` or `file:` URL of a `.tar.gz` archive. */
  readonly url: string;
  /** Checksum of the archive: `"sha256:<64 hex digits>"` or `"md5:<32 hex digits>"`. */
  readonly checksum: string;
  /** The cache folder; created when missing. */
  readonly cacheDirectory: string;
  /** The data set's folder name inside the cache folder, e.g. `cifar-10`. */
  readonly name: string;
  /** Called after each chunk received; `totalBytes` is `undefined` when the server does not say. */
  readonly onProgress?: (receivedBytes: number, totalBytes: number | undefined) => void;
}

/** The file inside `<cacheDirectory>/<name>/` that says the extraction finished; holds the checksum. */
const COMPLETION_MARKER = ".download_complete";

const DIGEST_LENGTHS: Readonly<Record<string, number>> = { sha256: 64, md5: 32 };

/**
 * Makes sure `<cacheDirectory>/<name>/` holds the extracted archive and returns that folder.
 * Returns at once when the folder's completion marker records the same checksum; otherwise
 * downloads, verifies, extracts and replaces whatever incomplete or different folder was there.
 *
 * @returns The folder holding the extracted data, `<cacheDirectory>/<name>`.
 * @throws {RangeError} when the URL, checksum or name is malformed.
 * @throws {DataError} naming the URL when the download fails or is cut short, the checksum does
 *   not match (with expected and actual digests), or the archive is not a valid `.tar.gz`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Buffer } from "node:buffer";
 * import { createHash } from "node:crypto";
 * import { gzipSync } from "node:zlib";
 * import { pathToFileURL } from "node:url";
 * import { downloadDataset } from "./download.ts";
 * import { tarStream } from "./deps.ts";
 *
 * const pack = tarStream.pack(); // a tiny archive holding greetings/hello.txt
 * pack.entry({ name: "greetings/hello.txt" }, "hello");
 * pack.finalize();
 * const chunks: Uint8Array[] = [];
 * for await (const chunk of pack) chunks.push(chunk);
 * const archive = gzipSync(Buffer.concat(chunks));
 * const workDirectory = await Deno.makeTempDir();
 * await Deno.writeFile(`${workDirectory}/greetings.tar.gz`, archive);
 *
 * const directory = await downloadDataset({
 *   url: pathToFileURL(`${workDirectory}/greetings.tar.gz`).href,
 *   checksum: `sha256:${createHash("sha256").update(archive).digest("hex")}`,
 *   cacheDirectory: `${workDirectory}/cache`,
 *   name: "greetings",
 * });
 * assert.equal(await Deno.readTextFile(`${directory}/greetings/hello.txt`), "hello");
 * await Deno.remove(workDirectory, { recursive: true });
 * ```
 *
 * @example With CIFAR-10 and a progress bar
 * ```ts ignore
 * import { cifar10Source, downloadDataset } from "./download.ts";
 * import { ProgressBar } from "./progress_bar.ts";
 * import { readCifar10 } from "./cifar10.ts";
 *
 * let bar: ProgressBar | undefined;
 * const directory = await downloadDataset({
 *   ...cifar10Source(),
 *   cacheDirectory: ".cache",
 *   name: "cifar-10",
 *   onProgress: (receivedBytes, totalBytes) => {
 *     bar ??= new ProgressBar({ label: "Downloading cifar-10", total: totalBytes, unit: "bytes" });
 *     bar.update(receivedBytes);
 *     if (receivedBytes === totalBytes) bar.stop(); // before extracting
 *   },
 * }).finally(() => bar?.stop());
 * const cifar10 = await readCifar10(directory);
 * ```
 */
export async function downloadDataset(options: DownloadOptions): Promise<string> {
  const { cacheDirectory, name, onProgress } = options;
  const url = parseUrl(options.url, name);
  const checksum = parseChecksum(options.checksum, name);
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) {
    throw new RangeError(
      `Cannot download data set "${name}": the name must be one folder name (letters, digits, ".", "_", "-"), e.g. "cifar-10"`,
    );
  }
  const target = join(cacheDirectory, name);
  if (await readMarker(target) === checksum.text) return target;

  await Deno.mkdir(cacheDirectory, { recursive: true });
  const archivePath = await Deno.makeTempFile({
    dir: cacheDirectory,
    prefix: `.${name}.`,
    suffix: ".download",
  });
  let extractDirectory: string | undefined;
  try {
    const download = await downloadToFile(url, archivePath, checksum.algorithm, onProgress);
    if (download.digest !== checksum.digest) {
      throw new DataError(
        url.href,
        `checksum mismatch: expected ${checksum.text} but the ${download.bytes} bytes received have ${checksum.algorithm}:${download.digest}; the file was deleted — check the URL and the checksum, then retry`,
      );
    }
    extractDirectory = await Deno.makeTempDir({
      dir: cacheDirectory,
      prefix: `.${name}.`,
      suffix: ".extracting",
    });
    await extractTarGz(archivePath, extractDirectory, url.href);
    await Deno.remove(target, { recursive: true }).catch(ignoreNotFound);
    await Deno.rename(extractDirectory, target);
    extractDirectory = undefined;
    const markerTemporary = join(target, `${COMPLETION_MARKER}.partial`);
    await Deno.writeTextFile(markerTemporary, `${checksum.text}\n${url.href}\n`);
    await Deno.rename(markerTemporary, join(target, COMPLETION_MARKER));
    return target;
  } finally {
    await Deno.remove(archivePath).catch(ignoreNotFound);
    if (extractDirectory !== undefined) {
      await Deno.remove(extractDirectory, { recursive: true }).catch(ignoreNotFound);
    }
  }
}

function ignoreNotFound(error: unknown): void {
  if (!(error instanceof Deno.errors.NotFound)) throw error;
}

function parseUrl(text: string, name: string): URL {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (url === undefined || !["http:", "https:", "file:"].includes(url.protocol)) {
    throw new RangeError(
      `Cannot download data set "${name}": URL "${text}" is not an http:, https: or file: URL`,
    );
  }
  return url;
}

function parseChecksum(
  text: string,
  name: string,
): { algorithm: string; digest: string; text: string } {
  const match = /^(sha256|md5):([0-9a-fA-F]+)$/.exec(text.trim());
  if (match === null || match[2].length !== DIGEST_LENGTHS[match[1]]) {
    throw new RangeError(
      `Cannot download data set "${name}": checksum "${text}" must be "sha256:<64 hex digits>" or "md5:<32 hex digits>"`,
    );
  }
  const digest = match[2].toLowerCase();
  return { algorithm: match[1], digest, text: `${match[1]}:${digest}` };
}

/** The checksum recorded in the folder's completion marker, or `undefined` when there is none. */
async function readMarker(target: string): Promise<string | undefined> {
  try {
    return (await Deno.readTextFile(join(target, COMPLETION_MARKER))).split("\n")[0];
  } catch (error) {
    if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) {
      return undefined;
    }
    throw error;
  }
}

/** Opens the URL as a stream of bytes, with its length when known. */
async function openSource(
  url: URL,
): Promise<{ body: ReadableStream<Uint8Array>; totalBytes: number | undefined }> {
  if (url.protocol === "file:") {
    const path = fileURLToPath(url);
    try {
      const file = await Deno.open(path);
      return { body: file.readable, totalBytes: (await file.stat()).size };
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) {
        throw new DataError(url.href, `missing: there is no file at ${path}`);
      }
      throw error;
    }
  }
  let response: Response;
  try {
    response = await fetch(url, { headers: { "accept-encoding": "identity" } });
  } catch (error) {
    throw new DataError(
      url.href,
      `could not be fetched (${messageOf(error)}); check the network and retry`,
    );
  }
  if (!response.ok || response.body === null) {
    await response.body?.cancel();
    throw new DataError(
      url.href,
      `the server answered HTTP ${response.status} ${response.statusText}`,
    );
  }
  const length = response.headers.get("content-length");
  const totalBytes = length !== null && /^\d+$/.test(length) ? Number(length) : undefined;
  return { body: response.body, totalBytes };
}

/** Streams the URL into the file, hashing as it goes; fails when the stream stops short. */
async function downloadToFile(
  url: URL,
  path: string,
  algorithm: string,
  onProgress: DownloadOptions["onProgress"],
): Promise<{ digest: string; bytes: number }> {
  const { body, totalBytes } = await openSource(url);
  const hash = createHash(algorithm);
  const output = await Deno.open(path, { write: true, truncate: true });
  let receivedBytes = 0;
  const expected = totalBytes === undefined ? "" : ` of ${totalBytes}`;
  try {
    for await (const chunk of body) {
      hash.update(chunk);
      for (let written = 0; written < chunk.length;) {
        written += await output.write(chunk.subarray(written));
      }
      receivedBytes += chunk.length;
      onProgress?.(receivedBytes, totalBytes);
    }
  } catch (error) {
    throw new DataError(
      url.href,
      `download interrupted after ${receivedBytes}${expected} bytes (${
        messageOf(error)
      }); nothing was kept — retry`,
    );
  } finally {
    output.close();
  }
  // fetch already fails on an HTTP body shorter than its Content-Length; this also covers a
  // file:// source that changed size while being read.
  if (totalBytes !== undefined && receivedBytes !== totalBytes) {
    throw new DataError(
      url.href,
      `download ended after ${receivedBytes}${expected} bytes; nothing was kept — retry`,
    );
  }
  return { digest: hash.digest("hex"), bytes: receivedBytes };
}

/** Extracts regular files and folders of a `.tar.gz` into `destination`; anything else is an error. */
async function extractTarGz(
  archivePath: string,
  targetDirectory: string,
  source: string,
): Promise<void> {
  const destination = resolve(targetDirectory);
  const input = createReadStream(archivePath);
  const gunzip = createGunzip();
  const extract = tarStream.extract();
  input.on("error", (error) => extract.destroy(error));
  gunzip.on("error", (error) => extract.destroy(error));
  input.pipe(gunzip).pipe(extract);
  let files = 0;
  try {
    for await (const entry of extract) {
      const { name, type } = entry.header;
      const path = resolve(destination, name);
      const inside = path.startsWith(destination + sep) ||
        (path === destination && type === "directory");
      if (!inside || name.startsWith("/")) {
        throw new DataError(
          source,
          `archive entry "${name}" would be written outside the target folder; refusing to extract`,
        );
      }
      if (path === join(destination, COMPLETION_MARKER)) {
        throw new DataError(
          source,
          `archive entry "${name}" has the name of the completion marker`,
        );
      }
      if (type === "directory") {
        await Deno.mkdir(path, { recursive: true });
        entry.resume();
      } else if (type === "file" || type === "contiguous-file") {
        await Deno.mkdir(dirname(path), { recursive: true });
        const output = await Deno.open(path, { write: true, create: true, truncate: true });
        try {
          for await (const chunk of entry) {
            for (let written = 0; written < chunk.length;) {
              written += await output.write(chunk.subarray(written));
            }
          }
        } finally {
          output.close();
        }
        files++;
      } else {
        throw new DataError(
          source,
          `archive entry "${name}" is a ${type}; only regular files and folders are extracted`,
        );
      }
    }
  } catch (error) {
    extract.destroy();
    input.destroy();
    if (error instanceof DataError) throw error;
    throw new DataError(source, `is not a valid .tar.gz archive (${messageOf(error)})`);
  }
  if (files === 0) throw new DataError(source, "the archive holds no files");
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
