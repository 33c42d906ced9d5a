/**
 * `mod.ts` works when imported from a URL, where this repository's deno.json (and any import
 * map) is never read: the repository is served over loopback HTTP and a Deno subprocess with
 * no config imports it, builds a small network, trains it a few steps and checks its gradients.
 */
import assert from "node:assert/strict";

const repositoryRoot = new URL("../", import.meta.url);

const contentTypes: Record<string, string> = {
  ".ts": "application/typescript",
  ".js": "application/javascript",
  ".json": "application/json",
};

Deno.test("mod.ts imported from an HTTP URL builds, trains and gradient-checks a network", async () => {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (request) => {
      const path = decodeURIComponent(new URL(request.url).pathname);
      if (path.includes("..")) return new Response("forbidden", { status: 403 });
      try {
        const body = await Deno.readFile(new URL(`.${path}`, repositoryRoot));
        const extension = path.slice(path.lastIndexOf("."));
        return new Response(body, {
          headers: { "content-type": contentTypes[extension] ?? "text/plain" },
        });
      } catch {
        return new Response("not found", { status: 404 });
      }
    },
  );
  const origin = `127.0.0.1:${server.addr.port}`;
  const workDirectory = await Deno.makeTempDir();
  try {
    const script = `
      import {
        formatGradCheck, gradCheck, initialSgdState, initializeNetwork, multilayerPerceptron,
        normals, randomKey, sgdStep, tensor, trainingGradients,
      } from "http://${origin}/mod.ts";
      const architecture = multilayerPerceptron({ inputSize: 6, hiddenSizes: [5, 4], classes: 3, batchNorm: true });
      let network = initializeNetwork(architecture, randomKey(1), "he");
      const input = tensor(6, 8, normals(randomKey(2), 48).values);
      const labels = [0, 1, 2, 0, 1, 2, 0, 1];
      const losses = [];
      let state = initialSgdState;
      for (let step = 0; step < 20; step++) {
        const result = trainingGradients(network, input, labels, 0.001);
        losses.push(result.loss);
        const update = sgdStep(network.parameters, result.gradients, state, { learningRate: 0.1 });
        network = { ...network, parameters: update.parameters, movingAverages: result.movingAverages };
        state = update.state;
      }
      const check = gradCheck(network, input, labels, { lambda: 0.001 });
      console.log(JSON.stringify({ first: losses[0], last: losses.at(-1), passed: check.passed }));
    `;
    await Deno.writeTextFile(`${workDirectory}/main.ts`, script);
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-config", "--no-lock", `--allow-import=${origin}`, "main.ts"],
      cwd: workDirectory,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(output.stderr);
    assert.equal(output.code, 0, stderr);
    const result = JSON.parse(new TextDecoder().decode(output.stdout).trim());
    assert.ok(result.last < result.first / 2, `loss went from ${result.first} to ${result.last}`);
    assert.equal(result.passed, true);
  } finally {
    await server.shutdown();
    await Deno.remove(workDirectory, { recursive: true });
  }
});
