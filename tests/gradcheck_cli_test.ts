import assert from "node:assert/strict";

const script = new URL("../cli/gradcheck.ts", import.meta.url).pathname;

async function runGradCheck(args: string[]): Promise<{ code: number; output: string }> {
  const result = await new Deno.Command(Deno.execPath(), {
    args: ["run", script, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: result.code,
    output: decoder.decode(result.stdout) + decoder.decode(result.stderr),
  };
}

Deno.test("cli/gradcheck.ts passes on BN before and after the ReLU, with dropout", async () => {
  for (
    const args of [["--hidden", "8,6"], [
      "--hidden",
      "8,6",
      "--bn-placement",
      "after",
      "--dropout",
      "0.3",
    ]]
  ) {
    const { code, output } = await runGradCheck([
      ...args,
      "--input-size",
      "6",
      "--method",
      "ridders",
    ]);
    assert.equal(code, 0, output);
    assert.match(output, /BatchNorm layer 2 +scale/);
    assert.match(output, /^PASSED: every entry within 1e-8 \+ 0\.000001·max/m);
  }
});

Deno.test("cli/gradcheck.ts names a bad flag and exits 1", async () => {
  const { code, output } = await runGradCheck(["--dropout", "2"]);
  assert.equal(code, 1);
  assert.match(output, /--dropout must be a number between 0 and 0\.99, got 2/);
});
