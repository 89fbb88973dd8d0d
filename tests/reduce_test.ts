import fc from "fast-check";
import assert from "node:assert/strict";
import { type Backend, broadcastTo, mean, sum, sumToShape } from "../mod.ts";
import { treeSumRoundings } from "../kernels/reduce.ts";
import {
  assertBitwise,
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

const length = fc.oneof(dim(5000), fc.integer({ min: 1025, max: 200_000 }));

async function checkSums(
  backend: Backend,
  n: number,
  kind: Parameters<typeof values>[1],
  s: number,
) {
  const x = values(n, kind, s);
  const absSum = x.reduce((acc, v) => acc + Math.abs(v), 0);
  using gx = backend.tensor(x);
  using rx = ref.tensor(x);
  using gs = sum(gx);
  using gm = mean(gx);
  using rs = sum(rx);
  using rm = mean(rx);
  assert.deepEqual(gs.shape, []);
  // Tree reduction: γ(12·passes); the mean's scale 1/n costs two more roundings.
  const bound = (gamma(treeSumRoundings(n)) + U) * absSum + n * MIN_NORMAL;
  assertWithin(await gs.read(), await rs.read(), () => bound, `sum n=${n} ${kind}`);
  const meanBound = (gamma(treeSumRoundings(n) + 2) + U) * absSum / n + n * MIN_NORMAL;
  assertWithin(await gm.read(), await rm.read(), () => meanBound, `mean n=${n} ${kind}`);
}

gpuTest(
  "sum and mean: GPU agrees with the reference within the tree reduction's bound",
  async (dev) => {
    await fc.assert(
      fc.asyncProperty(length, profile, seed, (n, k, s) => checkSums(dev, n, k, s)),
      runs(50),
    );
    await fc.assert(
      fc.asyncProperty(length, profile, seed, (n, k, s) => checkSums(folded!, n, k, s)),
      runs(15),
    );
  },
);

gpuTest("broadcastTo is exact; sumToShape agrees within γ(rows) per column", async (dev) => {
  await fc.assert(
    fc.asyncProperty(dim(500), dim(60), profile, seed, async (m, n, kind, s) => {
      const row = values(n, kind, s);
      using grow = dev.tensor(row);
      using batch = broadcastTo(grow, [m, n]);
      using expected = broadcastTo(ref.tensor(row), [m, n]);
      assertBitwise(await batch.read(), await expected.read(), "broadcastTo");
      const x = values(m * n, kind, s + 1);
      using gx = dev.tensor(x, [m, n]);
      using columns = sumToShape(gx, [n]);
      using rcolumns = sumToShape(ref.tensor(x, [m, n]), [n]);
      const scale = (j: number) =>
        x.reduce((acc, v, i) => i % n === j ? acc + Math.abs(v) : acc, 0);
      const bound = (j: number) => (gamma(m) + U) * scale(j) + m * MIN_NORMAL;
      assertWithin(
        await columns.read(),
        await rcolumns.read(),
        bound,
        `sumToShape [${m}, ${n}] → [${n}]`,
      );
    }),
    runs(30),
  );
});

Deno.test("broadcast ops: reference values and refused shapes", async () => {
  using x = ref.tensor([1, 2, 3, 4, 5, 6], [3, 2]);
  using total = sumToShape(x, [1]);
  assert.deepEqual([...await total.read()], [21]);
  assert.throws(
    () => broadcastTo(x, [2, 3]),
    /broadcastTo: expected a shape that \[3, 2\] broadcasts to, got \[2, 3\]/,
  );
  assert.throws(
    () => sumToShape(x, [3]),
    /sumToShape: expected a shape that broadcasts to \[3, 2\], got \[3\]/,
  );
});
