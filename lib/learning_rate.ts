/**
 * Learning-rate schedules as data, and the rate at a given update.
 *
 * - constant: η;
 * - step decay: η_e = η₀ · decay^e in epoch e (0-based);
 * - cyclical (triangular): η rises linearly from η_min to η_max over n_s updates, falls back over
 *   the next n_s, and repeats: a cycle is 2·n_s updates.
 *
 * @module
 */

/** A learning-rate schedule. */
export type LearningRateSchedule =
  | { readonly kind: "constant"; readonly learningRate: number }
  | { readonly kind: "stepDecay"; readonly initial: number; readonly decay: number }
  | {
    readonly kind: "cyclical";
    readonly minimum: number;
    readonly maximum: number;
    /** n_s: updates per half cycle. */
    readonly stepSize: number;
  };

/**
 * Throws a RangeError quoting the value if a schedule's numbers are out of range.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { assertSchedule } from "./learning_rate.ts";
 * assert.throws(() => assertSchedule({ kind: "constant", learningRate: -1 }), /-1/);
 * ```
 */
export function assertSchedule(schedule: LearningRateSchedule): void {
  const positive = (name: string, value: number) => {
    if (!(value > 0) || !Number.isFinite(value)) {
      throw new RangeError(`The ${name} of the learning-rate schedule is ${value}; it must be > 0`);
    }
  };
  if (schedule.kind === "constant") positive("learning rate", schedule.learningRate);
  else if (schedule.kind === "stepDecay") {
    positive("initial learning rate", schedule.initial);
    positive("decay", schedule.decay);
  } else {
    positive("minimum learning rate", schedule.minimum);
    positive("maximum learning rate", schedule.maximum);
    if (schedule.minimum > schedule.maximum) {
      throw new RangeError(
        `The cyclical schedule's minimum ${schedule.minimum} exceeds its maximum ${schedule.maximum}`,
      );
    }
    if (!Number.isInteger(schedule.stepSize) || schedule.stepSize < 1) {
      throw new RangeError(
        `The cyclical schedule's step size n_s is ${schedule.stepSize}; it must be a positive integer`,
      );
    }
  }
}

/**
 * The learning rate of update `update` (0-based), with `updatesPerEpoch` updates in an epoch.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { learningRateAt } from "./learning_rate.ts";
 * const cyclical = { kind: "cyclical", minimum: 1e-5, maximum: 1e-1, stepSize: 100 } as const;
 * assert.equal(learningRateAt(cyclical, 0, 50), 1e-5);
 * assert.equal(learningRateAt(cyclical, 100, 50), 1e-1);
 * assert.equal(learningRateAt(cyclical, 200, 50), 1e-5);
 * assert.equal(learningRateAt({ kind: "stepDecay", initial: 0.1, decay: 0.5 }, 120, 50), 0.025);
 * ```
 */
export function learningRateAt(
  schedule: LearningRateSchedule,
  update: number,
  updatesPerEpoch: number,
): number {
  switch (schedule.kind) {
    case "constant":
      return schedule.learningRate;
    case "stepDecay":
      return schedule.initial * schedule.decay ** Math.floor(update / updatesPerEpoch);
    case "cyclical": {
      const { minimum, maximum, stepSize } = schedule;
      const position = update % (2 * stepSize);
      const fraction = position <= stepSize ? position / stepSize : 2 - position / stepSize;
      return minimum + fraction * (maximum - minimum);
    }
  }
}
