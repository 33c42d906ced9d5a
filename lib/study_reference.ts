/**
 * The published figures the study is compared with: the SPEC's table, from five course reports
 * (2017–2021) of the "k-layer network with batch normalization on CIFAR-10" study. Accuracies
 * are fractions (0.5346 is 53.46 %); a range gives the lowest and highest report.
 *
 * @module
 */

/** A figure from the reports: one value, or the lowest and highest of several reports. */
export interface ReferenceFigure {
  readonly low: number;
  readonly high: number;
}

/** The reference figures, experiment by experiment. */
export interface StudyReference {
  /** Test accuracy, by `bn` trial id. */
  readonly batchNorm: Readonly<Record<string, ReferenceFigure>>;
  readonly lambda: {
    readonly bestLambda: ReferenceFigure;
    readonly bestValidationAccuracy: ReferenceFigure;
    readonly finalTestAccuracy: ReferenceFigure;
  };
  /** Test accuracy, by `init` trial id. */
  readonly initialization: Readonly<Record<string, ReferenceFigure>>;
  /** What the reports concluded; they give no figures. */
  readonly learningRate: string;
  readonly twoLayerTestAccuracy: ReferenceFigure;
  /** Mean relative errors of the gradient checks, by parameter kind. */
  readonly gradCheck: {
    readonly weightAndBias: ReferenceFigure;
    readonly scaleAndShift: ReferenceFigure;
  };
  readonly overfit: string;
}

const range = (low: number, high = low): ReferenceFigure => Object.freeze({ low, high });

/**
 * The SPEC's reference figures.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { studyReference } from "./study_reference.ts";
 * assert.equal(studyReference.batchNorm["bn/3-layer/bn"].low, 0.5346);
 * assert.equal(studyReference.initialization["init/sigma-0.0001/no-bn"].high, 0.1);
 * ```
 */
export const studyReference: StudyReference = Object.freeze({
  batchNorm: Object.freeze({
    "bn/3-layer/bn": range(0.5346, 0.5397),
    "bn/3-layer/no-bn": range(0.5274, 0.5369),
    "bn/9-layer/bn": range(0.5173, 0.5191),
    "bn/9-layer/no-bn": range(0.4028, 0.4732),
  }),
  lambda: Object.freeze({
    bestLambda: range(0.0015, 0.0065),
    bestValidationAccuracy: range(0.522, 0.527),
    finalTestAccuracy: range(0.54, 0.5404),
  }),
  initialization: Object.freeze({
    "init/sigma-0.1/no-bn": range(0.5311),
    "init/sigma-0.001/no-bn": range(0.5211),
    "init/sigma-0.0001/no-bn": range(0.1),
    "init/sigma-0.1/bn": range(0.5269),
    "init/sigma-0.001/bn": range(0.5287),
    "init/sigma-0.0001/bn": range(0.5375),
  }),
  learningRate: "BN trains faster and tolerates large η",
  twoLayerTestAccuracy: range(0.478, 0.524),
  gradCheck: Object.freeze({
    weightAndBias: range(1e-11, 1e-7),
    scaleAndShift: range(1e-10, 1e-6),
  }),
  overfit: "a 3-layer BN network overfits 100 training samples to near-zero loss",
});
