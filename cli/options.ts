/**
 * Command-line parsing shared by the CLIs: `node:util`'s `parseArgs` (Deno ships it; JSR's
 * `@std/cli` cannot be reached here) plus conversions that name the flag and the bad value.
 *
 * @module
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import {
  type BackendPreference,
  backendPreferenceFromEnvironment,
  backendPreferences,
} from "../lib/backend.ts";

/** A command-line mistake: printed without a stack trace, exit code 1. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/**
 * Parses `args` strictly: an unknown flag or a missing value is a {@linkcode UsageError} that
 * names the flag.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseFlags } from "./options.ts";
 * const values = parseFlags(["--seed", "3"], { seed: { type: "string" } });
 * assert.equal(values.seed, "3");
 * ```
 */
export function parseFlags<Options extends NonNullable<ParseArgsConfig["options"]>>(
  args: string[],
  options: Options,
) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new UsageError(`${(error as Error).message} (see --help)`);
  }
}

/**
 * A number flag, checked against a range; `integer` demands a whole number.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { numberFlag } from "./options.ts";
 * assert.equal(numberFlag("--lambda", "0.005", { minimum: 0 }), 0.005);
 * assert.throws(() => numberFlag("--lambda", "-1", { minimum: 0 }), /--lambda/);
 * ```
 */
export function numberFlag(
  flag: string,
  text: string,
  range: { minimum?: number; maximum?: number; integer?: boolean } = {},
): number {
  const value = Number(text);
  const { minimum = -Infinity, maximum = Infinity, integer = false } = range;
  const kind = integer ? "an integer" : "a number";
  if (text.trim() === "" || !Number.isFinite(value) || (integer && !Number.isInteger(value))) {
    throw new UsageError(`${flag} must be ${kind}, got "${text}"`);
  }
  if (value < minimum || value > maximum) {
    const bounds = maximum === Infinity ? `≥ ${minimum}` : `between ${minimum} and ${maximum}`;
    throw new UsageError(`${flag} must be ${kind} ${bounds}, got ${text}`);
  }
  return value;
}

/**
 * A comma-separated list of positive integers, e.g. `--hidden 50,30,20`; `""` is the empty list.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sizeListFlag } from "./options.ts";
 * assert.deepEqual(sizeListFlag("--hidden", "50,50"), [50, 50]);
 * assert.throws(() => sizeListFlag("--hidden", "50,x"), /--hidden/);
 * ```
 */
export function sizeListFlag(flag: string, text: string): number[] {
  if (text.trim() === "") return [];
  return text.split(",").map((part) =>
    numberFlag(flag, part.trim(), { minimum: 1, integer: true })
  );
}

/**
 * One of a fixed set of words.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { choiceFlag } from "./options.ts";
 * assert.equal(choiceFlag("--method", "forward", ["centered", "forward"]), "forward");
 * ```
 */
export function choiceFlag<Choice extends string>(
  flag: string,
  text: string,
  choices: readonly Choice[],
): Choice {
  if (!(choices as readonly string[]).includes(text)) {
    throw new UsageError(`${flag} must be one of ${choices.join(", ")}; got "${text}"`);
  }
  return text as Choice;
}

/**
 * The backend `--backend` names (one of {@linkcode backendPreferences}), or where it is not
 * given the one `NN_BACKEND` names, else `"auto"`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { backendFlag } from "./options.ts";
 * assert.equal(backendFlag("wasm"), "wasm");
 * assert.throws(() => backendFlag("gpu"), /--backend must be one of/);
 * ```
 */
export function backendFlag(text: string | undefined): BackendPreference {
  return text === undefined
    ? backendPreferenceFromEnvironment()
    : choiceFlag("--backend", text, backendPreferences);
}

/**
 * Runs a CLI's main function: a {@linkcode UsageError} or any library error prints its message
 * (no stack trace) to stderr and exits 1.
 *
 * @example
 * ```ts ignore
 * import { runMain } from "./options.ts";
 * await runMain(async () => { console.log("hello"); });
 * ```
 */
export async function runMain(main: () => Promise<number | void> | number | void): Promise<void> {
  try {
    const code = await main();
    if (typeof code === "number" && code !== 0) Deno.exit(code);
  } catch (error) {
    console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
    Deno.exit(1);
  }
}
