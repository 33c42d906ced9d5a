/**
 * A run that diverges stops at once with a message naming the update and where the NaN or
 * infinity appeared, exits 1 without a stack trace, and leaves its last checkpoint loadable.
 */
import assert from "node:assert/strict";
import { loadCheckpoint } from "../lib/checkpoint.ts";
import { writeSmallCifar10 } from "./cifar10_fixture.ts";
import { runTrain } from "./train_cli_fixture.ts";

Deno.test("cli/train.ts stops a diverging run, names the update, and keeps the last checkpoint", async () => {
  const directory = await Deno.makeTempDir();
  try {
    await writeSmallCifar10(directory, 60, 7);
    const out = `${directory}/run`;
    const { code, stderr } = await runTrain([
      "--data",
      directory,
      "--validation",
      "50",
      "--hidden",
      "20",
      "--batch-norm",
      "none",
      "--batch-size",
      "10",
      "--schedule",
      "cyclical",
      "--n-s",
      "200",
      "--eta-min",
      "1e-4",
      "--eta-max",
      "1e300",
      "--epochs",
      "20",
      "--checkpoint-every",
      "2",
      "--out",
      out,
    ]);
    assert.equal(code, 1, stderr);
    const match = stderr.match(
      /error: Training diverged at update (\d+): .* became (NaN|-?Infinity)/,
    );
    assert.ok(match, stderr);
    assert.match(stderr, /try a smaller learning rate/);
    assert.doesNotMatch(stderr, /\n\s+at /, "no stack trace");
    const checkpoint = await loadCheckpoint(`${out}/checkpoint.fcnn`);
    assert.ok(
      checkpoint.state.update < Number(match[1]),
      "the checkpoint is from before the divergence",
    );
    assert.ok(checkpoint.state.update >= 2);
    for (const layer of checkpoint.state.network.parameters) {
      for (const value of Object.values(layer)) assert.ok(value!.data.every(Number.isFinite));
    }
  } finally {
    await Deno.remove(directory, { recursive: true });
  }
});
