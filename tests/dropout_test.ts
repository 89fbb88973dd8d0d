import fc from "fast-check";
import assert from "node:assert/strict";
import { dropout, randomKey } from "../mod.ts";
import { assertProperty, dropoutProperty } from "./_properties.ts";
import { assertBitwise, folded, gpuTest, runs, seed, values } from "./_harness.ts";

gpuTest(
  dropoutProperty.name,
  (dev) => assertProperty(dropoutProperty, dev, runs(dropoutProperty.numRuns)),
);

gpuTest(
  "dropout: folded dispatch is bit-identical to the reference",
  () => assertProperty(dropoutProperty, folded!, runs(25)),
);

gpuTest(
  "dropout: keep rate within binomial bounds, kept values exactly x·fround(1/(1−p))",
  async (dev) => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1000, max: 50000 }),
        fc.double({ min: 0.01, max: 0.99, noNaN: true }),
        seed,
        async (n, p, s) => {
          // Non-zero inputs, so a zero output means "dropped".
          const x = values(n, "unit", s).map((v) => v === 0 ? 1 : v);
          using gx = dev.tensor(x);
          using out = dropout(gx, p, randomKey(s));
          const y = await out.read();
          const scale = Math.fround(1 / (1 - p));
          let kept = 0;
          y.forEach((v, i) => {
            if (v === 0) return;
            kept++;
            assert.equal(v, Math.fround(x[i] * scale), `element ${i}`);
            // and within one float32 rounding of x/(1 − p)
            assert.ok(Math.abs(v - x[i] / (1 - p)) <= 2 ** -23 * Math.abs(v), `element ${i}`);
          });
          // Six standard deviations: a fair mask fails this about once in 10⁹ runs.
          const sd = Math.sqrt(n * p * (1 - p));
          assert.ok(Math.abs(kept - n * (1 - p)) <= 6 * sd + 1, `kept ${kept} of ${n} at p = ${p}`);
        },
      ),
      runs(30),
    );
  },
);

gpuTest("dropout: same key same mask, different keys different masks", async (dev) => {
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 64, max: 5000 }), seed, seed, async (n, s1, s2) => {
      fc.pre(s1 !== s2);
      using x = dev.tensor(new Float32Array(n).fill(1));
      using a = dropout(x, 0.5, randomKey(s1));
      using b = dropout(x, 0.5, randomKey(s1));
      using c = dropout(x, 0.5, randomKey(s2));
      const [ya, yb, yc] = [await a.read(), await b.read(), await c.read()];
      assertBitwise(ya, yb, "same key");
      assert.ok(ya.some((v, i) => v !== yc[i]), "different keys gave the same mask");
    }),
    runs(30),
  );
});

gpuTest("dropout: p = 0 returns x, p = 1 returns zeros", async (dev) => {
  const x = values(1000, "mixed", 1);
  using gx = dev.tensor(x);
  using same = dropout(gx, 0, randomKey(1));
  using none = dropout(gx, 1, randomKey(1));
  assertBitwise(await same.read(), x, "p = 0");
  assertBitwise(await none.read(), new Float32Array(1000), "p = 1");
});
