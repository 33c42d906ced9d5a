/**
 * Runs cli/train.ts in a subprocess with the permissions `deno task train` grants (less the
 * network, which the tests never need), for the CLI tests.
 */

const trainScript = new URL("../cli/train.ts", import.meta.url).pathname;

/** The command, to spawn (and signal) or to run to the end; `env` adds environment variables. */
export function trainCommand(
  args: string[],
  stdout: "piped" | "null" = "piped",
  env: Record<string, string> = {},
): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-ffi",
      trainScript,
      ...args,
    ],
    stdout,
    stderr: "piped",
    env,
  });
}

/** Runs cli/train.ts to the end and returns its exit code and decoded output. */
export async function runTrain(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const output = await trainCommand(args, "piped", env).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}
