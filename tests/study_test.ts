/**
 * The study runner on a tiny generated CIFAR-10: the same results with one worker and with
 * two, and a rerun that finds its trials in the trial log and runs none (or only the missing
 * ones) again.
 */
import assert from "node:assert/strict";
import { readCifar10 } from "../lib/cifar10.ts";
import { concatenateImageSets } from "../lib/dataset.ts";
import { randomKey, uniforms } from "../lib/random.ts";
import { runStudy, type StudyEvent, type StudyResults } from "../lib/study.ts";
import { tinyScale } from "./study_fixture.ts";
import type { StudyData } from "../lib/study_trial.ts";
import { trialLogName } from "../lib/study_store.ts";

/** Six CIFAR-10 batch files of `records` records each, whose label shows in the pixels. */
async function writeSmallCifar10(directory: string, records: number): Promise<void> {
  const names = ["data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5"];
  for (const [fileIndex, name] of [...names, "test_batch"].entries()) {
    const noise = uniforms(randomKey(fileIndex), records * 3072).values;
    const bytes = new Uint8Array(records * 3073);
    for (let r = 0; r < records; r++) {
      const label = (r * 7 + fileIndex) % 10;
      bytes[r * 3073] = label;
      for (let p = 0; p < 3072; p++) {
        const signal = Math.floor(p / 307.2) === label ? 120 : 0;
        bytes[r * 3073 + 1 + p] = Math.min(255, signal + Math.floor(noise[r * 3072 + p] * 120));
      }
    }
    await Deno.writeFile(`${directory}/${name}.bin`, bytes);
  }
}

/** The results without what varies from run to run (wall-clock times, worker count). */
function comparable(results: StudyResults): string {
  return JSON.stringify(
    results.experiments,
    (key, value) => (key === "timing" ? undefined : value),
  );
}

async function study(data: StudyData, outputDirectory: string, workers: number) {
  const events: StudyEvent[] = [];
  const results = await runStudy(
    { scale: tinyScale, outputDirectory, workers, seed: 3, data },
    (event) => events.push(event),
  );
  const trials = events.flatMap((event) => (event.kind === "trial" ? [event] : []));
  return {
    results,
    ran: trials.filter((event) => !event.stored).map((event) => event.trial.id),
    stored: trials.filter((event) => event.stored).map((event) => event.trial.id),
  };
}

async function lines(path: string): Promise<string[]> {
  return (await Deno.readTextFile(path)).split("\n").filter((line) => line !== "");
}

Deno.test("runStudy() gives the same results with one worker and with two, and resumes from its trial log", async () => {
  const directory = await Deno.makeTempDir({ prefix: "study_test_" });
  try {
    await writeSmallCifar10(directory, 60);
    const cifar10 = await readCifar10(directory);
    const data = { pool: concatenateImageSets(cifar10.trainingFiles), test: cifar10.test };

    const one = await study(data, `${directory}/one`, 1);
    const two = await study(data, `${directory}/two`, 2);
    const trialCount = 4 + (3 + 2 + 1) + 6 + 4 + 1 + 5 + 8;
    assert.equal(one.ran.length, trialCount);
    assert.equal(one.stored.length, 0);
    assert.equal(two.ran.length, trialCount);
    assert.equal(comparable(one.results), comparable(two.results));
    const { bn, lambda, gradcheck, extensions } = one.results.experiments;
    assert.equal(extensions?.length, 8);
    assert.equal(bn?.length, 4);
    assert.equal(lambda?.coarse.length, 3);
    assert.equal(lambda?.fine.length, 2);
    assert.equal(lambda?.final.trial.updates, 2 * 5 * 2);
    assert.ok(gradcheck?.checks.every((check) => check.result.passed));
    assert.ok(bn.every((record) => record.result.test !== undefined));

    // A rerun finds every trial in the log and runs none.
    const log = `${directory}/one/${trialLogName}`;
    const logged = await lines(log);
    assert.equal(logged.length, trialCount);
    const again = await study(data, `${directory}/one`, 2);
    assert.deepEqual(again.ran, []);
    assert.equal(again.stored.length, trialCount);
    assert.equal(comparable(again.results), comparable(one.results));
    assert.equal((await lines(log)).length, trialCount);

    // Drop every other training trial and cut the last line short, as a crash would: only the
    // dropped trials run again (the slow gradient checks stay in the log).
    const kept = logged.filter((line, index) =>
      !line.includes('"kind":"training"') || index % 2 === 0
    );
    const dropped = logged.length - kept.length;
    assert.ok(dropped >= 5);
    await Deno.writeTextFile(log, kept.join("\n") + "\n" + logged[1].slice(0, 50));
    const resumed = await study(data, `${directory}/one`, 2);
    assert.equal(resumed.stored.length, trialCount - dropped);
    assert.equal(resumed.ran.length, dropped);
    assert.equal(comparable(resumed.results), comparable(one.results));
    assert.equal((await lines(log)).length, trialCount + 1); // the cut line stays, ignored
  } finally {
    await Deno.remove(directory, { recursive: true });
  }
});

Deno.test("runStudy() rejects an unknown experiment and a scale that needs more images than there are", async () => {
  const images = {
    pixels: new Uint8Array(10 * 3072),
    labels: new Uint8Array(10),
    count: 10,
    features: 3072,
    classNames: ["a"],
  };
  const data = { pool: images, test: images };
  await assert.rejects(
    () => runStudy({ scale: tinyScale, outputDirectory: "unused", data }),
    /training range 0–200 of scale "tiny" needs 200 training images but the data has 10/,
  );
  const pool = { ...images, pixels: new Uint8Array(300 * 3072), labels: new Uint8Array(300) };
  await assert.rejects(
    () =>
      runStudy({
        scale: tinyScale,
        outputDirectory: "unused",
        data: { pool: { ...pool, count: 300 }, test: images },
        experiments: ["bn", "dropout" as "bn"],
      }),
    /Cannot run experiment "dropout": choose from bn, lambda, init, learning-rate, two-layer, gradcheck, extensions/,
  );
});
