/**
 * Trains a k-layer fully connected network on CIFAR-10 (or Fashion-MNIST) and reports
 * training curves, test accuracy and a confusion matrix. Defaults are the reference setup:
 * hidden [50, 50], batch norm, He init, λ = 0.005, batch 100, cyclical η from 1e−5 to 1e−1 with
 * n_s = 2250 for 2 cycles, 45,000 / 5,000 split.
 *
 *     deno task train --seed 1 --out runs/seed1
 *
 * @module
 */
import { multilayerPerceptron } from "../lib/architecture.ts";
import { useBackend } from "../lib/backend.ts";
import { readCifar10 } from "../lib/cifar10.ts";
import { type DataSplit, sliceImageSet, splitCifar10 } from "../lib/dataset.ts";
import { cifar10Source, downloadDataset } from "../lib/download.ts";
import { confusionMatrix, evaluateImageSet } from "../lib/evaluation.ts";
import { readFashionMnist } from "../lib/fashion_mnist.ts";
import type { LearningRateSchedule } from "../lib/learning_rate.ts";
import { saveModel } from "../lib/model_file.ts";
import { type Initialization, initializeNetwork } from "../lib/network.ts";
import { normalizationOf } from "../lib/normalization.ts";
import { ProgressBar } from "../lib/progress_bar.ts";
import { randomKey, splitKey } from "../lib/random.ts";
import { train } from "../lib/training.ts";
import { loadCheckpoint, saveCheckpoint } from "../lib/checkpoint.ts";
import { join } from "node:path";
import { watchInterrupts } from "./interrupts.ts";
import { writeTextFileAtomically } from "../lib/atomic_write.ts";
import {
  choiceFlag,
  numberFlag,
  parseFlags,
  runMain,
  sizeListFlag,
  UsageError,
} from "./options.ts";

const help = `Usage: deno task train [options]
       deno run --allow-read --allow-write --allow-env --allow-net --allow-ffi cli/train.ts [options]

Trains input → [Linear → BatchNorm → ReLU] × (k−1) → Linear → softmax with mini-batch SGD and
prints training/validation loss, cost and accuracy every epoch, then the test accuracy and the
confusion matrix.

Data:
  --dataset NAME        cifar10 or fashion-mnist (default cifar10)
  --data DIR            an extracted data set (CIFAR-10: the folder with cifar-10-batches-bin/;
                        Fashion-MNIST: the folder with the .gz IDX files, default
                        /usr/share/datasets/fashion-mnist); without it CIFAR-10 is downloaded
  --data-url URL        CIFAR-10 archive to download (default the official URL, or $CIFAR10_URL);
                        file:// URLs work
  --data-checksum SUM   its checksum, sha256:<hex> or md5:<hex> (default the official md5, or
                        $CIFAR10_CHECKSUM)
  --cache-dir DIR       where downloads go (default .cache)
  --split SPLIT         holdout (all training files minus --validation) or file1 (CIFAR-10 file 1
                        trains, file 2 validates) (default holdout)
  --validation N        samples held out for validation (default 5000)

Network:
  --hidden LIST         hidden layer sizes, comma-separated (default 50,50)
  --batch-norm MODE     affine (with γ, β), plain (without) or none (default affine)
  --bn-momentum A       α of the moving averages avg ← α·avg + (1−α)·batch (default 0.9)
  --init SCHEME         he, xavier, or a fixed standard deviation such as 1e-3 (default he)

Training:
  --lambda X            L2 weight λ (default 0.005)
  --batch-size N        samples per update (default 100)
  --schedule KIND       cyclical, constant or step (default cyclical)
  --eta-min X           cyclical: lowest η (default 1e-5)
  --eta-max X           cyclical: highest η (default 1e-1)
  --n-s N               cyclical: updates per half cycle (default 2250)
  --cycles N            cyclical: number of cycles (default 2)
  --learning-rate X     constant and step: η, or η at epoch 0 (default 0.01)
  --decay X             step: η ← decay·η every epoch (default 0.95)
  --epochs N            train for N epochs (replaces --cycles; default for constant and step: 20)
  --momentum R          ρ of SGD with momentum, 0 for plain SGD (default 0)
  --record-every N      also record metrics every N updates (default once per epoch)
  --seed N              seeds initialisation and shuffling (default 1)
  --backend NAME        auto, openblas, wasm or ml-matrix (default auto: OpenBLAS when
                        --allow-ffi and the library are there, else WebAssembly SIMD)

Output and recovery:
  --out DIR             write model.fcnn and metrics.json there (and checkpoint.fcnn)
  --checkpoint-every N  write DIR/checkpoint.fcnn every N updates (atomically); Ctrl-C and
                        SIGTERM also save one before exiting
  --resume DIR          continue the run whose checkpoint is DIR/checkpoint.fcnn with the options
                        it was started with (training flags given now are ignored); the result
                        is bit-identical to an uninterrupted run
  --help                show this text
`;

await runMain(async () => {
  const flags = parseFlags(Deno.args, {
    dataset: { type: "string", default: "cifar10" },
    data: { type: "string" },
    "data-url": { type: "string" },
    "data-checksum": { type: "string" },
    "cache-dir": { type: "string", default: ".cache" },
    split: { type: "string", default: "holdout" },
    validation: { type: "string", default: "5000" },
    hidden: { type: "string", default: "50,50" },
    "batch-norm": { type: "string", default: "affine" },
    "bn-momentum": { type: "string", default: "0.9" },
    init: { type: "string", default: "he" },
    lambda: { type: "string", default: "0.005" },
    "batch-size": { type: "string", default: "100" },
    schedule: { type: "string", default: "cyclical" },
    "eta-min": { type: "string", default: "1e-5" },
    "eta-max": { type: "string", default: "1e-1" },
    "n-s": { type: "string", default: "2250" },
    cycles: { type: "string", default: "2" },
    "learning-rate": { type: "string", default: "0.01" },
    decay: { type: "string", default: "0.95" },
    epochs: { type: "string" },
    momentum: { type: "string", default: "0" },
    "record-every": { type: "string" },
    seed: { type: "string", default: "1" },
    backend: { type: "string", default: "auto" },
    out: { type: "string" },
    "checkpoint-every": { type: "string" },
    resume: { type: "string" },
    help: { type: "boolean", default: false },
  });
  if (flags.help) {
    console.log(help);
    return;
  }
  const backend = choiceFlag("--backend", flags.backend, ["auto", "openblas", "wasm", "ml-matrix"]);
  const checkpointEvery = flags["checkpoint-every"] === undefined
    ? undefined
    : numberFlag("--checkpoint-every", flags["checkpoint-every"], { minimum: 1, integer: true });
  const out = flags.out ?? flags.resume;
  if (checkpointEvery !== undefined && out === undefined) {
    throw new UsageError("--checkpoint-every needs --out DIR to write the checkpoints to");
  }
  // Parse every flag before any work, so a typo fails at once; a resumed run keeps its options.
  const checkpoint = flags.resume === undefined
    ? undefined
    : await loadCheckpoint(join(flags.resume, "checkpoint.fcnn"));
  const run = checkpoint ? checkpoint.options as unknown as RunOptions : runOptionsFromFlags(flags);
  /** The run's options as JSON holds them (absent options omitted), for model files. */
  const savedOptions = JSON.parse(JSON.stringify(run)) as Record<string, unknown>;

  console.error(useBackend(backend).reason);
  const loadStart = performance.now();
  const data = await loadData(run.dataset, run.split, run.validationSize, flags);
  const normalization = checkpoint?.normalization ?? normalizationOf(data.training);
  const loadSeconds = (performance.now() - loadStart) / 1000;
  const classNames = data.training.classNames;
  console.error(
    `data: ${data.training.count} training, ${data.validation.count} validation, ${data.test.count} test samples of ${data.training.features} features (${
      loadSeconds.toFixed(1)
    } s)`,
  );

  const architecture = multilayerPerceptron({
    inputSize: data.training.features,
    hiddenSizes: run.hiddenSizes,
    classes: classNames.length,
    batchNorm: run.batchNorm === "none"
      ? false
      : { affine: run.batchNorm === "affine", momentum: run.bnMomentum },
  });
  const [networkKey, shuffleKey] = splitKey(randomKey(run.seed), 2);
  const updatesPerEpoch = Math.floor(data.training.count / run.batchSize);
  if (updatesPerEpoch < 1) {
    throw new UsageError(
      `--batch-size ${run.batchSize} is larger than the ${data.training.count} training samples`,
    );
  }
  const updates = run.epochs !== undefined
    ? run.epochs * updatesPerEpoch
    : run.schedule.kind === "cyclical"
    ? 2 * run.schedule.stepSize * run.cycles
    : 20 * updatesPerEpoch;
  const totalEpochs = Math.ceil(updates / updatesPerEpoch);
  console.error(
    `network: ${
      [data.training.features, ...run.hiddenSizes, classNames.length].join(" → ")
    }, batch norm ${run.batchNorm}; ${updates} updates = ${totalEpochs} epochs of ${updatesPerEpoch}${
      checkpoint ? `; resuming after update ${checkpoint.state.update}` : ""
    }`,
  );
  if (out !== undefined) await Deno.mkdir(out, { recursive: true });
  const checkpointPath = out === undefined ? undefined : join(out, "checkpoint.fcnn");

  const interrupts = await watchInterrupts();
  let bar: ProgressBar | undefined;
  const result = train(
    initializeNetwork(architecture, networkKey, run.initialization),
    data,
    normalization,
    {
      batchSize: run.batchSize,
      lambda: run.lambda,
      schedule: run.schedule,
      momentum: run.momentum,
      updates,
      key: shuffleKey,
      recordEvery: run.recordEvery,
      checkpointEvery,
      resumeFrom: checkpoint?.state,
      shouldStop: () => interrupts.requested() !== undefined,
    },
    (event) => {
      if (event.kind === "update") {
        bar ??= new ProgressBar({
          label: `Epoch ${event.epoch + 1}/${totalEpochs}`,
          total: Math.min(updatesPerEpoch, updates - event.epoch * updatesPerEpoch),
        });
        bar.update(event.update - event.epoch * updatesPerEpoch, `loss ${event.loss.toFixed(3)}`);
      } else if (event.kind === "epoch") {
        bar?.stop();
        bar = undefined;
      } else if (event.kind === "checkpoint") {
        saveCheckpoint(checkpointPath!, {
          state: event.state,
          normalization,
          classNames,
          options: savedOptions,
        });
      } else {
        const { point } = event;
        const format = (name: string, metrics: typeof point.training) =>
          `${name} loss ${metrics.loss.toFixed(4)} cost ${metrics.cost.toFixed(4)} accuracy ${
            (100 * metrics.accuracy).toFixed(2)
          } %`;
        console.log(
          `update ${point.update} (epoch ${point.epoch.toFixed(2)}, η ${
            point.learningRate.toExponential(2)
          }): ${format("training", point.training)} | ${format("validation", point.validation)}`,
        );
      }
    },
  );
  bar?.stop();
  interrupts.stop();
  if (result.stopped) {
    const signal = interrupts.requested();
    if (checkpointPath !== undefined) {
      saveCheckpoint(checkpointPath, {
        state: result.stopped,
        normalization,
        classNames,
        options: savedOptions,
      });
      console.error(
        `\n${signal}: stopped after update ${result.stopped.update}; checkpoint saved, continue with --resume ${out}`,
      );
    } else {
      console.error(
        `\n${signal}: stopped after update ${result.stopped.update}; nothing saved (no --out)`,
      );
    }
    return signal === "SIGINT" ? 130 : 143;
  }

  const test = evaluateImageSet(result.network, data.test, normalization, run.lambda);
  const validation = result.history[result.history.length - 1].validation;
  const meanEpochSeconds = result.epochSeconds.reduce((sum, value) => sum + value, 0) /
    result.epochSeconds.length;
  const confusion = confusionMatrix(test.predicted, data.test.labels, classNames.length);
  console.log(`\nconfusion matrix (rows: true class, columns: predicted)`);
  const width = Math.max(...classNames.map((name) => name.length));
  for (let i = 0; i < classNames.length; i++) {
    console.log(
      `${classNames[i].padStart(width)} ${
        confusion[i].map((count) => String(count).padStart(5)).join("")
      }`,
    );
  }
  console.log(
    `\ntest accuracy ${(100 * test.metrics.accuracy).toFixed(2)} %, validation accuracy ${
      (100 * validation.accuracy).toFixed(2)
    } %, mean epoch ${meanEpochSeconds.toFixed(2)} s`,
  );

  if (out !== undefined) {
    await saveModel(join(out, "model.fcnn"), {
      network: result.network,
      normalization,
      classNames,
      metadata: { options: savedOptions, test: test.metrics },
    });
    const metrics = {
      test: test.metrics,
      validation,
      training: result.history[result.history.length - 1].training,
      epochSeconds: meanEpochSeconds,
      epochSecondsPerEpoch: result.epochSeconds,
      loadSeconds,
      options: run,
      classNames,
      confusionMatrix: confusion,
      history: result.history,
    };
    writeTextFileAtomically(join(out, "metrics.json"), JSON.stringify(metrics, null, 2));
    console.error(`wrote ${join(out, "model.fcnn")} and ${join(out, "metrics.json")}`);
  }
});

/** The options that define a run; saved in checkpoints so that a resume continues the same run. */
interface RunOptions {
  readonly dataset: "cifar10" | "fashion-mnist";
  readonly split: "holdout" | "file1";
  readonly validationSize: number;
  readonly hiddenSizes: readonly number[];
  readonly batchNorm: "affine" | "plain" | "none";
  readonly bnMomentum: number;
  readonly initialization: Initialization;
  readonly lambda: number;
  readonly batchSize: number;
  readonly schedule: LearningRateSchedule;
  readonly cycles: number;
  readonly epochs?: number;
  readonly momentum: number;
  readonly recordEvery?: number;
  readonly seed: number;
}

function runOptionsFromFlags(flags: Record<string, string | boolean | undefined>): RunOptions {
  const text = (name: string) => flags[name] as string;
  const initialization: Initialization = text("init") === "he" || text("init") === "xavier"
    ? text("init") as "he" | "xavier"
    : {
      standardDeviation: numberFlag("--init (he, xavier or a standard deviation)", text("init"), {
        minimum: 0,
      }),
    };
  const scheduleKind = choiceFlag("--schedule", text("schedule"), ["cyclical", "constant", "step"]);
  const positive = (name: string) =>
    numberFlag(`--${name}`, text(name), { minimum: Number.MIN_VALUE });
  const schedule: LearningRateSchedule = scheduleKind === "cyclical"
    ? {
      kind: "cyclical",
      minimum: positive("eta-min"),
      maximum: positive("eta-max"),
      stepSize: numberFlag("--n-s", text("n-s"), { minimum: 1, integer: true }),
    }
    : scheduleKind === "constant"
    ? { kind: "constant", learningRate: positive("learning-rate") }
    : {
      kind: "stepDecay",
      initial: positive("learning-rate"),
      decay: numberFlag("--decay", text("decay"), { minimum: Number.MIN_VALUE, maximum: 1 }),
    };
  if (schedule.kind === "cyclical" && schedule.minimum > schedule.maximum) {
    throw new UsageError(
      `--eta-min ${schedule.minimum} must not exceed --eta-max ${schedule.maximum}`,
    );
  }
  return {
    dataset: choiceFlag("--dataset", text("dataset"), ["cifar10", "fashion-mnist"]),
    split: choiceFlag("--split", text("split"), ["holdout", "file1"]),
    validationSize: numberFlag("--validation", text("validation"), { minimum: 1, integer: true }),
    hiddenSizes: sizeListFlag("--hidden", text("hidden")),
    batchNorm: choiceFlag("--batch-norm", text("batch-norm"), ["affine", "plain", "none"]),
    bnMomentum: numberFlag("--bn-momentum", text("bn-momentum"), { minimum: 0, maximum: 0.999999 }),
    initialization,
    lambda: numberFlag("--lambda", text("lambda"), { minimum: 0 }),
    batchSize: numberFlag("--batch-size", text("batch-size"), { minimum: 1, integer: true }),
    schedule,
    cycles: numberFlag("--cycles", text("cycles"), { minimum: 1, integer: true }),
    epochs: flags.epochs === undefined
      ? undefined
      : numberFlag("--epochs", text("epochs"), { minimum: 1, integer: true }),
    momentum: numberFlag("--momentum", text("momentum"), { minimum: 0, maximum: 0.999999 }),
    recordEvery: flags["record-every"] === undefined
      ? undefined
      : numberFlag("--record-every", text("record-every"), { minimum: 1, integer: true }),
    seed: numberFlag("--seed", text("seed"), { minimum: 0, maximum: 2 ** 32 - 1, integer: true }),
  };
}

async function loadData(
  dataset: "cifar10" | "fashion-mnist",
  split: "holdout" | "file1",
  validationSize: number,
  flags: { data?: string; "data-url"?: string; "data-checksum"?: string; "cache-dir": string },
): Promise<DataSplit> {
  if (dataset === "fashion-mnist") {
    if (split === "file1") throw new UsageError("--split file1 is for CIFAR-10 only");
    const { training, test } = await readFashionMnist(flags.data);
    if (validationSize >= training.count) {
      throw new UsageError(
        `--validation ${validationSize} leaves no training samples of ${training.count}`,
      );
    }
    return {
      training: sliceImageSet(training, 0, training.count - validationSize),
      validation: sliceImageSet(training, training.count - validationSize, training.count),
      test,
    };
  }
  let directory = flags.data;
  if (directory === undefined) {
    const source = cifar10Source();
    const url = flags["data-url"] ?? source.url;
    const checksum = flags["data-checksum"] ?? source.checksum;
    let bar: ProgressBar | undefined;
    directory = await downloadDataset({
      url,
      checksum,
      cacheDirectory: flags["cache-dir"],
      name: "cifar-10",
      onProgress: (received, total) => {
        bar ??= new ProgressBar({ label: "Downloading cifar-10", total, unit: "bytes" });
        bar.update(received);
      },
    });
    bar?.stop();
  }
  const cifar10 = await readCifar10(directory);
  return splitCifar10(cifar10, split === "file1" ? "file1" : { validationSize });
}
