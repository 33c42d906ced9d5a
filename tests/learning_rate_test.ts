import assert from "node:assert/strict";
import { fc } from "../lib/deps.ts";
import { assertSchedule, learningRateAt, type TrainingSchedule } from "../lib/learning_rate.ts";

Deno.test("learningRateAt() cosine falls monotonically from η_max to η_min over T updates", () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 0, max: 6000 }), (T, u) => {
      const schedule: TrainingSchedule = {
        kind: "cosine",
        maximum: 0.1,
        minimum: 1e-4,
        updates: T,
      };
      const rate = learningRateAt(schedule, u, 100);
      assert.ok(rate >= 1e-4 - 1e-18 && rate <= 0.1);
      assert.ok(learningRateAt(schedule, u + 1, 100) <= rate);
      if (u >= T) assert.equal(rate, 1e-4);
    }),
  );
  const schedule = { kind: "cosine", maximum: 0.1, minimum: 0, updates: 100 } as const;
  assert.equal(learningRateAt(schedule, 0, 10), 0.1);
  assert.ok(Math.abs(learningRateAt(schedule, 50, 10) - 0.05) < 1e-15);
});

Deno.test("learningRateAt() warm-up rises linearly to the wrapped schedule over w updates", () => {
  const schedule: TrainingSchedule = {
    kind: "warmup",
    updates: 10,
    schedule: { kind: "constant", learningRate: 0.2 },
  };
  const rates = Array.from({ length: 12 }, (_, u) => learningRateAt(schedule, u, 5));
  rates.slice(0, 10).forEach((rate, u) => assert.ok(Math.abs(rate - 0.2 * (u + 1) / 10) < 1e-16));
  assert.deepEqual(rates.slice(9), [0.2, 0.2, 0.2]);
});

Deno.test("assertSchedule() names the bad number of cosine and warm-up schedules", () => {
  assert.throws(
    () => assertSchedule({ kind: "cosine", maximum: 0.1, minimum: 0.2, updates: 10 }),
    /minimum 0.2 must be in \[0, its maximum 0.1\]/,
  );
  assert.throws(
    () => assertSchedule({ kind: "cosine", maximum: 0.1, minimum: 0, updates: 0 }),
    /decay length .* is 0/,
  );
  assert.throws(
    () =>
      assertSchedule({
        kind: "warmup",
        updates: 2.5,
        schedule: { kind: "constant", learningRate: 1 },
      }),
    /warm-up length .* is 2.5/,
  );
  assert.throws(
    () =>
      assertSchedule({
        kind: "warmup",
        updates: 5,
        schedule: { kind: "constant", learningRate: -1 },
      }),
    /learning rate .* is -1/,
  );
});
