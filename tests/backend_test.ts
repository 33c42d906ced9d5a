import assert from "node:assert/strict";
import {
  backendPreferenceFromEnvironment,
  currentGemm,
  selectBackend,
  useBackend,
} from "../lib/backend.ts";
import { fc } from "../lib/deps.ts";
import { mlMatrixGemm } from "../lib/ml_matrix_kernel.ts";
import { openBlasGemm, openOpenBlas } from "../lib/openblas_kernel.ts";
import { wasmGemmParallel } from "../lib/wasm_parallel_kernel.ts";
import { assertAgreesOnRandomOperands } from "./gemm_fixture.ts";

const ffiGranted = Deno.permissions.querySync({ name: "ffi" }).state === "granted";
const opening = ffiGranted ? openOpenBlas() : undefined;
const openBlas = opening?.library;
/** Tests that need OpenBLAS are ignored only where it is not installed or FFI is not allowed. */
const withoutOpenBlas = openBlas === undefined;

Deno.test({
  name: "openBlasGemm() equals mlMatrixGemm() for every shape up to 40 and every transposition",
  ignore: withoutOpenBlas,
  fn() {
    const gemm = openBlasGemm(openBlas!);
    fc.assert(
      fc.property(
        fc.record({
          m: fc.integer({ min: 0, max: 40 }),
          n: fc.integer({ min: 0, max: 40 }),
          k: fc.integer({ min: 0, max: 40 }),
          transposeA: fc.boolean(),
          transposeB: fc.boolean(),
          seed: fc.integer({ min: 0, max: 100_000 }),
        }),
        ({ m, n, k, transposeA, transposeB, seed }) =>
          assertAgreesOnRandomOperands(gemm, transposeA, transposeB, m, n, k, seed),
      ),
      { numRuns: 300 },
    );
  },
});

Deno.test({
  name: "openBlasGemm() equals mlMatrixGemm() at the first layer's shapes (50×3072, batch 100)",
  ignore: withoutOpenBlas,
  fn() {
    const gemm = openBlasGemm(openBlas!);
    assertAgreesOnRandomOperands(gemm, false, false, 50, 100, 3072, 1); // W · X
    assertAgreesOnRandomOperands(gemm, false, true, 50, 3072, 100, 2); // G · Xᵀ
    assertAgreesOnRandomOperands(gemm, true, false, 3072, 100, 50, 3); // Wᵀ · G
  },
});

Deno.test({
  name: "openBlasGemm() zero-fills the result when k = 0 and rejects arrays too short",
  ignore: withoutOpenBlas,
  fn() {
    const gemm = openBlasGemm(openBlas!);
    const c = new Float64Array(6).fill(NaN);
    gemm(false, false, 2, 3, 0, new Float64Array(0), new Float64Array(0), c);
    assert.deepEqual([...c], [0, 0, 0, 0, 0, 0]);
    assert.throws(
      () => gemm(false, false, 2, 2, 2, new Float64Array(3), new Float64Array(4), c),
      (error: unknown) =>
        error instanceof RangeError && /need at least 4, 4 and 4 elements but have 3, 4/
          .test(error.message),
    );
  },
});

Deno.test({
  name: "selectBackend() names the paths tried when OpenBLAS is forced but absent",
  ignore: !ffiGranted,
  fn() {
    const paths = ["/nonexistent/one/libopenblas.so.0", "/nonexistent/two/libopenblas.so.0"];
    assert.throws(
      () => selectBackend("openblas", { libraryPaths: paths }),
      (error: unknown) =>
        error instanceof Error && error.message.startsWith("Cannot use the OpenBLAS backend") &&
        paths.every((path) => error.message.includes(path)),
    );
    const fallback = selectBackend("auto", { libraryPaths: paths });
    assert.equal(fallback.name, "wasm");
    assert.equal(fallback.gemm, wasmGemmParallel);
    assert.match(
      fallback.reason,
      /^matrix products: WebAssembly SIMD \(two threads\) \(OpenBLAS not found at \/nonexistent\/one/,
    );
  },
});

Deno.test({
  name: "selectBackend() picks OpenBLAS under auto when FFI is allowed and it is installed",
  ignore: withoutOpenBlas,
  fn() {
    const backend = selectBackend();
    assert.equal(backend.name, "openblas");
    assert.match(backend.reason, /^matrix products: OpenBLAS via FFI \(.*libopenblas/);
    assertAgreesOnRandomOperands(backend.gemm, true, true, 7, 5, 3, 4);
    // Debian's OpenBLAS says which CPU's kernels it chose, and the notice repeats it.
    assert.match(backend.kernels ?? "", /^[A-Za-z0-9]+$/);
    assert.ok(backend.reason.endsWith(`, ${backend.kernels} kernels)`), backend.reason);
    assert.equal(useBackend("openblas").kernels, backend.kernels);
  },
});

Deno.test("selectBackend() rejects an unknown preference with a RangeError", () => {
  assert.throws(
    // @ts-expect-error: checking the runtime guard for untyped callers.
    () => selectBackend("cuda"),
    (error: unknown) => error instanceof RangeError && /"cuda": use one of/.test(error.message),
  );
});

Deno.test("selectBackend() gives the WebAssembly or ml-matrix kernel whenever asked", () => {
  const wasm = selectBackend("wasm", { libraryPaths: ["/nonexistent/libopenblas.so.0"] });
  assert.equal(wasm.name, "wasm");
  assert.equal(wasm.gemm, wasmGemmParallel);
  assert.equal(wasm.reason, "matrix products: WebAssembly SIMD (two threads)");
  const single = new Float32Array(1);
  wasm.gemm32(
    false,
    false,
    1,
    1,
    2,
    new Float32Array([0.5, 2]),
    new Float32Array([3, 0.25]),
    single,
  );
  assert.equal(single[0], 2);
  assertAgreesOnRandomOperands(wasm.gemm, true, false, 6, 7, 9, 5);
  assert.equal(selectBackend("ml-matrix").gemm, mlMatrixGemm);
});

Deno.test("useBackend() sets the gemm that currentGemm() returns", () => {
  assert.equal(useBackend("ml-matrix").name, "ml-matrix");
  assert.equal(currentGemm(), mlMatrixGemm);
  assert.equal(useBackend("wasm").name, "wasm");
  assert.equal(currentGemm(), wasmGemmParallel);
  useBackend(backendPreferenceFromEnvironment());
});

/**
 * Runs `script` (with `BACKEND_URL` replaced by lib/backend.ts's URL) in a fresh Deno with
 * only `flags` as permissions, and returns its trimmed output. `deno eval` always has every
 * permission, so the script goes to `deno run -` on stdin instead.
 */
async function runWithPermissions(
  flags: string[],
  script: string,
  environment: Record<string, string> = {},
): Promise<string> {
  const backendUrl = new URL("../lib/backend.ts", import.meta.url).href;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", ...flags, "-"],
    env: environment,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(script.replaceAll("BACKEND_URL", backendUrl)));
  await writer.close();
  const { code, stdout, stderr } = await child.output();
  const decoder = new TextDecoder();
  assert.equal(code, 0, `deno run ${flags.join(" ")} failed: ${decoder.decode(stderr)}`);
  return decoder.decode(stdout).trim();
}

const printAutoChoice = `
import { selectBackend } from "BACKEND_URL";
const { name, reason, gemm } = selectBackend("auto");
let forced = "loaded";
try { selectBackend("openblas"); } catch (error) { forced = error.message; }
const c = new Float64Array(4);
gemm(false, false, 2, 2, 2, new Float64Array([1, 2, 3, 4]), new Float64Array([5, 6, 7, 8]), c);
console.log(JSON.stringify({ name, reason, forced, product: [...c] }));
`;

Deno.test("selectBackend() falls back to WebAssembly under auto without --allow-ffi", async () => {
  const { name, reason, forced, product } = JSON.parse(
    await runWithPermissions([], printAutoChoice),
  );
  assert.equal(name, "wasm");
  assert.equal(
    reason,
    "matrix products: WebAssembly SIMD (two threads) (run with --allow-ffi and install libopenblas0-pthread " +
      "for OpenBLAS)",
  );
  assert.deepEqual(product, [19, 22, 43, 50]);
  assert.match(
    forced,
    /^Cannot use the OpenBLAS backend: FFI is not permitted; run with --allow-ffi/,
  );
});

Deno.test({
  name: "selectBackend() picks OpenBLAS under auto in a process run with --allow-ffi",
  ignore: withoutOpenBlas,
  async fn() {
    const { name, forced } = JSON.parse(await runWithPermissions(["--allow-ffi"], printAutoChoice));
    assert.equal(name, "openblas");
    assert.equal(forced, "loaded");
  },
});

const printEnvironmentChoice = `
import { currentGemm, useBackend } from "BACKEND_URL";
currentGemm();
try { console.log(useBackend().name); } catch (error) { console.log(error.name + ": " + error.message); }
`;

Deno.test({
  name: "useBackend() and currentGemm() follow NN_BACKEND only where --allow-env grants it",
  ignore: withoutOpenBlas,
  async fn() {
    const run = (flags: string[], value: string) =>
      runWithPermissions(["--allow-ffi", ...flags], printEnvironmentChoice, { NN_BACKEND: value });
    assert.equal(await run(["--allow-env"], "ml-matrix"), "ml-matrix");
    assert.equal(await run(["--allow-env"], "wasm"), "wasm");
    assert.equal(await run(["--allow-env=NN_BACKEND"], "openblas"), "openblas");
    assert.equal(await run([], "ml-matrix"), "openblas");
    await assert.rejects(run(["--allow-env"], "gpu"), /NN_BACKEND="gpu": use one of/);
  },
});
