/**
 * Runs the whole CIFAR-10 study — BN vs no BN, the λ search, sensitivity to initialization,
 * learning rates, the 2-layer baseline, gradient checks and the overfitting check, and the
 * ablation of the README's recipe past 60 % — on two Workers, and writes one self-contained
 * HTML report.
 *
 *     deno task study --quick --out out/study-quick
 *
 * @module
 */
import { concatenateImageSets } from "../lib/dataset.ts";
import { readCifar10 } from "../lib/cifar10.ts";
import { cifar10Directory } from "./cifar10_directory.ts";
import { ProgressBar } from "../lib/progress_bar.ts";
import { buildReport } from "../lib/report.ts";
import { runStudy } from "../lib/study.ts";
import { comparisonRows, formatComparisonTable } from "../lib/study_comparison.ts";
import { type ExperimentName, experimentNames, fullScale, quickScale } from "../lib/study_plan.ts";
import { trialLogName } from "../lib/study_store.ts";
import { writeTextFileAtomically } from "../lib/atomic_write.ts";
import { backendFlag, choiceFlag, numberFlag, parseFlags, runMain, UsageError } from "./options.ts";

const help = `Usage: deno task study [options]
       deno run --allow-read --allow-write --allow-env --allow-net --allow-ffi cli/study.ts [options]

Runs the study's experiments on CIFAR-10 and writes <out>/report.html (one file, viewable
offline: plots, tables, our figures beside the reference reports') and <out>/results.json.
Each finished trial is appended to <out>/${trialLogName}; rerunning with the same --out skips
finished trials, so an interrupted study resumes where it stopped.

Experiments (--only takes a comma-separated list of these names):
  bn              3-layer [50, 50] and 9-layer networks, with and without batch norm
  lambda          coarse and fine random search of λ, then the best λ for 3 cycles
  init            fixed initial σ ∈ {1e-1, 1e-3, 1e-4}, with and without batch norm
  learning-rate   constant η 0.001 … 0.5, with and without batch norm
  two-layer       2-layer [50] baseline on one training file, λ = 0.01
  gradcheck       gradient checks of 2- and 3-layer BN networks, and overfitting 100 samples
  extensions      the README's recipe past 60 % ([1024, 512], dropout, AdamW, warm-up + cosine η,
                  flips and translations, PreciseBN) and one run per option removed or changed:
                  no augmentation, no dropout, BN after the ReLU, SGD + momentum, cyclical η,
                  [50, 50]; plus the reference run (an estimated 20–25 minutes alone)

Options:
  --quick               a reduced study (10,000 training and 1,000 validation samples, n_s = 500,
                        6 + 6 λ trials, the extensions on [256, 128] for 12 epochs) that takes a
                        few minutes on two cores
  --out DIR             output folder (default out/study)
  --only LIST           run only these experiments (default all)
  --workers N           trials run in parallel on N Workers (default 2)
  --seed N              seed of every trial and of the λ draws (default 1)
  --backend NAME        auto, openblas, wasm or ml-matrix (default $NN_BACKEND, else auto: OpenBLAS
                        when --allow-ffi and the library are there, else WebAssembly); each worker
                        sets it
  --data DIR            an extracted CIFAR-10 (the folder with cifar-10-batches-bin/); without it
                        CIFAR-10 is downloaded
  --data-url URL        CIFAR-10 archive to download (default the official URL, or $CIFAR10_URL);
                        file:// URLs work
  --data-checksum SUM   its checksum, sha256:<hex> or md5:<hex> (default the official md5, or
                        $CIFAR10_CHECKSUM)
  --cache-dir DIR       where downloads go (default .cache)
  --help                show this text

With several workers, OPENBLAS_NUM_THREADS is set to 1 unless already set, so that the workers'
OpenBLAS calls do not compete for the cores.
`;

await runMain(async () => {
  const flags = parseFlags(Deno.args, {
    quick: { type: "boolean", default: false },
    out: { type: "string", default: "out/study" },
    only: { type: "string" },
    workers: { type: "string", default: "2" },
    seed: { type: "string", default: "1" },
    backend: { type: "string" },
    data: { type: "string" },
    "data-url": { type: "string" },
    "data-checksum": { type: "string" },
    "cache-dir": { type: "string", default: ".cache" },
    help: { type: "boolean", default: false },
  });
  if (flags.help) {
    console.log(help);
    return;
  }
  const experiments: ExperimentName[] = flags.only === undefined
    ? [...experimentNames]
    : flags.only.split(",").map((name) => choiceFlag("--only", name.trim(), experimentNames));
  if (experiments.length === 0) throw new UsageError("--only needs at least one experiment");
  const workers = numberFlag("--workers", flags.workers, { minimum: 1, integer: true });
  const seed = numberFlag("--seed", flags.seed, {
    minimum: 0,
    maximum: 2 ** 32 - 1,
    integer: true,
  });
  const backend = backendFlag(flags.backend);
  const scale = flags.quick ? quickScale : fullScale;
  const outputDirectory = flags.out;

  // Read by OpenBLAS when a worker first loads it; nothing has loaded it yet.
  if (Deno.env.get("OPENBLAS_NUM_THREADS") === undefined) {
    Deno.env.set("OPENBLAS_NUM_THREADS", "1");
  }

  const loadStart = performance.now();
  const cifar10 = await readCifar10(await cifar10Directory(flags));
  const data = { pool: concatenateImageSets(cifar10.trainingFiles), test: cifar10.test };
  console.error(
    `data: ${data.pool.count} training images, ${data.test.count} test images (${
      ((performance.now() - loadStart) / 1000).toFixed(1)
    } s); ${scale.name} study: ${experiments.join(", ")}`,
  );

  let bar: ProgressBar | undefined;
  const results = await runStudy(
    { scale, experiments, outputDirectory, workers, seed, data, backend },
    (event) => {
      if (event.kind === "start") {
        console.error(
          `${event.backend}; ${event.workers} worker${
            event.workers === 1 ? "" : "s"
          }; ${event.storedTrials} finished trial${
            event.storedTrials === 1 ? "" : "s"
          } found in ${outputDirectory}/${trialLogName}`,
        );
        bar = new ProgressBar({ label: "Study (updates)", total: event.totalUpdates });
      } else if (event.kind === "progress") {
        bar?.update(
          event.doneUpdates,
          event.running.length === 0 ? "" : `running ${event.running.join(", ")}`,
        );
      }
    },
  ).finally(() => bar?.stop());

  const html = await buildReport(results);
  await writeTextFileAtomically(`${outputDirectory}/results.json`, JSON.stringify(results));
  await writeTextFileAtomically(`${outputDirectory}/report.html`, html);
  console.log(formatComparisonTable(comparisonRows(results)));
  console.log(
    `\nstudy finished in ${
      results.seconds.toFixed(0)
    } s; wrote ${outputDirectory}/report.html and ${outputDirectory}/results.json`,
  );
});
