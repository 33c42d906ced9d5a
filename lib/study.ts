/**
 * Runs the study: the experiments of `study_plan.ts` on a pool of Workers, skipping trials
 * already in the output folder's trial log, and returns every result as plain data
 * ({@linkcode StudyResults}, what `results.json` holds and the report is built from).
 *
 * Experiments run side by side: their trials share one queue, so both cores stay busy. The λ
 * search is the one experiment with stages — the fine search is planned from the coarse
 * results and the final run from both — and its later stages join the queue when the earlier
 * ones finish. Every trial fixes its own seed, so the results do not depend on the number of
 * workers or the order trials finish in.
 *
 * @module
 */
import type { BackendPreference } from "./backend.ts";
import {
  assertScale,
  batchNormTrials,
  type ExperimentName,
  experimentNames,
  extensionsTrials,
  finalLambdaTrial,
  fineLambdaTrials,
  type GradCheckTrial,
  gradCheckTrials,
  initializationTrials,
  type LambdaOutcome,
  lambdaSearchTrials,
  learningRateTrials,
  overfitTrial,
  type StudyScale,
  type TrainingTrial,
  type Trial,
  twoLayerTrial,
} from "./study_plan.ts";
import { startTrialPool } from "./study_pool.ts";
import { openTrialStore } from "./study_store.ts";
import type {
  GradCheckTrialResult,
  StudyData,
  TrainingTrialResult,
  TrialResult,
} from "./study_trial.ts";

/** A training trial and its result. */
export interface TrainingRecord {
  readonly trial: TrainingTrial;
  readonly result: TrainingTrialResult;
}

/** A gradient-check trial and its result. */
export interface GradCheckRecord {
  readonly trial: GradCheckTrial;
  readonly result: GradCheckTrialResult;
}

/** The λ search: both stages, the fine stage's log10 λ range, and the final run. */
export interface LambdaSearchResults {
  readonly coarse: readonly TrainingRecord[];
  readonly fineRange: readonly [number, number];
  readonly fine: readonly TrainingRecord[];
  readonly final: TrainingRecord;
}

/** Everything a study found; what `results.json` holds. */
export interface StudyResults {
  readonly scale: StudyScale;
  readonly seed: number;
  readonly classNames: readonly string[];
  readonly testSize: number;
  /** The workers' matrix-product backend, as their notice words it. */
  readonly backend: string;
  readonly workers: number;
  /** ISO 8601 start time. */
  readonly startedAt: string;
  /** Wall-clock seconds of this run (trials found in the log take none). */
  readonly seconds: number;
  readonly experiments: {
    readonly bn?: readonly TrainingRecord[];
    readonly lambda?: LambdaSearchResults;
    readonly init?: readonly TrainingRecord[];
    readonly learningRate?: readonly TrainingRecord[];
    readonly twoLayer?: TrainingRecord;
    readonly gradcheck?: {
      readonly checks: readonly GradCheckRecord[];
      readonly overfit: TrainingRecord;
    };
    /** The README's recipe past 60 % and its ablation, in `extensionsTrials` order. */
    readonly extensions?: readonly TrainingRecord[];
  };
}

/** Options of {@linkcode runStudy}. */
export interface StudyOptions {
  readonly scale: StudyScale;
  /** Which experiments to run (default: all, in {@linkcode experimentNames} order). */
  readonly experiments?: readonly ExperimentName[];
  /** Where the trial log goes; created when missing. */
  readonly outputDirectory: string;
  /** Workers running trials in parallel (default 2). */
  readonly workers?: number;
  /** The seed of every trial and of the λ draws (default 1). */
  readonly seed?: number;
  readonly data: StudyData;
  /** The workers' matrix-product backend (default `"auto"`). */
  readonly backend?: BackendPreference;
}

/** Where a trial stands in its experiment: trial `index` of `count` (1-based). */
export interface TrialPosition {
  readonly index: number;
  readonly count: number;
}

/** What {@linkcode runStudy} reports as it goes. */
export type StudyEvent =
  | {
    readonly kind: "start";
    /** Updates left to run (trials in the log excluded), for a progress bar's total. */
    readonly totalUpdates: number;
    readonly storedTrials: number;
    readonly backend: string;
    readonly workers: number;
  }
  | {
    readonly kind: "progress";
    readonly doneUpdates: number;
    /** The trials in flight, e.g. `bn 2/4`. */
    readonly running: readonly string[];
  }
  | {
    readonly kind: "trial";
    readonly trial: Trial;
    readonly position: TrialPosition;
    readonly result: TrialResult;
    /** True when the result came from the trial log. */
    readonly stored: boolean;
  };

/** The work a trial stands for in progress counts: its updates (a gradient check counts 1). */
function workOf(trial: Trial): number {
  return trial.kind === "training" ? trial.updates : 1;
}

function trainingRecord(trial: TrainingTrial, result: TrialResult): TrainingRecord {
  if (result.kind !== "training") throw new TypeError(`Trial ${trial.id} gave no training result`);
  return { trial, result };
}

function gradCheckRecord(trial: GradCheckTrial, result: TrialResult): GradCheckRecord {
  if (result.kind !== "gradcheck") throw new TypeError(`Trial ${trial.id} gave no gradient check`);
  return { trial, result };
}

function lambdaOutcome(record: TrainingRecord): LambdaOutcome {
  const last = record.result.history.at(-1);
  const validationAccuracy = record.result.diverged || last === undefined
    ? 0
    : last.validation.accuracy;
  return { lambda: record.trial.lambda, validationAccuracy };
}

/**
 * Runs the chosen experiments and returns their results. Finished trials are appended to
 * `<outputDirectory>/trials.jsonl` as they finish; trials found there are not run again.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runStudy } from "./study.ts";
 * import { quickScale } from "./study_plan.ts";
 * const pixels = Uint8Array.from({ length: 400 * 8 }, (_, i) => (i * 37) % 256);
 * const images = { pixels, labels: Uint8Array.from({ length: 400 }, (_, i) => i % 2), count: 400, features: 8, classNames: ["a", "b"] };
 * const scale = { ...quickScale, name: "example", training: { start: 0, end: 300 }, validation: { start: 300, end: 400 },
 *   oneFile: { training: { start: 0, end: 300 }, validation: { start: 300, end: 400 } },
 *   batchSize: 50, twoLayer: { stepSize: 6, cycles: 1 } };
 * const outputDirectory = await Deno.makeTempDir();
 * const study = () => runStudy({ scale, experiments: ["two-layer"], outputDirectory, data: { pool: images, test: images } });
 * const results = await study();
 * assert.equal(results.experiments.twoLayer?.trial.updates, 12);
 * assert.deepEqual((await study()).experiments.twoLayer?.result, results.experiments.twoLayer?.result); // from trials.jsonl
 * await Deno.remove(outputDirectory, { recursive: true });
 * ```
 */
export async function runStudy(
  options: StudyOptions,
  onEvent: (event: StudyEvent) => void = () => {},
): Promise<StudyResults> {
  const startedAt = new Date();
  const startTime = performance.now();
  const {
    scale,
    experiments = experimentNames,
    outputDirectory,
    workers = 2,
    seed = 1,
    data,
    backend = "auto",
  } = options;
  assertScale(scale, data.pool.count);
  for (const name of experiments) {
    if (!experimentNames.includes(name)) {
      throw new RangeError(
        `Cannot run experiment "${name}": choose from ${experimentNames.join(", ")}`,
      );
    }
  }
  const selected = (name: ExperimentName) => experiments.includes(name);
  await Deno.mkdir(outputDirectory, { recursive: true });
  const store = await openTrialStore(outputDirectory);

  // The trials known before anything runs, and an estimate for the λ stages to come.
  const plans = {
    bn: selected("bn") ? batchNormTrials(scale, seed) : [],
    init: selected("init") ? initializationTrials(scale, seed) : [],
    learningRate: selected("learning-rate") ? learningRateTrials(scale, seed) : [],
    twoLayer: selected("two-layer") ? [twoLayerTrial(scale, seed)] : [],
    gradcheck: selected("gradcheck")
      ? [...gradCheckTrials(scale, seed), overfitTrial(scale, seed)]
      : [],
    coarse: selected("lambda") ? lambdaSearchTrials(scale, seed) : [],
    extensions: selected("extensions") ? extensionsTrials(scale, seed) : [],
  };
  const searchUpdates = 2 * scale.stepSize * scale.cycles;
  const finalUpdates = 2 * scale.stepSize * scale.finalCycles;
  const lambdaCount = scale.coarseTrials + scale.fineTrials + 1;
  const knownTrials = Object.values(plans).flat();
  const totalUpdates = knownTrials
    .filter((trial) => store.find(trial) === undefined)
    .reduce((sum, trial) => sum + workOf(trial), 0) +
    (selected("lambda") ? scale.fineTrials * searchUpdates + finalUpdates : 0);

  const pool = await startTrialPool({ workers, data, backend });
  let doneUpdates = 0;
  const inFlight = new Map<string, { label: string; update: number }>();
  const reportProgress = () => {
    const running = [...inFlight.values()];
    onEvent({
      kind: "progress",
      doneUpdates: doneUpdates + running.reduce((sum, entry) => sum + entry.update, 0),
      running: running.map((entry) => entry.label),
    });
  };
  // Later λ stages jump the queue: everything after them waits for them.
  const run = async (
    trial: Trial,
    position: TrialPosition,
    urgent = false,
  ): Promise<TrialResult> => {
    const stored = store.find(trial);
    if (stored !== undefined) {
      onEvent({ kind: "trial", trial, position, result: stored, stored: true });
      return stored;
    }
    const label = `${trial.experiment} ${position.index}/${position.count}`;
    const result = await pool.run(trial, {
      urgent,
      onStart: () => {
        inFlight.set(trial.id, { label, update: 0 });
        reportProgress();
      },
      onUpdate: (update) => {
        inFlight.set(trial.id, { label, update });
        reportProgress();
      },
    });
    await store.save(trial, result);
    inFlight.delete(trial.id);
    doneUpdates += workOf(trial);
    onEvent({ kind: "trial", trial, position, result, stored: false });
    reportProgress();
    return result;
  };
  const runAll = <T extends Trial>(
    trials: readonly T[],
    offset = 0,
    count = trials.length,
    urgent = false,
  ) =>
    Promise.all(
      trials.map(async (trial, index) => ({
        trial,
        result: await run(trial, { index: offset + index + 1, count }, urgent),
      })),
    );
  const trainingRecords = async (trials: readonly TrainingTrial[]) =>
    (await runAll(trials)).map(({ trial, result }) => trainingRecord(trial, result));

  const lambdaSearch = async (): Promise<LambdaSearchResults> => {
    const coarse = (await runAll(plans.coarse, 0, lambdaCount))
      .map(({ trial, result }) => trainingRecord(trial, result));
    const fineStage = fineLambdaTrials(scale, seed, coarse.map(lambdaOutcome));
    const fine = (await runAll(fineStage.trials, coarse.length, lambdaCount, true))
      .map(({ trial, result }) => trainingRecord(trial, result));
    const finalTrial = finalLambdaTrial(scale, seed, [...coarse, ...fine].map(lambdaOutcome));
    const final = trainingRecord(
      finalTrial,
      await run(finalTrial, { index: lambdaCount, count: lambdaCount }, true),
    );
    return { coarse, fineRange: fineStage.range, fine, final };
  };
  const gradientChecks = async () => {
    const records = await runAll(plans.gradcheck);
    const checks = records.flatMap(({ trial, result }) =>
      trial.kind === "gradcheck" ? [gradCheckRecord(trial, result)] : []
    );
    const overfit =
      records.flatMap(({ trial, result }) =>
        trial.kind === "training" ? [trainingRecord(trial, result)] : []
      )[0];
    return { checks, overfit };
  };

  try {
    onEvent({
      kind: "start",
      totalUpdates,
      storedTrials: store.storedCount,
      backend: pool.backend,
      workers,
    });
    // The λ search first: its later stages wait for its earlier ones.
    const [lambda, bn, init, learningRate, twoLayer, gradcheck, extensions] = await Promise.all([
      selected("lambda") ? lambdaSearch() : undefined,
      selected("bn") ? trainingRecords(plans.bn) : undefined,
      selected("init") ? trainingRecords(plans.init) : undefined,
      selected("learning-rate") ? trainingRecords(plans.learningRate) : undefined,
      selected("two-layer")
        ? trainingRecords(plans.twoLayer).then(([record]) => record)
        : undefined,
      selected("gradcheck") ? gradientChecks() : undefined,
      selected("extensions") ? trainingRecords(plans.extensions) : undefined,
    ]);
    return {
      scale,
      seed,
      classNames: [...data.pool.classNames],
      testSize: data.test.count,
      backend: pool.backend,
      workers,
      startedAt: startedAt.toISOString(),
      seconds: (performance.now() - startTime) / 1000,
      experiments: { bn, lambda, init, learningRate, twoLayer, gradcheck, extensions },
    };
  } finally {
    pool.close();
  }
}
