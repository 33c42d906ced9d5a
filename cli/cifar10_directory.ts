/**
 * Where the CLIs find CIFAR-10: the folder `--data` names, or the archive downloaded (once, into
 * `--cache-dir`) from `--data-url` / `$CIFAR10_URL` / the official URL, with a progress bar.
 *
 * @module
 */
import { cifar10Source, downloadDataset } from "../lib/download.ts";
import { ProgressBar } from "../lib/progress_bar.ts";

/** The extracted CIFAR-10 folder: `--data`, or the download (cached) of the archive. */
export async function cifar10Directory(
  flags: { data?: string; "data-url"?: string; "data-checksum"?: string; "cache-dir": string },
): Promise<string> {
  if (flags.data !== undefined) return flags.data;
  const source = cifar10Source();
  let bar: ProgressBar | undefined;
  try {
    return await downloadDataset({
      url: flags["data-url"] ?? source.url,
      checksum: flags["data-checksum"] ?? source.checksum,
      cacheDirectory: flags["cache-dir"],
      name: "cifar-10",
      onProgress: (received, total) => {
        bar ??= new ProgressBar({ label: "Downloading cifar-10", total, unit: "bytes" });
        bar.update(received);
      },
    });
  } finally {
    bar?.stop();
  }
}
