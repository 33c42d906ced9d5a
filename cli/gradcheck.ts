/**
 * Checks the analytic gradients of a k-layer network against numerical differences and
 * prints one row per layer and parameter.
 *
 *     deno run cli/gradcheck.ts --hidden 50,50 --input-size 20 --batch-size 10 --lambda 0.005
 *
 * Exit code 0 when every entry passes, 1 when one fails or the flags are wrong.
 *
 * @module
 */
import { multilayerPerceptron } from "../lib/architecture.ts";
import { type DifferenceMethod, formatGradCheck, gradCheck } from "../lib/gradient_check.ts";
import { type Initialization, initializeNetwork } from "../lib/network.ts";
import { normals, randomKey, splitKey, uniforms } from "../lib/random.ts";
import { tensor } from "../lib/tensor.ts";
import { choiceFlag, numberFlag, parseFlags, runMain, sizeListFlag } from "./options.ts";

const help = `Usage: deno run cli/gradcheck.ts [options]

Compares the analytic gradient of the cost J = cross-entropy + λ·Σ‖W‖² with numerical
differences on a random batch, for every W, b, γ and β, and prints the relative errors
|a − n| / max(ε, |a| + |n|). An entry passes when |a − n| ≤ atol + rtol·max(|a|, |n|).

Options:
  --hidden LIST        hidden layer sizes, comma-separated (default 50,50; "" for none)
  --input-size N       input features (default 20)
  --classes N          classes (default 10)
  --batch-size N       samples in the batch (default 10)
  --batch-norm MODE    affine (γ, β), plain (no γ, β) or none (default affine)
  --bn-placement P     before or after the ReLU (default before)
  --dropout P          dropout rate after every hidden block, with one fixed mask (default 0)
  --lambda X           L2 weight λ (default 0.005)
  --init SCHEME        he, xavier, or a fixed standard deviation such as 0.001 (default he)
  --method M           centered, forward or ridders (default centered)
  --step H             difference step h (default 1e-6; 1e-4 for ridders)
  --atol X             absolute tolerance (default 1e-8)
  --rtol X             relative tolerance (default 1e-6)
  --seed N             seeds the weights, inputs and labels (default 1)
  --help               show this text
`;

await runMain(() => {
  const flags = parseFlags(Deno.args, {
    hidden: { type: "string", default: "50,50" },
    "input-size": { type: "string", default: "20" },
    classes: { type: "string", default: "10" },
    "batch-size": { type: "string", default: "10" },
    "batch-norm": { type: "string", default: "affine" },
    "bn-placement": { type: "string", default: "before" },
    dropout: { type: "string", default: "0" },
    lambda: { type: "string", default: "0.005" },
    init: { type: "string", default: "he" },
    method: { type: "string", default: "centered" },
    step: { type: "string" },
    atol: { type: "string", default: "1e-8" },
    rtol: { type: "string", default: "1e-6" },
    seed: { type: "string", default: "1" },
    help: { type: "boolean", default: false },
  });
  if (flags.help) {
    console.log(help);
    return 0;
  }
  const inputSize = numberFlag("--input-size", flags["input-size"], { minimum: 1, integer: true });
  const classes = numberFlag("--classes", flags.classes, { minimum: 2, integer: true });
  const batchSize = numberFlag("--batch-size", flags["batch-size"], { minimum: 2, integer: true });
  const batchNorm = choiceFlag("--batch-norm", flags["batch-norm"], ["affine", "plain", "none"]);
  const method = choiceFlag<DifferenceMethod>("--method", flags.method, [
    "centered",
    "forward",
    "ridders",
  ]);
  const seed = numberFlag("--seed", flags.seed, {
    minimum: 0,
    maximum: 2 ** 32 - 1,
    integer: true,
  });
  const initialization: Initialization = flags.init === "he" || flags.init === "xavier"
    ? flags.init
    : {
      standardDeviation: numberFlag("--init (he, xavier or a standard deviation)", flags.init, {
        minimum: 0,
      }),
    };

  const architecture = multilayerPerceptron({
    inputSize,
    hiddenSizes: sizeListFlag("--hidden", flags.hidden),
    classes,
    batchNorm: batchNorm === "none" ? false : { affine: batchNorm === "affine" },
    batchNormPlacement: choiceFlag("--bn-placement", flags["bn-placement"], ["before", "after"]) ===
        "after"
      ? "afterRelu"
      : "beforeRelu",
    dropout: numberFlag("--dropout", flags.dropout, { minimum: 0, maximum: 0.99 }),
  });
  const [networkKey, inputKey, labelKey, dropoutKey] = splitKey(randomKey(seed), 4);
  const network = initializeNetwork(architecture, networkKey, initialization);
  const input = tensor(inputSize, batchSize, normals(inputKey, inputSize * batchSize).values);
  const labels = Array.from(
    uniforms(labelKey, batchSize).values,
    (value) => Math.floor(value * classes),
  );
  const result = gradCheck(network, input, labels, {
    lambda: numberFlag("--lambda", flags.lambda, { minimum: 0 }),
    method,
    step: flags.step === undefined
      ? undefined
      : numberFlag("--step", flags.step, { minimum: Number.MIN_VALUE }),
    absoluteTolerance: numberFlag("--atol", flags.atol, { minimum: 0 }),
    relativeTolerance: numberFlag("--rtol", flags.rtol, { minimum: 0 }),
    dropoutKey,
  });
  console.log(formatGradCheck(result));
  return result.passed ? 0 : 1;
});
