/**
 * Times training epochs of the reference network (3072 → 50 → 50 → 10, batch norm, batch 100),
 * the 9-layer network and a wide one (3072 → 1024 → 512 → 10) on every matrix-product backend in
 * float64 and float32, and in the same run the NumPy implementation in bench/reference/, each in
 * its own process; prints each median epoch time, its ratio to NumPy float64 on the same network,
 * the load time and each process's peak memory. ml-matrix, 30 times slower, runs on the
 * reference network only.
 *
 *     deno task bench:epoch [--epochs 5] [--rounds 1] [--quick] [--backends openblas,wasm] [--json FILE]
 *
 * NumPy runs with the OpenBLAS kernels it chooses for the CPU, which are the ratios' base: where
 * the environment sets `OPENBLAS_CORETYPE` or `OPENBLAS_L2_SIZE` (this project's machines do,
 * on CPUs where older OpenBLAS builds, Debian's among them, compute wrong results with their own
 * choice), the NumPy processes run without them, and once more with them for a row of
 * reference, marked "env". The Deno processes keep the environment as it is. Each row names the
 * kernels its OpenBLAS ran.
 *
 * The machines this runs on are shared, and a neighbour's load can change an epoch time by 30 %
 * within a minute; `--rounds R` runs every row R times, in turn, and pools each row's epochs,
 * so that the ratios compare processes that ran under the same load. Peak memory is the
 * largest of a row's processes; load time, their median.
 *
 * @module
 */
import { cifar10Source, downloadDataset } from "../lib/download.ts";
import { writeTextFileAtomically } from "../lib/atomic_write.ts";
import { numberFlag, parseFlags, runMain } from "../cli/options.ts";

/** The figures of a row, as opposed to what it ran. */
type RowFigures =
  | "epochSeconds"
  | "epochSecondsAll"
  | "ratioToNumpyF64"
  | "loadSeconds"
  | "peakRssBytes";

interface Run {
  readonly system: string;
  readonly backend: string;
  /** The CPU whose kernels OpenBLAS ran ("Haswell", "SkylakeX", …), where it says. */
  readonly kernels?: string;
  /** NumPy run with the environment's OpenBLAS overrides rather than its own kernel choice. */
  readonly environmentKernels?: boolean;
  readonly dtype: string;
  readonly network: string;
  readonly epochSeconds: number;
  readonly epochSecondsAll: readonly number[];
  readonly ratioToNumpyF64: number;
  readonly loadSeconds: number;
  readonly peakRssBytes: number;
}

const networks = [
  { name: "3072-50-50-10 bn", hidden: "50,50", slowBackends: true },
  { name: "3072-50-30-20-20-10-10-10-10-10 bn", hidden: "50,30,20,20,10,10,10,10" },
  { name: "3072-1024-512-10 bn", hidden: "1024,512" },
];

/** What one measured process reports (bench/epoch_run.ts, or the NumPy script's --json). */
interface ProcessResult {
  readonly epochSeconds: number[];
  readonly loadSeconds: number;
  readonly peakRssBytes: number;
  /** `kernels` from bench/epoch_run.ts, `blasKernels` from the NumPy script. */
  readonly kernels?: string;
  readonly blasKernels?: string | null;
}

/** The environment variables that override OpenBLAS's choice of kernels for the CPU. */
const openBlasOverrides = ["OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"];

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Runs `command` to the end and returns its output; `env`, when given, is its whole environment. */
async function run(
  command: string,
  args: string[],
  env?: Record<string, string>,
): Promise<string> {
  const output = await new Deno.Command(command, {
    args,
    stdout: "piped",
    stderr: "piped",
    ...(env === undefined ? {} : { env, clearEnv: true }),
  }).output();
  const stdout = new TextDecoder().decode(output.stdout);
  if (output.code !== 0) {
    throw new Error(
      `${command} ${args.join(" ")} failed:\n${new TextDecoder().decode(output.stderr)}`,
    );
  }
  return stdout;
}

await runMain(async () => {
  const flags = parseFlags(Deno.args, {
    epochs: { type: "string", default: "5" },
    quick: { type: "boolean", default: false },
    json: { type: "string" },
    backends: { type: "string", default: "openblas,wasm,ml-matrix" },
    dtypes: { type: "string", default: "float64,float32" },
    rounds: { type: "string", default: "1" },
    tarball: {
      type: "string",
      default: new URL("../../shared/data/cifar-10-binary.tar.gz", import.meta.url).pathname,
    },
    "cache-dir": { type: "string", default: ".cache" },
  });
  const epochs = numberFlag("--epochs", flags.epochs, { minimum: 1, integer: true });
  const source = cifar10Source();
  const data = await downloadDataset({
    ...source,
    cacheDirectory: flags["cache-dir"],
    name: "cifar-10",
  });
  const numpyScript = new URL("./reference/train_numpy.py", import.meta.url).pathname;
  const epochScript = new URL("./epoch_run.ts", import.meta.url).pathname;
  const runs: Run[] = [];
  const print = (run: Run) => {
    console.log(
      [
        run.system.padEnd(6),
        `${run.backend}${run.kernels ? ` ${run.kernels}` : ""}${
          run.environmentKernels ? " (env)" : ""
        }`.padEnd(24),
        run.dtype.padEnd(7),
        run.network.padEnd(34),
        `${run.epochSeconds.toFixed(3)} s`.padStart(9),
        `${run.ratioToNumpyF64.toFixed(2)}×`.padStart(6),
        `load ${run.loadSeconds.toFixed(2)} s`.padStart(12),
        `${(run.peakRssBytes / 2 ** 30).toFixed(2)} GiB`.padStart(10),
      ].join("  "),
    );
  };
  const rounds = numberFlag("--rounds", flags.rounds, { minimum: 1, integer: true });
  console.log(
    rounds === 1
      ? `median of ${epochs} epochs per run; ratio = epoch time / NumPy float64 epoch time (its own kernels)`
      : `median of ${epochs} epochs × ${rounds} rounds per row (each round runs every row once, ` +
        "in turn); ratio = epoch time / NumPy float64 epoch time (its own kernels)",
  );
  const environment = Deno.env.toObject();
  const overridden = openBlasOverrides.filter((name) => environment[name] !== undefined);
  const ownChoice = Object.fromEntries(
    Object.entries(environment).filter(([name]) => !openBlasOverrides.includes(name)),
  );
  const numpyVariants = [
    { env: ownChoice, environmentKernels: false },
    ...(overridden.length > 0 ? [{ env: undefined, environmentKernels: true }] : []),
  ];
  if (overridden.length > 0) {
    console.log(
      `NumPy runs without ${overridden.map((name) => `${name}=${environment[name]}`).join(" ")} ` +
        "(its own choice of kernels, the ratios' base), and with them (env)",
    );
  }
  for (const network of flags.quick ? networks.slice(0, 1) : networks) {
    const measured = new Map<string, { row: Omit<Run, RowFigures>; results: ProcessResult[] }>();
    const measure = (row: Omit<Run, RowFigures>, result: ProcessResult) => {
      const key = JSON.stringify(row);
      const entry = measured.get(key) ?? { row, results: [] };
      entry.results.push(result);
      measured.set(key, entry);
    };
    const pairs = flags.backends.split(",").filter((backend) =>
      backend !== "ml-matrix" || network.slowBackends
    ).flatMap((backend) => flags.dtypes.split(",").map((dtype) => ({ backend, dtype })));
    /** Says on stderr which process runs now: a full run takes about 20 minutes. */
    const progress = (round: number, row: string) =>
      console.error(
        `  ${network.name}${rounds > 1 ? `, round ${round + 1}/${rounds}` : ""}: ${row} …`,
      );
    for (let round = 0; round < rounds; round++) {
      for (const variant of numpyVariants) {
        for (const dtype of ["float64", "float32"]) {
          progress(round, `NumPy ${dtype}${variant.environmentKernels ? " (env)" : ""}`);
          const jsonPath = await Deno.makeTempFile({ suffix: ".json" });
          await run("python3", [
            numpyScript,
            "--data",
            flags.tarball,
            "--hidden",
            network.hidden,
            "--epochs",
            String(epochs),
            "--dtype",
            dtype,
            "--json",
            jsonPath,
          ], variant.env);
          const result: ProcessResult = JSON.parse(await Deno.readTextFile(jsonPath));
          await Deno.remove(jsonPath);
          measure({
            system: "numpy",
            backend: "openblas",
            kernels: result.blasKernels ?? undefined,
            environmentKernels: variant.environmentKernels,
            dtype,
            network: network.name,
          }, result);
        }
      }
      for (const { backend, dtype } of pairs) {
        progress(round, `${backend} ${dtype}`);
        const line = await run(Deno.execPath(), [
          "run",
          "--allow-read",
          "--allow-env",
          "--allow-ffi",
          epochScript,
          "--backend",
          backend,
          "--dtype",
          dtype,
          "--hidden",
          network.hidden,
          "--epochs",
          String(epochs),
          "--data",
          data,
        ]);
        const result = JSON.parse(line.trim().split("\n").at(-1)!);
        measure({
          system: "deno",
          backend: result.backend,
          kernels: result.kernels,
          dtype: result.dtype,
          network: network.name,
        }, result);
      }
    }
    const pooled = (results: readonly ProcessResult[]) => ({
      epochSeconds: results.flatMap((result) => result.epochSeconds),
      loadSeconds: median(results.map((result) => result.loadSeconds)),
      peakRssBytes: Math.max(...results.map((result) => result.peakRssBytes)),
    });
    const base = [...measured.values()].find(({ row }) =>
      row.system === "numpy" && row.dtype === "float64" && !row.environmentKernels
    )!;
    const numpyF64 = median(pooled(base.results).epochSeconds);
    for (const { row, results } of measured.values()) {
      const result = pooled(results);
      const epochSeconds = median(result.epochSeconds);
      const entry: Run = {
        ...row,
        epochSeconds,
        epochSecondsAll: result.epochSeconds,
        ratioToNumpyF64: epochSeconds / numpyF64,
        loadSeconds: result.loadSeconds,
        peakRssBytes: result.peakRssBytes,
      };
      runs.push(entry);
      print(entry);
    }
  }
  if (flags.json !== undefined) {
    writeTextFileAtomically(flags.json, JSON.stringify({ epochs, runs }, null, 2));
  }
});
