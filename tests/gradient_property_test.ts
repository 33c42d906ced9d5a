/**
 * The heart of the library: analytic gradients agree with centered differences on random
 * networks (depth 1–9, widths 1–12, batch 2–12, input 1–16, BN off / with γ,β / without,
 * BN before or after the ReLU, dropout off or p ∈ [0.01, 0.6], λ ∈ [0, 0.1], every init
 * scheme), entry by entry within 1e−8 + 1e−6·max(|a|, |n|).
 *
 * Dropout: the case's one dropout key draws the masks for the analytic gradient and for every
 * perturbed cost, so the masks stay fixed and the cost is a smooth function of θ.
 *
 * The numerical side is the five-point centered stencil (error O(h⁴)): with batch norm on two
 * samples whose variance is near ε, the plain centered difference's own truncation error
 * h²·J'''/6 reaches 4e−8 (see gradient_check_test.ts), which is the difference formula
 * failing, not the gradient.
 *
 * ReLU kinks: `gradCheck` compares the sign of every ReLU input at θ ± h with the sign at θ;
 * an entry whose perturbation flips one straddles a kink, where the cost has no derivative,
 * so it is counted and excluded — never excused by a looser tolerance. Kinks come from two
 * honest sources: a unit dead for the whole batch makes the next layer's input exactly its
 * bias (0 at initialisation), and deep networks with σ = 1e−4 have ReLU inputs far below
 * h = 1e−6. The test asserts that excluded entries stay a small share (under 5 %), so the
 * exclusion cannot hide a systematic problem; tests/gradient_bugs_test.ts proves that real
 * bugs still fail.
 */
import assert from "node:assert/strict";
import { fc } from "../lib/deps.ts";
import { formatGradCheck, gradCheck } from "../lib/gradient_check.ts";
import { buildNetworkCase, networkCaseDescriptions } from "../lib/network_cases.ts";

const numRuns = Number(Deno.env.get("GRADIENT_PROPERTY_RUNS") ?? 200);
/** A fresh seed every run (fast-check prints it on failure); FC_SEED=… replays one. */
function seedFromEnvironment(): number | undefined {
  const seed = Deno.env.get("FC_SEED");
  return seed === undefined ? undefined : Number(seed);
}

Deno.test(`gradCheck() passes on ${numRuns} random networks`, () => {
  const largest = new Map<string, { absolute: number; relative: number }>();
  let networks = 0, entries = 0, kinks = 0;
  const seen = { afterRelu: 0, dropout: 0 };
  fc.assert(
    fc.property(networkCaseDescriptions(), (description) => {
      const { network, input, labels, lambda, dropoutKey } = buildNetworkCase(description);
      const result = gradCheck(network, input, labels, { lambda, method: "ridders", dropoutKey });
      assert.ok(result.passed, formatGradCheck(result));
      networks++;
      if (description.batchNormPlacement === "afterRelu" && description.batchNorm !== "none") {
        seen.afterRelu++;
      }
      if ((description.dropout ?? 0) > 0 && description.hiddenSizes.length > 0) seen.dropout++;
      for (const check of result.parameters) {
        entries += check.entries;
        kinks += check.kinks;
        const seen = largest.get(check.parameter) ?? { absolute: 0, relative: 0 };
        largest.set(check.parameter, {
          absolute: Math.max(seen.absolute, check.maximumAbsoluteError),
          relative: Math.max(seen.relative, check.maximumRelativeError),
        });
      }
    }),
    { numRuns, seed: seedFromEnvironment() },
  );
  assert.equal(networks, numRuns);
  // The new layers are in the property, not just allowed by it.
  assert.ok(seen.afterRelu >= numRuns / 10, `only ${seen.afterRelu} networks with BN after ReLU`);
  assert.ok(seen.dropout >= numRuns / 10, `only ${seen.dropout} networks with dropout`);
  assert.ok(kinks <= 0.05 * (entries + kinks), `${kinks} of ${entries + kinks} entries hit a kink`);
  console.log(
    `checked ${networks} networks (${seen.afterRelu} with BN after ReLU, ${seen.dropout} with dropout), ${entries} gradient entries, ${kinks} kink crossings`,
  );
  for (const [parameter, { absolute, relative }] of largest) {
    console.log(
      `  ${parameter.padEnd(6)} largest |a−n| ${
        absolute.toExponential(2)
      }, largest relative error ${relative.toExponential(2)}`,
    );
  }
});
