/**
 * cli/train.ts end to end on a small generated CIFAR-10 directory: flags, metrics.json, the
 * saved model (load, evaluate, same accuracy to the last digit), and clear errors.
 */
import assert from "node:assert/strict";
import { readCifar10 } from "../lib/cifar10.ts";
import { splitCifar10 } from "../lib/dataset.ts";
import { evaluateImageSet } from "../lib/evaluation.ts";
import { loadModel } from "../lib/model_file.ts";
import { castNetwork } from "../lib/network.ts";
import { writeSmallCifar10 } from "./cifar10_fixture.ts";
import { runTrain } from "./train_cli_fixture.ts";

/** Runs `test` on a fresh generated CIFAR-10 directory (`records` per batch file), then deletes it. */
async function withSmallCifar10(
  records: number,
  test: (directory: string) => Promise<void>,
): Promise<void> {
  const directory = await Deno.makeTempDir();
  try {
    await writeSmallCifar10(directory, records);
    await test(directory);
  } finally {
    await Deno.remove(directory, { recursive: true });
  }
}

/** Three epochs of a [20, 10] network on the fixture in `directory`: 60 test samples. */
function smallRun(directory: string): string[] {
  return [
    "--data",
    directory,
    "--validation",
    "50",
    "--hidden",
    "20,10",
    "--batch-size",
    "25",
    "--epochs",
    "3",
    "--schedule",
    "constant",
    "--learning-rate",
    "0.05",
  ];
}

Deno.test("cli/train.ts trains, writes metrics.json and a model that evaluates to the same accuracy", async () => {
  await withSmallCifar10(60, async (directory) => {
    const out = `${directory}/run`;
    const result = await runTrain([
      ...smallRun(directory),
      "--momentum",
      "0.9",
      "--seed",
      "5",
      "--out",
      out,
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /confusion matrix/);
    assert.match(result.stdout, /test accuracy \d+\.\d\d %/);
    const metrics = JSON.parse(await Deno.readTextFile(`${out}/metrics.json`));
    assert.equal(typeof metrics.test.accuracy, "number");
    assert.equal(typeof metrics.validation.accuracy, "number");
    assert.ok(metrics.epochSeconds > 0);
    assert.equal(metrics.epochSecondsPerEpoch.length, 3);
    assert.equal(metrics.history.length, 3);
    assert.equal(metrics.confusionMatrix.flat().reduce((a: number, b: number) => a + b, 0), 60);
    assert.ok(metrics.test.accuracy > 0.5, `test accuracy ${metrics.test.accuracy}`);

    const model = await loadModel(`${out}/model.fcnn`);
    const data = splitCifar10(await readCifar10(directory), { validationSize: 50 });
    const reloaded = evaluateImageSet(model.network, data.test, model.normalization!, 0.005);
    assert.equal(reloaded.metrics.accuracy, metrics.test.accuracy);
    assert.equal(reloaded.metrics.loss, metrics.test.loss);
  });
});

Deno.test("cli/train.ts takes its backend from NN_BACKEND unless --backend names one", async () => {
  await withSmallCifar10(60, async (directory) => {
    const fromEnvironment = await runTrain(smallRun(directory), { NN_BACKEND: "ml-matrix" });
    assert.equal(fromEnvironment.code, 0, fromEnvironment.stderr);
    assert.match(fromEnvironment.stderr, /^matrix products: ml-matrix$/m);
    const fromFlag = await runTrain([...smallRun(directory), "--backend", "wasm"], {
      NN_BACKEND: "ml-matrix",
    });
    assert.equal(fromFlag.code, 0, fromFlag.stderr);
    assert.match(fromFlag.stderr, /^matrix products: WebAssembly SIMD/m);
    const unknown = await runTrain(smallRun(directory), { NN_BACKEND: "cuda" });
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /NN_BACKEND="cuda"/);
  });
});

Deno.test("cli/train.ts --dtype float32 trains in float32 and saves a model that evaluates the same", async () => {
  await withSmallCifar10(60, async (directory) => {
    const out = `${directory}/run`;
    const result = await runTrain([
      ...smallRun(directory),
      "--dtype",
      "float32",
      "--out",
      out,
    ]);
    assert.equal(result.code, 0, result.stderr);
    const metrics = JSON.parse(await Deno.readTextFile(`${out}/metrics.json`));
    assert.ok(metrics.test.accuracy > 0.5, `test accuracy ${metrics.test.accuracy}`);
    const model = await loadModel(`${out}/model.fcnn`);
    const weights = model.network.parameters.flatMap((layer) =>
      Object.values(layer).flatMap((value) => [...value!.data])
    );
    assert.ok(weights.every((value) => Math.fround(value) === value), "float32 values, widened");
    const data = splitCifar10(await readCifar10(directory), { validationSize: 50 });
    const reloaded = evaluateImageSet(
      castNetwork(model.network, "float32"),
      data.test,
      model.normalization!,
      0.005,
    );
    assert.equal(reloaded.metrics.accuracy, metrics.test.accuracy);
    assert.equal(reloaded.metrics.loss, metrics.test.loss);
  });
});

Deno.test("cli/train.ts names the flag and the problem for bad options, without a stack trace", async () => {
  const cases: [string[], RegExp][] = [
    [["--lambda=-1"], /--lambda must be a number ≥ 0, got -1/],
    [["--lambda", "-1"], /--lambda.*ambiguous.*--lambda=-XYZ/s],
    [["--hidden", "50,,50"], /--hidden must be an integer, got ""/],
    [["--init", "gaussian"], /--init .* got "gaussian"/],
    [["--batch-norm", "maybe"], /--batch-norm must be one of affine, plain, none/],
    [["--learning-rat", "0.1"], /Unknown option '--learning-rat'/],
    [["--epochs", "0"], /--epochs must be an integer ≥ 1, got 0/],
    [["--optimizer", "rmsprop"], /--optimizer must be one of sgd, adam/],
    [["--dtype", "float16"], /--dtype must be one of float64, float32/],
    [["--weight-decay", "0.1"], /--weight-decay 0.1 is for --optimizer adam/],
    [["--optimizer", "adam", "--momentum", "0.9"], /--momentum 0.9 is for --optimizer sgd/],
    [["--bn-placement", "middle"], /--bn-placement must be one of before, after/],
    [["--dropout", "1"], /--dropout must be a number/],
    [["--bn-statistics", "exact"], /--bn-statistics must be one of moving, precise, adaptive/],
    [["--schedule", "cosine", "--eta-min", "1", "--eta-max", "0.1"], /--eta-min 1 must not exceed/],
  ];
  for (const [args, message] of cases) {
    const { code, stderr } = await runTrain(args);
    assert.equal(code, 1, args.join(" "));
    assert.match(stderr, message);
    assert.doesNotMatch(stderr, /\n\s+at /, "no stack trace");
  }
});

Deno.test("cli/train.ts names a batch size larger than the training set", async () => {
  await withSmallCifar10(20, async (directory) => {
    const { code, stderr } = await runTrain([
      "--data",
      directory,
      "--validation",
      "10",
      "--batch-size",
      "500",
    ]);
    assert.equal(code, 1);
    assert.match(stderr, /--batch-size 500 is larger than the 90 training samples/);
  });
});

Deno.test("cli/train.ts --help lists every option", async () => {
  const { code, stdout } = await runTrain(["--help"]);
  assert.equal(code, 0);
  for (
    const flag of [
      "--hidden",
      "--lambda",
      "--n-s",
      "--cycles",
      "--epochs",
      "--seed",
      "--out",
      "--data-url",
      "--dropout",
      "--bn-placement",
      "--optimizer",
      "--weight-decay",
      "--warmup",
      "--flip",
      "--translate",
      "--bn-statistics",
      "--precise-batches",
    ]
  ) {
    assert.ok(stdout.includes(flag), flag);
  }
});
