/**
 * The study report built from synthetic results (no training), checked as a person would see
 * it: opened from a file in headless Chromium with every network request refused, each figure
 * drawn with visible marks, no console error, and a screenshot saved.
 *
 * Needs Debian's `chromium` (/usr/bin/chromium); the browser test is ignored where it is absent.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { CIFAR10_CLASS_NAMES } from "../lib/cifar10.ts";
import type { BrowserPageSummary } from "./browser_page.ts";
import { buildReport } from "../lib/report.ts";
import type { GradCheckRecord, StudyResults, TrainingRecord } from "../lib/study.ts";
import {
  batchNormTrials,
  extensionsTrials,
  finalLambdaTrial,
  fineLambdaTrials,
  gradCheckTrials,
  initializationTrials,
  lambdaSearchTrials,
  learningRateTrials,
  overfitTrial,
  quickScale,
  type TrainingTrial,
  twoLayerTrial,
} from "../lib/study_plan.ts";
import type { HistoryPoint } from "../lib/training.ts";

const chromiumPath = "/usr/bin/chromium";
const browserScript = new URL("./browser_page.ts", import.meta.url).pathname;

/** A plausible learning curve that rises to `accuracy` (0–1). */
function syntheticHistory(trial: TrainingTrial, accuracy: number): HistoryPoint[] {
  const points = 20;
  return Array.from({ length: points }, (_, i) => {
    const progress = (i + 1) / points;
    const update = Math.round(progress * trial.updates);
    const trainingAccuracy = 0.1 + (accuracy + 0.05 - 0.1) * Math.sqrt(progress);
    const validationAccuracy = 0.1 + (accuracy - 0.1) * Math.sqrt(progress);
    const loss = (value: number) => 2.3 - 1.6 * (value - 0.1) / 0.5;
    return {
      update,
      epoch: update / 100,
      learningRate: 0.01,
      training: {
        loss: loss(trainingAccuracy),
        cost: loss(trainingAccuracy) + 0.2,
        accuracy: trainingAccuracy,
      },
      validation: {
        loss: loss(validationAccuracy),
        cost: loss(validationAccuracy) + 0.2,
        accuracy: validationAccuracy,
      },
    };
  });
}

function syntheticConfusion(accuracy: number): number[][] {
  return CIFAR10_CLASS_NAMES.map((_, actual) =>
    CIFAR10_CLASS_NAMES.map((_, predicted) =>
      predicted === actual ? Math.round(1000 * accuracy) : Math.round((1000 * (1 - accuracy)) / 9)
    )
  );
}

function record(trial: TrainingTrial, accuracy: number): TrainingRecord {
  const test = (shift: number) => ({
    loss: 1.4 - shift,
    cost: 1.6 - shift,
    accuracy: accuracy + shift,
  });
  return {
    trial,
    result: {
      kind: "training",
      history: syntheticHistory(trial, accuracy),
      test: test(0),
      ...(trial.batchNormStatistics && {
        testByBatchNormStatistics: {
          moving: test(-0.002),
          precise: test(0),
          adaptive: test(-0.001),
        },
      }),
      confusionMatrix: syntheticConfusion(accuracy),
      timing: { seconds: 10, meanEpochSeconds: 0.5 },
    },
  };
}

/** Results of every experiment, with made-up figures near the reference ones. */
function syntheticResults(): StudyResults {
  const scale = quickScale;
  const coarse = lambdaSearchTrials(scale, 1).map((trial) =>
    record(trial, 0.5 - 0.02 * Math.abs(Math.log10(trial.lambda) + 2.6))
  );
  const outcomes = coarse.map(({ trial, result }) => ({
    lambda: trial.lambda,
    validationAccuracy: result.history.at(-1)!.validation.accuracy,
  }));
  const fineStage = fineLambdaTrials(scale, 1, outcomes);
  const fine = fineStage.trials.map((trial) =>
    record(trial, 0.51 - 0.02 * Math.abs(Math.log10(trial.lambda) + 2.6))
  );
  const allOutcomes = [...coarse, ...fine].map(({ trial, result }) => ({
    lambda: trial.lambda,
    validationAccuracy: result.history.at(-1)!.validation.accuracy,
  }));
  const checks: GradCheckRecord[] = gradCheckTrials(scale, 1).map((trial) => ({
    trial,
    result: {
      kind: "gradcheck",
      passed: true,
      method: "centered",
      step: 1e-6,
      rows: ["weight", "bias", "scale", "shift"].map((parameter, i) => ({
        layer: i < 2 ? "Linear layer 1" : "BatchNorm layer 1",
        parameter,
        feedsBatchNorm: parameter === "bias",
        entries: 50,
        kinks: 0,
        failures: 0,
        maximumAbsoluteError: 1e-10,
        maximumRelativeError: 1e-6,
        meanRelativeError: 3e-8,
      })),
      timing: { seconds: 1 },
    },
  }));
  const learningRate = learningRateTrials(scale, 1).map((trial, i) => {
    const diverges = i === 7;
    const base = record(trial, 0.3 + 0.02 * i);
    return diverges
      ? {
        trial,
        result: {
          kind: "training" as const,
          history: base.result.history.slice(0, 3),
          diverged: { update: 120, message: "Training diverged at update 120" },
          timing: { seconds: 1 },
        },
      }
      : base;
  });
  return {
    scale,
    seed: 1,
    classNames: CIFAR10_CLASS_NAMES,
    testSize: 10000,
    backend: "matrix products: OpenBLAS via FFI (synthetic)",
    workers: 2,
    startedAt: "2026-01-01T00:00:00.000Z",
    seconds: 321,
    experiments: {
      bn: batchNormTrials(scale, 1).map((trial, i) => record(trial, [0.53, 0.525, 0.51, 0.44][i])),
      lambda: {
        coarse,
        fine,
        fineRange: fineStage.range,
        final: record(finalLambdaTrial(scale, 1, allOutcomes), 0.54),
      },
      init: initializationTrials(scale, 1).map((trial, i) =>
        record(trial, [0.53, 0.53, 0.52, 0.52, 0.535, 0.1][i])
      ),
      learningRate,
      twoLayer: record(twoLayerTrial(scale, 1), 0.48),
      gradcheck: { checks, overfit: record(overfitTrial(scale, 1), 0.99) },
      extensions: extensionsTrials(scale, 1).map((trial, i) =>
        record(trial, [0.6, 0.58, 0.61, 0.6, 0.57, 0.59, 0.55, 0.53][i])
      ),
    },
  };
}

Deno.test("buildReport() writes one self-contained page with every experiment's tables and figures", async () => {
  const html = await buildReport(syntheticResults());
  assert.ok(html.startsWith("<!doctype html>"));
  for (
    const id of [
      "summary",
      "bn",
      "lambda",
      "init",
      "learning-rate",
      "two-layer",
      "gradcheck",
      "extensions",
    ]
  ) {
    assert.ok(html.includes(`<section id="${id}">`), `section ${id} is missing`);
  }
  assert.equal(html.match(/<svg/g)?.length, 10);
  assert.equal(html.match(/<figcaption>/g)?.length, 10);
  assert.ok(html.includes("53.46–53.97 %"), "the reference figures are shown");
  assert.ok(html.includes("diverged at update 120"), "a diverged run says so");
  assert.ok(html.includes(">airplane<"), "the confusion matrix names the classes");
  // The ablation: each change from the recipe in words, and its test accuracy's difference.
  const extensions = html.slice(html.indexOf('<section id="extensions">'));
  assert.match(
    extensions,
    /no augmentation<\/td><td>augmentation: flip 0.5, translate ±1 px → none<\/td>/,
  );
  assert.match(
    extensions,
    /no dropout<\/td>.*?<td class="number">61.00 %<\/td><td class="number">\+1.00<\/td>/,
  );
  assert.match(
    extensions,
    /Adaptive BN<\/td>.*?<td class="number">59.90 %<\/td><td class="number">−0.10<\/td>/,
  );
  assert.doesNotMatch(html, /<script|<link|<img|<iframe|@import|url\(["']?https?:/);
  // Ids stay unique when several SVGs share the page.
  const ids = [...html.matchAll(/\sid="([^"]+)"/g)].map((match) => match[1]);
  assert.equal(new Set(ids).size, ids.length);
});

Deno.test({
  name:
    "buildReport() renders in headless Chromium offline: every figure has visible marks, no console error, no request",
  ignore: !existsSync(chromiumPath),
  async fn() {
    const directory = await Deno.makeTempDir({ prefix: "report_test_" });
    const reportPath = `${directory}/report.html`;
    const screenshotPath = `${directory}/report.png`;
    await Deno.writeTextFile(reportPath, await buildReport(syntheticResults()));
    // Playwright reads /proc and the home folder, which Deno grants only with --allow-all: it
    // runs in a child process of its own.
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", browserScript, reportPath, screenshotPath],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(output.stderr);
    assert.equal(output.code, 0, stderr);
    const page: BrowserPageSummary = JSON.parse(new TextDecoder().decode(output.stdout));
    assert.equal(page.figures.length, 10);
    for (const figure of page.figures) {
      assert.ok(figure.width > 200 && figure.height > 100, `figure too small: ${figure.caption}`);
      assert.ok(figure.marks > 0, `figure without visible marks: ${figure.caption}`);
    }
    assert.ok(page.tables >= 12, `only ${page.tables} tables`);
    assert.deepEqual(page.requests, []);
    assert.deepEqual(page.problems, []);
    assert.ok((await Deno.stat(screenshotPath)).size > 10000);
    console.log(`report screenshot: ${screenshotPath}`);
  },
});
