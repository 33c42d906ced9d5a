/**
 * The plotting packages the study report uses, pinned to full versions. Kept apart from
 * `deps.ts` so that importing the library (`mod.ts`) never downloads or loads them: an
 * `export … from` line loads its package wherever the file is imported.
 *
 * @module
 */
export * as vega from "npm:vega@6.4.0";
export { compile as compileVegaLite } from "npm:vega-lite@6.5.0";
export type { TopLevelSpec as VegaLiteSpec } from "npm:vega-lite@6.5.0";
