/**
 * Writing a file so that a crash, a full disk or a read-only directory never leaves a
 * half-written file under the real name: write a temporary file in the same directory, fsync
 * it, then rename it over the target (atomic on POSIX file systems). Synchronous, so that a
 * training loop that never yields to the event loop can write its checkpoints.
 *
 * @module
 */
import { basename, dirname, join } from "node:path";

/**
 * Writes `bytes` to `path` atomically. On failure the temporary file is removed, the previous
 * file at `path` (if any) is left as it was, and the error starts with `action` (by default
 * `Cannot write <path>`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeFileAtomically } from "./atomic_write.ts";
 * const directory = await Deno.makeTempDir();
 * writeFileAtomically(`${directory}/a.bin`, new Uint8Array([1, 2, 3]));
 * assert.deepEqual([...await Deno.readFile(`${directory}/a.bin`)], [1, 2, 3]);
 * await Deno.remove(directory, { recursive: true });
 * ```
 */
export function writeFileAtomically(
  path: string,
  bytes: Uint8Array,
  action = `Cannot write ${path}`,
): void {
  const temporary = join(dirname(path), `.${basename(path)}.${crypto.randomUUID()}.partial`);
  let file: Deno.FsFile | undefined;
  let created = false;
  try {
    file = Deno.openSync(temporary, { write: true, createNew: true, mode: 0o644 });
    created = true;
    let written = 0;
    while (written < bytes.length) written += file.writeSync(bytes.subarray(written));
    file.syncSync();
    file.close();
    file = undefined;
    Deno.renameSync(temporary, path);
  } catch (error) {
    file?.close();
    if (created) {
      try {
        Deno.removeSync(temporary);
      } catch {
        // Nothing more to clean up.
      }
    }
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`${action}: ${reason}; any previous file there is unchanged`, {
      cause: error,
    });
  }
}

/**
 * Writes `text` (UTF-8) to `path` atomically; see {@linkcode writeFileAtomically}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeTextFileAtomically } from "./atomic_write.ts";
 * const directory = await Deno.makeTempDir();
 * writeTextFileAtomically(`${directory}/a.json`, "{}");
 * assert.equal(await Deno.readTextFile(`${directory}/a.json`), "{}");
 * await Deno.remove(directory, { recursive: true });
 * ```
 */
export function writeTextFileAtomically(path: string, text: string): void {
  return writeFileAtomically(path, new TextEncoder().encode(text));
}
