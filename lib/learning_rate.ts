/**
 * Learning-rate schedules as data, and the rate at a given update.
 *
 * - constant: η;
 * - step decay: η_e = η₀ · decay^e in epoch e (0-based);
 * - cyclical (triangular): η rises linearly from η_min to η_max over n_s updates, falls back over
 *   the next n_s, and repeats: a cycle is 2·n_s updates;
 * - cosine decay: η_u = η_min + (η_max − η_min)·(1 + cos(π·u/T))/2 over T updates, then η_min;
 * - linear warm-up in front of any of these: η_u = (schedule's η_u)·min(1, (u + 1)/w) for the
 *   first w updates.
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

/** Cosine decay from η_max to η_min over `updates` updates (η_min after them). */
export interface CosineSchedule {
  readonly kind: "cosine";
  readonly maximum: number;
  readonly minimum: number;
  /** T: the updates over which η decays. */
  readonly updates: number;
}

/** Linear warm-up over the first `updates` updates, multiplying another schedule's rate. */
export interface WarmupSchedule {
  readonly kind: "warmup";
  /** w: updates of warm-up. */
  readonly updates: number;
  readonly schedule: LearningRateSchedule | CosineSchedule;
}

/** Every schedule training accepts: the SPEC's three, cosine decay, and either with warm-up. */
export type TrainingSchedule = LearningRateSchedule | CosineSchedule | WarmupSchedule;

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
export function assertSchedule(schedule: TrainingSchedule): void {
  const positive = (name: string, value: number) => {
    if (!(value > 0) || !Number.isFinite(value)) {
      throw new RangeError(`The ${name} of the learning-rate schedule is ${value}; it must be > 0`);
    }
  };
  const updates = (name: string, value: number) => {
    if (!Number.isInteger(value) || value < 1) {
      throw new RangeError(
        `The ${name} of the learning-rate schedule is ${value}; it must be a positive integer`,
      );
    }
  };
  if (schedule.kind === "constant") positive("learning rate", schedule.learningRate);
  else if (schedule.kind === "warmup") {
    updates("warm-up length", schedule.updates);
    if (schedule.schedule.kind as string === "warmup") {
      throw new RangeError("A warm-up schedule cannot wrap another warm-up");
    }
    assertSchedule(schedule.schedule);
  } else if (schedule.kind === "cosine") {
    positive("maximum learning rate", schedule.maximum);
    if (!(schedule.minimum >= 0) || schedule.minimum > schedule.maximum) {
      throw new RangeError(
        `The cosine schedule's minimum ${schedule.minimum} must be in [0, its maximum ${schedule.maximum}]`,
      );
    }
    updates("decay length", schedule.updates);
  } else if (schedule.kind === "stepDecay") {
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
 * const cosine = { kind: "cosine", maximum: 0.1, minimum: 0, updates: 100 } as const;
 * assert.equal(learningRateAt(cosine, 0, 50), 0.1);
 * assert.ok(Math.abs(learningRateAt(cosine, 50, 50) - 0.05) < 1e-15);
 * assert.equal(learningRateAt(cosine, 150, 50), 0);
 * const warm = { kind: "warmup", updates: 10, schedule: cosine } as const;
 * assert.equal(learningRateAt(warm, 4, 50), 0.1 * 0.5 * (1 + Math.cos(Math.PI * 0.04)) * 0.5);
 * ```
 */
export function learningRateAt(
  schedule: TrainingSchedule,
  update: number,
  updatesPerEpoch: number,
): number {
  switch (schedule.kind) {
    case "constant":
      return schedule.learningRate;
    case "warmup":
      return learningRateAt(schedule.schedule, update, updatesPerEpoch) *
        Math.min(1, (update + 1) / schedule.updates);
    case "cosine": {
      const { minimum, maximum, updates } = schedule;
      const fraction = Math.min(1, update / updates);
      return minimum + (maximum - minimum) * 0.5 * (1 + Math.cos(Math.PI * fraction));
    }
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
