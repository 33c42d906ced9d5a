/**
 * Trains a k-layer fully connected network on CIFAR-10 (or Fashion-MNIST) and reports
 * training curves, test accuracy and a confusion matrix. Defaults are the reference setup:
 * hidden [50, 50], batch norm, He init, λ = 0.005, batch 100, cyclical η from 1e−5 to 1e−1 with
 * n_s = 2250 for 2 cycles, 45,000 / 5,000 split. Options add batch norm after the ReLU,
 * dropout, Adam/AdamW, warm-up and cosine decay, flips and translations, PreciseBN and
 * Adaptive BN.
 *
 *     deno task train --seed 1 --out runs/seed1
 *
 * @module
 */
import { multilayerPerceptron } from "../lib/architecture.ts";
import { cifar10ImageShape, type ImageAugmentation, type ImageShape } from "../lib/augmentation.ts";
import { useBackend } from "../lib/backend.ts";
import { readCifar10 } from "../lib/cifar10.ts";
import { type DataSplit, sliceImageSet, splitCifar10 } from "../lib/dataset.ts";
import { confusionMatrix, evaluateImageSet } from "../lib/evaluation.ts";
import { readFashionMnist } from "../lib/fashion_mnist.ts";
import type { LearningRateSchedule, TrainingSchedule } from "../lib/learning_rate.ts";
import { saveModel } from "../lib/model_file.ts";
import { castNetwork, type Initialization, initializeNetwork } from "../lib/network.ts";
import { type DType, dtypes } from "../lib/tensor.ts";
import { normalizationOf } from "../lib/normalization.ts";
import { adam, type Optimizer } from "../lib/optimizer.ts";
import { adaptiveBatchNorm, preciseBatchNorm } from "../lib/precise_batch_norm.ts";
import { ProgressBar } from "../lib/progress_bar.ts";
import { randomKey, splitKey } from "../lib/random.ts";
import { train } from "../lib/training.ts";
import { loadCheckpoint, saveCheckpoint } from "../lib/checkpoint.ts";
import { join } from "node:path";
import { watchInterrupts } from "./interrupts.ts";
import { cifar10Directory } from "./cifar10_directory.ts";
import { writeTextFileAtomically } from "../lib/atomic_write.ts";
import {
  backendFlag,
  choiceFlag,
  numberFlag,
  parseFlags,
  runMain,
  sizeListFlag,
  UsageError,
} from "./options.ts";

const help = `Usage: deno task train [options]
       deno run --allow-read --allow-write --allow-env --allow-net --allow-ffi cli/train.ts [options]

Trains input → [Linear → BatchNorm → ReLU → Dropout] × (k−1) → Linear → softmax with
mini-batch SGD or Adam and prints training/validation loss, cost and accuracy every epoch, then
the test accuracy and the confusion matrix.

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
  --bn-placement WHERE  before or after the ReLU (default before)
  --bn-momentum A       α of the moving averages avg ← α·avg + (1−α)·batch (default 0.9)
  --dropout P           inverted dropout with rate P after every hidden block (default 0)
  --init SCHEME         he, xavier, or a fixed standard deviation such as 1e-3 (default he)

Training:
  --lambda X            L2 weight λ (default 0.005)
  --batch-size N        samples per update (default 100)
  --optimizer NAME      sgd or adam (default sgd)
  --weight-decay W      adam: decoupled weight decay of the weights (AdamW) (default 0)
  --schedule KIND       cyclical, constant, step or cosine (default cyclical)
  --eta-min X           cyclical and cosine: lowest η (default 1e-5)
  --eta-max X           cyclical and cosine: highest η (default 1e-1)
  --warmup N            linear warm-up of η over the first N updates (default 0)
  --n-s N               cyclical: updates per half cycle (default 2250)
  --cycles N            cyclical: number of cycles (default 2)
  --learning-rate X     constant and step: η, or η at epoch 0 (default 0.01)
  --decay X             step: η ← decay·η every epoch (default 0.95)
  --epochs N            train for N epochs (replaces --cycles; default for the others: 20)
  --momentum R          sgd: ρ of SGD with momentum, 0 for plain SGD (default 0)
  --flip P              augmentation: flip each training image left–right with probability P
                        (default 0; 0.5 is usual)
  --translate S         augmentation: shift each training image by up to S pixels in x and y
                        (default 0)
  --bn-statistics KIND  batch-norm statistics for the final evaluation: moving (the moving
                        averages), precise (PreciseBN: averaged over --precise-batches training
                        batches with the final weights; saved in model.fcnn) or adaptive
                        (Adaptive BN: from the evaluated set itself) (default moving)
  --precise-batches N   precise: training batches to average over (default 200)
  --record-every N      also record metrics every N updates (default once per epoch)
  --seed N              seeds initialisation and shuffling (default 1)
  --backend NAME        auto, openblas, wasm or ml-matrix (default $NN_BACKEND, else auto:
                        OpenBLAS when --allow-ffi and the library are there, else WebAssembly SIMD)
  --dtype TYPE          float64 or float32: the number type of training (data, parameters,
                        products); model files hold float64 either way (default float64)

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
    "bn-placement": { type: "string", default: "before" },
    dropout: { type: "string", default: "0" },
    optimizer: { type: "string", default: "sgd" },
    "weight-decay": { type: "string", default: "0" },
    warmup: { type: "string", default: "0" },
    flip: { type: "string", default: "0" },
    translate: { type: "string", default: "0" },
    "bn-statistics": { type: "string", default: "moving" },
    "precise-batches": { type: "string", default: "200" },
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
    backend: { type: "string" },
    dtype: { type: "string", default: "float64" },
    out: { type: "string" },
    "checkpoint-every": { type: "string" },
    resume: { type: "string" },
    help: { type: "boolean", default: false },
  });
  if (flags.help) {
    console.log(help);
    return;
  }
  const backend = backendFlag(flags.backend);
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
    batchNormPlacement: run.bnPlacement === "after" ? "afterRelu" : "beforeRelu",
    dropout: run.dropout ?? 0,
  });
  const [networkKey, shuffleKey, noiseKey, preciseKey] = splitKey(randomKey(run.seed), 4);
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
  const schedule = trainingSchedule(run, updates);
  const augmentation = augmentationOf(run, run.dataset);
  const optimizer = run.optimizer ?? { kind: "sgd", momentum: run.momentum };
  console.error(
    `network: ${
      [data.training.features, ...run.hiddenSizes, classNames.length].join(" → ")
    }, batch norm ${run.batchNorm}${
      run.batchNorm !== "none" && run.bnPlacement === "after" ? " after ReLU" : ""
    }${run.dropout ? `, dropout ${run.dropout}` : ""}; ${
      optimizer.kind === "adam"
        ? `Adam${optimizer.weightDecay ? `W (weight decay ${optimizer.weightDecay})` : ""}`
        : `SGD${optimizer.momentum ? ` (momentum ${optimizer.momentum})` : ""}`
    }, ${schedule.kind} schedule${
      augmentation
        ? `, augmentation (flip ${augmentation.flipProbability}, translate ±${augmentation.maximumShift})`
        : ""
    }; ${updates} updates = ${totalEpochs} epochs of ${updatesPerEpoch}${
      checkpoint ? `; resuming after update ${checkpoint.state.update}` : ""
    }`,
  );
  if (out !== undefined) await Deno.mkdir(out, { recursive: true });
  const checkpointPath = out === undefined ? undefined : join(out, "checkpoint.fcnn");

  const interrupts = await watchInterrupts();
  let bar: ProgressBar | undefined;
  const result = train(
    castNetwork(
      initializeNetwork(architecture, networkKey, run.initialization),
      run.dtype ?? "float64",
    ),
    data,
    normalization,
    {
      batchSize: run.batchSize,
      lambda: run.lambda,
      schedule,
      optimizer,
      updates,
      key: shuffleKey,
      noiseKey,
      augmentation,
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

  const bnStatistics = run.bnStatistics ?? "moving";
  const statisticsStart = performance.now();
  // PreciseBN is a property of the trained model (it is saved); Adaptive BN adapts to each set.
  const finalNetwork = bnStatistics === "precise"
    ? preciseBatchNorm(result.network, data.training, normalization, {
      batchSize: run.batchSize,
      batches: Math.min(run.preciseBatches ?? 200, updatesPerEpoch),
      key: preciseKey,
    })
    : result.network;
  const networkFor = (images: typeof data.test) =>
    bnStatistics === "adaptive"
      ? adaptiveBatchNorm(finalNetwork, images, normalization, run.batchSize)
      : finalNetwork;
  const test = evaluateImageSet(networkFor(data.test), data.test, normalization, run.lambda);
  const validation = bnStatistics === "moving"
    ? result.history[result.history.length - 1].validation
    : evaluateImageSet(networkFor(data.validation), data.validation, normalization, run.lambda)
      .metrics;
  const movingTest = bnStatistics === "moving"
    ? undefined
    : evaluateImageSet(result.network, data.test, normalization, run.lambda).metrics;
  if (movingTest) {
    console.error(
      `batch-norm statistics: ${bnStatistics} (${
        ((performance.now() - statisticsStart) / 1000).toFixed(1)
      } s); with the moving averages the test accuracy is ${
        (100 * movingTest.accuracy).toFixed(2)
      } %`,
    );
  }
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
      network: finalNetwork,
      normalization,
      classNames,
      metadata: { options: savedOptions, test: test.metrics },
    });
    const metrics = {
      test: test.metrics,
      validation,
      bnStatistics,
      testWithMovingAverages: movingTest ?? test.metrics,
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

/**
 * The options that define a run; saved in checkpoints so that a resume continues the same run.
 * Options added after the first checkpoints are optional, with the old behaviour as default.
 */
interface RunOptions {
  readonly dataset: "cifar10" | "fashion-mnist";
  readonly split: "holdout" | "file1";
  readonly validationSize: number;
  readonly hiddenSizes: readonly number[];
  readonly batchNorm: "affine" | "plain" | "none";
  readonly bnMomentum: number;
  readonly bnPlacement?: "before" | "after";
  readonly dropout?: number;
  readonly initialization: Initialization;
  readonly lambda: number;
  readonly batchSize: number;
  /** The schedule; cosine decays over the whole run, whose length is known once data is read. */
  readonly schedule: LearningRateSchedule | { kind: "cosine"; maximum: number; minimum: number };
  readonly warmup?: number;
  readonly cycles: number;
  readonly epochs?: number;
  readonly momentum: number;
  readonly optimizer?: Optimizer;
  readonly flip?: number;
  readonly translate?: number;
  readonly bnStatistics?: "moving" | "precise" | "adaptive";
  readonly preciseBatches?: number;
  readonly recordEvery?: number;
  readonly seed: number;
  /** Absent in checkpoints written before float32 training: float64. */
  readonly dtype?: DType;
}

/** The run's schedule for `updates` updates, with its warm-up. */
function trainingSchedule(run: RunOptions, updates: number): TrainingSchedule {
  const base = run.schedule.kind === "cosine" ? { ...run.schedule, updates } : run.schedule;
  return run.warmup ? { kind: "warmup", updates: run.warmup, schedule: base } : base;
}

/** The run's augmentation, or undefined when it flips and translates nothing. */
function augmentationOf(
  run: RunOptions,
  dataset: RunOptions["dataset"],
): ImageAugmentation | undefined {
  const flipProbability = run.flip ?? 0, maximumShift = run.translate ?? 0;
  if (flipProbability === 0 && maximumShift === 0) return undefined;
  const shape: ImageShape = dataset === "cifar10"
    ? cifar10ImageShape
    : { channels: 1, height: 28, width: 28 };
  return { shape, flipProbability, maximumShift };
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
  const scheduleKind = choiceFlag("--schedule", text("schedule"), [
    "cyclical",
    "constant",
    "step",
    "cosine",
  ]);
  const positive = (name: string) =>
    numberFlag(`--${name}`, text(name), { minimum: Number.MIN_VALUE });
  const schedule: RunOptions["schedule"] = scheduleKind === "cosine"
    ? { kind: "cosine", maximum: positive("eta-max"), minimum: positive("eta-min") }
    : scheduleKind === "cyclical"
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
  if (
    (schedule.kind === "cyclical" || schedule.kind === "cosine") &&
    schedule.minimum > schedule.maximum
  ) {
    throw new UsageError(
      `--eta-min ${schedule.minimum} must not exceed --eta-max ${schedule.maximum}`,
    );
  }
  const optimizerKind = choiceFlag("--optimizer", text("optimizer"), ["sgd", "adam"]);
  const weightDecay = numberFlag("--weight-decay", text("weight-decay"), { minimum: 0 });
  const momentum = numberFlag("--momentum", text("momentum"), { minimum: 0, maximum: 0.999999 });
  if (optimizerKind === "sgd" && weightDecay !== 0) {
    throw new UsageError(
      `--weight-decay ${weightDecay} is for --optimizer adam; with SGD use --lambda (L2 in the cost)`,
    );
  }
  if (optimizerKind === "adam" && momentum !== 0) {
    throw new UsageError(`--momentum ${momentum} is for --optimizer sgd; Adam has its own moments`);
  }
  return {
    dataset: choiceFlag("--dataset", text("dataset"), ["cifar10", "fashion-mnist"]),
    split: choiceFlag("--split", text("split"), ["holdout", "file1"]),
    validationSize: numberFlag("--validation", text("validation"), { minimum: 1, integer: true }),
    hiddenSizes: sizeListFlag("--hidden", text("hidden")),
    batchNorm: choiceFlag("--batch-norm", text("batch-norm"), ["affine", "plain", "none"]),
    bnMomentum: numberFlag("--bn-momentum", text("bn-momentum"), { minimum: 0, maximum: 0.999999 }),
    bnPlacement: choiceFlag("--bn-placement", text("bn-placement"), ["before", "after"] as const),
    dropout: numberFlag("--dropout", text("dropout"), { minimum: 0, maximum: 0.99 }),
    initialization,
    lambda: numberFlag("--lambda", text("lambda"), { minimum: 0 }),
    batchSize: numberFlag("--batch-size", text("batch-size"), { minimum: 1, integer: true }),
    schedule,
    cycles: numberFlag("--cycles", text("cycles"), { minimum: 1, integer: true }),
    epochs: flags.epochs === undefined
      ? undefined
      : numberFlag("--epochs", text("epochs"), { minimum: 1, integer: true }),
    momentum,
    optimizer: optimizerKind === "adam" ? adam(weightDecay) : { kind: "sgd", momentum },
    warmup: numberFlag("--warmup", text("warmup"), { minimum: 0, integer: true }),
    flip: numberFlag("--flip", text("flip"), { minimum: 0, maximum: 1 }),
    translate: numberFlag("--translate", text("translate"), {
      minimum: 0,
      maximum: 8,
      integer: true,
    }),
    bnStatistics: choiceFlag(
      "--bn-statistics",
      text("bn-statistics"),
      ["moving", "precise", "adaptive"] as const,
    ),
    preciseBatches: numberFlag("--precise-batches", text("precise-batches"), {
      minimum: 1,
      integer: true,
    }),
    recordEvery: flags["record-every"] === undefined
      ? undefined
      : numberFlag("--record-every", text("record-every"), { minimum: 1, integer: true }),
    seed: numberFlag("--seed", text("seed"), { minimum: 0, maximum: 2 ** 32 - 1, integer: true }),
    dtype: choiceFlag("--dtype", text("dtype"), dtypes),
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
  const cifar10 = await readCifar10(await cifar10Directory(flags));
  return splitCifar10(cifar10, split === "file1" ? "file1" : { validationSize });
}
