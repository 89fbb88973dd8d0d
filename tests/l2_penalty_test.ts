import fc from "fast-check";
import assert from "node:assert/strict";
import { type Backend, l2Penalty } from "../mod.ts";
import { treeSumRoundings } from "../kernels/reduce.ts";
import {
  assertWithin,
  dim,
  folded,
  gamma,
  gpuTest,
  MIN_NORMAL,
  profile,
  ref,
  runs,
  seed,
  U,
  values,
} from "./_harness.ts";

const length = fc.oneof(dim(5000), fc.integer({ min: 1025, max: 300_000 }));

async function checkAgainstReference(backend: Backend, n: number, kind: typeof PROFILE, s: number) {
  const x = values(n, kind, s);
  using gx = backend.tensor(x);
  using gp = l2Penalty(gx);
  assert.deepEqual(gp.shape, []);
  using rp = l2Penalty(ref.tensor(x));
  const exact = x.reduce((sum, v) => sum + v * v, 0) / 2;
  // Tree reduction: the longest chain of roundings grows with log n, not n; +1 for the squares.
  const bound = (gamma(1 + treeSumRoundings(n)) + U) * exact + n * MIN_NORMAL;
  assertWithin(await gp.read(), await rp.read(), () => bound, `l2Penalty n=${n} ${kind}`);
}
const PROFILE = "unit" as Parameters<typeof values>[1];

gpuTest("l2Penalty: GPU agrees with the reference within γ(1 + 12·passes)·Σx²/2", async (dev) => {
  await fc.assert(
    fc.asyncProperty(length, profile, seed, (n, kind, s) => checkAgainstReference(dev, n, kind, s)),
    runs(80),
  );
});

gpuTest("l2Penalty: folded dispatch agrees with the reference", async () => {
  await fc.assert(
    fc.asyncProperty(
      length,
      profile,
      seed,
      (n, kind, s) => checkAgainstReference(folded!, n, kind, s),
    ),
    runs(25),
  );
});

gpuTest(
  "l2Penalty: three passes at 2²⁵ values (the binding limit), within its bound",
  async (dev) => {
    const n = Math.min(2 ** 25, dev.runtime.maxElements);
    assert.equal(treeSumRoundings(n), 3 * 12);
    await checkAgainstReference(dev, n, "mixed", 11);
  },
);

gpuTest("l2Penalty: non-negative, and quadratic under exact scaling", async (dev) => {
  await fc.assert(
    fc.asyncProperty(
      dim(3000),
      profile,
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
