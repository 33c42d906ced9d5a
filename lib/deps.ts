/**
 * The npm packages this library uses, each pinned to one full version.
 *
 * `mod.ts` must work when imported from a URL, where this repository's `deno.json` is never
 * read, so nothing may use a bare specifier: every module imports its dependencies from here.
 *
 * @module
 */
export { Matrix, WrapperMatrix1D } from "npm:ml-matrix@6.15.1";
export { default as fc } from "npm:fast-check@4.3.0";
// @deno-types="npm:@types/tar-stream@3.1.4"
export { default as tarStream } from "npm:tar-stream@3.1.7";
// @deno-types="npm:@types/cli-progress@3.11.6"
export { default as cliProgress } from "npm:cli-progress@3.12.0";
