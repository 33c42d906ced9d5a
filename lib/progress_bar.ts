/**
 * A one-line progress bar on stderr for downloads, epochs and updates:
 *
 *     Downloading cifar-10 [============------------------]  40.0% | 68.4 MB / 170.5 MB | 85.3 MB/s | ETA 1s
 *     Epoch 3 [======================--------] 73.3% | 293/400 | 41.2/s | ETA 3s | loss 1.234
 *
 * Drawing is done by the npm package `cli-progress` (a widely used, dependency-light terminal
 * progress bar that works under Deno's Node compatibility): on a TTY it redraws the line in
 * place at most 10 times a second; without one (CI logs, a pipe) it prints a plain line every
 * 2 seconds and once at the end, so logs stay readable. The line itself comes from
 * `formatProgress`, a pure function.
 *
 * @module
 */

import process from "node:process";
import { cliProgress } from "./deps.ts";

/** What the counts measure: `"bytes"` prints `68.4 MB` and `85.3 MB/s`, `"count"` prints `293/400` and `41.2/s`. */
export type ProgressUnit = "count" | "bytes";

/** The state `formatProgress` renders. */
export interface ProgressState {
  /** Printed first, e.g. `Downloading cifar-10` or `Epoch 3`. */
  readonly label: string;
  /** How much is done. */
  readonly current: number;
  /** How much there is in all; `undefined` when unknown (no bar, percentage or ETA). */
  readonly total: number | undefined;
  /** Seconds since the start, for the rate and the ETA. */
  readonly elapsedSeconds: number;
  readonly unit: ProgressUnit;
  /** Appended after a `|`, e.g. `loss 1.234`; omitted when empty. */
  readonly extraText?: string;
}

const BAR_WIDTH = 30;

/**
 * Renders one progress line: label, bar, percentage, amount done, rate, ETA, extra text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatProgress } from "./progress_bar.ts";
 * const line = formatProgress({ label: "Epoch 3", current: 25, total: 100, elapsedSeconds: 5, unit: "count", extraText: "loss 1.234" });
 * assert.equal(line, "Epoch 3 [========----------------------]  25.0% | 25/100 | 5.0/s | ETA 15s | loss 1.234");
 * const download = formatProgress({ label: "Downloading", current: 3_000_000, total: undefined, elapsedSeconds: 2, unit: "bytes" });
 * assert.equal(download, "Downloading 3.0 MB | 1.5 MB/s");
 * ```
 */
export function formatProgress(state: ProgressState): string {
  const { label, current, total, elapsedSeconds, unit, extraText } = state;
  const rate = elapsedSeconds > 0 ? current / elapsedSeconds : undefined;
  const rateText = rate === undefined
    ? ""
    : `${unit === "bytes" ? formatAmount(rate, unit) : rate.toFixed(1)}/s`;
  const parts: string[] = [];
  if (total === undefined) {
    parts.push(`${label} ${formatAmount(current, unit)}`);
  } else {
    const fraction = total > 0 ? Math.min(Math.max(current / total, 0), 1) : 1;
    const filled = Math.round(fraction * BAR_WIDTH);
    const bar = "=".repeat(filled) + "-".repeat(BAR_WIDTH - filled);
    const percentage = `${(fraction * 100).toFixed(1)}%`.padStart(6);
    const amount = unit === "bytes"
      ? `${formatAmount(current, unit)} / ${formatAmount(total, unit)}`
      : `${current}/${total}`;
    parts.push(`${label} [${bar}] ${percentage}`, amount);
  }
  if (rateText !== "") parts.push(rateText);
  if (total !== undefined && rate !== undefined && rate > 0 && current < total) {
    parts.push(`ETA ${formatDuration((total - current) / rate)}`);
  }
  if (extraText !== undefined && extraText !== "") parts.push(extraText);
  return parts.join(" | ");
}

/** `1.5 MB` for bytes (decimal units), `293` for counts. */
function formatAmount(value: number, unit: ProgressUnit): string {
  if (unit === "count") return String(value);
  const units = ["B", "kB", "MB", "GB", "TB"];
  let scaled = value;
  let index = 0;
  while (scaled >= 1000 && index < units.length - 1) {
    scaled /= 1000;
    index++;
  }
  return index === 0 ? `${Math.round(scaled)} B` : `${scaled.toFixed(1)} ${units[index]}`;
}

/** `15s`, `2m05s`, `1h02m`. */
function formatDuration(seconds: number): string {
  const whole = Math.ceil(seconds);
  if (whole < 60) return `${whole}s`;
  const minutes = Math.floor(whole / 60);
  if (minutes < 60) return `${minutes}m${String(whole % 60).padStart(2, "0")}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, "0")}m`;
}

/** Where a `ProgressBar` draws: stderr by default; `isTTY` decides between redrawing in place and printing lines. */
export interface ProgressOutput {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

/** Options of `ProgressBar`. */
export interface ProgressBarOptions {
  /** Printed first, e.g. `Downloading cifar-10`. */
  readonly label: string;
  /** How much there is in all; `undefined` when unknown. */
  readonly total: number | undefined;
  /** `"count"` unless given. */
  readonly unit?: ProgressUnit;
  /** `process.stderr` unless given. */
  readonly output?: ProgressOutput;
}

/**
 * A progress bar drawn on stderr. Call `update` as often as you like (drawing is throttled),
 * then `stop` once, which draws the final state and ends the line.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ProgressBar } from "./progress_bar.ts";
 * const lines: string[] = [];
 * const output = { isTTY: false, write: (text: string) => lines.push(text) };
 * const bar = new ProgressBar({ label: "Epoch 1", total: 4, output });
 * for (let update = 1; update <= 4; update++) bar.update(update, `loss ${(1 / update).toFixed(2)}`);
 * bar.stop();
 * assert.ok(lines.some((line) => line.includes("100.0% | 4/4") && line.includes("loss 0.25")));
 * // In a program: new ProgressBar({ label: "Downloading cifar-10", total: size, unit: "bytes" }) draws on stderr.
 * ```
 */
export class ProgressBar {
  readonly #bar: InstanceType<typeof cliProgress.SingleBar>;
  readonly #options: ProgressBarOptions;
  readonly #startTime = performance.now();
  #current = 0;
  #extraText = "";

  constructor(options: ProgressBarOptions) {
    this.#options = options;
    const output = options.output ?? process.stderr;
    const isTTY = output.isTTY === true;
    this.#bar = new cliProgress.SingleBar({
      stream: output as NodeJS.WritableStream,
      format: () => this.#line(),
      noTTYOutput: true,
      // Without a TTY, stop() would end the line twice; keep the final line on a TTY.
      clearOnComplete: !isTTY,
      hideCursor: isTTY,
      linewrap: true,
    });
    this.#bar.start(options.total ?? 0, 0);
  }

  /** Sets how much is done, and optionally the extra text (e.g. `loss 1.234`). */
  update(current: number, extraText?: string): void {
    this.#current = current;
    if (extraText !== undefined) this.#extraText = extraText;
    this.#bar.update(current);
  }

  /** Draws the final state and ends the line; later calls do nothing. */
  stop(): void {
    this.#bar.stop();
  }

  #line(): string {
    return formatProgress({
      label: this.#options.label,
      current: this.#current,
      total: this.#options.total,
      elapsedSeconds: (performance.now() - this.#startTime) / 1000,
      unit: this.#options.unit ?? "count",
      extraText: this.#extraText,
    });
  }
}
