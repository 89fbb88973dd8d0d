import fc from "fast-check";
import assert from "node:assert/strict";
import { l2Penalty } from "../mod.ts";
import { assertProperty, l2PenaltyProperty } from "./_properties.ts";
import { treeSumRoundings } from "../kernels/reduce.ts";
import { dim, folded, gpuTest, ordinaryProfile, ref, runs, seed, values } from "./_harness.ts";

gpuTest(
  l2PenaltyProperty.name,
  (dev) => assertProperty(l2PenaltyProperty, dev, runs(l2PenaltyProperty.numRuns)),
);

gpuTest(
  "l2Penalty: folded dispatch agrees with the reference",
  () => assertProperty(l2PenaltyProperty, folded!, runs(25)),
);

gpuTest(
  "l2Penalty: three passes at 2²⁵ values (the binding limit), within its bound",
  async (dev) => {
    const n = Math.min(2 ** 25, dev.runtime.maxElements);
    assert.equal(treeSumRoundings(n), 3 * 12);
    await l2PenaltyProperty.check(dev, { n, profile: "mixed", seed: 11 });
  },
);

gpuTest("l2Penalty: non-negative, and quadratic under exact scaling", async (dev) => {
  await fc.assert(
    fc.asyncProperty(
      dim(3000),
      ordinaryProfile, // NaN is not ≥ 0; Inf·c² is no scaling
      seed,
      fc.constantFrom(0.5, 2, -2, 4),
      async (n, kind, s, c) => {
        const x = values(n, kind, s);
        using gx = dev.tensor(x);
        using scaled = dev.tensor(x.map((v) => c * v));
        using p = l2Penalty(gx);
        using pc = l2Penalty(scaled);
        const [value] = await p.read();
        const [scaledValue] = await pc.read();
        assert.ok(value >= 0, `l2Penalty is ${value}`);
        assert.equal(scaledValue, c * c * value);
      },
    ),
    runs(40),
  );
});

Deno.test("l2Penalty: reference of [3, 4] is 12.5, of zeros is 0", async () => {
  using a = l2Penalty(ref.tensor([3, 4]));
  using z = l2Penalty(ref.tensor([0, 0, 0]));
  assert.deepEqual([...await a.read(), ...await z.read()], [12.5, 0]);
});
