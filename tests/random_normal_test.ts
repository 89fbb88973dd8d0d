import fc from "fast-check";
import assert from "node:assert/strict";
import { randomKey, randomNormal } from "../mod.ts";
import { NORMAL_STREAM } from "../kernels/random_normal.ts";
import { philox4x32 } from "../ops/random.ts";
import { dim, folded, gpuTest, ref, runs, seed, U } from "./_harness.ts";

/**
 * How far WGSL may put one sample from the float64 value, from the WGSL spec's
 * accuracy: log within 2⁻²¹ absolute (or 3 ulp) feeds R = √(−2 ln u), where an error e
 * in −2 ln u moves R by at most √e; sin and cos within 2⁻¹¹ absolute on [−π, π];
 * sqrt, the products and the final mean + std·z a few ulp.
 */
function sampleBound(i: number, key: readonly [number, number], mean: number, std: number) {
  const bits = philox4x32([Math.floor(i / 4), 0, 0, NORMAL_STREAM], key);
  const r0 = bits[(i % 4) < 2 ? 0 : 2];
  const u = ((r0 >>> 8) + 1) * 2 ** -24;
  const lnError = Math.max(2 ** -21, 3 * 2 ** -23 * Math.abs(Math.log(u)));
  const radius = Math.sqrt(-2 * Math.log(u));
  const radiusError = Math.sqrt(2 * lnError) + 4 * U * radius;
  const zError = radiusError + radius * (2 ** -11 + 4 * U);
  return std * zError + 4 * U * (Math.abs(mean) + std * (radius + zError));
}

gpuTest("randomNormal: GPU agrees with the reference within WGSL's accuracy", async (dev) => {
  for (const backend of [dev, folded!]) {
    await fc.assert(
      fc.asyncProperty(
        dim(20000),
        seed,
        fc.double({ min: -5, max: 5, noNaN: true }),
        fc.double({ min: 0, max: 3, noNaN: true }),
        async (n, s, mean, std) => {
          const key = randomKey(s);
          using g = randomNormal(backend, [n], key, { mean, std });
          using r = randomNormal(ref, [n], key, { mean, std });
          const [gv, rv] = [await g.read(), await r.read()];
          gv.forEach((v, i) => {
            const bound = sampleBound(i, key.words, Math.fround(mean), Math.fround(std));
            assert.ok(
              Math.abs(v - rv[i]) <= bound,
              `element ${i}: ${v} vs ${rv[i]}, bound ${bound}`,
            );
          });
        },
      ),
      runs(backend === dev ? 30 : 10),
    );
  }
});

gpuTest("randomNormal: mean, variance and CDF of 200,000 samples fit N(0, 1)", async (dev) => {
  const n = 200_000;
  using g = randomNormal(dev, [n], randomKey(2024));
  const z = await g.read();
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
