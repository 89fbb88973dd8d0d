/**
 * randomNormal: the shared property (tests/_properties_creation.ts: within WGSL's accuracy
 * of the reference) on the test device and a folded dispatch grid; the distribution of
 * 200,000 samples; determinism and validation.
 */
import assert from "node:assert/strict";
import { randomKey, randomNormal } from "../mod.ts";
import { assertProperty } from "./_properties.ts";
import { randomNormalProperty } from "./_properties_creation.ts";
import { folded, gpuTest, readFloat32, ref, runs } from "./_harness.ts";

gpuTest(randomNormalProperty.name, async (dev) => {
  for (const backend of [dev, folded!]) {
    const numRuns = backend === dev ? randomNormalProperty.numRuns : 10;
    await assertProperty(randomNormalProperty, backend, runs(numRuns));
  }
});

gpuTest("randomNormal: mean, variance and CDF of 200,000 samples fit N(0, 1)", async (dev) => {
  const n = 200_000;
  using g = randomNormal(dev, [n], randomKey(2024));
  const z = await readFloat32(g);
  const mean = z.reduce((a, v) => a + v, 0) / n;
  const variance = z.reduce((a, v) => a + (v - mean) ** 2, 0) / n;
  // Six standard errors: sd(mean) = 1/√n, sd(variance) = √(2/n).
  assert.ok(Math.abs(mean) < 6 / Math.sqrt(n), `mean ${mean}`);
  assert.ok(Math.abs(variance - 1) < 6 * Math.sqrt(2 / n), `variance ${variance}`);
  // Kolmogorov–Smirnov at α = 0.001: D < 1.95/√n.
  const sorted = Float64Array.from(z).sort();
  const cdf = (x: number) => 0.5 * (1 + erf(x / Math.SQRT2));
  let d = 0;
  sorted.forEach((x, i) => d = Math.max(d, Math.abs(cdf(x) - (i + 0.5) / n)));
  assert.ok(d < 1.95 / Math.sqrt(n), `KS distance ${d}`);
});

/** erf by Abramowitz–Stegun 7.1.26 (absolute error < 1.5e−7, far below the KS threshold). */
function erf(x: number): number {
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y = 1 -
    t *
      (0.254829592 +
        t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) *
      Math.exp(-x * x);
  return x < 0 ? -y : y;
}

Deno.test("randomNormal: same key same samples; options are validated", async () => {
  using a = randomNormal(ref, [3, 3], randomKey(1));
  using b = randomNormal(ref, [3, 3], randomKey(1));
  assert.deepEqual(await a.read(), await b.read());
  assert.throws(
    () => randomNormal(ref, [2], randomKey(1), { std: -1 }),
    /randomNormal: expected std to be a finite number ≥ 0, got -1/,
  );
  assert.throws(
    () => randomNormal({} as never, [2], randomKey(1)),
    /randomNormal: expected a backend/,
  );
});
