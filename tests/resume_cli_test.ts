/**
 * Interrupted training ends bit-identical after a resume: cli/train.ts is killed with SIGKILL
 * at a random moment (after its first checkpoint) or stopped with SIGINT, then continued with
 * --resume; its model file must equal, byte for byte, the one of an uninterrupted run.
 */
import assert from "node:assert/strict";
import { loadModel } from "../lib/model_file.ts";
import { randomKey, uniforms } from "../lib/random.ts";
import { writeSmallCifar10 } from "./cifar10_fixture.ts";
import { trainCommand } from "./train_cli_fixture.ts";

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

const sleep = (milliseconds: number) => new Promise((resolve) => setTimeout(resolve, milliseconds));

Deno.test("cli/train.ts killed with SIGKILL or stopped with SIGINT resumes to a bit-identical model", async () => {
  const directory = await Deno.makeTempDir();
  try {
    await writeSmallCifar10(directory, 120, 100);
    const runArgs = (out: string) => [
      "--data",
      directory,
      "--validation",
      "100",
      "--hidden",
      "30,20",
      "--batch-size",
      "10",
      "--epochs",
      "40",
      "--schedule",
      "cyclical",
      "--n-s",
      "150",
      "--eta-max",
      "0.05",
      "--momentum",
      "0.8",
      "--seed",
      "9",
      "--checkpoint-every",
      "7",
      "--out",
      out,
    ];
    const reference = await trainCommand(runArgs(`${directory}/reference`)).output();
    assert.equal(reference.code, 0, new TextDecoder().decode(reference.stderr));
    const expected = await Deno.readFile(`${directory}/reference/model.fcnn`);

    for (const signal of ["SIGKILL", "SIGINT"] as const) {
      const out = `${directory}/${signal}`;
      const child = trainCommand(runArgs(out), "null").spawn();
      while (!(await exists(`${out}/checkpoint.fcnn`))) await sleep(5);
      await sleep(Math.floor(uniforms(randomKey(Date.now() >>> 0), 1).values[0] * 300));
      let status: Deno.CommandStatus;
      try {
        child.kill(signal);
      } finally {
        status = await child.status;
      }
      const stderr = new TextDecoder().decode(await new Response(child.stderr).arrayBuffer());
      assert.equal(status.success, false, `the run ended before ${signal} arrived; make it longer`);
      if (signal === "SIGINT") {
        assert.equal(status.code, 130, stderr);
        assert.match(
          stderr,
          /SIGINT: stopped after update \d+; checkpoint saved, continue with --resume/,
        );
      }
      assert.equal(await exists(`${out}/model.fcnn`), false, "no final model before the end");
      const resumed = await trainCommand(["--data", directory, "--resume", out]).output();
      assert.equal(resumed.code, 0, new TextDecoder().decode(resumed.stderr));
      assert.deepEqual(
        await Deno.readFile(`${out}/model.fcnn`),
        expected,
        `${signal}: models differ`,
      );
    }
  } finally {
    await Deno.remove(directory, { recursive: true });
  }
});

Deno.test("cli/train.ts with dropout, Adam, BN after ReLU, cosine warm-up and augmentation resumes to a bit-identical model", async () => {
  const directory = await Deno.makeTempDir();
  try {
    await writeSmallCifar10(directory, 120, 100);
    const runArgs = (out: string) => [
      "--data",
      directory,
      "--validation",
      "100",
      "--hidden",
      "30,20",
      "--batch-size",
      "10",
      "--epochs",
      "30",
      "--bn-placement",
      "after",
      "--dropout",
      "0.2",
      "--optimizer",
      "adam",
      "--weight-decay",
      "0.01",
      "--schedule",
      "cosine",
      "--eta-max",
      "0.003",
      "--warmup",
      "20",
      "--flip",
      "0.5",
      "--translate",
      "2",
      "--bn-statistics",
      "precise",
      "--seed",
      "4",
      "--checkpoint-every",
      "7",
      "--out",
      out,
    ];
    const reference = await trainCommand(runArgs(`${directory}/reference`)).output();
    assert.equal(reference.code, 0, new TextDecoder().decode(reference.stderr));
    const expected = await Deno.readFile(`${directory}/reference/model.fcnn`);

    const out = `${directory}/killed`;
    const child = trainCommand(runArgs(out), "null").spawn();
    while (!(await exists(`${out}/checkpoint.fcnn`))) await sleep(5);
    await sleep(Math.floor(uniforms(randomKey(Date.now() >>> 0), 1).values[0] * 300));
    let status: Deno.CommandStatus;
    try {
      child.kill("SIGKILL");
    } finally {
      status = await child.status;
    }
    await child.stderr.cancel();
    assert.equal(status.success, false, "the run ended before SIGKILL arrived; make it longer");
    // The checkpoint holds the network as it trains, dropout layers included (BN after ReLU).
    const checkpoint = await loadModel(`${out}/checkpoint.fcnn`);
    const block = ["linear", "relu", "batchNorm", "dropout"];
    assert.deepEqual(
      checkpoint.network.architecture.layers.map((layer) => layer.kind),
      [...block, ...block, "linear"],
    );
    const resumed = await trainCommand(["--data", directory, "--resume", out]).output();
    assert.equal(resumed.code, 0, new TextDecoder().decode(resumed.stderr));
    assert.deepEqual(await Deno.readFile(`${out}/model.fcnn`), expected, "models differ");
  } finally {
    await Deno.remove(directory, { recursive: true });
  }
});
