/**
 * One measured training process for bench/epoch.ts: loads CIFAR-10 (timed apart), trains the
 * given network for N epochs with the reference setup on one backend, and prints one JSON line
 * with the epoch times, the load time and the process's peak resident memory.
 *
 *     deno run -A bench/epoch_run.ts --backend openblas --dtype float32 --hidden 50,50 --epochs 5 --data DIR
 *
 * @module
 */
import process from "node:process";
import { multilayerPerceptron } from "../lib/architecture.ts";
import { useBackend } from "../lib/backend.ts";
import { readCifar10 } from "../lib/cifar10.ts";
import { splitCifar10 } from "../lib/dataset.ts";
import { castNetwork, initializeNetwork } from "../lib/network.ts";
import { dtypes } from "../lib/tensor.ts";
import { normalizationOf } from "../lib/normalization.ts";
import { randomKey, splitKey } from "../lib/random.ts";
import { train } from "../lib/training.ts";
import {
  backendFlag,
  choiceFlag,
  numberFlag,
  parseFlags,
  runMain,
  sizeListFlag,
} from "../cli/options.ts";

/** The peak resident set size of this process, in bytes (getrusage's ru_maxrss, in KiB). */
function peakResidentBytes(): number {
  return process.resourceUsage().maxRSS * 1024;
}

await runMain(async () => {
  const flags = parseFlags(Deno.args, {
    backend: { type: "string", default: "auto" },
    hidden: { type: "string", default: "50,50" },
    epochs: { type: "string", default: "5" },
    data: { type: "string" },
    seed: { type: "string", default: "1" },
    dtype: { type: "string", default: "float64" },
  });
  const dtype = choiceFlag("--dtype", flags.dtype, dtypes);
  const preference = backendFlag(flags.backend);
  const backend = useBackend(preference);
  const epochs = numberFlag("--epochs", flags.epochs, { minimum: 1, integer: true });
  if (flags.data === undefined) throw new Error("--data DIR (an extracted CIFAR-10) is required");
  const loadStart = performance.now();
  const data = splitCifar10(await readCifar10(flags.data), { validationSize: 5000 });
  const normalization = normalizationOf(data.training);
  const loadSeconds = (performance.now() - loadStart) / 1000;
  const hiddenSizes = sizeListFlag("--hidden", flags.hidden);
  const architecture = multilayerPerceptron({
    inputSize: 3072,
    hiddenSizes,
    classes: 10,
    batchNorm: true,
  });
  const [networkKey, shuffleKey] = splitKey(
    randomKey(numberFlag("--seed", flags.seed, { integer: true, minimum: 0 })),
    2,
  );
  const network = castNetwork(initializeNetwork(architecture, networkKey, "he"), dtype);
  const result = train(network, data, normalization, {
    batchSize: 100,
    lambda: 0.005,
    schedule: { kind: "cyclical", minimum: 1e-5, maximum: 1e-1, stepSize: 2250 },
    momentum: 0,
    updates: epochs * 450,
    key: shuffleKey,
  });
  console.log(JSON.stringify({
    backend: backend.name,
    kernels: backend.kernels,
    dtype,
    epochSeconds: result.epochSeconds,
    loadSeconds,
    validationAccuracy: result.history.at(-1)!.validation.accuracy,
    peakRssBytes: peakResidentBytes(),
  }));
});
