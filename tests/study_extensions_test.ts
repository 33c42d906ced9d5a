/**
 * The study's `extensions` experiment: its plan is the README's recipe and one change per trial,
 * each trial's options reach training and evaluation, and a tiny run of the experiment alone
 * gives results, a trial log and a report section with the ablation table.
 */
import assert from "node:assert/strict";
import { multilayerPerceptron } from "../lib/architecture.ts";
import { cifar10ImageShape } from "../lib/augmentation.ts";
import { readCifar10 } from "../lib/cifar10.ts";
import { concatenateImageSets, sliceImageSet } from "../lib/dataset.ts";
import { evaluateImageSet } from "../lib/evaluation.ts";
import { initializeNetwork } from "../lib/network.ts";
import { normalizationOf } from "../lib/normalization.ts";
import { preciseBatchNorm } from "../lib/precise_batch_norm.ts";
import { randomKey, splitKey, uniforms } from "../lib/random.ts";
import { buildReport, escapeHtml } from "../lib/report.ts";
import { runStudy } from "../lib/study.ts";
import { ablationRows, settingChanges } from "../lib/study_ablation.ts";
import { comparisonRows } from "../lib/study_comparison.ts";
import {
  batchNormTrials,
  extensionsTrials,
  fullScale,
  initializationTrials,
  lambdaSearchTrials,
  learningRateTrials,
  overfitTrial,
  quickScale,
  type TrainingTrial,
  twoLayerTrial,
} from "../lib/study_plan.ts";
import { trialLogName } from "../lib/study_store.ts";
import { runTrial, type TrainingTrialResult, trialContext } from "../lib/study_trial.ts";
import { train } from "../lib/training.ts";
import { writeSmallCifar10 } from "./cifar10_fixture.ts";
import { tinyScale } from "./study_fixture.ts";

const ids = [
  "extensions/recipe",
  "extensions/no-augmentation",
  "extensions/no-dropout",
  "extensions/bn-after-relu",
  "extensions/sgd-momentum",
  "extensions/cyclical",
  "extensions/narrow",
  "extensions/reference",
];

/** The keys whose values differ between two trials, id and label aside. */
function differentKeys(a: TrainingTrial, b: TrainingTrial): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  keys.delete("id");
  keys.delete("label");
  const value = (trial: TrainingTrial, key: string) =>
    JSON.stringify((trial as unknown as Record<string, unknown>)[key]);
  return [...keys].filter((key) => value(a, key) !== value(b, key)).sort();
}

Deno.test("extensionsTrials() is the README's recipe at full scale, then one change per trial", () => {
  const trials = extensionsTrials(fullScale, 7);
  assert.deepEqual(trials.map((trial) => trial.id), ids);
  const [recipe, ...variants] = trials;
  // deno task train --hidden 1024,512 --batch-size 200 --dropout 0.1 --optimizer adam
  //   --weight-decay 0.02 --lambda 0 --schedule cosine --eta-max 2e-3 --eta-min 1e-5 --warmup 225
  //   --epochs 14 --flip 0.5 --translate 1 --bn-statistics precise --precise-batches 50 --seed 7
  assert.deepEqual(recipe, {
    kind: "training",
    experiment: "extensions",
    id: "extensions/recipe",
    label: "full recipe",
    hiddenSizes: [1024, 512],
    batchNorm: true,
    initialization: "he",
    lambda: 0,
    schedule: {
      kind: "warmup",
      updates: 225,
      schedule: { kind: "cosine", maximum: 2e-3, minimum: 1e-5, updates: 3150 },
    },
    momentum: 0,
    batchSize: 200,
    updates: 14 * 225,
    recordEvery: 225,
    trainingMetricsSize: 5000,
    seed: 7,
    training: { start: 0, end: 45000 },
    validation: { start: 45000, end: 50000 },
    optimizer: { kind: "adam", beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.02 },
    dropout: 0.1,
    augmentation: { shape: cifar10ImageShape, flipProbability: 0.5, maximumShift: 1 },
    batchNormStatistics: "precise",
    preciseBatches: 50,
  });
  const byId = Object.fromEntries(variants.map((trial) => [trial.id, trial]));
  const changed = (id: string) => differentKeys(recipe, byId[id]);
  assert.deepEqual(changed("extensions/no-augmentation"), ["augmentation"]);
  assert.equal("augmentation" in byId["extensions/no-augmentation"], false);
  assert.deepEqual(changed("extensions/no-dropout"), ["dropout"]);
  assert.equal("dropout" in byId["extensions/no-dropout"], false);
  assert.deepEqual(changed("extensions/bn-after-relu"), ["batchNormPlacement"]);
  assert.equal(byId["extensions/bn-after-relu"].batchNormPlacement, "afterRelu");
  assert.deepEqual(changed("extensions/sgd-momentum"), [
    "lambda",
    "momentum",
    "optimizer",
    "schedule",
  ]);
  const sgd = byId["extensions/sgd-momentum"];
  assert.equal(sgd.optimizer, undefined);
  assert.equal(sgd.momentum, 0.9);
  assert.deepEqual(sgd.schedule, {
    kind: "warmup",
    updates: 225,
    schedule: { kind: "cosine", maximum: 0.1, minimum: 1e-5, updates: 3150 },
  });
  assert.deepEqual(changed("extensions/cyclical"), ["schedule"]);
  assert.deepEqual(byId["extensions/cyclical"].schedule, {
    kind: "cyclical",
    minimum: 1e-5,
    maximum: 2e-3,
    stepSize: 525, // 3 cycles in 3,150 updates
  });
  assert.deepEqual(changed("extensions/narrow"), ["hiddenSizes"]);
  assert.deepEqual(byId["extensions/narrow"].hiddenSizes, [50, 50]);
  // The reference run is the `bn` experiment's 3-layer BN trial under another name.
  const { experiment: _, id: __, label: ___, ...reference } = byId["extensions/reference"];
  const { experiment: _b, id: __b, label: ___b, ...threeLayer } = batchNormTrials(fullScale, 7)[0];
  assert.deepEqual(reference, threeLayer);

  // In words, as the report's ablation table shows them.
  assert.deepEqual(settingChanges(recipe, byId["extensions/cyclical"]), [{
    setting: "learning rate",
    recipe: "linear warm-up over 225 updates, then cosine η from 0.002 to 1e-5 over 3,150 updates",
    trial: "cyclical η from 1e-5 to 0.002, n_s = 525",
  }]);
  assert.deepEqual(
    settingChanges(recipe, sgd).map((change) => [change.setting, change.trial]),
    [
      ["optimizer", "SGD, momentum 0.9"],
      ["λ", "2.5e-4"],
      [
        "learning rate",
        "linear warm-up over 225 updates, then cosine η from 0.1 to 1e-5 over 3,150 updates",
      ],
    ],
  );

  // The quick study: a narrower network, 12 epochs of its 10,000 samples, one epoch of warm-up.
  const [quick] = extensionsTrials(quickScale, 1);
  assert.deepEqual(quick.hiddenSizes, [256, 128]);
  assert.equal(quick.updates, 12 * 50);
  assert.equal(quick.schedule.kind === "warmup" && quick.schedule.updates, 50);
});

Deno.test("the other experiments' trials carry none of the extension options, so their trial-log keys stay", () => {
  const newKeys = [
    "optimizer",
    "dropout",
    "batchNormPlacement",
    "augmentation",
    "batchNormStatistics",
    "preciseBatches",
  ];
  const trials = [
    ...batchNormTrials(fullScale, 1),
    ...initializationTrials(fullScale, 1),
    ...learningRateTrials(fullScale, 1),
    ...lambdaSearchTrials(fullScale, 1),
    twoLayerTrial(fullScale, 1),
    overfitTrial(fullScale, 1),
  ];
  for (const trial of trials) {
    assert.deepEqual(newKeys.filter((key) => key in trial), [], trial.id);
  }
  // The key a finished `bn/3-layer/bn` has in every trial log written so far.
  assert.equal(
    JSON.stringify(batchNormTrials(fullScale, 1)[0]),
    '{"kind":"training","hiddenSizes":[50,50],"batchNorm":true,"initialization":"he","lambda":0.005,' +
      '"schedule":{"kind":"cyclical","minimum":0.00001,"maximum":0.1,"stepSize":2250},"momentum":0,' +
      '"batchSize":100,"updates":9000,"recordEvery":90,"trainingMetricsSize":5000,"seed":1,' +
      '"training":{"start":0,"end":45000},"validation":{"start":45000,"end":50000},' +
      '"experiment":"bn","id":"bn/3-layer/bn","label":"3-layer, BN"}',
  );
});

/** 300 CIFAR-shaped images whose label shows as a bright band, over seeded noise. */
function syntheticPool() {
  const count = 300, features = 3072;
  const noise = uniforms(randomKey(11), count * features).values;
  const labels = Uint8Array.from({ length: count }, (_, i) => (i * 7) % 10);
  const pixels = new Uint8Array(count * features);
  for (let i = 0; i < count; i++) {
    for (let p = 0; p < features; p++) {
      const signal = Math.floor(p / 307.2) === labels[i] ? 100 : 0;
      pixels[i * features + p] = signal + Math.floor(noise[i * features + p] * 150);
    }
  }
  const classNames = Array.from({ length: 10 }, (_, i) => `class ${i}`);
  return { pixels, labels, count, features, classNames };
}

function trainingResult(result: ReturnType<typeof runTrial>): TrainingTrialResult {
  assert.equal(result.kind, "training");
  return result as TrainingTrialResult;
}

Deno.test("runTrial() passes every extension option of a trial into training and evaluation", () => {
  const pool = syntheticPool();
  const context = trialContext({ pool, test: pool });
  const trials = extensionsTrials(tinyScale, 3);
  const results = new Map(
    trials.map((trial) => [trial.id, trainingResult(runTrial(trial, context))]),
  );
  const recipe = results.get("extensions/recipe")!;
  assert.equal(recipe.diverged, undefined);
  const curves = (result: TrainingTrialResult) => JSON.stringify(result.history);
  // Each trial changes one option from the recipe; if the option did not reach training, its
  // curves would be the recipe's, bit for bit.
  for (const id of ids.slice(1)) {
    assert.notEqual(curves(results.get(id)!), curves(recipe), `${id} trained like the recipe`);
  }

  // The recipe is `deno task train` with the same flags and seed: the same network, keys,
  // optimizer, schedule, dropout, augmentation and PreciseBN give the same test metrics.
  const [trial] = trials;
  const training = sliceImageSet(pool, trial.training.start, trial.training.end);
  const validation = sliceImageSet(pool, trial.validation.start, trial.validation.end);
  const normalization = normalizationOf(training);
  const [networkKey, shuffleKey, noiseKey, preciseKey] = splitKey(randomKey(3), 4);
  const architecture = multilayerPerceptron({
    inputSize: 3072,
    hiddenSizes: [12, 8],
    classes: 10,
    batchNorm: true,
    dropout: 0.1,
  });
  const direct = train(
    initializeNetwork(architecture, networkKey, "he"),
    { training, validation },
    normalization,
    {
      batchSize: 20,
      lambda: 0,
      schedule: trial.schedule,
      optimizer: trial.optimizer,
      updates: 20,
      key: shuffleKey,
      noiseKey,
      augmentation: { shape: cifar10ImageShape, flipProbability: 0.5, maximumShift: 1 },
      recordEvery: 10,
      trainingMetricsSize: 100,
    },
  );
  assert.deepEqual(recipe.history, direct.history);
  const precise = preciseBatchNorm(direct.network, training, normalization, {
    batchSize: 20,
    batches: 4,
    key: preciseKey,
  });
  assert.deepEqual(recipe.test, evaluateImageSet(precise, pool, normalization, 0).metrics);

  // The batch-norm statistics change the evaluation only: the same curves, another test figure.
  const statistics = recipe.testByBatchNormStatistics!;
  assert.deepEqual(recipe.test, statistics.precise);
  assert.deepEqual(
    statistics.moving,
    evaluateImageSet(direct.network, pool, normalization, 0).metrics,
  );
  assert.notEqual(statistics.moving.loss, statistics.precise.loss);
  assert.notEqual(statistics.adaptive.loss, statistics.precise.loss);
  const adaptive = trainingResult(runTrial({ ...trial, batchNormStatistics: "adaptive" }, context));
  assert.equal(curves(adaptive), curves(recipe));
  assert.deepEqual(adaptive.test, statistics.adaptive);
  const { batchNormStatistics: _, ...movingTrial } = trial;
  const moving = trainingResult(runTrial(movingTrial, context));
  assert.equal(curves(moving), curves(recipe));
  assert.deepEqual(moving.test, statistics.moving);
  assert.equal(moving.testByBatchNormStatistics, undefined);

  // Adam has its own moments.
  assert.throws(
    () => runTrial({ ...trial, momentum: 0.9 }, context),
    /Cannot run trial extensions\/recipe with momentum 0.9 and Adam/,
  );
});

Deno.test("runStudy() runs the extensions experiment alone, and buildReport() shows its ablation", async () => {
  const directory = await Deno.makeTempDir({ prefix: "study_extensions_test_" });
  try {
    await writeSmallCifar10(directory, 60);
    const cifar10 = await readCifar10(directory);
    const data = { pool: concatenateImageSets(cifar10.trainingFiles), test: cifar10.test };
    const outputDirectory = `${directory}/out`;
    const results = await runStudy({
      scale: tinyScale,
      experiments: ["extensions"],
      outputDirectory,
      workers: 2,
      seed: 5,
      data,
    });
    const { extensions, bn, lambda, gradcheck } = results.experiments;
    assert.equal(bn ?? lambda ?? gradcheck, undefined);
    assert.deepEqual(extensions?.map((record) => record.trial.id), ids);
    for (const record of extensions!) {
      assert.ok(record.result.test !== undefined, `${record.trial.id} has no test metrics`);
      assert.ok(record.result.history.length >= 2, `${record.trial.id} has no curves`);
    }
    const log = await Deno.readTextFile(`${outputDirectory}/${trialLogName}`);
    assert.equal(log.trim().split("\n").length, 8);

    const rows = ablationRows(extensions!);
    assert.deepEqual(rows.map((row) => row.label), [
      "full recipe",
      "moving-average BN statistics",
      "Adaptive BN",
      "no augmentation",
      "no dropout",
      "BN after the ReLU",
      "SGD + momentum instead of AdamW",
      "cyclical η instead of warm-up + cosine",
      "recipe on [50, 50]",
      "reference [50, 50] (the SPEC's run)",
    ]);
    const recipeAccuracy = extensions![0].result.test!.accuracy;
    for (const row of rows.slice(1)) {
      assert.ok(
        Math.abs(row.difference! - 100 * (row.test!.accuracy - recipeAccuracy)) < 1e-9,
        row.label,
      );
    }

    const html = await buildReport(results);
    const section = html.slice(html.indexOf('<section id="extensions">'));
    assert.ok(section.startsWith('<section id="extensions">'), "no extensions section");
    for (const row of rows) assert.ok(section.includes(escapeHtml(row.label)), row.label);
    assert.ok(section.includes("augmentation: flip 0.5, translate ±1 px → none"));
    assert.ok(section.includes("dropout: 0.1 → none"));
    assert.ok(section.includes("Δ test (points)"));
    assert.equal(section.match(/<svg/g)?.length, 1);
    const summary = comparisonRows(results).filter((row) => row.experiment === "extensions");
    assert.equal(summary.length, rows.length);
    assert.equal(summary.at(-1)?.reference, "53.46–53.97 %");
  } finally {
    await Deno.remove(directory, { recursive: true });
  }
});
